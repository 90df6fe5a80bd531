"""Cases over HTTP: submission, listing, manual moves, withdrawal, closing the discussion, patients."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.browser.support import page_client
from tests.factories import Actor, Factory, Team, case_body, eventually, recommendation_body


async def get_case(api: Factory, actor: Actor, case_id: str) -> dict[str, Any]:
    return await api.ok(api.client.get(f"/cases/{case_id}", headers=actor.headers), 200)


async def get_meeting(api: Factory, actor: Actor, meeting_id: str) -> dict[str, Any]:
    return await api.ok(api.client.get(f"/meetings/{meeting_id}", headers=actor.headers), 200)


async def move(api: Factory, coordinator: Actor, case_id: str, meeting_id: str) -> httpx.Response:
    return await api.client.put(
        f"/cases/{case_id}/meeting", json={"meeting_id": meeting_id}, headers=coordinator.headers
    )


async def list_all(api: Factory, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    """Every page of GET /cases with these filters."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await api.ok(api.client.get("/cases", params=query, headers=actor.headers), 200)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination does not end")


async def scheduled_case(api: Factory, team: Team, meeting_id: str, **overrides: Any) -> dict[str, Any]:
    """A case put on the meeting by the coordinator (no worker needed)."""
    case = await api.case(team.presenter, **overrides)
    response = await move(api, team.coordinator, case["id"], meeting_id)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------------------------
# Submission and listing


async def test_submitted_case_waits_for_a_meeting(api: Factory) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    body = case_body(urgency="urgent")
    response = await api.client.post("/cases", json=body, headers=presenter.headers)
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["status"] == "submitted"
    assert case["meeting_id"] is None
    assert case["presenter_id"] == str(presenter.id)
    assert case["patient"] == body["patient"]
    assert case["diagnosis"] == body["diagnosis"] and case["stage"] == body["stage"]
    assert case["urgency"] == "urgent" and case["absent_disciplines"] == []
    assert await get_case(api, presenter, case["id"]) == case


async def test_cases_are_listed_newest_first_page_by_page(api: Factory) -> None:
    presenter = await api.user("presenter")
    created = [await api.case(presenter) for _ in range(5)]

    sizes = []
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await api.ok(api.client.get("/cases", params=query, headers=presenter.headers), 200)
        sizes.append(len(page["items"]))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(sizes) < 10, "pagination does not end"

    assert sizes == [2, 2, 1]
    ids = [case["id"] for case in items]
    assert len(set(ids)) == 5
    assert ids == [case["id"] for case in reversed(created)]
    stamps = [datetime.fromisoformat(case["created_at"]) for case in items]
    assert stamps == sorted(stamps, reverse=True)


async def test_cases_list_filters_by_status_meeting_and_mine(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"])
    waiting = await api.case(team.presenter)
    placed = await scheduled_case(api, team, meeting["id"])
    withdrawn = await api.case(team.presenter)
    await api.ok(api.client.post(f"/cases/{withdrawn['id']}/withdraw", headers=team.presenter.headers), 200)
    # A coordinator who also presents: sees every case, and only their own with mine=true.
    lead = await api.user("coordinator", "presenter", discipline="medical_oncology")
    own = await api.case(lead)

    def ids(items: list[dict[str, Any]]) -> set[str]:
        return {case["id"] for case in items}

    assert ids(await list_all(api, lead)) == {waiting["id"], placed["id"], withdrawn["id"], own["id"]}
    assert ids(await list_all(api, lead, mine="true")) == {own["id"]}
    assert ids(await list_all(api, team.presenter, mine="true")) == {
        waiting["id"],
        placed["id"],
        withdrawn["id"],
    }
    assert ids(await list_all(api, lead, status="submitted")) == {waiting["id"], own["id"]}
    assert ids(await list_all(api, lead, status="scheduled")) == {placed["id"]}
    assert ids(await list_all(api, lead, status="withdrawn")) == {withdrawn["id"]}
    assert ids(await list_all(api, lead, meeting_id=meeting["id"])) == {placed["id"]}
    assert ids(await list_all(api, team.presenter, status="submitted", mine="true")) == {waiting["id"]}
    assert all(case["status"] == "submitted" for case in await list_all(api, lead, status="submitted"))


# ---------------------------------------------------------------------------------------------------------
# Moving a case by hand


async def test_coordinator_moves_a_case_and_frees_the_old_meeting(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    first = await api.meeting(team.coordinator, board["id"], capacity=1)
    second = await api.meeting(team.coordinator, board["id"], starts_in=timedelta(days=14))
    case = await api.case(team.presenter)

    response = await move(api, team.coordinator, case["id"], first["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "scheduled" and response.json()["meeting_id"] == first["id"]
    assert (await get_meeting(api, team.coordinator, first["id"]))["case_count"] == 1

    response = await move(api, team.coordinator, case["id"], second["id"])
    assert response.status_code == 200, response.text
    assert response.json()["meeting_id"] == second["id"]
    assert (await get_meeting(api, team.coordinator, first["id"]))["case_count"] == 0
    assert (await get_meeting(api, team.coordinator, second["id"]))["case_count"] == 1
    assert (await get_meeting(api, team.coordinator, first["id"]))["cases"] == []

    # The freed seat can be taken by another case.
    other = await api.case(team.presenter)
    response = await move(api, team.coordinator, other["id"], first["id"])
    assert response.status_code == 200, response.text


async def test_move_is_refused_when_the_meeting_does_not_fit(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    breast = await api.board(team.coordinator)
    thoracic = await api.board(team.coordinator, disease_sites=["thoracic"])
    wrong_site = await api.meeting(team.coordinator, thoracic["id"])
    cancelled = await api.meeting(team.coordinator, breast["id"])
    await api.ok(
        api.client.post(f"/meetings/{cancelled['id']}/cancel", headers=team.coordinator.headers), 200
    )
    past = await api.meeting(team.coordinator, breast["id"])
    await pool.execute(
        "UPDATE meeting SET starts_at = now() - interval '1 hour',"
        " submission_deadline = now() - interval '2 days' WHERE id = $1",
        past["id"],
    )
    full = await api.meeting(team.coordinator, breast["id"], capacity=1)
    await scheduled_case(api, team, full["id"])

    case = await api.case(team.presenter)
    for meeting, words in (
        (wrong_site, "disease site"),
        (cancelled, "not scheduled"),
        (past, "not scheduled in the future"),
        (full, "full"),
    ):
        response = await move(api, team.coordinator, case["id"], meeting["id"])
        assert response.status_code == 409, (words, response.text)
        assert words in response.json()["detail"]
    current = await get_case(api, team.presenter, case["id"])
    assert current["status"] == "submitted" and current["meeting_id"] is None
    assert (await get_meeting(api, team.coordinator, full["id"]))["case_count"] == 1


# ---------------------------------------------------------------------------------------------------------
# Withdrawal


async def test_presenter_withdraws_a_case_and_its_seat_is_freed(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], capacity=1)
    case = await scheduled_case(api, team, meeting["id"])
    assert (await get_meeting(api, team.coordinator, meeting["id"]))["case_count"] == 1

    withdrawn = await api.ok(
        api.client.post(f"/cases/{case['id']}/withdraw", headers=team.presenter.headers), 200
    )
    assert withdrawn["status"] == "withdrawn"
    seen = await get_meeting(api, team.coordinator, meeting["id"])
    assert seen["case_count"] == 0 and seen["cases"] == []

    again = await api.client.post(f"/cases/{case['id']}/withdraw", headers=team.presenter.headers)
    assert again.status_code == 409
    assert "withdrawn" in again.json()["detail"]

    # The seat went back: another case fits on the meeting of capacity 1.
    other = await api.case(team.presenter)
    assert (await move(api, team.coordinator, other["id"], meeting["id"])).status_code == 200


async def test_a_waiting_case_can_be_withdrawn(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    withdrawn = await api.ok(api.client.post(f"/cases/{case['id']}/withdraw", headers=presenter.headers), 200)
    assert withdrawn["status"] == "withdrawn"
    assert (await get_case(api, presenter, case["id"]))["status"] == "withdrawn"


# ---------------------------------------------------------------------------------------------------------
# The board's decision


async def _decided_at_meeting(api: Factory, team: Team, case_id: str, meeting_id: str) -> dict[str, Any]:
    await api.start(team.chair, meeting_id)
    await api.attendance(team.chair, meeting_id, present=[team.chair, team.surgeon, team.radiation])
    return await api.ok(api.decide(team.chair, case_id), 200)


async def test_the_board_decides_and_silent_disciplines_are_absent(api: Factory) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await scheduled_case(api, team, meeting["id"])
    await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    assert (await get_case(api, team.presenter, case["id"]))["status"] == "scheduled"

    decided = await _decided_at_meeting(api, team, case["id"], meeting["id"])
    assert decided["status"] == "discussed"
    assert decided["absent_disciplines"] == ["medical_oncology", "radiation_oncology"]
    assert decided["discussion_closed_at"] is not None
    seen = await get_case(api, team.presenter, case["id"])
    assert seen["status"] == "discussed"
    assert seen["absent_disciplines"] == ["medical_oncology", "radiation_oncology"]
    assert seen["preparation"] == {
        "recommended": ["surgical_oncology"],
        "missing": ["medical_oncology", "radiation_oncology"],
    }


@pytest.mark.slow
async def test_the_boards_decision_produces_a_care_plan_draft(
    api: Factory, worker: subprocess.Popen[bytes]
) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await api.case_on_meeting(team.presenter, meeting["id"])
    for reviewer in (team.chair, team.surgeon):
        await api.ok(
            api.client.post(
                f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=reviewer.headers
            ),
            201,
        )
    before = await api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers)
    assert before.status_code == 404

    decided = await _decided_at_meeting(api, team, case["id"], meeting["id"])
    assert decided["status"] == "discussed"
    assert decided["absent_disciplines"] == ["radiation_oncology"]

    async def draft() -> dict[str, Any] | None:
        response = await api.client.get(f"/cases/{case['id']}/care-plan", headers=team.presenter.headers)
        return response.json() if response.status_code == 200 else None

    plan = await eventually(draft)
    assert plan["case_id"] == case["id"]
    assert plan["status"] == "draft" and plan["version"] == 1
    assert plan["consensus"] is True


# ---------------------------------------------------------------------------------------------------------
# Patients


async def test_a_known_mrn_with_other_details_is_accepted_and_flagged_for_coordinators_only(
    api: Factory, pool: asyncpg.Pool
) -> None:
    """A presenter never learns whether a patient exists: a known MRN sent with other details makes a
    case all the same, showing what they sent; only coordinators see the mismatch."""
    presenter, other = await api.user("presenter"), await api.user("presenter")
    coordinator = await api.user("coordinator")
    first = await api.case(presenter)
    impostor = {
        **first["patient"],
        "given_name": "Zebulon",
        "family_name": "Quackenbush",
        "birth_date": "1944-02-29",
    }
    response = await api.client.post("/cases", json=case_body(patient=impostor), headers=other.headers)
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["patient"] == impostor and "patient_mismatch" not in second
    # What the presenter reads back is what they sent, never the recorded patient's details.
    shown = await get_case(api, other, second["id"])
    assert shown["patient"] == impostor and "patient_mismatch" not in shown
    for recorded in (first["patient"]["given_name"], first["patient"]["family_name"]):
        assert recorded not in (await api.client.get("/cases", headers=other.headers)).text
    # The recorded patient is unchanged; coordinators see which case needs checking.
    assert (await get_case(api, presenter, first["id"]))["patient"] == first["patient"]
    assert (await get_case(api, coordinator, second["id"]))["patient_mismatch"] is True
    assert (await get_case(api, coordinator, first["id"]))["patient_mismatch"] is False
    listed = {case["id"]: case for case in await list_all(api, coordinator)}
    assert listed[second["id"]]["patient_mismatch"] is True
    base = str(api.client.base_url.copy_with(path="/")).rstrip("/")
    async with (
        page_client(base, coordinator) as coordinator_pages,
        page_client(base, other) as presenter_pages,
    ):
        assert (
            'data-testid="patient-mismatch"' in (await coordinator_pages.get(f"/cases/{second['id']}")).text
        )
        assert (
            'data-testid="patient-mismatch"'
            not in (await coordinator_pages.get(f"/cases/{first['id']}")).text
        )
        assert (
            'data-testid="patient-mismatch"' not in (await presenter_pages.get(f"/cases/{second['id']}")).text
        )
    # A repeat with the same details reuses the row kept for them.
    await api.case(other, patient=impostor)
    assert await pool.fetchval("SELECT count(*) FROM patient WHERE mrn = $1", impostor["mrn"]) == 2


async def test_same_patient_may_have_a_second_case(api: Factory, pool: asyncpg.Pool) -> None:
    presenter = await api.user("presenter")
    colleague = await api.user("presenter")
    first = await api.case(presenter)
    second = await api.ok(
        api.client.post(
            "/cases",
            json=case_body(patient=first["patient"], disease_site="thoracic"),
            headers=colleague.headers,
        ),
        201,
    )
    assert second["id"] != first["id"]
    assert second["patient"] == first["patient"]
    assert second["status"] == "submitted"
    assert await pool.fetchval("SELECT count(*) FROM patient WHERE mrn = $1", first["patient"]["mrn"]) == 1
    assert (
        await pool.fetchval(
            "SELECT count(DISTINCT patient_id) FROM patient_case WHERE id = ANY($1::uuid[])",
            [first["id"], second["id"]],
        )
        == 1
    )
