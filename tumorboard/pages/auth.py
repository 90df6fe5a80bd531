"""Sign in and sign out."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.params import Parameter
from litestar.response import Redirect, Template

from tumorboard import audit
from tumorboard.auth.service import SESSION, revoke_token, sign_in, sign_out
from tumorboard.errors import NotAuthenticated, TooManyAttempts
from tumorboard.pages.common import SSO_SIGNED_OUT_PATH, began_at_provider, done, page, safe_next
from tumorboard.pages.forms import text
from tumorboard.pages.security import posted_from_this_site
from tumorboard.settings import Settings
from tumorboard.web import session_cookie_name, session_from

LOGIN_TEMPLATE = "login.html"
# Signing out also asks the browser to drop what it cached or stored for this site (cookies stay: the
# response itself sets the one that carries the confirmation).
CLEAR_SITE_DATA = '"cache", "storage"'
MAX_CREDENTIAL = 200


def session_cookie(settings: Settings, value: str, max_age: int | None = None) -> Cookie:
    """The session cookie; it lives as long as the browser session, the server enforces idle expiry."""
    return Cookie(
        key=session_cookie_name(settings),
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def _refusal_message(refused: NotAuthenticated | TooManyAttempts) -> str:
    if isinstance(refused, TooManyAttempts):
        minutes = math.ceil((refused.retry_after or 60) / 60)
        return f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    return "Invalid email or password."


class SignInPages(Controller):
    """The sign-in form and signing out."""

    include_in_schema = False

    @get("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next_page: Annotated[str | None, Parameter(query="next", max_length=2000)] = None,
    ) -> Template:
        """The sign-in form."""
        return page(request, LOGIN_TEMPLATE, error=None, email="", next_page=safe_next(next_page))

    @post("/login", status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State
    ) -> Response[Any]:
        """Check the credentials, start a new session and go to the page asked for (home by default)."""
        settings: Settings = state.settings
        form = await request.form()
        email, next_page = text(form, "email")[:MAX_CREDENTIAL], safe_next(text(form, "next"))
        if not posted_from_this_site(request):
            await audit.record_request_refusal(conn, 403)
            error = "Sign in from this site's own sign-in page."
            return page(request, LOGIN_TEMPLATE, status_code=403, error=error, email="", next_page="/")
        password = str(form.get("password", ""))[:MAX_CREDENTIAL]
        idle = timedelta(minutes=settings.session_idle_minutes)
        try:
            token = await sign_in(
                conn, email, password, SESSION, idle, timedelta(hours=settings.session_max_hours)
            )
        except (NotAuthenticated, TooManyAttempts) as refused:
            # Shown, not raised: the failure's count and audit row commit with the request.
            response = page(
                request,
                LOGIN_TEMPLATE,
                status_code=refused.status_code,
                error=_refusal_message(refused),
                email=email,
                next_page=next_page,
            )
            if refused.retry_after is not None:
                response.headers["Retry-After"] = str(refused.retry_after)
            return response
        if previous := session_from(request):
            await revoke_token(conn, previous)  # a sign-in always starts a fresh session
        target = "/account/password" if token.password_change_required else next_page
        return Redirect(target, status_code=303, cookies=[session_cookie(settings, token.access_token)])

    @post("/logout", status_code=303)
    async def logout(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State
    ) -> Response[Any]:
        """End the session."""
        if cookie := session_from(request):
            await sign_out(conn, cookie)
        if began_at_provider(request):  # continue at the identity provider, which signs out there too
            response: Response[Any] = Redirect(SSO_SIGNED_OUT_PATH, status_code=303)
        else:
            response = done(request, "/login", "You have signed out.")
        response.set_cookie(session_cookie(state.settings, "", 0))
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
