"""Scheduling meetings, their participants, quorum and cancellation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import participant_role, require_role
from tumorboard.auth.schemas import User
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import Discipline, MeetingStatus, ParticipantRole, Role
from tumorboard.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tumorboard.meetings.schemas import (
    Meeting,
    MeetingCreate,
    MeetingPage,
    MeetingSummary,
    ParticipantsPut,
    Quorum,
)
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor

DEFAULT_DEADLINE = timedelta(hours=48)
CANCELLED_NOTE = "Its meeting was cancelled; waiting for another meeting."


def quorum(required: Sequence[str], disciplines: Sequence[str | None]) -> Quorum:
    """Which required disciplines the participants (chair included) cover and which are missing."""
    needed = [Discipline(d) for d in required]
    present = {d for d in disciplines if d is not None}
    return Quorum(
        required=needed,
        covered=[d for d in needed if d in present],
        missing=[d for d in needed if d not in present],
    )


async def create_meeting(conn: asyncpg.Connection, user: User, data: MeetingCreate) -> Meeting:
    """Schedule a meeting of a board; waiting cases are then offered to it."""
    require_role(user, Role.COORDINATOR, action="create", subject_type="meeting")
    if data.starts_at <= datetime.now(UTC):
        raise InvalidInput("starts_at", "must be in the future")
    if await queries.get_board(conn, id=data.board_id) is None:
        raise InvalidInput("board_id", "no such board")
    meeting_id = await queries.insert_meeting(
        conn,
        board_id=data.board_id,
        starts_at=data.starts_at,
        duration_minutes=data.duration_minutes,
        location=data.location,
        video_url=data.video_url,
        capacity=data.capacity,
        submission_deadline=data.submission_deadline or data.starts_at - DEFAULT_DEADLINE,
    )
    await audit.record(conn, user.id, "create", "meeting", meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    return await _load(conn, meeting_id)


async def replace_participants(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, data: ParticipantsPut
) -> Meeting:
    """Replace a meeting's participant list; waiting cases are then offered to it."""
    require_role(user, Role.COORDINATOR, action="update", subject_type="meeting", subject_id=meeting_id)
    locked = await queries.lock_meeting(conn, id=meeting_id)
    if locked is None:
        raise NotFound("No such meeting")
    if locked["status"] != MeetingStatus.SCHEDULED:
        raise Conflict(f"The meeting is {locked['status']}; its participants can no longer change")
    user_ids = [p.user_id for p in data.participants]
    if len(set(user_ids)) != len(user_ids):
        raise InvalidInput("participants", "a user appears more than once")
    if sum(p.role == ParticipantRole.CHAIR for p in data.participants) > 1:
        raise InvalidInput("participants", "a meeting has at most one chair")
    users = {row["id"]: row for row in await fetch_all(queries.list_users_by_id(conn, ids=user_ids))}
    for index, participant in enumerate(data.participants):
        found = users.get(participant.user_id)
        if found is None:
            raise InvalidInput(f"participants.{index}.user_id", "no such active user")
        if participant.role == ParticipantRole.REVIEWER and Role.REVIEWER not in found["roles"]:
            raise InvalidInput(f"participants.{index}.role", "this user does not hold the reviewer role")
    await queries.delete_participants(conn, meeting_id=meeting_id)
    await queries.insert_participants(
        conn, meeting_id=meeting_id, user_ids=user_ids, roles=[str(p.role) for p in data.participants]
    )
    await audit.record(conn, user.id, "update_participants", "meeting", meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    return await _load(conn, meeting_id)


async def get_meeting(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """A meeting with its agenda, for its participants and coordinators."""
    meeting = await _load(conn, meeting_id)
    if not user.has_role(Role.COORDINATOR) and await participant_role(conn, meeting_id, user.id) is None:
        raise AccessDenied(
            "Only the meeting's participants and coordinators may see it",
            action="read",
            subject_type="meeting",
            subject_id=meeting_id,
        )
    await audit.record_reads(conn, user.id, "case", [case.id for case in meeting.cases])
    return meeting


async def list_meetings(
    conn: asyncpg.Connection,
    board_id: UUID | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> MeetingPage:
    """Meetings by start time, one page at a time."""
    after_starts_at, after_id = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else (None, None)
    rows = await fetch_all(
        queries.list_meetings(
            conn,
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
    """Cancel a meeting; its scheduled cases go back to waiting and are re-assigned."""
    require_role(user, Role.COORDINATOR, action="cancel", subject_type="meeting", subject_id=meeting_id)
    await fetch_all(queries.lock_cases_on_meeting(conn, meeting_id=meeting_id))
    locked = await queries.lock_meeting(conn, id=meeting_id)
    if locked is None:
        raise NotFound("No such meeting")
    if locked["status"] != MeetingStatus.SCHEDULED:
        raise Conflict(f"The meeting is {locked['status']} and cannot be cancelled")
    await queries.cancel_meeting(conn, id=meeting_id)
    await queries.return_cases_to_waiting(conn, meeting_id=meeting_id, note=CANCELLED_NOTE)
    await audit.record(conn, user.id, "cancel", "meeting", meeting_id)
    await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting_id)
    return await _load(conn, meeting_id)


async def _load(conn: asyncpg.Connection, meeting_id: UUID) -> Meeting:
    row = await queries.get_meeting(conn, id=meeting_id)
    if row is None:
        raise NotFound("No such meeting")
    participants = await fetch_all(queries.list_participants(conn, meeting_id=meeting_id))
    agenda = await fetch_all(queries.list_agenda(conn, meeting_id=meeting_id))
    return _meeting(row, participants, agenda)


def _meeting(row: Record, participants: list[Record], agenda: list[Record]) -> Meeting:
    fields = dict(row)
    required = fields.pop("required_disciplines")
    return msgspec.convert(
        {
            **fields,
            "participants": [dict(p) for p in participants],
            "cases": [dict(c) for c in agenda],
            "quorum": msgspec.to_builtins(quorum(required, [p["discipline"] for p in participants])),
        },
        Meeting,
    )
