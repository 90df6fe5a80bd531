"""Helpers for the care plan tests: a case the board decided at its meeting, a consolidation, a signature."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.factories import PASSWORD, Actor, Factory, Team, recommendation_body
from tumorboard.care_plans.consolidation import consolidate_care_plan
from tumorboard.care_plans.service import render_care_plan_pdf


async def meeting_under_way(api: Factory, team: Team, *cases: dict[str, Any]) -> dict[str, Any]:
    """Start the cases' meeting and record the whole team present."""
    meeting_id = cases[0]["meeting_id"]
    await api.start(team.chair, meeting_id)
    return await api.attendance(team.chair, meeting_id, present=[team.chair, team.surgeon, team.radiation])


async def prepared_case(api: Factory, team: Team, **recommendation: Any) -> tuple[dict, list[dict]]:
    """A case put by hand on a meeting starting within the hour, with all three required
    disciplines' recommendations in (the board's preparation); the meeting has not started."""
    meeting = await api.board_meeting_soon(team)
    case = await api.case(team.presenter)
    await api.place(team.coordinator, case["id"], meeting["id"])
    recommendations = [
        await api.ok(
            api.client.post(
                f"/cases/{case['id']}/recommendations",
                json=recommendation_body(**recommendation),
                headers=r.headers,
            ),
            201,
        )
        for r in (team.chair, team.surgeon, team.radiation)
    ]
    return {**case, "board_id": meeting["board_id"], "meeting_id": meeting["id"]}, recommendations


async def discussed_case(
    api: Factory, team: Team, decision: dict[str, Any] | None = None, **recommendation: Any
) -> tuple[dict, list[dict]]:
    """A prepared case the board decided at its meeting (started, the team present): the chair
    recorded the plan the recommendations propose, or `decision` (decision_body overrides)."""
    case, recommendations = await prepared_case(api, team, **recommendation)
    await meeting_under_way(api, team, case)
    response = await api.decide(team.chair, case["id"], **(decision or {}))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "discussed"
    return case, recommendations


async def consolidate(pool: asyncpg.Pool, case_id: str) -> int | None:
    """Run the consolidation as the worker job would (in its own transaction)."""
    async with pool.acquire() as conn, conn.transaction():
        return await consolidate_care_plan(conn, case_id)


async def render_pdf(pool: asyncpg.Pool, care_plan_id: str) -> bool:
    """Render a version's PDF as the worker job would."""
    return await render_care_plan_pdf(pool, care_plan_id)


async def sign(api: Factory, chair: Actor, case_id: str, password: str = PASSWORD) -> dict:
    """The chair signs the latest draft with their password."""
    response = await api.sign(chair, case_id, password=password)
    assert response.status_code == 200, response.text
    return response.json()


async def signed_case(api: Factory, pool: asyncpg.Pool, team: Team, **recommendation: Any) -> dict:
    """A case whose first care plan version is signed."""
    case, _ = await discussed_case(api, team, **recommendation)
    await consolidate(pool, case["id"])
    await sign(api, team.chair, case["id"])
    return case


async def revise(api: Factory, author: Actor, recommendation_id: str, version: int, **changes: Any) -> dict:
    """The author revises their recommendation, seen at `version`."""
    body = {**recommendation_body(**changes), "version": version}
    return await api.ok(
        api.client.put(f"/recommendations/{recommendation_id}", json=body, headers=author.headers), 200
    )
