"""Server-rendered pages: sign in, sign out, and each user's work on the home page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.auth.service import SESSION, authenticate, issue_token, revoke_token
from tumorboard.cases.service import list_cases
from tumorboard.errors import NotAuthenticated
from tumorboard.settings import Settings
from tumorboard.web import SESSION_COOKIE, provide_page_user

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _session_cookie(settings: Settings, value: str, max_age: int | None = None) -> Cookie:
    """The session cookie; it lives as long as the browser session, the server enforces idle expiry."""
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


@get("/login", include_in_schema=False)
async def login_form() -> Template:
    """The sign-in form."""
    return Template("login.html", context={"error": None, "email": ""})


@post("/login", include_in_schema=False, status_code=303)
async def login(data: FormData, conn: asyncpg.Connection, state: State) -> Response[Any]:
    """Check the credentials, start a session and go to the home page."""
    settings: Settings = state.settings
    email = data.get("email", "")[:200]
    try:
        user_id = await authenticate(conn, email, data.get("password", "")[:200])
    except NotAuthenticated as refused:
        if refused.audit:
            await audit.record_refusal(conn, None, refused.audit)
        return Template(
            "login.html", context={"error": "Invalid email or password.", "email": email}, status_code=401
        )
    idle = timedelta(minutes=settings.session_idle_minutes)
    token = await issue_token(conn, user_id, SESSION, idle)
    return Redirect(
        "/",
        status_code=303,
        cookies=[_session_cookie(settings, token.access_token)],
    )


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State) -> Response[Any]:
    """End the session."""
    if cookie := request.cookies.get(SESSION_COOKIE):
        await revoke_token(conn, cookie)
    return Redirect("/login", status_code=303, cookies=[_session_cookie(state.settings, "", 0)])


@get("/", include_in_schema=False, dependencies={"page_user": Provide(provide_page_user)})
async def home(conn: asyncpg.Connection, page_user: User | None) -> Response[Any]:
    """The signed-in user's work: the cases they may see. Anonymous visitors go to the sign-in form."""
    if page_user is None:
        return Redirect("/login", status_code=303)
    page = await list_cases(conn, page_user, status=None, meeting_id=None, mine=False, limit=100, cursor=None)
    return Template("home.html", context={"user": page_user, "cases": page.items})


ROUTES = [login_form, login, logout, home]
