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


class Notification(msgspec.Struct, kw_only=True, frozen=True):
    """One inbox entry: what is ready or what happened, and where to open it (no patient data)."""

    id: UUID
    kind: NotificationKind
    case_id: UUID
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
