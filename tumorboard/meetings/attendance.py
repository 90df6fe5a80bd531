"""Running a meeting: starting and closing it, and recording who attended.

Closing a meeting sends the cases the board did not decide back to the waiting list, first in line,
each with a note and an in-app notice to its presenter; the cases it decided stay discussed and may
still be signed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from tumorboard import audit, outbox
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import CaseEvent, statement
from tumorboard.db import Record, fetch_all, queries
from tumorboard.errors import InvalidInput, NotFound
from tumorboard.meetings.policy import (
    MeetingFacts,
    can_close,
    can_record_attendance,
    can_start,
    runs_meetings,
)
from tumorboard.meetings.rules import local_day
from tumorboard.meetings.schemas import AttendancePut, Meeting
from tumorboard.meetings.service import load_meeting
from tumorboard.notifications.service import notify_cases_returned
from tumorboard.policy import Verdict, enforce, forbidden


async def _lock_for_chair(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, action: str, *, with_cases: bool = False
) -> tuple[Record, str | None]:
    """Refuse (and audit) anyone but the chair and coordinators, then lock the meeting (404 if none),
    its scheduled cases first when asked; the meeting row and the caller's part in it."""
    role = await participant_role(conn, meeting_id, user.id)
    if not runs_meetings(user, role):
        enforce(
            forbidden("Only the meeting's chair and coordinators may do this"),
            action=action,
            subject_type="meeting",
            subject_id=meeting_id,
        )
    if with_cases:
        await fetch_all(queries.meetings.lock_cases_on_meeting(conn, meeting_id=meeting_id))
    locked = await queries.meetings.lock_meeting(conn, id=meeting_id)
    if locked is None:
        raise NotFound("No such meeting")
    return locked, role


def _enforce(verdict: Verdict, action: str, meeting_id: UUID) -> None:
    enforce(verdict, action=action, subject_type="meeting", subject_id=meeting_id)


async def start_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """Open the meeting (chair or coordinator); quorum then counts who is present."""
    locked, role = await _lock_for_chair(conn, user, meeting_id, "start")
    _enforce(can_start(user, MeetingFacts.of(locked), role, datetime.now(UTC)), "start", meeting_id)
    await queries.meetings.start_meeting(conn, id=meeting_id)
    await audit.record(conn, user.id, "start", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)


async def close_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """End the meeting (chair or coordinator): participants not recorded are flagged absent, and the
    cases the board did not decide go back to the waiting list, first in line, their presenters told."""
    locked, role = await _lock_for_chair(conn, user, meeting_id, "close", with_cases=True)
    _enforce(can_close(user, MeetingFacts.of(locked), role), "close", meeting_id)
    await queries.meetings.close_meeting(conn, id=meeting_id)
    day = local_day(locked["starts_at"], locked["time_zone"]).isoformat()
    note = f"Not decided at the board's meeting of {day}; waiting, first in line, for the next meeting."
    returned = await fetch_all(
        queries.decisions.requeue_undecided_cases(
            conn,
            meeting_id=meeting_id,
            note=note,
            **statement(CaseEvent.MEETING_CLOSED),
        )
    )
    if returned:
        await notify_cases_returned(conn, meeting_id, [(row["id"], row["presenter_id"]) for row in returned])
        for row in returned:
            await audit.record(conn, user.id, "return_undecided", "case", row["id"])
        await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    await audit.record(conn, user.id, "close", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)


async def record_attendance(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, data: AttendancePut
) -> Meeting:
    """Record who attended (chair or coordinator), once the meeting has started; replaces the
    previous record, and participants left out count as not recorded."""
    locked, role = await _lock_for_chair(conn, user, meeting_id, "record_attendance")
    _enforce(can_record_attendance(user, MeetingFacts.of(locked), role), "record_attendance", meeting_id)
    user_ids = [entry.user_id for entry in data.attendance]
    if len(set(user_ids)) != len(user_ids):
        raise InvalidInput("attendance", "a user appears more than once")
    participants = {
        row["user_id"]
        for row in await fetch_all(queries.meetings.list_participants(conn, meeting_id=meeting_id))
    }
    for index, user_id in enumerate(user_ids):
        if user_id not in participants:
            raise InvalidInput(f"attendance.{index}.user_id", "is not a participant of this meeting")
    await queries.meetings.delete_attendance(conn, meeting_id=meeting_id)
    await queries.meetings.insert_attendance(
        conn,
        meeting_id=meeting_id,
        user_ids=user_ids,
        statuses=[entry.status for entry in data.attendance],
        recorded_by=user.id,
    )
    await audit.record(conn, user.id, "record_attendance", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)
