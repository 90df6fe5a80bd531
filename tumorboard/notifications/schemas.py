"""Notification structs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec


class NotificationKind(StrEnum):
    """What a notification announces."""

    CARE_PLAN_DRAFT = "care_plan_draft"
    CARE_PLAN_FINAL = "care_plan_final"
    CASE_RETURNED = "case_returned"  # the case's meeting closed without a decision: it waits again
    AGENDA = "agenda"  # a participant's meeting has its agenda and meeting pack
    CASE_ON_AGENDA = "case_on_agenda"  # a presenter's case is on a locked agenda
    CASE_DEFERRED = "case_deferred"  # a presenter's case was not ready at the agenda lock: it waits again
    MISSING_ITEMS = "missing_items"  # a presenter's case lacks checklist items a day before the lock


# Notices about a meeting (all but the agenda name one of its cases), as opposed to care plan notices.
MEETING_NOTICES = frozenset(
    {
        NotificationKind.CASE_RETURNED,
        NotificationKind.AGENDA,
        NotificationKind.CASE_ON_AGENDA,
        NotificationKind.CASE_DEFERRED,
        NotificationKind.MISSING_ITEMS,
    }
)


class Notification(msgspec.Struct, kw_only=True, frozen=True):
    """One inbox entry: what is ready or what happened, and where to open it (no patient data).
    `case_id` is absent only from an `agenda` notice, which is about a whole meeting."""

    id: UUID
    kind: NotificationKind
    case_id: UUID | None
    care_plan_id: UUID | None
    version: int | None
    title: str
    link: str
    created_at: datetime
    read_at: datetime | None
    meeting_id: UUID | None = None


class NotificationPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of the caller's inbox, newest first."""

    items: list[Notification]
    next_cursor: str | None
    unread_count: int


class MarkedRead(msgspec.Struct, kw_only=True, frozen=True):
    """How many notifications were marked read."""

    marked: int
