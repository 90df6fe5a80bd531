"""The append-only audit trail: who read, changed or was refused what, and when."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from tumorboard.db import queries
from tumorboard.errors import AuditNote

# The audit trail is partitioned by month; the worker keeps this many coming months ready.
PARTITION_MONTHS_AHEAD = 3


async def record(
    conn: asyncpg.Connection,
    actor_id: UUID | None,
    action: str,
    subject_type: str,
    subject_id: UUID | None = None,
    *,
    outcome: str = "allowed",
) -> None:
    """Write one audit event in the caller's transaction."""
    await queries.audit.insert_audit_event(
        conn,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
    )


async def record_refusal(conn: asyncpg.Connection, actor_id: UUID | None, note: AuditNote) -> None:
    """Write a refusal after its own transaction rolled back."""
    await record(conn, actor_id, note.action, note.subject_type, note.subject_id, outcome="denied")


async def record_reads(
    conn: asyncpg.Connection, actor_id: UUID, subject_type: str, subject_ids: Sequence[UUID]
) -> None:
    """Write one 'read' event per record shown, in one statement."""
    if subject_ids:
        await queries.audit.insert_audit_reads(
            conn, actor_id=actor_id, subject_type=subject_type, subject_ids=list(subject_ids)
        )


async def add_coming_partitions(conn: asyncpg.Connection) -> int:
    """Create the audit trail's missing monthly partitions up to a few months ahead; how many."""
    async with conn.transaction():
        await queries.audit.limit_partitioning_lock_wait(conn)
        created: int = await queries.audit.add_audit_partitions(conn, months_ahead=PARTITION_MONTHS_AHEAD)
    return created
