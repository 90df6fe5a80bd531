"""Request plumbing shared by the API and the pages: where a request comes from (for the audit
trail), the per-request transaction, the caller, strict bodies, error responses and security headers."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tumorboard import audit
from tumorboard.auth import throttle
from tumorboard.auth.caller import Caller
from tumorboard.auth.schemas import Credential, User
from tumorboard.auth.service import API, SESSION, resolve_token
from tumorboard.db import WebPool, reusable_after
from tumorboard.errors import (
    DomainError,
    InvalidInput,
    NotAuthenticated,
    PasswordChangeRequired,
    ServiceUnavailable,
)
from tumorboard.request_body import refused_body
from tumorboard.settings import Settings
from tumorboard.validation import InvalidBody

log = logging.getLogger(__name__)

SESSION_COOKIE = "tumorboard_session"
# Over HTTPS the cookie takes the __Host- prefix: browsers then accept it only Secure, for Path=/
# and without a Domain, so no sibling site (another subdomain) can set or overwrite it.
SECURE_SESSION_COOKIE = "__Host-tumorboard_session"
READ_METHODS = frozenset({"GET", "HEAD"})
# Route option of a handler whose writes are each a single statement (atomic by itself): it runs
# without the request transaction, saving the BEGIN and COMMIT round trips (case submission).
ONE_STATEMENT = "one_statement"
API_PREFIX = "/api/"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NO_STORE = (b"cache-control", b"no-store")
# Refusals recorded in the audit trail even when no service described them.
AUDITED_STATUSES = frozenset({403, 409})
# What a user who must change their password may still do (method, path); everything else is 403.
PASSWORD_CHANGE_ALLOWED = frozenset(
    {
        ("POST", "/api/v1/me/password"),
        ("DELETE", "/api/v1/auth/token"),
        ("GET", "/account/password"),
        ("POST", "/account/password"),
        ("POST", "/logout"),
    }
)
# PostgreSQL could not be reached: the request answers 503 with Retry-After, never 500 or a hang.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    ConnectionError,
    TimeoutError,
)
ACQUIRE_TIMEOUT_SECONDS = 5.0
DATABASE_DOWN_MESSAGE = "The database is unavailable; try again shortly"


def served_format(path: str, accept: str) -> str:
    """The representation a request is served in, as the audit trail records it."""
    if path.endswith(".pdf"):
        return "pdf"
    if path.endswith(".fhir.json"):
        return "fhir"
    if path.endswith(".ics"):
        return "ics"
    if "/attachments/" in path:  # a document's file (API download, page download or inline view)
        return "attachment"
    if path.endswith(".html") or not path.startswith(API_PREFIX):
        return "html"
    if "text/csv" in accept:
        return "csv"
    return "json"


def request_context(scope: Scope) -> audit.RequestContext:
    """Where a request comes from and what it asks for. The client address is the socket peer's,
    or the forwarded one when uvicorn trusts the proxy that sent it (TUMORBOARD_TRUST_PROXY_HEADERS
    with FORWARDED_ALLOW_IPS)."""
    headers = {name: value for name, value in scope.get("headers", []) if name in (b"user-agent", b"accept")}
    client = scope.get("client")
    handler = scope.get("route_handler")
    operation_id = getattr(handler, "operation_id", None)
    route = operation_id if isinstance(operation_id, str) else getattr(handler, "handler_name", "")
    params: list[object] = list(scope.get("path_params", {}).values())
    path_ids = [value for value in params if isinstance(value, UUID)]
    return audit.RequestContext(
        source_address=client[0] if client else None,
        user_agent=headers.get(b"user-agent", b"").decode("latin-1")[: audit.MAX_USER_AGENT] or None,
        format=served_format(scope["path"], headers.get(b"accept", b"").decode("latin-1")),
        route=route,
        path_subject_id=path_ids[0] if path_ids else None,
    )


def audit_context_middleware(app: ASGIApp) -> ASGIApp:
    """Note where each request comes from before any handler runs, for every audit event it writes."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            audit.begin_request(request_context(scope))
        await app(scope, receive, send)

    return middleware


async def provide_transaction(request: Request[Any, Any, Any]) -> AsyncGenerator[asyncpg.Connection]:
    """The request's one transaction: committed before the response is sent, rolled back on error.

    A read (GET, HEAD) changes nothing and runs without one: its audit row is a single statement,
    committed on its own; so does a handler marked ONE_STATEMENT. A refusal is written to the audit
    trail after the rollback, so it survives it. A request cancelled or cut off from PostgreSQL
    half way gives its connection back to be closed (`db.reusable_after`): PostgreSQL rolls back.

    The providers take the app's state from the request: a `state` parameter costs a new State object
    per provider and request.
    """
    pool: WebPool = request.app.state.pool
    try:
        conn = await pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS)
    except DATABASE_DOWN:
        raise ServiceUnavailable(DATABASE_DOWN_MESSAGE) from None
    failure: BaseException | None = None
    try:
        one_statement = request.method in READ_METHODS or request.route_handler.opt.get(ONE_STATEMENT)
        transaction = None if one_statement else conn.transaction()
        if transaction is not None:
            await transaction.start()
        try:
            yield conn
        except DomainError as refused:
            if transaction is not None:
                await transaction.rollback()
            await record_refusal(conn, audit.current_request().user_id, refused)
            raise
        except BaseException as error:
            if transaction is not None and reusable_after(error):
                with contextlib.suppress(*DATABASE_DOWN):
                    await transaction.rollback()
            raise
        else:
            if transaction is not None:
                await transaction.commit()
    except BaseException as error:
        failure = error
        raise
    finally:
        await pool.release(conn, reusable=reusable_after(failure))


async def record_refusal(conn: asyncpg.Connection, actor_id: UUID | None, refused: DomainError) -> None:
    """What a refusal leaves behind once its transaction rolled back: its audit row (described by
    the service, or the handler and record for a 403 or 409 no service described), and a wrong
    password's count toward sign-in throttling."""
    if refused.audit:
        await audit.record_refusal(conn, actor_id, refused.audit, refused.status_code)
    elif refused.status_code in AUDITED_STATUSES:
        await audit.record_request_refusal(conn, refused.status_code)
    if isinstance(refused, NotAuthenticated) and refused.failed:
        await throttle.count_failure(conn, refused.failed.account)


def presented_token(request: Request[Any, Any, Any]) -> tuple[str, str] | None:
    """The (kind, secret) the request authenticates with: a bearer token, else the session cookie.
    The header is looked up in the scope: `request.headers` builds a mapping of them all."""
    authorization = next((value for name, value in request.scope["headers"] if name == b"authorization"), b"")
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return API, token.strip()
    if cookie := session_from(request):
        return SESSION, cookie
    return None


def session_cookie_name(settings: Settings) -> str:
    """The session cookie's name: with the __Host- prefix whenever cookies are Secure."""
    return SECURE_SESSION_COOKIE if settings.secure_cookies else SESSION_COOKIE


def session_from(request: Request[Any, Any, Any]) -> str | None:
    """The session secret the browser sent, if any."""
    return request.cookies.get(session_cookie_name(request.app.state.settings))


async def provide_credential(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> Credential:
    """The caller's token or session, from a bearer token or the page session cookie; 401 otherwise.
    While the caller must change their password, anything but changing it and signing out is 403."""
    settings: Settings = request.app.state.settings
    kind, token = _presented(request)
    idle = timedelta(minutes=settings.session_idle_minutes) if kind == SESSION else None
    credential = await resolve_token(conn, token, kind, idle)
    admit(request, credential)
    return credential


async def provide_caller(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> Caller:
    """The caller, for the handlers whose one statement checks a bearer token itself (auth/caller.py):
    a bearer token is passed on unchecked, anything else resolved as provide_credential does."""
    kind, token = _presented(request)
    if kind != API:
        return Caller(user=(await provide_credential(request, conn)).user)

    async def resolve() -> Credential:
        return await provide_credential(request, conn)

    return Caller(token=token, admit=lambda credential: admit(request, credential), resolve=resolve)


def _presented(request: Request[Any, Any, Any]) -> tuple[str, str]:
    presented = presented_token(request)
    if presented is None:
        raise NotAuthenticated("Sign in first: send Authorization: Bearer <token>")
    kind, token = presented
    path = request.scope["path"]
    if kind == SESSION and request.method not in READ_METHODS and path.startswith(API_PREFIX):
        # The API has no CSRF token: a browser session may only read through it (the documents),
        # since a page on another site can send requests with the cookie but never read the answer.
        raise NotAuthenticated("Changes through the API need Authorization: Bearer <token>")
    return kind, token


def admit(request: Request[Any, Any, Any], credential: Credential) -> None:
    """What a request does with its live credential: the audit trail names its user and credential;
    403 while the user must change their password (unless changing it or signing out)."""
    if credential.kind == SESSION:  # pages clear themselves when it ends (static/session-end.js)
        request.state.session_ends_at = credential.ends_at
    context = audit.current_request()
    context.user_id, context.credential_id = credential.user.id, credential.id
    if credential.user.password_change_required and (
        (request.method, request.scope["path"]) not in PASSWORD_CHANGE_ALLOWED
    ):
        raise PasswordChangeRequired(
            "Change your password first (POST /api/v1/me/password); until then you may only sign out"
        )


async def provide_user(credential: Credential) -> User:
    """The caller (see provide_credential)."""
    return credential.user


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """A domain refusal as Litestar's error shape, with each bad field under `extra`."""
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
    headers = {}
    if isinstance(exc, InvalidBody):
        body["extra"] = [{"key": e.key, "message": e.message, "source": e.source} for e in exc.errors]
    elif isinstance(exc, InvalidInput):
        body["extra"] = [{"key": exc.field, "message": exc.message, "source": "body"}]
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return Response(body, status_code=exc.status_code, headers=headers)


def database_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL went away during the request: 503 with Retry-After (never a 500)."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return domain_error_handler(request, ServiceUnavailable(DATABASE_DOWN_MESSAGE))


def validation_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar's own parameter errors, without the URL or values they would echo; a declared body
    found missing answers why its decoding refused it (see request_body)."""
    items = exc.extra if isinstance(exc.extra, list) else []
    data_missing = any(isinstance(item, dict) and item.get("key") == "data" for item in items)
    if data_missing and (refused := refused_body(request)) is not None:
        return domain_error_handler(request, refused)
    extra = []
    for item in items:
        if isinstance(item, dict) and item.get("key"):
            extra.append({"key": item["key"], "message": "is invalid", "source": item.get("source", "query")})
    return Response(
        {"status_code": 400, "detail": "Invalid request parameters", "extra": extra}, status_code=400
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Other HTTP errors in Litestar's shape, with their fixed messages only."""
    return Response(
        {"status_code": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An unexpected failure: logged by type and code location only, since messages may hold data."""
    where = "".join(traceback.format_tb(exc.__traceback__, limit=-8))
    log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.scope["path"], where)
    return Response({"status_code": 500, "detail": "Internal server error"}, status_code=500)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Give every response its security headers, errors included: an app-level `before_send` hook
    wraps the outermost send, so even routing errors (404, 405) pass through it. Every API response
    is `Cache-Control: no-store`; HSTS whenever the cookies are Secure (the site is served over HTTPS)."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        if scope["path"].startswith(API_PREFIX):
            headers = [header for header in headers if header[0].lower() != NO_STORE[0]]
            headers.append(NO_STORE)
        present = {name.lower() for name, _ in headers}
        headers.extend(header for header in SECURITY_HEADERS if header[0] not in present)
        if scope["app"].state.settings.secure_cookies:
            headers.append(HSTS)
        message["headers"] = headers
