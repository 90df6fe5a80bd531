"""Follow-up on implementation: was the signed plan carried out, and if not, why not.

The presenter records it against the newest signed version; coordinators see, per board and
period, which signed plans have no follow-up yet and how often plans were not implemented.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.care_plans.schemas import (
    DeviationReason,
    FollowUp,
    FollowUpRecord,
    FollowUpReport,
    Implementation,
    MissingFollowUp,
)
from tumorboard.cases.policy import CaseFacts, can_record_follow_up
from tumorboard.cases.schemas import Case
from tumorboard.cases.service import get_case, load_case
from tumorboard.db import fetch_all, queries
from tumorboard.enums import Role
from tumorboard.errors import InvalidInput, NotFound
from tumorboard.policy import enforce


async def record_follow_up(
    conn: asyncpg.Connection, user: User, case_id: UUID, data: FollowUpRecord
) -> FollowUp:
    """The case's presenter records (or corrects) how far the newest signed plan was implemented."""
    case = await load_case(conn, case_id)
    final = await queries.care_plans.get_latest_final_care_plan(conn, case_id=case_id)
    verdict = can_record_follow_up(user, CaseFacts.of(case), signed=final is not None)
    enforce(verdict, action="record_follow_up", subject_type="case", subject_id=case_id)
    assert final is not None
    await queries.care_plans.upsert_care_plan_follow_up(
        conn,
        care_plan_id=final["id"],
        implementation=data.implementation,
        reason=data.reason,
        reason_text=data.reason_text,
        recorded_by=user.id,
    )
    await audit.record(conn, user.id, "record_follow_up", "care_plan", final["id"])
    return msgspec.convert(
        dict(await queries.care_plans.get_care_plan_follow_up(conn, care_plan_id=final["id"])), FollowUp
    )


async def get_follow_up(conn: asyncpg.Connection, user: User, case_id: UUID) -> FollowUp:
    """The follow-up of the newest signed version, for those who may see the case."""
    await get_case(conn, user, case_id, action="read_follow_up")
    final = await queries.care_plans.get_latest_final_care_plan(conn, case_id=case_id)
    row = await queries.care_plans.get_care_plan_follow_up(conn, care_plan_id=final["id"]) if final else None
    if row is None:
        raise NotFound("No follow-up has been recorded for the signed care plan")
    return msgspec.convert(dict(row), FollowUp)


@dataclass(frozen=True, slots=True)
class FollowUpState:
    """Where a case's follow-up stands: its newest signed version, if any, and what was recorded for it."""

    case: Case
    signed_version: int | None
    signed_at: datetime | None
    follow_up: FollowUp | None


async def follow_up_state(conn: asyncpg.Connection, user: User, case_id: UUID) -> FollowUpState:
    """The newest signed version of a case's plan and its follow-up, for those who may see the case."""
    case = await get_case(conn, user, case_id, action="read_follow_up")
    final = await queries.care_plans.get_latest_final_care_plan(conn, case_id=case_id)
    row = await queries.care_plans.get_care_plan_follow_up(conn, care_plan_id=final["id"]) if final else None
    return FollowUpState(
        case=case,
        signed_version=final["version"] if final else None,
        signed_at=final["signed_at"] if final else None,
        follow_up=msgspec.convert(dict(row), FollowUp) if row else None,
    )


async def follow_up_report(
    conn: asyncpg.Connection, user: User, board_id: UUID, period_start: date, period_end: date
) -> FollowUpReport:
    """Coordinators: the signed plans of a board's meetings in a period (UTC dates, both included),
    how they were implemented, why not, and which still lack a follow-up."""
    require_role(
        user, Role.COORDINATOR, action="read_follow_up_report", subject_type="board", subject_id=board_id
    )
    if period_end < period_start:
        raise InvalidInput("to", "must not be before from")
    if await queries.boards.get_board(conn, id=board_id) is None:
        raise NotFound("No such board")
    rows = await fetch_all(
        queries.care_plans.list_follow_up_report_rows(
            conn, board_id=board_id, period_start=period_start, period_end=period_end
        )
    )
    done = [row for row in rows if row["implementation"] is not None]
    outcomes = Counter(Implementation(row["implementation"]) for row in done)
    reasons = Counter(DeviationReason(row["reason"]) for row in done if row["reason"] is not None)
    missing = [msgspec.convert(dict(row), MissingFollowUp) for row in rows if row["implementation"] is None]
    not_fully = outcomes[Implementation.PARTLY] + outcomes[Implementation.NOT]
    await audit.record(conn, user.id, "read_follow_up_report", "board", board_id)
    await audit.record_reads(conn, user.id, "case", [item.case_id for item in missing])
    return FollowUpReport(
        board_id=board_id,
        period_start=period_start,
        period_end=period_end,
        signed_plans=len(rows),
        followed_up=len(done),
        implementation={outcome: outcomes[outcome] for outcome in Implementation},
        non_implementation_rate=round(not_fully / len(done), 4) if done else None,
        reasons={reason: reasons[reason] for reason in DeviationReason},
        without_follow_up=missing,
    )
