"""Searching the audit trail; every search is itself audited."""

from __future__ import annotations

import csv
import io

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.audit_trail.schemas import AuditEvent, AuditPage, AuditQuery
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.db import fetch_all, queries
from tumorboard.enums import Role
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor

CSV_COLUMNS = tuple(field.name for field in msgspec.structs.fields(AuditEvent))


async def search_audit(
    conn: asyncpg.Connection, user: User, query: AuditQuery, limit: int, cursor: str | None
) -> AuditPage:
    """Audit events matching the query, newest first, one page at a time (admins)."""
    require_role(user, Role.ADMIN, action="search", subject_type="audit")
    (before_id,) = decode_cursor(cursor, tuple[int]) if cursor else (None,)
    rows = await fetch_all(
        queries.audit.search_audit_events(
            conn,
            actor_id=query.actor_id,
            subject_id=query.subject_id,
            occurred_from=query.occurred_from,
            occurred_to=query.occurred_to,
            before_id=before_id,
            limit=check_limit(limit) + 1,
        )
    )
    items = [msgspec.convert(dict(row), AuditEvent) for row in rows[:limit]]
    await audit.record(conn, user.id, "search", "audit", query.subject_id or query.actor_id)
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit else None
    return AuditPage(items=items, next_cursor=next_cursor)


def as_csv(page: AuditPage) -> str:
    """A page of audit events as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in page.items:
        writer.writerow(["" if value is None else str(value) for value in msgspec.structs.astuple(event)])
    return out.getvalue()
