"""Live parts of pages over server-sent events: the meeting's presentation and the case page's status.

Each stream works like the live agenda's (`tumorboard.pages.live`): it polls a digest of what the page
shows every two seconds on a pooled connection it holds only for that query, and sends the redrawn
part when the digest changes; it ends after a minute and the browser reconnects at once with the last
digest as Last-Event-ID, which re-checks the session and access. A redraw the user may no longer see
is audited as refused and ends the stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Request
from litestar.response import ServerSentEventMessage

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.errors import DomainError
from tumorboard.pages.live import POLL_SECONDS, STREAM_SECONDS

Digest = Callable[[asyncpg.Connection], Awaitable[str | None]]
Redraw = Callable[[asyncpg.Connection], Awaitable[str]]


def last_seen(request: Request[Any, Any, Any], since: str | None) -> str | None:
    """The digest the page already shows: the browser's Last-Event-ID, else the page's own."""
    return request.headers.get("last-event-id") or since


def renderer(request: Request[Any, Any, Any], template_name: str) -> Callable[[dict[str, Any]], str]:
    """Render a page fragment outside the request (in the stream), with the app's template engine."""
    engine = request.app.template_engine
    assert engine is not None
    template = engine.get_template(template_name)
    return lambda context: template.render(**context)


async def redraws(
    pool: asyncpg.Pool, user: User, digest: Digest, redraw: Redraw, last: str | None
) -> AsyncGenerator[ServerSentEventMessage]:
    """The redrawn fragment each time the digest changes, for about a minute."""
    deadline = time.monotonic() + STREAM_SECONDS
    while time.monotonic() < deadline:
        async with pool.acquire() as conn:
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
