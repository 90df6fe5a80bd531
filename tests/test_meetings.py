"""Boards and meetings over HTTP: defaults, participants and quorum, agendas, listing and cancellation."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import Actor, Factory, eventually

ONCOLOGY = ["medical_oncology", "surgical_oncology", "radiation_oncology"]


async def move(api: Factory, coordinator: Actor, case_id: str, meeting_id: str) -> dict[str, Any]:
    """Put a case on a meeting by hand (no worker needed)."""
    return await api.ok(
        api.client.put(
            f"/cases/{case_id}/meeting", json={"meeting_id": meeting_id}, headers=coordinator.headers
        ),
        200,
    )


async def get_meeting(api: Factory, actor: Actor, meeting_id: str) -> dict[str, Any]:
    return await api.ok(api.client.get(f"/meetings/{meeting_id}", headers=actor.headers), 200)


async def get_case(api: Factory, actor: Actor, case_id: str) -> dict[str, Any]:
    return await api.ok(api.client.get(f"/cases/{case_id}", headers=actor.headers), 200)


async def put_participants(
    api: Factory, coordinator: Actor, meeting_id: str, entries: list[tuple[Actor, str]]
) -> httpx.Response:
    listed = [{"user_id": str(actor.id), "role": role} for actor, role in entries]
    return await api.client.put(
        f"/meetings/{meeting_id}/participants", json={"participants": listed}, headers=coordinator.headers
    )


def error_keys(response_json: dict[str, Any]) -> list[str]:
    return [item["key"] for item in response_json.get("extra", [])]


# ---------------------------------------------------------------------------------------------------------
# Boards


async def test_board_requires_the_three_oncology_disciplines_by_default(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.ok(
        api.client.post(
            "/boards", json={"name": "Breast board", "disease_sites": ["breast"]}, headers=coordinator.headers
        ),
        201,
    )
    assert board["name"] == "Breast board"
    assert board["disease_sites"] == ["breast"]
    assert board["required_disciplines"] == ONCOLOGY

    chosen = await api.board(
        coordinator, disease_sites=["thoracic"], required_disciplines=["medical_oncology", "pathology"]
    )
    assert chosen["required_disciplines"] == ["medical_oncology", "pathology"]


async def test_duplicate_board_name_is_a_conflict(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    await api.board(coordinator, name="Thoracic board", disease_sites=["thoracic"])
    again = await api.client.post(
        "/boards", json={"name": "Thoracic board", "disease_sites": ["breast"]}, headers=coordinator.headers
    )
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


async def test_boards_are_listed_for_any_user(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    presenter = await api.user("presenter")
    first = await api.board(coordinator, name="A board")
    second = await api.board(coordinator, name="B board", disease_sites=["colorectal", "upper_gi"])
    boards = await api.ok(api.client.get("/boards", headers=presenter.headers), 200)
    by_id = {board["id"]: board for board in boards}
    assert set(by_id) == {first["id"], second["id"]}
    assert by_id[second["id"]]["disease_sites"] == ["colorectal", "upper_gi"]


# ---------------------------------------------------------------------------------------------------------
# Creating meetings


async def test_meeting_gets_the_documented_defaults(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    starts_at = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    meeting = await api.ok(
        api.client.post(
            "/meetings",
            json={"board_id": board["id"], "starts_at": starts_at.isoformat()},
            headers=coordinator.headers,
        ),
        201,
    )
    assert meeting["status"] == "scheduled"
    assert meeting["board_id"] == board["id"]
    assert datetime.fromisoformat(meeting["starts_at"]) == starts_at
    assert meeting["duration_minutes"] == 60
    assert meeting["capacity"] == 10
    assert datetime.fromisoformat(meeting["submission_deadline"]) == starts_at - timedelta(hours=48)
    assert meeting["case_count"] == 0
    assert meeting["participants"] == [] and meeting["cases"] == []
    assert meeting["quorum"] == {"required": ONCOLOGY, "covered": [], "missing": ONCOLOGY}

    # What the coordinator chose is kept.
    deadline = starts_at - timedelta(hours=2)
    chosen = await api.meeting(
        coordinator,
        board["id"],
        duration_minutes=90,
        capacity=3,
        location="Room 4",
        submission_deadline=deadline.isoformat(),
        starts_at=starts_at.isoformat(),
    )
    assert (chosen["duration_minutes"], chosen["capacity"], chosen["location"]) == (90, 3, "Room 4")
    assert datetime.fromisoformat(chosen["submission_deadline"]) == deadline


async def test_meeting_in_the_past_or_of_an_unknown_board_is_refused(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    past = await api.client.post(
        "/meetings",
        json={"board_id": board["id"], "starts_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        headers=coordinator.headers,
    )
    assert past.status_code == 400
    assert "starts_at" in error_keys(past.json())

    unknown = await api.client.post(
        "/meetings",
        json={
            "board_id": "00000000-0000-4000-8000-000000000000",
            "starts_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        headers=coordinator.headers,
    )
    assert unknown.status_code == 400
    assert "board_id" in error_keys(unknown.json())

    listed = await api.ok(api.client.get("/meetings", headers=coordinator.headers), 200)
    assert listed["items"] == []


# ---------------------------------------------------------------------------------------------------------
# Participants and quorum


async def test_participants_are_replaced_and_quorum_counts_the_chair(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"])

    # The chair is a medical oncologist: they cover medical oncology.
    response = await put_participants(
        api, team.coordinator, meeting["id"], [(team.chair, "chair"), (team.surgeon, "reviewer")]
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert {(p["user_id"], p["role"]) for p in updated["participants"]} == {
        (str(team.chair.id), "chair"),
        (str(team.surgeon.id), "reviewer"),
    }
    chair = next(p for p in updated["participants"] if p["role"] == "chair")
    assert chair["full_name"] == "Dr. Chair" and chair["discipline"] == "medical_oncology"
    assert updated["quorum"] == {
        "required": ONCOLOGY,
        "covered": ["medical_oncology", "surgical_oncology"],
        "missing": ["radiation_oncology"],
    }

    # A second PUT replaces the whole list.
    response = await put_participants(api, team.coordinator, meeting["id"], [(team.radiation, "reviewer")])
    assert response.status_code == 200, response.text
    seen = await get_meeting(api, team.coordinator, meeting["id"])
    assert [(p["user_id"], p["role"]) for p in seen["participants"]] == [(str(team.radiation.id), "reviewer")]
    assert seen["quorum"]["covered"] == ["radiation_oncology"]
    assert seen["quorum"]["missing"] == ["medical_oncology", "surgical_oncology"]

    # Everybody: quorum reached.
    response = await put_participants(api, team.coordinator, meeting["id"], team.participants)
    assert response.status_code == 200, response.text
    assert response.json()["quorum"]["missing"] == []
    assert response.json()["quorum"]["covered"] == ONCOLOGY

    # An empty list clears it.
    response = await put_participants(api, team.coordinator, meeting["id"], [])
    assert response.status_code == 200, response.text
    assert response.json()["participants"] == []
    assert response.json()["quorum"]["missing"] == ONCOLOGY


async def test_chair_without_the_reviewer_role_still_counts_with_their_discipline(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator, required_disciplines=["medical_oncology", "pathology"])
    chair = await api.user("coordinator", discipline="pathology", name="Dr. Path Chair")
    oncologist = await api.user("reviewer", discipline="medical_oncology")
    meeting = await api.meeting(coordinator, board["id"], [(chair, "chair"), (oncologist, "reviewer")])
    assert meeting["quorum"] == {
        "required": ["medical_oncology", "pathology"],
        "covered": ["medical_oncology", "pathology"],
        "missing": [],
    }


async def test_participant_list_rules(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)

    duplicate = await put_participants(
        api, team.coordinator, meeting["id"], [(team.chair, "chair"), (team.chair, "reviewer")]
    )
    assert duplicate.status_code == 400
    assert "participants" in error_keys(duplicate.json())
    assert "more than once" in duplicate.json()["detail"]

    two_chairs = await put_participants(
        api, team.coordinator, meeting["id"], [(team.chair, "chair"), (team.surgeon, "chair")]
    )
    assert two_chairs.status_code == 400
    assert "chair" in two_chairs.json()["detail"]

    coordinator_as_reviewer = await put_participants(
        api, team.coordinator, meeting["id"], [(team.chair, "chair"), (team.coordinator, "reviewer")]
    )
    assert coordinator_as_reviewer.status_code == 400
    assert "participants.1.role" in error_keys(coordinator_as_reviewer.json())
    presenter_as_reviewer = await put_participants(
        api, team.coordinator, meeting["id"], [(team.presenter, "reviewer")]
    )
    assert presenter_as_reviewer.status_code == 400

    # Refused lists change nothing.
    seen = await get_meeting(api, team.coordinator, meeting["id"])
    assert {p["user_id"] for p in seen["participants"]} == {str(a.id) for a, _ in team.participants}
    assert seen["quorum"]["missing"] == []


# ---------------------------------------------------------------------------------------------------------
# Agenda


async def test_meeting_shows_participants_and_agenda_with_urgent_cases_first(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    first = await api.case(team.presenter)
    second = await api.case(team.presenter)
    urgent = await api.case(team.presenter, urgency="urgent")
    for case in (first, second, urgent):
        await move(api, team.coordinator, case["id"], meeting["id"])

    for viewer in (team.coordinator, team.surgeon):
        seen = await get_meeting(api, viewer, meeting["id"])
        assert [c["id"] for c in seen["cases"]] == [urgent["id"], first["id"], second["id"]]
        assert seen["case_count"] == 3
        assert len(seen["participants"]) == 3
        assert seen["quorum"]["missing"] == []
    agenda_urgent = seen["cases"][0]
    assert agenda_urgent["urgency"] == "urgent" and agenda_urgent["status"] == "scheduled"
    patient = urgent["patient"]
    assert agenda_urgent["patient_name"] == f"{patient['given_name']} {patient['family_name']}"
    assert agenda_urgent["presenter_id"] == str(team.presenter.id)


# ---------------------------------------------------------------------------------------------------------
# Listing


async def test_meetings_list_filters_by_board_and_time_and_paginates(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    reader = await api.user("coordinator")  # coordinators see every meeting (see test_access)
    board = await api.board(coordinator)
    other = await api.board(coordinator)
    base = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    # Created out of order; two start at the same moment, so the key needs a tie-breaker.
    offsets = [4, 1, 3, 1, 2, 5]
    mine = [
        await api.meeting(coordinator, board["id"], starts_at=(base + timedelta(days=d)).isoformat())
        for d in offsets
    ]
    theirs = [
        await api.meeting(coordinator, other["id"], starts_at=(base + timedelta(days=d)).isoformat())
        for d in (1, 3)
    ]

    async def walk(**params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(20):
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = await api.ok(api.client.get("/meetings", params=query, headers=reader.headers), 200)
            assert len(page["items"]) <= 2
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("pagination does not end")

    listed = await walk(board_id=board["id"])
    ids = [m["id"] for m in listed]
    assert len(ids) == len(set(ids)) == len(mine)
    assert set(ids) == {m["id"] for m in mine}
    starts = [datetime.fromisoformat(m["starts_at"]) for m in listed]
    assert starts == sorted(starts)
    assert all(m["board_name"] == board["name"] for m in listed)

    everything = await walk()
    assert {m["id"] for m in everything} == {m["id"] for m in mine + theirs}
    assert len(everything) == len(mine) + len(theirs)

    # Half-day margins keep the test independent of whether the bounds are inclusive.
    window = await walk(
        board_id=board["id"],
        **{"from": (base + timedelta(days=1.5)).isoformat(), "to": (base + timedelta(days=3.5)).isoformat()},
    )
    assert [datetime.fromisoformat(m["starts_at"]) for m in window] == [
        base + timedelta(days=2),
        base + timedelta(days=3),
    ]
    later = await walk(**{"from": (base + timedelta(days=2.5)).isoformat()})
    assert {m["id"] for m in later} == {m["id"] for m, d in zip(mine, offsets, strict=True) if d >= 3} | {
        theirs[1]["id"]
    }


# ---------------------------------------------------------------------------------------------------------
# Cancellation


async def test_cancelling_returns_its_cases_to_the_waiting_list(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    cases = [await api.case(team.presenter) for _ in range(2)]
    for case in cases:
        await move(api, team.coordinator, case["id"], meeting["id"])

    cancelled = await api.ok(
        api.client.post(f"/meetings/{meeting['id']}/cancel", headers=team.coordinator.headers), 200
    )
    assert cancelled["status"] == "cancelled"
    assert cancelled["cases"] == [] and cancelled["case_count"] == 0
    for case in cases:
        current = await get_case(api, team.presenter, case["id"])
        assert current["status"] == "submitted"
        assert current["meeting_id"] is None
        assert current["assignment_note"] and "cancel" in current["assignment_note"].lower()
    listed = await api.ok(api.client.get("/meetings", headers=team.coordinator.headers), 200)
    assert [(m["id"], m["status"]) for m in listed["items"]] == [(meeting["id"], "cancelled")]


async def test_a_cancelled_meeting_cannot_be_cancelled_again_or_change_participants(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    await api.ok(api.client.post(f"/meetings/{meeting['id']}/cancel", headers=team.coordinator.headers), 200)

    again = await api.client.post(f"/meetings/{meeting['id']}/cancel", headers=team.coordinator.headers)
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]

    change = await put_participants(api, team.coordinator, meeting["id"], [(team.chair, "chair")])
    assert change.status_code == 409
    assert "cancelled" in change.json()["detail"]
    seen = await get_meeting(api, team.coordinator, meeting["id"])
    assert len(seen["participants"]) == 3 and seen["status"] == "cancelled"


@pytest.mark.slow
async def test_cases_of_a_cancelled_meeting_move_to_the_next_fitting_meeting(
    api: Factory, worker: subprocess.Popen[bytes]
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    soon = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=3))
    later = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=10))
    case = await api.case_on_meeting(team.presenter, soon["id"])
    assert case["status"] == "scheduled"

    await api.ok(api.client.post(f"/meetings/{soon['id']}/cancel", headers=team.coordinator.headers), 200)

    async def reassigned() -> dict[str, Any] | None:
        current = await get_case(api, team.presenter, case["id"])
        return current if current["meeting_id"] == later["id"] else None

    moved = await eventually(reassigned)
    assert moved["status"] == "scheduled"
    assert moved["assignment_note"] is None
    assert (await get_meeting(api, team.coordinator, later["id"]))["case_count"] == 1
    assert (await get_meeting(api, team.coordinator, soon["id"]))["case_count"] == 0
