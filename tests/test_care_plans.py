"""Care plan versions: built exactly once, re-built when a recommendation changes, final when signed."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import asyncpg
import pytest

from tests.factories import Factory, Team, eventually, recommendation_body
from tumorboard.care_plans.consolidation import consolidate_care_plan


async def _discussed_case(api: Factory, team: Team, **recommendation: Any) -> tuple[dict, list[dict]]:
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
    return case, recommendations


async def _consolidate(pool: asyncpg.Pool, case_id: str) -> int | None:
    async with pool.acquire() as conn, conn.transaction():
        return await consolidate_care_plan(conn, case_id)


async def _versions(pool: asyncpg.Pool, case_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT version, status FROM care_plan WHERE case_id = $1 ORDER BY version", case_id
    )


async def test_consolidation_run_many_times_at_once_writes_one_version(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, _ = await _discussed_case(api, team)
    await asyncio.gather(*(_consolidate(pool, case["id"]) for _ in range(6)))
    assert await _consolidate(pool, case["id"]) is None
    assert [tuple(r) for r in await _versions(pool, case["id"])] == [(1, "draft")]


async def test_consensus_when_every_proposal_matches(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await _discussed_case(api, team)
    await _consolidate(pool, case["id"])
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert plan["consensus"] is True
    assert plan["intent"] == "curative"
    assert plan["modalities"] == ["systemic_therapy", "surgery", "radiation"]
    assert len(plan["proposals"]) == 1 and len(plan["proposals"][0]["supporters"]) == 3


async def test_a_changed_recommendation_makes_a_new_version(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, recommendations = await _discussed_case(api, team)
    await _consolidate(pool, case["id"])
    changed = {**recommendation_body(intent="palliative", modalities=["supportive_care"]), "version": 1}
    updated = await api.ok(
        api.client.put(
            f"/recommendations/{recommendations[1]['id']}", json=changed, headers=team.surgeon.headers
        ),
        200,
    )
    assert updated["version"] == 2
    assert await _consolidate(pool, case["id"]) in (2, None)  # None: the worker was quicker
    assert [tuple(r) for r in await _versions(pool, case["id"])] == [(1, "draft"), (2, "draft")]
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert plan["version"] == 2 and plan["consensus"] is False


async def test_stale_version_is_refused(api: Factory) -> None:
    team = await api.team()
    _, recommendations = await _discussed_case(api, team)
    body = {**recommendation_body(), "version": 1}
    url = f"/recommendations/{recommendations[0]['id']}"
    assert (await api.client.put(url, json=body, headers=team.chair.headers)).status_code == 200
    stale = await api.client.put(url, json=body, headers=team.chair.headers)
    assert stale.status_code == 409


async def test_signing_waits_for_the_draft_of_the_latest_recommendations(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, recommendations = await _discussed_case(api, team)
    await _consolidate(pool, case["id"])
    await pool.execute(
        "UPDATE recommendation SET version = version + 1 WHERE id = $1", recommendations[0]["id"]
    )
    refused = await api.client.post(f"/cases/{case['id']}/care-plan/sign", headers=team.chair.headers)
    assert refused.status_code == 409
    assert "being prepared" in refused.json()["detail"]


async def test_a_signed_plan_is_final_and_locked(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, recommendations = await _discussed_case(api, team)
    await _consolidate(pool, case["id"])
    signed = await api.ok(
        api.client.post(f"/cases/{case['id']}/care-plan/sign", headers=team.chair.headers), 200
    )
    assert signed["status"] == "final" and signed["signed_at"]

    again = await api.client.post(f"/cases/{case['id']}/care-plan/sign", headers=team.chair.headers)
    assert again.status_code == 409
    late = await api.client.put(
        f"/recommendations/{recommendations[0]['id']}",
        json={**recommendation_body(), "version": 1},
        headers=team.chair.headers,
    )
    assert late.status_code == 409
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute("UPDATE care_plan SET consensus = NOT consensus WHERE case_id = $1", case["id"])
    assert await _consolidate(pool, case["id"]) is None


async def test_chair_closing_the_discussion_records_absent_disciplines(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    await api.client.put(
        f"/cases/{case['id']}/meeting", json={"meeting_id": meeting["id"]}, headers=team.coordinator.headers
    )
    await api.client.post(
        f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
    )
    closed = await api.ok(
        api.client.post(f"/cases/{case['id']}/close-discussion", headers=team.chair.headers), 200
    )
    assert closed["status"] == "discussed"
    assert sorted(closed["absent_disciplines"]) == ["medical_oncology", "radiation_oncology"]
    await _consolidate(pool, case["id"])
    html = await api.client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)
    assert "Radiation oncology" in html.text and "Medical oncology" in html.text


@pytest.mark.slow
async def test_pdf_is_rendered_by_the_worker(api: Factory, worker: subprocess.Popen[bytes]) -> None:
    team = await api.team()
    case, _ = await _discussed_case(api, team)

    async def pdf() -> bytes | None:
        response = await api.client.get(f"/cases/{case['id']}/care-plan.pdf", headers=team.presenter.headers)
        assert response.status_code in (200, 404, 503)
        if response.status_code == 503:
            assert response.headers["retry-after"]
        return response.content if response.status_code == 200 else None

    assert (await eventually(pdf)).startswith(b"%PDF")
