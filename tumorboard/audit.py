"""The append-only audit trail: who read, changed or was refused what, and when."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from tumorboard.db import queries


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
    await queries.insert_audit_event(
        conn,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
    )


async def record_reads(
    conn: asyncpg.Connection, actor_id: UUID, subject_type: str, subject_ids: Sequence[UUID]
) -> None:
    """Write one 'read' event per record shown, in one statement."""
    if subject_ids:
        await queries.insert_audit_reads(
            conn, actor_id=actor_id, subject_type=subject_type, subject_ids=list(subject_ids)
        )
