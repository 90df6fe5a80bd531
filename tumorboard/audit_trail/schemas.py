"""Audit trail structs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class AuditEvent(msgspec.Struct, kw_only=True, frozen=True):
    """One audit event: who did what to which record, when, from where, and how it ended."""

    id: int
    occurred_at: datetime
    actor_id: UUID | None
    actor_email: str | None
    action: str
    subject_type: str
    subject_id: UUID | None
    outcome: str
    status_code: int | None
    source_address: str | None
    user_agent: str | None
    credential_id: UUID | None
    format: str | None


class AuditPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of audit events, newest first."""

    items: list[AuditEvent]
    next_cursor: str | None


class AuditQuery(msgspec.Struct, kw_only=True, frozen=True):
    """What to search for: each filter optional; `occurred_to` is exclusive."""

    actor_id: UUID | None = None
    subject_id: UUID | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
