"""The append-only audit trail: who read, changed or was refused what, when, and from where.

Each web request sets its `RequestContext` (client address, user agent, the token or session it
used, the representation it serves); every event written during the request carries it, so
services record events without knowing about HTTP. Jobs have no request: their events leave
those columns empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from tumorboard.db import queries
from tumorboard.errors import AuditNote

# The audit trail is partitioned by month; the worker keeps this many coming months ready.
PARTITION_MONTHS_AHEAD = 3
# Representations a read may serve; the column's CHECK holds the same list.
FORMATS = frozenset({"json", "html", "pdf", "fhir", "attachment", "csv", "ics"})
MAX_USER_AGENT = 300


@dataclass(slots=True)
class RequestContext:
    """Where the current request came from; `credential_id` is filled in once the caller is known."""

    source_address: str | None = None
    user_agent: str | None = None
    user_id: UUID | None = None
    credential_id: UUID | None = None
    format: str | None = None
    # The handler and the first record id in the path, for refusals no service described.
    route: str = ""
    path_subject_id: UUID | None = None


_context: ContextVar[RequestContext | None] = ContextVar("audit_request_context", default=None)


def begin_request(context: RequestContext) -> None:
    """Make `context` the current request's (called once per request, before any handler)."""
    _context.set(context)


def current_request() -> RequestContext:
    """The current request's context (an empty one outside a request, e.g. in a job)."""
    return _context.get() or RequestContext()


def context_columns() -> dict[str, Any]:
    """The request columns of an audit row, for queries that write audit rows themselves."""
    context = current_request()
    return {
        "source_address": context.source_address,
        "user_agent": context.user_agent,
        "credential_id": context.credential_id,
        "format": context.format,
    }


async def record(
    conn: asyncpg.Connection,
    actor_id: UUID | None,
    action: str,
    subject_type: str,
    subject_id: UUID | None = None,
    *,
    outcome: str = "allowed",
    status_code: int | None = None,
) -> None:
    """Write one audit event in the caller's transaction."""
    await queries.audit.insert_audit_event(
        conn,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
        status_code=status_code,
        **context_columns(),
    )


async def record_refusal(
    conn: asyncpg.Connection, actor_id: UUID | None, note: AuditNote, status_code: int | None = None
) -> None:
    """Write a refusal after its own transaction rolled back."""
    await record(
        conn,
        actor_id,
        note.action,
        note.subject_type,
        note.subject_id,
        outcome="denied",
        status_code=status_code,
    )


async def record_request_refusal(conn: asyncpg.Connection, status_code: int) -> None:
    """Write a refusal no service described (a conflict, a forbidden form): the caller, the handler
    and the record named in the path."""
    context = current_request()
    await record(
        conn,
        context.user_id,
        context.route or "request",
        "request",
        context.path_subject_id,
        outcome="denied",
        status_code=status_code,
    )


async def record_reads(
    conn: asyncpg.Connection, actor_id: UUID, subject_type: str, subject_ids: Sequence[UUID]
) -> None:
    """Write one 'read' event per record shown, in one statement."""
    if subject_ids:
        await queries.audit.insert_audit_reads(
            conn,
            actor_id=actor_id,
            subject_type=subject_type,
            subject_ids=list(subject_ids),
            **context_columns(),
        )


async def add_coming_partitions(conn: asyncpg.Connection) -> int:
    """Create the audit trail's missing monthly partitions up to a few months ahead; how many."""
    async with conn.transaction():
        await queries.audit.limit_partitioning_lock_wait(conn)
        created: int = await queries.audit.add_audit_partitions(conn, months_ahead=PARTITION_MONTHS_AHEAD)
    return created
