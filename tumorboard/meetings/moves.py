"""Moving a case by hand: a coordinator's choice, checked against the same assignment rule."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from tumorboard import audit
from tumorboard.cases.lifecycle import CaseEvent, next_status
from tumorboard.db import queries
from tumorboard.errors import Conflict, InvalidInput, NotFound
from tumorboard.meetings.rules import Deferral, WaitingCase, refusals


async def move_case(conn: asyncpg.Connection, actor_id: UUID, case_id: UUID, meeting_id: UUID) -> None:
    """Put a case on the meeting a coordinator chose, or refuse (409) saying every rule it breaks.

    Site, an open future meeting, the discuss-by date, room (cases and time) and, for routine
    cases, the submission deadline and agenda lock must hold; a meeting whose participants do not
    yet cover the board's disciplines is allowed, and the case's note says what is missing.
    """
    case = await queries.meetings.lock_case_for_move(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    moved_status = next_status(case["status"], CaseEvent.MOVE)
    if case["meeting_id"] == meeting_id:
        return
    # Lock both meetings in id order so opposite moves cannot deadlock.
    meetings = {}
    for each in sorted(m for m in (case["meeting_id"], meeting_id) if m is not None):
        meetings[each] = await queries.meetings.lock_meeting_for_move(conn, id=each)
    target = meetings[meeting_id]
    if target is None:
        raise InvalidInput("meeting_id", "no such meeting")
    waiting = WaitingCase(case["id"], case["disease_site"], case["urgency"], case["discuss_by"])
    hard, soft = refusals(waiting, target, await queries.meetings.get_assignment_clock(conn))
    if hard:
        raise Conflict("The case cannot go on this meeting: " + "; ".join(hard) + ".")
    deferral = Deferral.from_row(case)
    notes = [deferral.placed_note()] if deferral else []
    await queries.meetings.place_case_by_hand(
        conn,
        id=case_id,
        meeting_id=meeting_id,
        note=" ".join(notes + soft) or None,
        to_status=moved_status,
        from_statuses=[case["status"]],
    )
    await queries.meetings.settle_deferrals(conn, case_ids=[case_id], meeting_ids=[meeting_id])
    await audit.record(conn, actor_id, "move", "case", case_id)
