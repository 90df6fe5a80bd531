"""A dead job as the API and the admin page show it: ids, names and error classes only."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class DeadJob(msgspec.Struct, kw_only=True, frozen=True):
    """An outbox job that used every attempt and failed."""

    id: int
    job: str
    subject_id: UUID | None
    attempts: int
    last_error: str | None
    request_id: str | None
    created_at: datetime
    failed_at: datetime | None


class DeadJobList(msgspec.Struct, kw_only=True, frozen=True):
    """The dead jobs, the most recently failed first."""

    items: list[DeadJob]
