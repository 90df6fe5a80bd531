"""Sign-in, the caller, and user administration."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import Parameter

from tumorboard.auth import service
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import Token, TokenRequest, User, UserCreate, UserPage
from tumorboard.enums import Role
from tumorboard.pagination import DEFAULT_LIMIT
from tumorboard.web import read_json


class AuthController(Controller):
    """Bearer tokens and the caller's own profile."""

    tags = ["auth"]

    @post("/auth/token", operation_id="CreateToken", status_code=200)
    async def create_token(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State
    ) -> Token:
        """Exchange email and password for a bearer token."""
        data = await read_json(request, TokenRequest)
        user_id = await service.authenticate(conn, data.email, data.password)
        return await service.issue_token(
            conn, user_id, service.API, timedelta(hours=state.settings.token_ttl_hours)
        )

    @get("/me", operation_id="GetMe")
    async def me(self, user: User) -> User:
        """The caller."""
        return user


class UserController(Controller):
    """User administration."""

    path = "/users"
    tags = ["users"]

    @post(operation_id="CreateUser")
    async def create_user(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> User:
        """Create a user (admins)."""
        require_role(user, Role.ADMIN, action="create", subject_type="user")
        data = await read_json(request, UserCreate)
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
