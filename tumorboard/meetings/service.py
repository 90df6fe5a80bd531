"""Scheduling meetings: creating, moving and cancelling them, their participants and quorum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import participant_role, require_role
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import CaseEvent, statement
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import MeetingStatus, ParticipantRole, Role
from tumorboard.errors import Conflict, InvalidInput, NotFound
from tumorboard.meetings.policy import can_chair, can_read, can_review
from tumorboard.meetings.quorum import attendance_view, meeting_quorum, quorum
from tumorboard.meetings.readiness import load_agenda_cases
from tumorboard.meetings.rules import discipline_names, local_day
from tumorboard.meetings.schemas import (
    Meeting,
    MeetingCreate,
    MeetingPage,
    MeetingSummary,
    MeetingUpdate,
    ParticipantIn,
    ParticipantsPut,
)
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor
from tumorboard.policy import enforce

__all__ = ["quorum"]  # the care plan snapshot computes quorum with the same rule

DEFAULT_DEADLINE = timedelta(hours=48)
CANCELLED_NOTE = "Its meeting was cancelled; waiting for another meeting."
MOVED_LATE_NOTE = "Its meeting moved past the case's discuss-by date; waiting for another meeting."


async def create_meeting(conn: asyncpg.Connection, user: User, data: MeetingCreate) -> Meeting:
    """Schedule a meeting of a board; waiting cases are then offered to it."""
    require_role(user, Role.COORDINATOR, action="create", subject_type="meeting")
    if data.starts_at <= datetime.now(UTC):
        raise InvalidInput("starts_at", "must be in the future")
    meeting_id = await queries.meetings.insert_meeting(
        conn,
        board_id=data.board_id,
        starts_at=data.starts_at,
        duration_minutes=data.duration_minutes,
        location=data.location,
        video_url=data.video_url,
        capacity=data.capacity,
        submission_deadline=data.submission_deadline or data.starts_at - DEFAULT_DEADLINE,
        minutes_per_case=data.minutes_per_case,
    )
    if meeting_id is None:
        raise InvalidInput("board_id", "no such board")
    await audit.record(conn, user.id, "create", "meeting", meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    return await load_meeting(conn, meeting_id)


async def check_participants(conn: asyncpg.Connection, participants: list[ParticipantIn]) -> None:
    """Refuse a participant list with a user twice, two chairs, unknown or inactive users, or anyone
    who may not take their part (`policy.can_chair`, `policy.can_review`)."""
    user_ids = [p.user_id for p in participants]
    if len(set(user_ids)) != len(user_ids):
        raise InvalidInput("participants", "a user appears more than once")
    if sum(p.role == ParticipantRole.CHAIR for p in participants) > 1:
        raise InvalidInput("participants", "a meeting has at most one chair")
    users = {row["id"]: row for row in await fetch_all(queries.meetings.list_users_by_id(conn, ids=user_ids))}
    for index, participant in enumerate(participants):
        found = users.get(participant.user_id)
        if found is None:
            raise InvalidInput(f"participants.{index}.user_id", "no such active user")
        if participant.role == ParticipantRole.CHAIR:
            verdict = can_chair(found["roles"], found["discipline"])
        else:
            verdict = can_review(found["roles"])
        if not verdict:
            raise InvalidInput(f"participants.{index}.role", verdict.reason)


async def set_participants(
    conn: asyncpg.Connection, locked: Record, participants: list[ParticipantIn]
) -> None:
    """Replace the participants of a locked scheduled meeting (a lock_meeting row) whose scheduled
    cases are locked too; the caller then adds an assignment job.

    A meeting that covered every required discipline and no longer does sends its scheduled
    cases back to the waiting list; the assignment job then finds them another meeting.
    """
    meeting_id = locked["id"]
    before = await fetch_all(queries.meetings.list_participants(conn, meeting_id=meeting_id))
    had_quorum = not quorum(locked["required_disciplines"], [p["discipline"] for p in before]).missing
    await queries.meetings.delete_participants(conn, meeting_id=meeting_id)
    await queries.meetings.insert_participants(
        conn,
        meeting_id=meeting_id,
        user_ids=[p.user_id for p in participants],
        roles=[str(p.role) for p in participants],
    )
    after = await fetch_all(queries.meetings.list_participants(conn, meeting_id=meeting_id))
    missing = quorum(locked["required_disciplines"], [p["discipline"] for p in after]).missing
    if had_quorum and missing:
        note = (
            f"Its meeting no longer has participants covering {discipline_names(missing)}; "
            "waiting for another meeting."
        )
        await queries.meetings.return_cases_to_waiting(
            conn, meeting_id=meeting_id, note=note, **statement(CaseEvent.QUORUM_LOST)
        )


async def lock_meeting_with_cases(conn: asyncpg.Connection, meeting_id: UUID) -> Record:
    """Lock a meeting's cases, then the meeting (the order every writer keeps); 404 if there is none."""
    await fetch_all(queries.meetings.lock_cases_on_meeting(conn, meeting_id=meeting_id))
    locked = await queries.meetings.lock_meeting(conn, id=meeting_id)
    if locked is None:
        raise NotFound("No such meeting")
    return locked


async def replace_participants(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, data: ParticipantsPut
) -> Meeting:
    """Replace a meeting's participant list; waiting cases are then offered to it."""
    require_role(user, Role.COORDINATOR, action="update", subject_type="meeting", subject_id=meeting_id)
    locked = await lock_meeting_with_cases(conn, meeting_id)
    if locked["status"] != MeetingStatus.SCHEDULED:
        raise Conflict(f"The meeting is {locked['status']}; its participants can no longer change")
    await check_participants(conn, data.participants)
    await set_participants(conn, locked, data.participants)
    await queries.meetings.mark_own_participants(conn, id=meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    await audit.record(conn, user.id, "update_participants", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)


async def require_meeting_reader(conn: asyncpg.Connection, user: User, meeting_id: UUID, action: str) -> None:
    """Refuse (and audit) anyone but the meeting's participants and coordinators."""
    role = None if user.has_role(Role.COORDINATOR) else await participant_role(conn, meeting_id, user.id)
    enforce(can_read(user, role), action=action, subject_type="meeting", subject_id=meeting_id)


async def get_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """A meeting with its agenda, for its participants and coordinators."""
    meeting = await load_meeting(conn, meeting_id)
    await require_meeting_reader(conn, user, meeting_id, "read")
    await audit.record_reads(conn, user.id, "case", [case.id for case in meeting.cases])
    return meeting


async def list_meetings(
    conn: asyncpg.Connection,
    user: User,
    board_id: UUID | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> MeetingPage:
    """The meetings the caller may see by start time, one page at a time: coordinators all of them,
    others those they take part in or that hold a case they present; video links only for
    coordinators and participants."""
    after_starts_at, after_id = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else (None, None)
    rows = await fetch_all(
        queries.meetings.list_meetings(
            conn,
            user_id=user.id,
            sees_all=user.has_role(Role.COORDINATOR),
            board_id=board_id,
            starts_from=starts_from,
            starts_to=starts_to,
            after_starts_at=after_starts_at,
            after_id=after_id,
            limit=check_limit(limit) + 1,
        )
    )
    items = [msgspec.convert(dict(row), MeetingSummary) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return MeetingPage(items=items, next_cursor=encode_cursor(last.starts_at, last.id) if last else None)


async def cancel_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """Cancel a meeting (one occurrence of a series leaves the others alone); its scheduled
    cases go back to waiting and are re-assigned."""
    require_role(user, Role.COORDINATOR, action="cancel", subject_type="meeting", subject_id=meeting_id)
    locked = await lock_meeting_with_cases(conn, meeting_id)
    if locked["status"] != MeetingStatus.SCHEDULED:
        raise Conflict(
            "The meeting is already cancelled"
            if locked["status"] == MeetingStatus.CANCELLED
            else "Only a scheduled meeting can be cancelled; this one has started or is closed"
        )
    await cancel_locked_meeting(conn, meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    await audit.record(conn, user.id, "cancel", "meeting", meeting_id)
    return await load_meeting(conn, meeting_id)


async def cancel_locked_meeting(conn: asyncpg.Connection, meeting_id: UUID) -> None:
    """Cancel a locked scheduled meeting whose cases are locked; they wait for another meeting
    (the caller adds the assignment job, one per request)."""
    await queries.meetings.cancel_meeting(conn, id=meeting_id)
    await queries.meetings.return_cases_to_waiting(
        conn, meeting_id=meeting_id, note=CANCELLED_NOTE, **statement(CaseEvent.MEETING_CANCELLED)
    )


async def update_meeting(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, data: MeetingUpdate
) -> Meeting:
    """Move or reshape one meeting; other occurrences of its series stay as they are.

    Moving the start moves the submission deadline by as much unless one is given, and reopens
    a locked agenda if the new lock time is still ahead. Cases whose discuss-by date the new date
    passes go back to waiting; the database refuses a capacity or duration below what is booked.
    """
    require_role(user, Role.COORDINATOR, action="update", subject_type="meeting", subject_id=meeting_id)
    locked = await lock_meeting_with_cases(conn, meeting_id)
    if locked["status"] != MeetingStatus.SCHEDULED:
        raise Conflict(f"The meeting is {locked['status']} and can no longer change")
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    starts_at = given.get("starts_at", locked["starts_at"])
    if "starts_at" in given and starts_at <= datetime.now(UTC):
        raise InvalidInput("starts_at", "must be in the future")
    deadline = given.get("submission_deadline")
    if deadline is None and "starts_at" in given:
        deadline = locked["submission_deadline"] + (starts_at - locked["starts_at"])
    if deadline is not None and deadline > starts_at:
        raise InvalidInput("submission_deadline", "must not be after starts_at")
    reopen = (
        "starts_at" in given and locked["agenda_locked_at"] is not None and starts_at > locked["starts_at"]
    )
    try:
        async with conn.transaction():
            await queries.meetings.update_meeting(
                conn,
                id=meeting_id,
                starts_at=given.get("starts_at"),
                duration_minutes=given.get("duration_minutes"),
                location=given.get("location"),
                clear_location="location" in given and given["location"] is None,
                video_url=given.get("video_url"),
                clear_video_url="video_url" in given and given["video_url"] is None,
                capacity=given.get("capacity"),
                minutes_per_case=given.get("minutes_per_case"),
                submission_deadline=deadline,
                reopen_agenda=reopen,
            )
    except asyncpg.CheckViolationError:
        raise Conflict(
            "The meeting's cases would not fit: move cases off it before reducing its capacity or time"
        ) from None
    if reopen:
        await queries.meetings.delete_agenda_items(conn, meeting_id=meeting_id)
    if "starts_at" in given:
        meeting_on = local_day(starts_at, locked["time_zone"])
        await queries.meetings.return_late_cases_to_waiting(
            conn,
            meeting_id=meeting_id,
            meeting_on=meeting_on,
            note=MOVED_LATE_NOTE,
            **statement(CaseEvent.MEETING_MOVED_LATE),
        )
    await audit.record(conn, user.id, "update", "meeting", meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    return await load_meeting(conn, meeting_id)


async def load_meeting(conn: asyncpg.Connection, meeting_id: UUID) -> Meeting:
    """A meeting with participants, agenda, quorum and attendance, without an access check."""
    row = await queries.meetings.get_meeting_detail(conn, id=meeting_id)
    if row is None:
        raise NotFound("No such meeting")
    fields = dict(row)
    participants = await fetch_all(queries.meetings.list_participants(conn, meeting_id=meeting_id))
    attendance = attendance_view(
        row["status"], await fetch_all(queries.meetings.list_attendance(conn, meeting_id=meeting_id))
    )
    meeting_quorum_, basis = meeting_quorum(
        row["status"], fields.pop("required_disciplines"), participants, attendance
    )
    fields.pop("updated_at")
    return msgspec.convert(
        {
            **fields,
            "participants": [dict(p) for p in participants],
            "cases": await load_agenda_cases(conn, row),
            "quorum": meeting_quorum_,
            "quorum_basis": basis,
            "attendance": attendance,
        },
        Meeting,
    )
