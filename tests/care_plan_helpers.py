"""Helpers for the care plan tests: a discussed case, a consolidation, a signature."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.factories import Actor, Factory, Team, recommendation_body
from tumorboard.care_plans.consolidation import consolidate_care_plan
from tumorboard.care_plans.service import render_care_plan_pdf


async def discussed_case(api: Factory, team: Team, **recommendation: Any) -> tuple[dict, list[dict]]:
    """A case put on a meeting by hand, with all three required disciplines recommended."""
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
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
    return {**case, "board_id": board["id"], "meeting_id": meeting["id"]}, recommendations


async def consolidate(pool: asyncpg.Pool, case_id: str) -> int | None:
    """Run the consolidation as the worker job would (in its own transaction)."""
    async with pool.acquire() as conn, conn.transaction():
        return await consolidate_care_plan(conn, case_id)


async def render_pdf(pool: asyncpg.Pool, care_plan_id: str) -> bool:
    """Render a version's PDF as the worker job would."""
    async with pool.acquire() as conn:
        return await render_care_plan_pdf(conn, care_plan_id)


async def sign(api: Factory, chair: Actor, case_id: str) -> dict:
    """The chair signs the latest draft."""
    return await api.ok(api.client.post(f"/cases/{case_id}/care-plan/sign", headers=chair.headers), 200)


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
