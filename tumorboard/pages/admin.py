"""User administration (admins): the users, creating one, and one user's account: name, roles,
discipline and active flag, a password reset, their sessions and tokens, signing them out."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from tumorboard.auth import service
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import PasswordReset, User, UserCreate, UserUpdate
from tumorboard.enums import Role
from tumorboard.errors import DomainError, NotFound
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


def user_update_body(form: Any) -> dict[str, Any]:
    """The posted edit form shaped like a PATCH /users/{id} body."""
    return {
        "full_name": text(form, "full_name"),
        "roles": texts(form, "roles"),
        "discipline": optional(form, "discipline"),
        "active": form.get("active") == "on",
    }


async def _user_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    admin: User,
    user_id: UUID,
    values: dict[str, Any] | None = None,
    refused: DomainError | None = None,
    reset_refused: DomainError | None = None,
) -> Template:
    require_role(admin, Role.ADMIN, action="read", subject_type="user", subject_id=user_id)
    shown = await service.get_user(conn, user_id)
    if shown is None:
        raise NotFound("No such user")
    if values is None:
        values = {
            "full_name": shown.full_name,
            "roles": [str(role) for role in shown.roles],
            "discipline": shown.discipline or "",
            "active": shown.active,
        }
    failed = refused or reset_refused
    return page(
        request,
        "pages/user_edit.html",
        status_code=failed.status_code if failed else 200,
        user=admin,
        shown=shown,
        values=values,
        sessions=await service.list_sessions(conn, user_id),
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        reset_errors=field_errors(reset_refused) if reset_refused else {},
        reset_error=form_error(reset_refused) if reset_refused else None,
    )


class UserAccountPages(Controller):
    """One user's account (admins)."""

    include_in_schema = False
    path = "/admin/users/{user_id:uuid}"

    @get()
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, user_id: UUID
    ) -> Template:
        """The user, the edit and reset forms, and their sessions."""
        return await _user_page(request, conn, user, user_id)

    @post()
    async def update(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, user_id: UUID
    ) -> Response[Any]:
        """Change name, roles, discipline or active flag (deactivating signs the user out everywhere)."""
        body = user_update_body(await request.form())

        async def update() -> User:
            require_role(user, Role.ADMIN, action="update", subject_type="user", subject_id=user_id)
            return await service.update_user(conn, user, user_id, decode(body, UserUpdate))

        result = await attempt(conn, update)
        if isinstance(result, DomainError):
            return await _user_page(request, conn, user, user_id, values=body, refused=result)
        message = f"{result.full_name} is saved." + ("" if result.active else " They can no longer sign in.")
        return done(request, f"/admin/users/{user_id}", message)

    @post("/password-reset")
    async def reset_password(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, user_id: UUID
    ) -> Response[Any]:
        """Set a temporary password; the user must change it at next sign-in."""
        form = await request.form()
        body = {"temporary_password": str(form.get("temporary_password", ""))}

        async def reset() -> None:
            require_role(user, Role.ADMIN, action="reset_password", subject_type="user", subject_id=user_id)
            await service.reset_password(conn, user, user_id, decode(body, PasswordReset))

        result = await attempt(conn, reset)
        if isinstance(result, DomainError):
            return await _user_page(request, conn, user, user_id, reset_refused=result)
        message = "The password is reset: their sessions have ended, and they must change it at next sign-in."
        return done(request, f"/admin/users/{user_id}", message)

    @post("/sign-out-everywhere", status_code=303)
    async def sign_out_everywhere(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, user_id: UUID
    ) -> Response[Any]:
        """End every session and token of the user."""
        await service.end_sessions(conn, user, user_id)
        return done(request, f"/admin/users/{user_id}", "Every session and token of this user has ended.")
