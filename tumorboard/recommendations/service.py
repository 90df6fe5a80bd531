"""Recording and revising recommendations: the board's preparation of a case, and the views its
decision is set against."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.cases.policy import CaseFacts
from tumorboard.cases.service import get_case
from tumorboard.db import fetch_all, queries
from tumorboard.enums import CaseStatus
from tumorboard.errors import Conflict, NotFound
from tumorboard.policy import enforce
from tumorboard.recommendations.policy import can_recommend, can_revise
from tumorboard.recommendations.schemas import Recommendation, RecommendationCreate, RecommendationUpdate


def _content(data: RecommendationCreate) -> dict[str, object]:
    return {
        "intent": data.intent,
        "modalities": [str(m) for m in data.modalities],
        "summary": data.summary,
        "rationale": data.rationale,
        "guideline": msgspec.to_builtins(data.guideline),
        "trial": msgspec.to_builtins(data.trial),
    }


async def check_may_recommend(conn: asyncpg.Connection, user: User, case: Any) -> None:
    """403 (audited) unless the user may add a recommendation to the case (a case struct or row)."""
    facts = CaseFacts.of(case)
    role = await participant_role(conn, facts.meeting_id, user.id)
    enforce(can_recommend(user, facts, role), action="recommend", subject_type="case", subject_id=facts.id)


async def check_may_revise(
    conn: asyncpg.Connection, user: User, recommendation: Recommendation, case: Any
) -> None:
    """403 (audited) unless the user may revise the recommendation on the case (a case struct or row)."""
    facts = CaseFacts.of(case)
    role = await participant_role(conn, facts.meeting_id, user.id)
    verdict = can_revise(user, recommendation.author_id, facts, role)
    enforce(verdict, action="update", subject_type="recommendation", subject_id=recommendation.id)


async def add_recommendation(
    conn: asyncpg.Connection, user: User, case_id: UUID, data: RecommendationCreate
) -> Recommendation:
    """A participating reviewer's recommendation; one per reviewer per case."""
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    await check_may_recommend(conn, user, case)
    try:
        async with conn.transaction():
            recommendation_id = await queries.recommendations.insert_recommendation(
                conn, case_id=case_id, author_id=user.id, discipline=user.discipline, **_content(data)
            )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "You have already recommended on this case; update your recommendation instead"
        ) from None
    await audit.record(conn, user.id, "create", "recommendation", recommendation_id)
    await _after_change(conn, case_id, case["status"])
    return await _load(conn, recommendation_id)


async def update_recommendation(
    conn: asyncpg.Connection, user: User, recommendation_id: UUID, data: RecommendationUpdate
) -> Recommendation:
    """The author revises a recommendation they saw at `data.version`, while still on the case's meeting."""
    current = await _load(conn, recommendation_id)
    case = await queries.cases.lock_case(conn, id=current.case_id)
    await check_may_revise(conn, user, current, case)
    updated = await queries.recommendations.update_recommendation(
        conn, id=recommendation_id, version=data.version, **_content(data)
    )
    if updated is None:
        raise Conflict("The recommendation changed since you read it; reload and try again")
    await audit.record(conn, user.id, "update", "recommendation", recommendation_id)
    await _after_change(conn, current.case_id, case["status"])
    return await _load(conn, recommendation_id)


async def list_recommendations(conn: asyncpg.Connection, user: User, case_id: UUID) -> list[Recommendation]:
    """A case's recommendations, for those who may see the case."""
    await get_case(conn, user, case_id, action="read_recommendations")
    return await recommendations_of(conn, case_id)


async def recommendations_of(conn: asyncpg.Connection, case_id: UUID) -> list[Recommendation]:
    """A case's recommendations, oldest first, for callers that have checked access to the case."""
    rows = await fetch_all(queries.recommendations.list_recommendations(conn, case_id=case_id))
    return [msgspec.convert(dict(row), Recommendation) for row in rows]


async def _after_change(conn: asyncpg.Connection, case_id: UUID, status: str) -> None:
    """Once the board has decided, a changed recommendation makes a new draft of the care plan."""
    if status == CaseStatus.DISCUSSED:
        await outbox.add_job(conn, outbox.CONSOLIDATE_CARE_PLAN, case_id)


async def _load(conn: asyncpg.Connection, recommendation_id: UUID) -> Recommendation:
    row = await queries.recommendations.get_recommendation(conn, id=recommendation_id)
    if row is None:
        raise NotFound("No such recommendation")
    return msgspec.convert(dict(row), Recommendation)
