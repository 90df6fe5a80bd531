"""User and token structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tumorboard.enums import Discipline, Role
from tumorboard.validation import Email, Name, Password, safe_message

_REVIEWER_NEEDS_DISCIPLINE = safe_message("discipline is required for reviewers")


class User(msgspec.Struct, kw_only=True, frozen=True):
    """A user as the API shows it (never the password hash)."""

    id: UUID
    email: str
    full_name: str
    roles: list[Role]
    discipline: Discipline | None = None
    created_at: datetime
    active: bool = True
    password_change_required: bool = False

    def has_role(self, *roles: Role) -> bool:
        """Whether the user holds any of the roles."""
        return any(role in self.roles for role in roles)


class UserCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /users."""

    email: Email
    full_name: Name
    password: Password
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=4)]
    discipline: Discipline | None = None

    def __post_init__(self) -> None:
        self.email = self.email.lower()
        self.roles = sorted(set(self.roles))
        if Role.REVIEWER in self.roles and self.discipline is None:
            raise ValueError(_REVIEWER_NEEDS_DISCIPLINE)


class UserUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PATCH /users/{id}: the fields to change (a missing field stays as it is)."""

    full_name: Name | msgspec.UnsetType = msgspec.UNSET
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=4)] | msgspec.UnsetType = msgspec.UNSET
    discipline: Discipline | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.roles is not msgspec.UNSET:
            self.roles = sorted(set(self.roles))


class PasswordChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /me/password."""

    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Password


class PasswordReset(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /users/{id}/password-reset: a password the user must change at next sign-in."""

    temporary_password: Password


class TokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /auth/token."""

    email: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Token(msgspec.Struct, kw_only=True, frozen=True):
    """A freshly issued bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_at: datetime
    password_change_required: bool = False


class Credential(msgspec.Struct, kw_only=True, frozen=True):
    """A resolved token or session: the user behind it and its public id."""

    user: User
    id: UUID
    kind: Literal["api", "session"]
    ends_at: datetime


class AccessTokenInfo(msgspec.Struct, kw_only=True, frozen=True):
    """One of a user's active tokens or sessions, as the sessions page lists them (never the secret)."""

    id: UUID
    kind: Literal["api", "session"]
    created_at: datetime
    expires_at: datetime
    ends_at: datetime
    source_address: str | None
    user_agent: str | None


class UserPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of users."""

    items: list[User]
    next_cursor: str | None
