"""Signing in through the hospital's identity provider: the redirect there, the callback, and signing
out there too.

Between the redirect and the callback, the state, nonce and PKCE verifier travel in a short-lived
HttpOnly cookie signed with the app's secret, which binds the callback to the browser that started
the sign-in (no one can plant their own sign-in on another person's browser).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Redirect

from tumorboard import audit
from tumorboard.auth.oidc import InvalidSignIn, Provider, ProviderUnavailable
from tumorboard.auth.service import SESSION, issue_token, revoke_token
from tumorboard.auth.sso import sign_in_with_provider
from tumorboard.errors import AuditNote, NotAuthenticated
from tumorboard.pages.auth import session_cookie
from tumorboard.pages.common import SSO_SESSION_COOKIE, done, page, safe_next
from tumorboard.settings import Settings
from tumorboard.web import session_from

LOGIN_STATE_COOKIE = "tumorboard_oidc"
_LOGIN_SECONDS = 600
_PARAM = Annotated[str | None, Parameter(max_length=2000)]


class LoginState(msgspec.Struct, frozen=True):
    """What the callback checks: the request's state, nonce and PKCE verifier, and where to go next."""

    state: str
    nonce: str
    code_verifier: str
    next_page: str
    expires_at: int


class SingleSignOnPages(Controller):
    """Sign in with the identity provider, its callback, and signing out there."""

    path = "/auth/oidc"
    include_in_schema = False

    @get("/login")
    async def start(
        self,
        request: Request[Any, Any, Any],
        state: State,
        next_page: Annotated[str | None, Parameter(query="next", max_length=2000)] = None,
    ) -> Response[Any]:
        """Send the browser to the identity provider with a fresh authorization request."""
        provider = _provider(state)
        try:
            authorization = await provider.authorization_request()
        except ProviderUnavailable:
            return done(request, "/login", _unreachable(provider), "error")
        login = LoginState(
            state=authorization.state,
            nonce=authorization.nonce,
            code_verifier=authorization.code_verifier,
            next_page=safe_next(next_page),
            expires_at=int(time.time()) + _LOGIN_SECONDS,
        )
        cookie = _cookie(state.settings, LOGIN_STATE_COOKIE, _seal(request, login), _LOGIN_SECONDS)
        return Redirect(authorization.url, status_code=303, cookies=[cookie])

    @get("/callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        state: State,
        code: _PARAM = None,
        returned_state: Annotated[str | None, Parameter(query="state", max_length=2000)] = None,
        error: _PARAM = None,
    ) -> Response[Any]:
        """Check the provider's answer, find or provision the user, and start their session."""
        provider = _provider(state)
        settings: Settings = state.settings
        login = _unseal(request, request.cookies.get(LOGIN_STATE_COOKIE, ""))
        forget = _cookie(settings, LOGIN_STATE_COOKIE, "", 0)
        if login is None or returned_state is None or not secrets.compare_digest(login.state, returned_state):
            return _back_to_login(request, "That sign-in link has expired; start again.", forget)
        if error is not None or code is None:
            return _back_to_login(
                request, f"Sign-in with {provider.config.provider_name} did not finish.", forget
            )
        try:
            identity = await provider.redeem_code(code, login.code_verifier, nonce=login.nonce)
            user_id = await sign_in_with_provider(conn, provider.config, identity)
        except ProviderUnavailable:
            return _back_to_login(request, _unreachable(provider), forget)
        except (InvalidSignIn, NotAuthenticated) as refused:
            note = refused.audit if isinstance(refused, NotAuthenticated) else None
            await audit.record_refusal(conn, None, note or AuditNote("sign_in", "user"))
            message = (
                refused.detail
                if isinstance(refused, NotAuthenticated)
                else "The sign-in could not be verified."
            )
            return _back_to_login(request, message + ".", forget)
        async with conn.transaction():
            if previous := session_from(request):
                await revoke_token(conn, previous)  # a sign-in always starts a fresh session
            token = await issue_token(
                conn,
                user_id,
                SESSION,
                timedelta(minutes=settings.session_idle_minutes),
                timedelta(hours=settings.session_max_hours),
            )
        cookies = [
            forget,
            session_cookie(settings, token.access_token),
            _cookie(settings, SSO_SESSION_COOKIE, "1"),
        ]
        return Redirect(login.next_page, status_code=303, cookies=cookies)

    @get("/signed-out")
    async def signed_out(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """After signing out here, offer (and start) signing out at the provider too."""
        provider = _provider(state)
        settings: Settings = state.settings
        end_session = await provider.end_session_url(settings.public_url + "/login")
        response: Response[Any]
        if end_session is None:
            response = done(request, "/login", "You have signed out.")
        else:
            response = page(
                request, "pages/sso_signed_out.html", end_session_url=end_session, provider=provider.config
            )
        response.cookies.append(_cookie(settings, SSO_SESSION_COOKIE, "", 0))
        return response


def _provider(state: State) -> Provider:
    provider: Provider | None = state.oidc
    if provider is None:
        raise NotFoundException()
    return provider


def _unreachable(provider: Provider) -> str:
    return f"{provider.config.provider_name} cannot be reached right now; try again shortly."


def _back_to_login(request: Request[Any, Any, Any], message: str, forget: Cookie) -> Response[Any]:
    response = done(request, "/login", message, "error")
    response.cookies.append(forget)
    return response


def _cookie(settings: Settings, key: str, value: str, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def _secret(request: Request[Any, Any, Any]) -> bytes:
    config = request.app.csrf_config
    assert config is not None, "the pages need the app's CSRF config (its secret signs the sign-in state)"
    return config.secret.encode()


def _seal(request: Request[Any, Any, Any], login: LoginState) -> str:
    payload = base64.urlsafe_b64encode(msgspec.json.encode(login)).rstrip(b"=")
    signature = hmac.new(_secret(request), b"oidc:" + payload, hashlib.sha256).hexdigest()
    return f"{payload.decode()}.{signature}"


def _unseal(request: Request[Any, Any, Any], value: str) -> LoginState | None:
    payload, _, signature = value.partition(".")
    expected = hmac.new(_secret(request), b"oidc:" + payload.encode(), hashlib.sha256).hexdigest()
    if not payload or not hmac.compare_digest(signature, expected):
        return None
    try:
        login = msgspec.json.decode(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)), type=LoginState
        )
    except (msgspec.DecodeError, ValueError):
        return None
    return login if login.expires_at > time.time() else None
