"""Sign-in and sign-out, the caller's own account, and user administration."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import Parameter

from tumorboard.auth import service
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import (
    Credential,
    PasswordChange,
    PasswordReset,
    TokenRequest,
    User,
    UserCreate,
    UserPage,
    UserUpdate,
)
from tumorboard.enums import Role
from tumorboard.errors import NotAuthenticated, TooManyAttempts
from tumorboard.pagination import DEFAULT_LIMIT
from tumorboard.settings import Settings
from tumorboard.web import domain_error_handler, presented_token


class AuthController(Controller):
    """Bearer tokens and the caller's own account."""

    tags = ["auth"]

    @post("/auth/token", operation_id="CreateToken", status_code=200)
    async def create_token(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State, data: TokenRequest
    ) -> Response[Any]:
        """Exchange email and password for a bearer token (429 with Retry-After while locked)."""
        settings: Settings = state.settings
        ttl = timedelta(hours=settings.token_ttl_hours)
        try:
            token = await service.sign_in(conn, data.email, data.password, service.API, ttl, ttl)
        except (NotAuthenticated, TooManyAttempts) as refused:
            # Answered, not raised: the failure's count and audit row commit with the request.
            return domain_error_handler(request, refused)
        return Response(token, status_code=200)

    @delete("/auth/token", operation_id="RevokeToken", status_code=204)
    async def revoke_token(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, credential: Credential
    ) -> None:
        """Sign out: the token stops working at once, in every web process."""
        presented = presented_token(request)
        assert presented is not None  # the credential came from it
        await service.sign_out(conn, presented[1])

    @get("/me", operation_id="GetMe")
    async def me(self, user: User) -> User:
        """The caller."""
        return user

    @post("/me/password", operation_id="ChangePassword", status_code=204)
    async def change_password(
        self, conn: asyncpg.Connection, credential: Credential, data: PasswordChange
    ) -> None:
        """Change one's own password; every other token and session of the caller ends."""
        await service.change_password(conn, credential, data)


class UserController(Controller):
    """User administration."""

    path = "/users"
    tags = ["users"]

    @post(operation_id="CreateUser")
    async def create_user(self, conn: asyncpg.Connection, user: User, data: UserCreate) -> User:
        """Create a user (admins)."""
        require_role(user, Role.ADMIN, action="create", subject_type="user")
        return await service.create_user(conn, user.id, data)

    @get(operation_id="ListUsers")
    async def list_users(
        self,
        conn: asyncpg.Connection,
        user: User,
        limit: Annotated[int, Parameter(ge=1, le=200)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> UserPage:
        """Users by name (admins and coordinators)."""
        require_role(user, Role.ADMIN, Role.COORDINATOR, action="list", subject_type="user")
        return await service.list_users(conn, limit, cursor)

    @patch("/{user_id:uuid}", operation_id="UpdateUser")
    async def update_user(
        self, conn: asyncpg.Connection, user: User, user_id: UUID, data: UserUpdate
    ) -> User:
        """Change a user's name, roles, discipline or active flag (admins)."""
        require_role(user, Role.ADMIN, action="update", subject_type="user", subject_id=user_id)
        return await service.update_user(conn, user, user_id, data)

    @post("/{user_id:uuid}/password-reset", operation_id="ResetPassword", status_code=204)
    async def reset_password(
        self, conn: asyncpg.Connection, user: User, user_id: UUID, data: PasswordReset
    ) -> None:
        """Set a temporary password the user must change at next sign-in (admins)."""
        require_role(user, Role.ADMIN, action="reset_password", subject_type="user", subject_id=user_id)
        await service.reset_password(conn, user, user_id, data)
