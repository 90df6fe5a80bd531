"""The in-app inbox: who hears that a care plan is ready or that a case waits again; listing, marking read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from tumorboard import outbox
from tumorboard.auth.schemas import User
from tumorboard.db import Record, fetch_all, queries
from tumorboard.errors import NotFound
from tumorboard.notifications.schemas import MarkedRead, Notification, NotificationKind, NotificationPage
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


def title(kind: NotificationKind, version: int | None) -> str:
    """The headline of a notification; it names no patient."""
    if kind == NotificationKind.CASE_RETURNED:
        return "Your case was not decided at its meeting and waits for the next one"
    if kind == NotificationKind.CARE_PLAN_FINAL:
        return f"Signed care plan ready (version {version})"
    return f"Care plan draft ready (version {version})"


def notification_from_row(row: Record) -> Notification:
    """An inbox entry from a notification row."""
    kind = NotificationKind(row["kind"])
    return Notification(
        id=row["id"],
        kind=kind,
        case_id=row["case_id"],
        care_plan_id=row["care_plan_id"],
        version=row["version"],
        title=title(kind, row["version"]),
        link=care_plan_link(row["case_id"], row["version"])
        if row["version"] is not None
        else case_link(row["case_id"]),
        created_at=row["created_at"],
        read_at=row["read_at"],
        meeting_id=row["meeting_id"],
    )


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
    if email_enabled():
        for row in added:
            await outbox.add_job(conn, outbox.SEND_NOTIFICATION_EMAIL, row["id"])
    return len(added)


async def notify_cases_returned(
    conn: asyncpg.Connection, meeting_id: UUID, cases: list[tuple[UUID, UUID]]
) -> None:
    """Tell each presenter (case id, presenter id) that the meeting closed without deciding their case;
    an in-app notice only, in the transaction that closes the meeting."""
    if cases:
        await queries.notifications.insert_case_returned_notices(
            conn,
            meeting_id=meeting_id,
            case_ids=[case_id for case_id, _ in cases],
            user_ids=[presenter_id for _, presenter_id in cases],
        )


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
