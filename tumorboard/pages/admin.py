"""User administration: the users and, for admins, creating one."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.auth import service
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User, UserCreate
from tumorboard.enums import Role
from tumorboard.errors import DomainError
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, optional, text, texts

USERS_PAGE = 50


def user_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a POST /users body."""
    body = {
        "email": text(form, "email"),
        "full_name": text(form, "full_name"),
        "password": str(form.get("password", "")),
        "roles": texts(form, "roles"),
        "discipline": optional(form, "discipline"),
    }
    return compact(body)


async def _users_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    values: dict[str, Any],
    cursor: str | None = None,
    refused: DomainError | None = None,
) -> Template:
    require_role(user, Role.ADMIN, action="list", subject_type="user")
    found = await service.list_users(conn, USERS_PAGE, cursor)
    return page(
        request,
        "pages/users.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        users=found.items,
        next_cursor=found.next_cursor,
        values={name: value for name, value in values.items() if name != "password"},
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
    )


class AdminPages(Controller):
    """Users and their roles (admins)."""

    include_in_schema = False

    @get("/admin/users")
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> Template:
        """The users by name, and the form to create one."""
        return await _users_page(request, conn, user, {"roles": []}, cursor)

    @post("/admin/users")
    async def create(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Response[Any]:
        """Create the user."""
        body = user_body(await request.form())

        async def create() -> User:
            require_role(user, Role.ADMIN, action="create", subject_type="user")
            return await service.create_user(conn, user.id, decode(body, UserCreate))

        result = await attempt(conn, create)
        if isinstance(result, DomainError):
            return await _users_page(request, conn, user, body, refused=result)
        return done(request, "/admin/users", f"User {result.email} created. They can sign in now.")
