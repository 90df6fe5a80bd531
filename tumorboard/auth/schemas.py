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


class TokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /auth/token."""

    email: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Token(msgspec.Struct, kw_only=True, frozen=True):
    """A freshly issued bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_at: datetime


class UserPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of users."""

    items: list[User]
    next_cursor: str | None
