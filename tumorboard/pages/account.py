"""The signed-in user's own account: changing the password (forced after an admin's reset), the
active sessions and tokens, signing out everywhere, and the calendar subscription URL."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template

from tumorboard.auth import service
from tumorboard.auth.schemas import Credential, PasswordChange, User
from tumorboard.errors import DomainError, InvalidInput, NotAuthenticated, TooManyAttempts
from tumorboard.meetings import calendar
from tumorboard.pages.auth import CLEAR_SITE_DATA, session_cookie
from tumorboard.pages.common import done, field_errors, form_error, page
from tumorboard.pages.forms import decode
from tumorboard.validation import InvalidBody
from tumorboard.web import record_refusal

FORM_TEMPLATE = "pages/password_form.html"
WRONG_CURRENT = "Your current password is not correct."


async def attempt_password_change(
    conn: asyncpg.Connection, credential: Credential, form: Any
) -> DomainError | None:
    """Change the caller's password from the form; a refusal to show instead. A wrong current
    password is audited and counted toward sign-in throttling in the page's own transaction."""
    if str(form.get("new_password", "")) != str(form.get("new_password_again", "")):
        return InvalidInput("new_password_again", "does not match the new password")
    body = {
        "current_password": str(form.get("current_password", "")),
        "new_password": str(form.get("new_password", "")),
    }
    try:
        async with conn.transaction():
            await service.change_password(conn, credential, decode(body, PasswordChange))
    except (NotAuthenticated, TooManyAttempts) as refused:
        await record_refusal(conn, credential.user.id, refused)
        return refused
    except (InvalidBody, InvalidInput) as refused:
        return refused
    return None


def _password_page(request: Request[Any, Any, Any], user: User, refused: DomainError | None) -> Template:
    errors = field_errors(refused) if refused else {}
    if isinstance(refused, NotAuthenticated):
        errors = {"current_password": WRONG_CURRENT}
    error = (
        WRONG_CURRENT if isinstance(refused, NotAuthenticated) else form_error(refused) if refused else None
    )
    response = page(
        request,
        FORM_TEMPLATE,
        status_code=refused.status_code if refused else 200,
        user=user,
        errors=errors,
        error=error,
        values={},
    )
    if refused is not None and refused.retry_after is not None:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


class AccountPages(Controller):
    """The user's own account."""

    include_in_schema = False

    @get("/account")
    async def account(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, credential: Credential
    ) -> Template:
        """Who the user is, their active sessions and tokens, and the ways out."""
        sessions = await service.list_sessions(conn, user.id)
        return page(request, "pages/account.html", user=user, sessions=sessions, current_id=credential.id)

    @post("/account/calendar-feed")
    async def issue_calendar_feed(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, credential: Credential
    ) -> Template:
        """A new calendar subscription URL, shown once on the page (it is a secret: it never travels
        in a cookie or a redirect); the previous URL stops working."""
        token, _ = await calendar.issue_feed(conn, user)
        sessions = await service.list_sessions(conn, user.id)
        return page(
            request,
            "pages/account.html",
            user=user,
            sessions=sessions,
            current_id=credential.id,
            feed_url=calendar.feed_url(token),
        )

    @post("/account/calendar-feed/revoke")
    async def revoke_calendar_feed(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Response[Any]:
        """Stop the calendar subscription URL."""
        await calendar.revoke_feed(conn, user)
        return done(request, "/account", "Your calendar subscription URL no longer works.")

    @get("/account/password")
    async def password_form(self, request: Request[Any, Any, Any], user: User) -> Template:
        """The form to change one's password (where a forced change sends the user)."""
        return _password_page(request, user, None)

    @post("/account/password")
    async def change_password(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, credential: Credential
    ) -> Response[Any]:
        """Change the password; the user's other sessions and tokens end, this one stays."""
        refused = await attempt_password_change(conn, credential, await request.form())
        if refused is not None:
            return _password_page(request, user, refused)
        return done(
            request, "/account", "Your password is changed. Your other sessions and tokens have ended."
        )

    @post("/account/sign-out-everywhere", status_code=303)
    async def sign_out_everywhere(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, state: State
    ) -> Response[Any]:
        """End every session and token of the user, this one included."""
        await service.end_sessions(conn, user, user.id)
        response = done(request, "/login", "You have signed out everywhere.")
        response.set_cookie(session_cookie(state.settings, "", 0))
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
