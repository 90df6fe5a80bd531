"""Request plumbing shared by the API and the pages: the per-request transaction,
the caller, strict bodies, error responses and security headers."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Message, Scope

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.auth.service import API, SESSION, resolve_token
from tumorboard.errors import DomainError, InvalidInput, NotAuthenticated, NotReady
from tumorboard.settings import Settings
from tumorboard.validation import InvalidBody, decode_json

log = logging.getLogger(__name__)
T = TypeVar("T")

SESSION_COOKIE = "tumorboard_session"
READ_METHODS = frozenset({"GET", "HEAD"})
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


async def provide_transaction(
    state: State, request: Request[Any, Any, Any]
) -> AsyncGenerator[asyncpg.Connection]:
    """The request's one transaction: committed before the response is sent, rolled back on error.

    A read (GET, HEAD) changes nothing and runs without one: its audit row is a single statement,
    committed on its own. A refusal is written to the audit trail after the rollback, so it survives it.
    """
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as conn:
        transaction = None if request.method in READ_METHODS else conn.transaction()
        if transaction is not None:
            await transaction.start()
        try:
            yield conn
        except DomainError as refused:
            if transaction is not None:
                await transaction.rollback()
            if refused.audit:
                await audit.record_refusal(conn, getattr(request.state, "user_id", None), refused.audit)
            raise
        except BaseException:
            if transaction is not None:
                await transaction.rollback()
            raise
        else:
            if transaction is not None:
                await transaction.commit()


async def provide_user(request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State) -> User:
    """The caller, from a bearer token or the page session cookie; 401 otherwise."""
    settings: Settings = state.settings
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        user = await resolve_token(conn, token.strip(), API)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        if request.method not in READ_METHODS and request.scope["path"].startswith(API_PREFIX):
            # The API has no CSRF token: a browser session may only read through it (the documents),
            # since a page on another site can send requests with the cookie but never read the answer.
            raise NotAuthenticated("Changes through the API need Authorization: Bearer <token>")
        user = await resolve_token(conn, cookie, SESSION, timedelta(minutes=settings.session_idle_minutes))
    else:
        raise NotAuthenticated("Sign in first: send Authorization: Bearer <token>")
    request.state.user_id = user.id
    return user


async def provide_page_user(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, state: State
) -> User | None:
    """The signed-in user of a page, or None (the page then redirects to the sign-in form)."""
    try:
        return await provide_user(request, conn, state)
    except NotAuthenticated:
        return None


async def read_json(request: Request[Any, Any, Any], into: type[T]) -> T:
    """The request body decoded strictly into a struct (415 unless JSON, 400 naming bad fields)."""
    return decode_json(await request.body(), request.headers.get("content-type"), into)


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
    if isinstance(exc, NotReady):
        headers["Retry-After"] = "2"
    return Response(body, status_code=exc.status_code, headers=headers)


def validation_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar's own parameter errors, without the URL or values they would echo."""
    extra = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
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
    wraps the outermost send, so even routing errors (404, 405) pass through it."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        present = {name.lower() for name, _ in headers}
        headers.extend(header for header in SECURITY_HEADERS if header[0] not in present)
        message["headers"] = headers
