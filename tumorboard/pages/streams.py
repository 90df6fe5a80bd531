"""Live parts of pages over server-sent events: the meeting's agenda and presentation, the running
order a presenter follows, and the case page's status.

Each stream polls a digest of what the page shows every two seconds on a pooled connection it holds
only for that query, and sends the redrawn part when the digest changes. It ends after a minute; the
browser reconnects at once (sending the last digest as Last-Event-ID), which re-checks the session and
access, keeps proxies from cutting an idle stream, and lets the server shut down promptly.
Reconnecting does not extend the session: an open live page does not keep an idle user signed in.

Every poll also checks the session in the database (without sliding it): once it has ended (sign-out
anywhere, expiry, deactivation, password reset) the stream sends a `session-ended` event and closes,
and the page's script (static/session-end.js) clears the patient data it shows. A redraw the user may
no longer see is audited as refused and ends the stream. A user has at most MAX_STREAMS_PER_USER
streams open, across all web processes (429 beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any
from uuid import UUID

import anyio
import asyncpg
from litestar import Request, Response
from litestar.datastructures import State
from litestar.response import ServerSentEvent, ServerSentEventMessage

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.auth.service import SESSION, resolve_token
from tumorboard.db import WebPool, queries
from tumorboard.errors import DomainError, NotAuthenticated, TooManyStreams
from tumorboard.web import session_from

POLL_SECONDS = 2.0
STREAM_SECONDS = 60.0
MAX_STREAMS_PER_USER = 6
STALE_STREAM_SECONDS = 2 * STREAM_SECONDS
SESSION_ENDED = "session-ended"

Digest = Callable[[asyncpg.Connection], Awaitable[str | None]]
Redraw = Callable[[asyncpg.Connection], Awaitable[str]]


async def provide_live_user(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> User:
    """The signed-in user of a live stream, without sliding the session's idle expiry."""
    cookie = session_from(request)
    if not cookie:
        raise NotAuthenticated("Sign in first")
    credential = await resolve_token(conn, cookie, SESSION)
    context = audit.current_request()
    context.user_id, context.credential_id = credential.user.id, credential.id
    return credential.user


def refusal_as_text(request: Request[Any, Any, Any], exc: DomainError) -> Response[str]:
    """A refused stream answers with a short text the page does not swap in; its script clears the
    page on 401 and 403 (session ended, access lost)."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    return Response(exc.detail, status_code=exc.status_code, media_type="text/plain", headers=headers)


def renderer(request: Request[Any, Any, Any], template_name: str) -> Callable[[dict[str, Any]], str]:
    """Render a page fragment outside the request (in the stream), with the app's template engine."""
    engine = request.app.template_engine
    assert engine is not None
    template = engine.get_template(template_name)
    return lambda context: template.render(**context)


async def live_stream(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    state: State,
    user: User,
    digest: Digest,
    redraw: Redraw,
    since: str | None,
) -> ServerSentEvent:
    """A counted stream of redraws for a user whose access the caller has just checked."""
    stream_id = await _open_stream(conn, user)
    session = session_from(request)
    assert session is not None  # provide_live_user found it
    last = request.headers.get("last-event-id") or since
    updates = _redraws(state.pool, user, session, digest, redraw, last)
    return ServerSentEvent(_counted(state.pool, stream_id, updates))


async def _open_stream(conn: asyncpg.Connection, user: User) -> UUID:
    """Count a new stream of the user (serialised per user, so the limit is exact); 429 beyond it."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('live:' || $1, 0))", str(user.id))
        stream_id = await queries.pages.open_live_stream(
            conn, user_id=user.id, max_streams=MAX_STREAMS_PER_USER, stale_seconds=STALE_STREAM_SECONDS
        )
    if stream_id is None:
        raise TooManyStreams(f"At most {MAX_STREAMS_PER_USER} live pages may be open at once")
    return stream_id


async def _session_alive(conn: asyncpg.Connection, session: str) -> bool:
    try:
        await resolve_token(conn, session, SESSION)
    except NotAuthenticated:
        return False
    return True


async def _redraws(
    pool: WebPool, user: User, session: str, digest: Digest, redraw: Redraw, last: str | None
) -> AsyncGenerator[ServerSentEventMessage]:
    """The redrawn fragment each time the digest changes, for about a minute or until the session ends."""
    deadline = time.monotonic() + STREAM_SECONDS
    while time.monotonic() < deadline:
        async with pool.acquire() as conn:
            if not await _session_alive(conn, session):
                yield ServerSentEventMessage(data="", event=SESSION_ENDED)
                return
            fingerprint = await digest(conn)
        if fingerprint is None:
            return
        if fingerprint != last:
            try:
                async with pool.acquire() as conn, conn.transaction():
                    html = await redraw(conn)
            except DomainError as refused:  # no longer allowed to see it: record it and stop
                if refused.audit:
                    async with pool.acquire() as conn:
                        await audit.record_refusal(conn, user.id, refused.audit)
                return
            yield ServerSentEventMessage(data=html, id=fingerprint)
            last = fingerprint
        await asyncio.sleep(POLL_SECONDS)


async def _counted(
    pool: WebPool, stream_id: UUID, updates: AsyncGenerator[ServerSentEventMessage]
) -> AsyncGenerator[ServerSentEventMessage]:
    """The updates, with the stream uncounted when they end (or the browser goes away)."""
    try:
        async for update in updates:
            yield update
    finally:
        # Shielded: when the browser goes away the stream is cancelled, and the row must still go.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await updates.aclose()
            async with pool.acquire(timeout=5) as conn:  # else the row stops counting after two minutes
                await queries.pages.close_live_stream(conn, id=stream_id)
