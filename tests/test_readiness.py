"""Readiness: board checklists, each case checked against its board's list, and presenters completing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import Actor, Factory

DEFAULT_CHECKLIST = [
    {"item": "stage", "max_age_days": None},
    {"item": "pathology_report", "max_age_days": None},
    {"item": "imaging", "max_age_days": 60},
    {"item": "ecog", "max_age_days": None},
]


def days_ago(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


async def readiness(api: Factory, actor: Actor, case_id: str) -> dict[str, Any]:
    return await api.ok(api.client.get(f"/cases/{case_id}/readiness", headers=actor.headers), 200)


async def complete(api: Factory, actor: Actor, case_id: str, **body: Any) -> Any:
    return await api.client.patch(f"/cases/{case_id}/readiness", json=body, headers=actor.headers)


async def test_boards_have_a_default_checklist_that_coordinators_replace(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    assert board["checklist"] == DEFAULT_CHECKLIST
    assert (board["time_zone"], board["minutes_per_case"], board["agenda_lock_hours"]) == ("UTC", 6, 24)

    chosen = [{"item": "histology", "max_age_days": None}, {"item": "imaging", "max_age_days": 30}]
    replaced = await api.ok(
        api.client.put(
            f"/boards/{board['id']}/checklist", json={"items": chosen}, headers=coordinator.headers
        ),
        200,
    )
    assert replaced["checklist"] == chosen
    listed = await api.ok(api.client.get("/boards", headers=coordinator.headers), 200)
    assert listed[0]["checklist"] == chosen

    for items, key in (
        ([{"item": "ecog", "max_age_days": 10}], "items"),
        ([{"item": "ecog"}, {"item": "ecog"}], "items"),
        ([{"item": "blood_type"}], "items.0.item"),
    ):
        bad = await api.client.put(
            f"/boards/{board['id']}/checklist", json={"items": items}, headers=coordinator.headers
        )
        assert bad.status_code == 400 and bad.json()["extra"][0]["key"] == key, bad.text
    presenter = await api.user("presenter")
    denied = await api.client.put(
        f"/boards/{board['id']}/checklist", json={"items": []}, headers=presenter.headers
    )
    assert denied.status_code == 403


async def test_board_settings_change_and_reach_open_agendas(api: Factory) -> None:
    coordinator = await api.user("coordinator")
    board = await api.board(coordinator)
    meeting = await api.meeting(coordinator, board["id"])
    updated = await api.ok(
        api.client.patch(
            f"/boards/{board['id']}",
            json={"time_zone": "America/New_York", "agenda_lock_hours": 48, "minutes_per_case": 12},
            headers=coordinator.headers,
        ),
        200,
    )
    assert (updated["time_zone"], updated["agenda_lock_hours"], updated["minutes_per_case"]) == (
        "America/New_York",
        48,
        12,
    )
    seen = await api.ok(api.client.get(f"/meetings/{meeting['id']}", headers=coordinator.headers), 200)
    starts = datetime.fromisoformat(seen["starts_at"])
    assert datetime.fromisoformat(seen["agenda_locks_at"]) == starts - timedelta(hours=48)
    assert seen["minutes_per_case"] == 6  # an existing meeting keeps its time per case
    bad = await api.client.patch(
        f"/boards/{board['id']}", json={"time_zone": "Nowhere/Else"}, headers=coordinator.headers
    )
    assert bad.status_code == 400 and bad.json()["extra"][0]["key"] == "time_zone"


async def test_presenter_sees_what_is_missing_and_completes_it(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    case = await api.case(team.presenter, stage=None, ecog=None)
    await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    first = await readiness(api, team.presenter, case["id"])
    assert first["ready"] is False and first["meeting_id"] == meeting["id"]
    assert first["missing_items"] == ["stage", "pathology_report", "imaging", "ecog"]
    assert first["checks"][0] == {"item": "stage", "satisfied": False, "detail": "no stage recorded"}
    assert first["checked_for"] == datetime.fromisoformat(meeting["starts_at"]).date().isoformat()

    # Imaging older than 60 days before the meeting does not count.
    response = await complete(
        api,
        team.presenter,
        case["id"],
        stage={"system": "AJCC8", "t": "cT1", "n": "cN0", "m": "cM0", "group": "IA"},
        ecog=0,
        pathology_report_on=days_ago(3),
        imaging_on=days_ago(70),
    )
    assert response.status_code == 200, response.text
    assert response.json()["missing_items"] == ["imaging"]
    assert "more than 60 days old" in response.json()["checks"][2]["detail"]
    done = await complete(api, team.presenter, case["id"], imaging_on=days_ago(10))
    assert done.json()["ready"] is True and done.json()["pathology_report_on"] == days_ago(3)
    stored = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert stored["ecog"] == 0 and stored["stage"]["group"] == "IA"

    agenda = await api.ok(
        api.client.get(f"/meetings/{meeting['id']}/agenda", headers=team.chair.headers), 200
    )
    assert agenda["items"][0]["ready"] is True and agenda["ready_count"] == 1


async def test_readiness_rules_for_who_and_what(api: Factory) -> None:
    team = await api.team()
    await api.board(team.coordinator)
    case = await api.case(team.presenter)
    other = await api.user("presenter")
    assert (await api.client.get(f"/cases/{case['id']}/readiness", headers=other.headers)).status_code == 403
    assert (await complete(api, other, case["id"], ecog=3)).status_code == 403
    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    bad = await complete(api, team.presenter, case["id"], imaging_on=future)
    assert bad.status_code == 400 and bad.json()["extra"][0]["key"] == "imaging_on"
    unknown = await complete(api, team.presenter, case["id"], blood_type="A")
    assert unknown.status_code == 400
    # Waiting cases are checked against the boards covering their site, today.
    waiting = await readiness(api, team.coordinator, case["id"])
    assert waiting["meeting_id"] is None and waiting["checked_for"] == datetime.now(UTC).date().isoformat()
    assert waiting["missing_items"] == ["pathology_report", "imaging"]
    # The refused updates changed nothing.
    assert waiting["imaging_on"] is None
    stored = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert stored["ecog"] == case["ecog"] == 1
    await api.ok(api.client.post(f"/cases/{case['id']}/withdraw", headers=team.presenter.headers), 200)
    assert (await complete(api, team.presenter, case["id"], ecog=1)).status_code == 409
