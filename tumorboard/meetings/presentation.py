"""The case a running meeting has on screen: the chair presents a case, moves on to the next one, and
everyone following the meeting sees the same case; its time on screen runs against its agenda slot.

"Next" is the first case after the one on screen, in agenda order, that still awaits the board's
decision, wrapping round to the start; when none is left the screen is cleared. A case deferred while
on screen makes way for the next one at once; any other case that leaves the meeting leaves the screen
(the database clears it).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from tumorboard import audit
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import AWAITING_DECISION
from tumorboard.db import queries
from tumorboard.errors import Conflict, NotFound
from tumorboard.meetings.policy import MeetingFacts, can_present
from tumorboard.meetings.schemas import AgendaCase, Meeting
from tumorboard.meetings.service import load_meeting
from tumorboard.policy import enforce


def next_case(cases: Sequence[AgendaCase], current: UUID | None) -> UUID | None:
    """The case to present after `current`: the first after it in agenda order still awaiting the
    board's decision, else the first such before it; None when every other case is decided."""
    ids = [case.id for case in cases]
    start = ids.index(current) + 1 if current in ids else 0
    for case in [*cases[start:], *cases[:start]]:
        if case.id != current and case.status in AWAITING_DECISION:
            return case.id
    return None


async def _running(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> None:
    """Refuse anyone but the chair and coordinators, and a meeting not in progress; lock the meeting."""
    role = await participant_role(conn, meeting_id, user.id)
    locked = await queries.meetings.lock_meeting(conn, id=meeting_id)
    if locked is None:
        raise NotFound("No such meeting")
    verdict = can_present(user, MeetingFacts.of(locked), role)
    enforce(verdict, action="present", subject_type="meeting", subject_id=meeting_id)


async def present_case(
    conn: asyncpg.Connection, user: User, meeting_id: UUID, case_id: UUID | None
) -> Meeting:
    """Put a case of the agenda on the meeting's screen (None clears it)."""
    await _running(conn, user, meeting_id)
    meeting = await load_meeting(conn, meeting_id)
    if case_id is not None and case_id not in {case.id for case in meeting.cases}:
        raise Conflict("The case is not on this meeting's agenda")
    return await _show(conn, user, meeting, case_id)


async def present_next_case(conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
    """Move the meeting's screen on to the next case awaiting the board's decision."""
    await _running(conn, user, meeting_id)
    meeting = await load_meeting(conn, meeting_id)
    return await _show(conn, user, meeting, next_case(meeting.cases, meeting.current_case_id))


async def _show(conn: asyncpg.Connection, user: User, meeting: Meeting, case_id: UUID | None) -> Meeting:
    if case_id != meeting.current_case_id:
        await queries.meetings.set_current_case(conn, id=meeting.id, case_id=case_id)
        await audit.record(conn, user.id, "present_case", "meeting", meeting.id)
    return await load_meeting(conn, meeting.id)


async def make_way(conn: asyncpg.Connection, meeting_id: UUID, case_id: UUID) -> None:
    """A case about to leave the meeting (deferred) hands the screen to the next case awaiting a decision,
    if it is on screen; in the caller's transaction, before the case leaves."""
    if await queries.meetings.get_current_case(conn, id=meeting_id) != case_id:
        return
    meeting = await load_meeting(conn, meeting_id)
    await queries.meetings.set_current_case(conn, id=meeting_id, case_id=next_case(meeting.cases, case_id))
