"""The whole path, over HTTP with real workers: submitted case, the board's preparation, its decision
at the meeting, the signed care plan, the presenter's inbox, the follow-up and the board's report."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from tests.conftest import WorkerStarter
from tests.factories import Factory, eventually, recommendation_body

pytestmark = pytest.mark.slow


async def test_case_goes_from_submission_to_signed_care_plan(
    api: Factory, worker: subprocess.Popen[bytes], start_worker: WorkerStarter
) -> None:
    start_worker()  # a second worker races the first for every job
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    board = {"id": meeting["board_id"]}
    assert meeting["quorum"]["missing"] == []

    case = await api.case_on_meeting(team.presenter, meeting["id"])
    assert case["status"] == "scheduled"
    assert case["assignment_note"] is None

    client = api.client
    for reviewer, body in (
        (team.chair, recommendation_body()),
        (team.surgeon, recommendation_body()),
        (
            team.radiation,
            recommendation_body(modalities=["surgery", "radiation"], summary="Upfront surgery."),
        ),
    ):
        created = await api.ok(
            client.post(f"/cases/{case['id']}/recommendations", json=body, headers=reviewer.headers), 201
        )
        assert created["version"] == 1 and created["discipline"] == reviewer.discipline

    prepared = await api.ok(client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert prepared["status"] == "scheduled" and prepared["preparation"]["missing"] == []
    assert (
        await client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers)
    ).status_code == 404

    await api.start(team.chair, meeting["id"])
    await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
    discussed = await api.ok(api.decide(team.chair, case["id"]), 200)
    assert discussed["status"] == "discussed"
    assert discussed["absent_disciplines"] == []

    async def draft() -> dict | None:
        response = await client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers)
        return response.json() if response.status_code == 200 else None

    plan = await eventually(draft)
    assert plan["status"] == "draft" and plan["version"] == 1
    assert plan["consensus"] is False
    assert plan["modalities"] == ["systemic_therapy", "surgery", "radiation"]
    assert [len(p["supporters"]) for p in plan["proposals"]] == [2, 1]
    assert [v["author_name"] for v in plan["differing_views"]] == ["Dr. Radiation"]
    assert plan["decision"]["decided_by_name"] == "Dr. Chair"

    html = await client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert case["patient"]["mrn"] in html.text and "Dr. Radiation" in html.text

    fhir = await api.ok(
        client.get(f"/cases/{case['id']}/care-plan.fhir.json", headers=team.presenter.headers), 200
    )
    bundle = Bundle.model_validate(fhir)
    assert {e.resource.get_resource_type() for e in bundle.entry} >= {"Patient", "Condition", "CarePlan"}

    await api.ok(client.post(f"/meetings/{meeting['id']}/close", headers=team.chair.headers), 200)
    signed = await api.ok(api.sign(team.chair, case["id"]), 200)
    assert signed["status"] == "final" and signed["signed_by"] == str(team.chair.id)
    assert len(signed["content_hash"]) == 64
    final_case = await api.ok(client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert final_case["status"] == "finalized"

    async def final_pdf() -> bytes | None:
        response = await client.get(f"/cases/{case['id']}/care-plan.pdf", headers=team.presenter.headers)
        return response.content if response.status_code == 200 else None

    pages = [page.extract_text() for page in PdfReader(io.BytesIO(await eventually(final_pdf))).pages]
    for number, page in enumerate(pages, start=1):
        assert case["patient"]["mrn"] in page and f"Page {number} of {len(pages)}" in page
    assert signed["content_hash"] in "".join(pages).replace("\n", "").replace(" ", "")

    stale = await client.put(
        f"/recommendations/{created['id']}",
        json={**recommendation_body(), "version": 1},
        headers=team.radiation.headers,
    )
    assert stale.status_code == 409

    inbox = await api.ok(client.get("/me/notifications", headers=team.presenter.headers), 200)
    assert [(n["kind"], n["version"]) for n in inbox["items"]] == [
        ("care_plan_final", 1),
        ("care_plan_draft", 1),
    ]

    followed = await api.ok(
        client.put(
            f"/cases/{case['id']}/care-plan/follow-up",
            json={"implementation": "partly", "reason": "comorbidity_or_fitness"},
            headers=team.presenter.headers,
        ),
        200,
    )
    assert followed["version"] == 1
    today = datetime.now(UTC).date()
    period = f"from={today}&to={today + timedelta(days=30)}"
    report = await api.ok(
        client.get(
            f"/reports/care-plan-follow-up?board_id={board['id']}&{period}", headers=team.coordinator.headers
        ),
        200,
    )
    assert (report["signed_plans"], report["non_implementation_rate"]) == (1, 1.0)
    assert report["reasons"]["comorbidity_or_fitness"] == 1


async def test_a_decision_produces_exactly_one_version(
    api: Factory, pool: asyncpg.Pool, worker: subprocess.Popen[bytes], start_worker: WorkerStarter
) -> None:
    start_worker()  # two workers race for the consolidation job
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await api.case_on_meeting(team.presenter, meeting["id"])
    for reviewer in (team.chair, team.surgeon, team.radiation):
        await api.ok(
            api.client.post(
                f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=reviewer.headers
            ),
            201,
        )
    await api.start(team.chair, meeting["id"])
    await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
    await api.ok(api.decide(team.chair, case["id"]), 200)
    await api.ok(api.decide(team.chair, case["id"]), 200)  # the same decision again changes nothing
    # The job delivered twice (at least once means possibly twice) changes nothing either.
    await pool.execute(
        "INSERT INTO outbox (job, subject_id) VALUES ('consolidate_care_plan', $1)", case["id"]
    )

    async def all_done() -> bool:
        return await pool.fetchval(
            "SELECT count(*) = 0 FROM outbox WHERE subject_id = $1 AND done_at IS NULL", case["id"]
        )

    await eventually(all_done)
    rows = await pool.fetch("SELECT version, status, consensus FROM care_plan WHERE case_id = $1", case["id"])
    assert [tuple(r) for r in rows] == [(1, "draft", True)]
    assert await pool.fetchval("SELECT count(*) FROM board_decision WHERE case_id = $1", case["id"]) == 1
