"""Care plan versions: built from the board's decision exactly once (even when a worker dies mid-way),
re-built when a recommendation changes, final when signed; guideline concordance with the reason why not."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import asyncpg
import pytest

from tests.care_plan_helpers import consolidate, discussed_case, prepared_case
from tests.factories import Factory, eventually, recommendation_body
from tests.isolated_stack import isolated_stack
from workers.jobs import consolidate_care_plan as consolidate_batch


async def _versions(pool: asyncpg.Pool, case_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT version, status FROM care_plan WHERE case_id = $1 ORDER BY version", case_id
    )


async def test_consolidation_run_many_times_at_once_writes_one_version(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await asyncio.gather(*(consolidate(pool, case["id"]) for _ in range(6)))
    assert await consolidate(pool, case["id"]) is None
    assert [tuple(r) for r in await _versions(pool, case["id"])] == [(1, "draft")]


async def test_consensus_when_every_proposal_matches(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert plan["consensus"] is True and plan["differing_views"] == []
    assert plan["intent"] == "curative"
    assert plan["modalities"] == ["systemic_therapy", "surgery", "radiation"]
    assert len(plan["proposals"]) == 1 and len(plan["proposals"][0]["supporters"]) == 3
    assert plan["decision"]["summary"] == "Neoadjuvant chemotherapy, then surgery, then radiotherapy."


async def test_a_changed_recommendation_makes_a_new_version(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    changed = {**recommendation_body(intent="palliative", modalities=["supportive_care"]), "version": 1}
    updated = await api.ok(
        api.client.put(
            f"/recommendations/{recommendations[1]['id']}", json=changed, headers=team.surgeon.headers
        ),
        200,
    )
    assert updated["version"] == 2
    assert await consolidate(pool, case["id"]) in (2, None)  # None: the worker was quicker
    assert [tuple(r) for r in await _versions(pool, case["id"])] == [(1, "draft"), (2, "draft")]
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert plan["version"] == 2 and plan["consensus"] is False


async def test_stale_version_is_refused(api: Factory) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    url = f"/recommendations/{recommendations[0]['id']}"
    first = {**recommendation_body(summary="Revised after the meeting."), "version": 1}
    assert (await api.ok(api.client.put(url, json=first, headers=team.chair.headers), 200))["version"] == 2
    late = {**recommendation_body(summary="Written against the old version."), "version": 1}
    stale = await api.client.put(url, json=late, headers=team.chair.headers)
    assert stale.status_code == 409 and "changed since you read it" in stale.json()["detail"]
    listed = await api.ok(
        api.client.get(f"/cases/{case['id']}/recommendations", headers=team.chair.headers), 200
    )
    mine = next(r for r in listed if r["id"] == recommendations[0]["id"])
    assert (mine["version"], mine["summary"]) == (2, "Revised after the meeting.")


async def test_signing_waits_for_the_draft_of_the_latest_recommendations(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    await pool.execute(
        "UPDATE recommendation SET version = version + 1 WHERE id = $1", recommendations[0]["id"]
    )
    refused = await api.sign(team.chair, case["id"])
    assert refused.status_code == 409
    assert "being prepared" in refused.json()["detail"]


async def test_a_signed_plan_is_final_and_locked(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    signed = await api.ok(api.sign(team.chair, case["id"]), 200)
    assert signed["status"] == "final" and signed["signed_at"]

    again = await api.sign(team.chair, case["id"])
    assert again.status_code == 409
    late = await api.client.put(
        f"/recommendations/{recommendations[0]['id']}",
        json={**recommendation_body(), "version": 1},
        headers=team.chair.headers,
    )
    assert late.status_code == 409
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute("UPDATE care_plan SET consensus = NOT consensus WHERE case_id = $1", case["id"])
    assert await consolidate(pool, case["id"]) is None


async def test_disciplines_without_a_recommendation_are_recorded_absent_when_the_board_decides(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await api.case(team.presenter)
    await api.place(team.coordinator, case["id"], meeting["id"])
    await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    await api.start(team.chair, meeting["id"])
    await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
    decided = await api.ok(api.decide(team.chair, case["id"]), 200)
    assert decided["status"] == "discussed"
    assert sorted(decided["absent_disciplines"]) == ["medical_oncology", "radiation_oncology"]
    await consolidate(pool, case["id"])
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert plan["consensus"] is False  # never a consensus on one opinion
    assert plan["differing_views"] == []
    html = await api.client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)
    assert "Radiation oncology" in html.text and "Medical oncology" in html.text
    assert "never a consensus on one opinion" in html.text


@pytest.mark.slow
async def test_pdf_is_rendered_by_the_worker(api: Factory, worker: subprocess.Popen[bytes]) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)

    async def pdf() -> bytes | None:
        response = await api.client.get(f"/cases/{case['id']}/care-plan.pdf", headers=team.presenter.headers)
        assert response.status_code in (200, 404, 503)
        if response.status_code == 503:
            assert response.headers["retry-after"]
        return response.content if response.status_code == 200 else None

    assert (await eventually(pdf, within=60)).startswith(b"%PDF")  # PDFs render in a worker, CPU permitting


async def test_guideline_concordance_says_why_not(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    guideline = {"name": "ESMO Early Breast", "version": "2024", "concordant": False, "reason": "ECOG 3."}
    case, _ = await discussed_case(api, team, guideline=guideline)
    await consolidate(pool, case["id"])
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert len(plan["guideline_concordance"]) == 3
    assert {(g["guideline"], g["concordant"], g["reason"]) for g in plan["guideline_concordance"]} == {
        ("ESMO Early Breast", False, "ECOG 3.")
    }
    html = (await api.client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)).text
    concordance = html[html.index("Guideline concordance") : html.index("Clinical trial considerations")]
    assert "Why not" in concordance and concordance.count("ECOG 3.") == 3
    fhir = await api.ok(
        api.client.get(f"/cases/{case['id']}/care-plan.fhir.json", headers=team.presenter.headers), 200
    )
    (care_plan,) = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    assert sum("Not concordant with ESMO Early Breast (2024)" in n["text"] for n in care_plan["note"]) == 3


async def test_guideline_reason_is_bounded_text(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter)
    await api.client.put(
        f"/cases/{case['id']}/meeting", json={"meeting_id": meeting["id"]}, headers=team.coordinator.headers
    )
    guideline = {"name": "NCCN", "concordant": False, "reason": "x" * 20_001}
    response = await api.client.post(
        f"/cases/{case['id']}/recommendations",
        json=recommendation_body(guideline=guideline),
        headers=team.surgeon.headers,
    )
    assert response.status_code == 400
    assert [e["key"] for e in response.json()["extra"]] == ["guideline.reason"]


@pytest.mark.slow
async def test_a_worker_killed_mid_consolidation_leaves_exactly_one_version(
    service_urls: tuple[str, str], tmp_path: Path
) -> None:
    async with isolated_stack(service_urls, tmp_path) as stack:
        api, pool = stack.api, stack.api.pool
        # This worker holds every consolidation open (version row written, not committed) for 2 minutes.
        doomed = stack.start_worker(TUMORBOARD_TEST_CONSOLIDATION_DELAY="120")
        team = await api.team()
        meeting = await api.board_meeting_soon(team)
        case = await api.case_on_meeting(team.presenter, meeting["id"])
        for reviewer in (team.chair, team.surgeon, team.radiation):
            await api.ok(
                api.client.post(
                    f"/cases/{case['id']}/recommendations",
                    json=recommendation_body(),
                    headers=reviewer.headers,
                ),
                201,
            )
        await api.start(team.chair, meeting["id"])
        await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
        await api.ok(api.decide(team.chair, case["id"]), 200)

        async def writing_uncommitted_version() -> bool:
            # Another session's open transaction has inserted into care_plan, and nothing is committed.
            holders = await pool.fetchval(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE c.relname = 'care_plan' AND l.mode = 'RowExclusiveLock'"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND l.pid <> pg_backend_pid()"
            )
            return holders > 0

        await eventually(writing_uncommitted_version, within=30)
        assert await pool.fetchval("SELECT count(*) FROM care_plan") == 0
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)

        stack.start_worker()  # arq runs the job again once the dead worker's claim expires (~70 s)

        async def consolidated() -> bool:
            return await pool.fetchval(
                "SELECT done_at IS NOT NULL FROM outbox"
                " WHERE job = 'consolidate_care_plan' AND subject_id = $1",
                case["id"],
            )

        await eventually(consolidated, within=90)
        # The same job delivered once more (at least once means possibly twice) changes nothing.
        again = await pool.fetchval(
            "INSERT INTO outbox (job, subject_id) VALUES ('consolidate_care_plan', $1) RETURNING id",
            case["id"],
        )
        await eventually(lambda: pool.fetchval("SELECT done_at IS NOT NULL FROM outbox WHERE id = $1", again))
        rows = await pool.fetch("SELECT version, status FROM care_plan WHERE case_id = $1", case["id"])
        assert [tuple(r) for r in rows] == [(1, "draft")]
        notifications = await pool.fetchval(
            "SELECT count(*) FROM notification n JOIN care_plan cp ON cp.id = n.care_plan_id"
            " WHERE cp.case_id = $1",
            case["id"],
        )
        assert notifications == 2
        pdf_jobs = await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE job = 'render_care_plan_pdf'"
            " AND subject_id IN (SELECT id FROM care_plan WHERE case_id = $1)",
            case["id"],
        )
        assert pdf_jobs == 1
        plan = await api.ok(
            api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200
        )
        assert plan["version"] == 1


async def test_the_plan_records_attendance_quorum_and_override_as_the_board_decided(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, _ = await prepared_case(api, team)
    await api.start(team.chair, case["meeting_id"])
    await api.attendance(
        team.chair, case["meeting_id"], present=[team.chair, team.surgeon], excused=[team.radiation]
    )
    override = "Radiation oncology reviewed the imaging beforehand and agreed by phone."
    decided = await api.ok(api.decide(team.chair, case["id"], quorum_override=override), 200)
    assert decided["status"] == "discussed"
    # Attendance recorded after the decision does not change what the plan says about it.
    await api.attendance(team.chair, case["meeting_id"], present=[team.chair, team.surgeon, team.radiation])
    await consolidate(pool, case["id"])
    meeting = await pool.fetchval("SELECT content -> 'meeting' FROM care_plan WHERE case_id = $1", case["id"])
    assert {p["full_name"]: p["attendance"] for p in meeting["participants"]} == {
        "Dr. Chair": "present",
        "Dr. Surgeon": "present",
        "Dr. Radiation": "excused",
    }
    assert meeting["quorum"]["basis"] == "attendance"
    assert meeting["quorum"]["missing"] == ["radiation_oncology"]
    plan = await api.ok(api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers), 200)
    assert plan["decision"]["quorum_override"] == override
    html = (await api.client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)).text
    assert "participants present" in html and "Excused" in html
    assert "Decided without quorum" in html and override in html


async def test_signing_a_version_the_chair_did_not_read_is_refused(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    stale = await api.sign(team.chair, case["id"], version=2)
    assert stale.status_code == 409 and "newer draft (version 1)" in stale.json()["detail"]
    signed = await api.ok(api.sign(team.chair, case["id"], version=1), 200)
    assert (signed["version"], signed["status"]) == (1, "final")


async def test_a_batch_of_consolidations_builds_each_draft_and_a_failure_leaves_the_others_done(
    api: Factory, pool: asyncpg.Pool
) -> None:
    """The worker runs a claim's consolidations as one job (outbox.BATCHED), one transaction per case."""
    team = await api.team()
    first, _ = await discussed_case(api, team)
    second, _ = await discussed_case(api, team)
    rows = {
        case["id"]: await pool.fetchval(
            "SELECT id FROM outbox WHERE job = 'consolidate_care_plan' AND subject_id = $1", case["id"]
        )
        for case in (first, second)
    }
    broken = await pool.fetchval("INSERT INTO outbox (job) VALUES ('consolidate_care_plan') RETURNING id")
    with pytest.raises(ValueError):  # the broken row's subject is no case id
        await consolidate_batch(
            {"pool": pool},
            [rows[first["id"]], broken, rows[second["id"]]],
            [first["id"], "broken", second["id"]],
        )
    for case in (first, second):
        assert [tuple(r) for r in await _versions(pool, case["id"])] == [(1, "draft")]
    done = await pool.fetch("SELECT id, done_at IS NOT NULL AS done FROM outbox WHERE id = ANY($1::bigint[])",
                            [*rows.values(), broken])  # fmt: skip
    assert {row["id"]: row["done"] for row in done} == {
        rows[first["id"]]: True,
        rows[second["id"]]: True,
        broken: False,
    }
