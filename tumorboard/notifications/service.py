"""The in-app inbox, the one model for everything people are told: care plans ready, agendas and
meeting packs sent, cases placed on an agenda or waiting again; listing and marking read.

Every notice is a `notification` row written once (the database refuses a second one for the same
person and subject), in the transaction of what caused it; when email is configured, each new row's
email is a job of that same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import asyncpg

from tumorboard import outbox
from tumorboard.auth.schemas import User
from tumorboard.db import Record, fetch_all, queries
from tumorboard.errors import NotFound
from tumorboard.notifications.schemas import (
    MEETING_NOTICES,
    MarkedRead,
    Notification,
    NotificationKind,
    NotificationPage,
)
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor
from tumorboard.settings import current_settings


def email_enabled() -> bool:
    """Whether this process sends notification emails (TUMORBOARD_SMTP_HOST is set)."""
    return current_settings().smtp_host is not None


def care_plan_link(case_id: UUID, version: int) -> str:
    """Path of a care plan version's HTML document (works with the browser session)."""
    return f"/api/v1/cases/{case_id}/care-plans/{version}.html"


def case_link(case_id: UUID) -> str:
    """Path of a case's page."""
    return f"/cases/{case_id}"


def meeting_link(meeting_id: UUID) -> str:
    """Path of a meeting's page (its agenda, and the meeting pack for participants)."""
    return f"/meetings/{meeting_id}"


def _day(meeting_on: date | None) -> str:
    return f"the meeting of {meeting_on.strftime('%d %b %Y')}" if meeting_on else "its meeting"


def title(kind: NotificationKind, version: int | None, meeting_on: date | None = None) -> str:
    """The headline of a notification; it names no patient."""
    meeting = _day(meeting_on)
    headlines = {
        NotificationKind.CASE_RETURNED: "Your case was not decided at its meeting and waits for the next one",
        NotificationKind.CARE_PLAN_FINAL: f"Signed care plan ready (version {version})",
        NotificationKind.CARE_PLAN_DRAFT: f"Care plan draft ready (version {version})",
        NotificationKind.AGENDA: f"Agenda and meeting pack ready for {meeting}",
        NotificationKind.CASE_ON_AGENDA: f"Your case is on the agenda of {meeting}",
        NotificationKind.CASE_DEFERRED: (
            f"Your case was not ready when the agenda of {meeting} locked; it waits for the next meeting"
        ),
        NotificationKind.MISSING_ITEMS: (
            f"Your case lacks items for {meeting}; complete it before the agenda locks"
        ),
    }
    return headlines[kind]


def link(kind: NotificationKind, case_id: UUID | None, version: int | None, meeting_id: UUID | None) -> str:
    """Where a notification leads: the care plan version, the case, or the meeting."""
    if version is not None and case_id is not None:
        return care_plan_link(case_id, version)
    if case_id is not None:
        return case_link(case_id)
    assert meeting_id is not None and kind in MEETING_NOTICES
    return meeting_link(meeting_id)


def notification_from_row(row: Record) -> Notification:
    """An inbox entry from a notification row."""
    kind = NotificationKind(row["kind"])
    return Notification(
        id=row["id"],
        kind=kind,
        case_id=row["case_id"],
        care_plan_id=row["care_plan_id"],
        version=row["version"],
        title=title(kind, row["version"], row["meeting_on"]),
        link=link(kind, row["case_id"], row["version"], row["meeting_id"]),
        created_at=row["created_at"],
        read_at=row["read_at"],
        meeting_id=row["meeting_id"],
    )


async def _email_each(conn: asyncpg.Connection, added: Sequence[Record]) -> None:
    if email_enabled():
        for row in added:
            await outbox.add_job(conn, outbox.SEND_NOTIFICATION_EMAIL, row["id"])


async def notify_care_plan_ready(
    conn: asyncpg.Connection, kind: NotificationKind, case_id: UUID, care_plan_id: UUID
) -> int:
    """Tell the presenter (and, for a draft, the chair who signs it); once per person and version.

    Runs in the transaction that writes or signs the version; when email is configured, each new
    notification's email is a job of the same transaction. Returns how many notifications were added.
    """
    people = await queries.notifications.get_case_presenter_and_chair(conn, case_id=case_id)
    recipients = [people["presenter_id"]]
    if kind == NotificationKind.CARE_PLAN_DRAFT and people["chair_id"] is not None:
        recipients.append(people["chair_id"])
    added = await fetch_all(
        queries.notifications.insert_notifications(
            conn, user_ids=recipients, kind=kind, care_plan_id=care_plan_id
        )
    )
    await _email_each(conn, added)
    return len(added)


async def notify_meeting(
    conn: asyncpg.Connection,
    meeting_id: UUID,
    kind: NotificationKind,
    recipients: Sequence[tuple[UUID, UUID | None]],
) -> int:
    """Tell each (person, case) something about a meeting (the case is None for the agenda itself);
    once each, however often it is called. Returns how many notifications were added."""
    assert kind in MEETING_NOTICES
    added = await fetch_all(
        queries.notifications.insert_meeting_notices(
            conn,
            meeting_id=meeting_id,
            kind=kind,
            user_ids=[user_id for user_id, _ in recipients],
            case_ids=[case_id for _, case_id in recipients],
        )
    )
    await _email_each(conn, added)
    return len(added)


async def notify_cases_returned(
    conn: asyncpg.Connection, meeting_id: UUID, cases: list[tuple[UUID, UUID]]
) -> None:
    """Tell each presenter (case id, presenter id) that the meeting closed without deciding their case,
    in the transaction that closes the meeting."""
    returned = [(presenter_id, case_id) for case_id, presenter_id in cases]
    await notify_meeting(conn, meeting_id, NotificationKind.CASE_RETURNED, returned)


async def list_notifications(
    conn: asyncpg.Connection, user: User, *, unread_only: bool, limit: int, cursor: str | None
) -> NotificationPage:
    """The caller's inbox, newest first, one page at a time, with the unread count."""
    before_created_at, before_id = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else (None, None)
    rows = await fetch_all(
        queries.notifications.list_notifications(
            conn,
            user_id=user.id,
            unread_only=unread_only,
            before_created_at=before_created_at,
            before_id=before_id,
            limit=check_limit(limit) + 1,
        )
    )
    items = [notification_from_row(row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return NotificationPage(
        items=items,
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
        unread_count=await queries.notifications.count_unread_notifications(conn, user_id=user.id),
    )


async def mark_read(conn: asyncpg.Connection, user: User, notification_id: UUID) -> Notification:
    """Mark one of the caller's notifications read; another user's is 404."""
    row = await queries.notifications.mark_notification_read(conn, id=notification_id, user_id=user.id)
    if row is None:
        raise NotFound("No such notification")
    return notification_from_row(row)


async def mark_all_read(conn: asyncpg.Connection, user: User) -> MarkedRead:
    """Mark all the caller's unread notifications read."""
    return MarkedRead(marked=await queries.notifications.mark_all_notifications_read(conn, user_id=user.id))
