"""Recording the board's decision on a case: a plan (the case is discussed and its care plan is
built from it) or a deferral (the case waits, first in line, for a later meeting).

The chair records it while the meeting is in progress. Quorum is counted from the participants
recorded present; a plan without quorum needs the chair's reason (`quorum_override`). Each
correction that changes something is a new revision; an identical one changes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import CaseEvent, next_status
from tumorboard.cases.policy import CaseFacts, can_decide, decision_event
from tumorboard.cases.schemas import Case
from tumorboard.cases.service import get_case, load_case
from tumorboard.db import Record, fetch_all, queries
from tumorboard.decisions.schemas import Decision, DecisionCreate, Outcome, decision_from_row
from tumorboard.errors import Conflict, NotFound
from tumorboard.meetings.policy import MeetingFacts
from tumorboard.meetings.presentation import make_way
from tumorboard.meetings.quorum import attendance_view, quorum
from tumorboard.meetings.rules import discipline_names, local_day
from tumorboard.policy import enforce

# What the chair decides; a correction that leaves all of these as they were changes nothing.
_DECIDED_FIELDS = (
    "outcome",
    "intent",
    "modalities",
    "summary",
    "rationale",
    "guideline",
    "trial_status",
    "trial_id",
    "stage_discussed",
    "quorum_override",
)


async def record_decision(conn: asyncpg.Connection, user: User, case_id: UUID, data: DecisionCreate) -> Case:
    """The chair records (or corrects) the board's decision on a case at its meeting; the case."""
    locked = await queries.cases.lock_case(conn, id=case_id)
    if locked is None:
        raise NotFound("No such case")
    case = CaseFacts.of(locked)
    # A case that left its meeting (deferred, returned) is judged against the meeting that last decided it.
    meeting_id = case.meeting_id or await queries.decisions.get_last_decision_meeting(conn, case_id=case_id)
    meeting = await queries.decisions.lock_meeting_for_decision(conn, id=meeting_id) if meeting_id else None
    role = await participant_role(conn, meeting_id, user.id)
    verdict = can_decide(user, case, MeetingFacts.of(meeting) if meeting else None, role, data.outcome)
    enforce(verdict, action="decide", subject_type="case", subject_id=case_id)
    assert meeting is not None
    event = decision_event(case.status, data.outcome)
    values = await _decided(conn, data, meeting)
    current = await queries.decisions.get_current_decision(conn, case_id=case_id, meeting_id=meeting["id"])
    if current is not None and all(current[name] == values[name] for name in _DECIDED_FIELDS):
        return await load_case(conn, case_id)  # the same decision again: nothing changes
    decision_id = await queries.decisions.insert_decision(
        conn,
        case_id=case_id,
        meeting_id=meeting["id"],
        revision=(current["revision"] if current else 0) + 1,
        decided_by=user.id,
        **values,
    )
    await audit.record(conn, user.id, str(event), "decision", decision_id)
    target = next_status(case.status, event)
    if data.outcome == Outcome.DEFER:
        day = local_day(meeting["starts_at"], meeting["time_zone"])
        note = f"Deferred by the board at its meeting of {day.isoformat()}: {data.summary}"
        await make_way(conn, meeting["id"], case_id)
        await queries.decisions.requeue_deferred_case(
            conn, id=case_id, note=note, to_status=target, from_statuses=[case.status]
        )
        await outbox.add_job(conn, outbox.ASSIGN_CASE, case_id)
    else:
        if event == CaseEvent.DECIDE:
            decided = await load_case(conn, case_id)
            absent = decided.preparation.missing if decided.preparation else []
            await queries.decisions.mark_case_decided(
                conn, id=case_id, absent_disciplines=absent, to_status=target, from_statuses=[case.status]
            )
        await outbox.add_job(conn, outbox.CONSOLIDATE_CARE_PLAN, case_id)
    return await load_case(conn, case_id)


async def _decided(conn: asyncpg.Connection, data: DecisionCreate, meeting: Record) -> dict[str, Any]:
    """The decision's columns: what the chair sent, with quorum and attendance as they stand now."""
    rows = [
        dict(row) for row in await fetch_all(queries.meetings.list_attendance(conn, meeting_id=meeting["id"]))
    ]
    attendance = attendance_view(meeting["status"], rows)
    present = quorum(
        meeting["required_disciplines"], [a.discipline for a in attendance if a.status == "present"]
    )
    plan = data.outcome == Outcome.PLAN
    if plan and present.missing and data.quorum_override is None:
        raise Conflict(
            f"Quorum is missing: no participant present covers {discipline_names(present.missing)}. "
            "Record who is present, or give quorum_override with the reason to decide without it"
        )
    return {
        "outcome": str(data.outcome),
        "intent": str(data.intent) if data.intent else None,
        "modalities": [str(m) for m in data.modalities] if data.modalities else None,
        "summary": data.summary,
        "rationale": data.rationale,
        "guideline": msgspec.to_builtins(data.guideline),
        "trial_status": str(data.trial.status) if data.trial else None,
        "trial_id": data.trial.id if data.trial else None,
        "stage_discussed": data.stage_discussed,
        # An override sent while quorum is met is ignored.
        "quorum_override": data.quorum_override if plan and present.missing else None,
        "quorum_required": [str(d) for d in present.required],
        "quorum_covered": [str(d) for d in present.covered],
        "quorum_missing": [str(d) for d in present.missing],
        "attendance": [
            {
                "user_id": str(a.user_id),
                "full_name": a.full_name,
                "discipline": a.discipline,
                "role": a.role,
                "attendance": a.status,
            }
            for a in attendance
        ],
    }


async def list_decisions(conn: asyncpg.Connection, user: User, case_id: UUID) -> list[Decision]:
    """Every decision recorded on a case, oldest first (deferrals and corrections too), for those who
    may see the case."""
    await get_case(conn, user, case_id, action="read_decisions")
    return await decisions_of(conn, case_id)


async def decisions_of(conn: asyncpg.Connection, case_id: UUID) -> list[Decision]:
    """A case's recorded decisions, oldest first, for callers that have checked access to the case."""
    rows = await fetch_all(queries.decisions.list_case_decisions(conn, case_id=case_id))
    return [decision_from_row(row) for row in rows]


async def current_plan(conn: asyncpg.Connection, case_id: UUID, meeting_id: UUID) -> Decision | None:
    """The plan the board decided for a case at a meeting (its current revision), if it decided one."""
    row = await queries.decisions.get_current_decision(conn, case_id=case_id, meeting_id=meeting_id)
    if row is None or row["outcome"] != Outcome.PLAN:
        return None
    return decision_from_row(row)
