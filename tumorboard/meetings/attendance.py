"""Running a meeting: starting and closing it, and recording who attended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from tumorboard import audit
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import MeetingStatus, ParticipantRole, Role
from tumorboard.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tumorboard.meetings.quorum import TAKING_ATTENDANCE
from tumorboard.meetings.schemas import AttendancePut, Meeting
from tumorboard.meetings.service import load_meeting

# A meeting may be opened this long before its start time (people gather early).
START_WINDOW = timedelta(hours=1)


async def _lock_for_chair(conn: asyncpg.Connection, user: User, meeting_id: UUID, action: str) -> Record:
    """Refuse (and audit) anyone but the chair and coordinators, then lock the meeting (404 if none)."""
    if (
        not user.has_role(Role.COORDINATOR)
        and await participant_role(conn, meeting_id, user.id) != ParticipantRole.CHAIR
    ):
        raise AccessDenied(
            "Only the meeting's chair and coordinators may do this",
            action=action,
            subject_type="meeting",
            subject_id=meeting_id,
        )
    locked = await queries.meetings.lock_meeting(conn, id=meeting_id)
    if locked is None:
        raise NotFound("No such meeting")
    return locked


async def start_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """Open the meeting (chair or coordinator); quorum then counts who is present."""
    locked = await _lock_for_chair(conn, user, meeting_id, "start")
    if locked["status"] != MeetingStatus.SCHEDULED:
        raise Conflict(f"The meeting is {locked['status']} and cannot start")
    if datetime.now(UTC) < locked["starts_at"] - START_WINDOW:
        raise Conflict("A meeting can start at most one hour before its start time")
    await queries.meetings.start_meeting(conn, id=meeting_id)
    await audit.record(conn, user.id, "start", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)


async def close_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """End the meeting (chair or coordinator); participants not recorded are flagged absent."""
    locked = await _lock_for_chair(conn, user, meeting_id, "close")
    if locked["status"] != MeetingStatus.IN_PROGRESS:
        raise Conflict(f"The meeting is {locked['status']}; only a meeting in progress can close")
    await queries.meetings.close_meeting(conn, id=meeting_id)
    await audit.record(conn, user.id, "close", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)


async def record_attendance(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, data: AttendancePut
) -> Meeting:
    """Record who attended (chair or coordinator), once the meeting has started; replaces the
    previous record, and participants left out count as not recorded."""
    locked = await _lock_for_chair(conn, user, meeting_id, "record_attendance")
    if locked["status"] not in TAKING_ATTENDANCE:
        raise Conflict(f"The meeting is {locked['status']}; attendance is recorded once it has started")
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
