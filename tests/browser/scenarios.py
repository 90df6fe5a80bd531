"""Small set-ups page tests share, made through the API like the other factories."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.factories import Factory, Team, recommendation_body
from tumorboard.care_plans.consolidation import consolidate_care_plan


async def meeting_of(api: Factory, team: Team, **overrides: Any) -> dict[str, Any]:
    """A breast board's meeting next week with the team's chair and oncology reviewers."""
    board = await api.board(team.coordinator)
    return await api.meeting(team.coordinator, board["id"], team.participants, **overrides)


async def case_placed_on(
    api: Factory, team: Team, meeting: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    """A submitted case the coordinator puts on the meeting by hand (no worker needed)."""
    case = await api.case(team.presenter, **overrides)
    return await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )


async def case_on_a_meeting(api: Factory) -> tuple[Team, dict[str, Any], dict[str, Any]]:
    """A fresh team, its meeting, and a case placed on it."""
    team = await api.team()
    meeting = await meeting_of(api, team)
    return team, meeting, await case_placed_on(api, team, meeting)


async def case_at_a_meeting_soon(api: Factory) -> tuple[Team, dict[str, Any], dict[str, Any]]:
    """A fresh team, its meeting starting within the hour (not started yet), and a case placed on it."""
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    return team, meeting, await case_placed_on(api, team, meeting)


async def decide(api: Factory, team: Team, meeting: dict[str, Any], case_id: str, **decision: Any) -> None:
    """The chair starts the meeting, records the team present and the board's plan for the case."""
    await api.start(team.chair, meeting["id"])
    await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
    await api.ok(api.decide(team.chair, case_id, **decision), 200)


async def recommend_all(api: Factory, team: Team, case_id: str, **overrides: Any) -> None:
    """Every required discipline recommends: the board's preparation is complete."""
    for reviewer in (team.chair, team.surgeon, team.radiation):
        await api.ok(
            api.client.post(
                f"/cases/{case_id}/recommendations",
                json=recommendation_body(**overrides),
                headers=reviewer.headers,
            ),
            201,
        )


async def draft_care_plan(pool: asyncpg.Pool, case_id: str) -> None:
    """Build the care plan draft as the worker would."""
    async with pool.acquire() as conn, conn.transaction():
        await consolidate_care_plan(conn, case_id)
