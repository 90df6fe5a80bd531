"""Attendance and quorum: participants before the meeting, those present during it, absences flagged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import Actor, Factory, Team

ONCOLOGY = ["medical_oncology", "surgical_oncology", "radiation_oncology"]


async def record(api: Factory, actor: Actor, meeting_id: str, entries: list[tuple[Actor, str]]) -> Any:
    body = {"attendance": [{"user_id": str(a.id), "status": status} for a, status in entries]}
    return await api.client.put(f"/meetings/{meeting_id}/attendance", json=body, headers=actor.headers)


async def started_meeting(api: Factory, team: Team) -> dict[str, Any]:
    board = await api.board(team.coordinator)
    meeting = await api.meeting(
        team.coordinator, board["id"], team.participants, starts_in=timedelta(minutes=20)
    )
    return await api.ok(api.client.post(f"/meetings/{meeting['id']}/start", headers=team.chair.headers), 200)


async def test_quorum_counts_participants_before_and_attendance_during_the_meeting(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(
        team.coordinator, board["id"], team.participants, starts_in=timedelta(minutes=20)
    )
    assert (meeting["quorum_basis"], meeting["quorum"]["missing"], meeting["attendance"]) == (
        "participants",
        [],
        [],
    )
    early = await record(api, team.chair, meeting["id"], [(team.chair, "present")])
    assert early.status_code == 409 and "while the meeting is in progress" in early.json()["detail"]

    started = await api.ok(
        api.client.post(f"/meetings/{meeting['id']}/start", headers=team.chair.headers), 200
    )
    assert started["status"] == "in_progress" and started["started_at"] is not None
    # Nobody recorded yet: by attendance, no discipline is covered.
    assert started["quorum_basis"] == "attendance" and started["quorum"]["missing"] == ONCOLOGY
    assert {a["status"] for a in started["attendance"]} == {"unrecorded"}
    assert not any(a["flagged"] for a in started["attendance"])

    response = await record(
        api,
        team.chair,
        meeting["id"],
        [(team.chair, "present"), (team.surgeon, "present"), (team.radiation, "absent")],
    )
    assert response.status_code == 200, response.text
    during = response.json()
    assert during["quorum"] == {
        "required": ONCOLOGY,
        "covered": ["medical_oncology", "surgical_oncology"],
        "missing": ["radiation_oncology"],
    }
    flagged = {a["user_id"]: a["flagged"] for a in during["attendance"]}
    assert flagged == {str(team.chair.id): False, str(team.surgeon.id): False, str(team.radiation.id): True}

    # The surgeon's attendance is recorded again without them: once closed, unrecorded is flagged too;
    # an excused absence is not.
    await api.ok(
        record(api, team.coordinator, meeting["id"], [(team.chair, "present"), (team.radiation, "excused")]),
        200,
    )
    closed = await api.ok(
        api.client.post(f"/meetings/{meeting['id']}/close", headers=team.chair.headers), 200
    )
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    by_user = {a["user_id"]: (a["status"], a["flagged"]) for a in closed["attendance"]}
    assert by_user == {
        str(team.chair.id): ("present", False),
        str(team.surgeon.id): ("unrecorded", True),
        str(team.radiation.id): ("excused", False),
    }
    assert closed["quorum"]["covered"] == ["medical_oncology"]
    # Once closed, its attendance is the record.
    late = await record(api, team.chair, meeting["id"], [(team.surgeon, "present")])
    assert late.status_code == 409 and "closed" in late.json()["detail"]


async def test_attendance_rules(api: Factory) -> None:
    team = await api.team()
    meeting = await started_meeting(api, team)
    outsider = await api.user("reviewer", discipline="pathology")
    not_participant = await record(api, team.chair, meeting["id"], [(outsider, "present")])
    assert not_participant.status_code == 400
    assert not_participant.json()["extra"][0]["key"] == "attendance.0.user_id"
    twice = await record(api, team.chair, meeting["id"], [(team.chair, "present"), (team.chair, "absent")])
    assert twice.status_code == 400
    bad_status = await api.client.put(
        f"/meetings/{meeting['id']}/attendance",
        json={"attendance": [{"user_id": str(team.chair.id), "status": "late"}]},
        headers=team.chair.headers,
    )
    assert bad_status.status_code == 400 and bad_status.json()["extra"][0]["key"] == "attendance.0.status"
    # Only the chair and coordinators record attendance, start and close.
    assert (await record(api, team.surgeon, meeting["id"], [(team.surgeon, "present")])).status_code == 403
    assert (
        await api.client.post(f"/meetings/{meeting['id']}/close", headers=team.surgeon.headers)
    ).status_code == 403
    again = await api.client.post(f"/meetings/{meeting['id']}/start", headers=team.chair.headers)
    assert again.status_code == 409 and "cannot start" in again.json()["detail"]
    # Refused records change nothing: nobody is recorded and the meeting is still in progress.
    seen = await api.ok(api.client.get(f"/meetings/{meeting['id']}", headers=team.chair.headers), 200)
    assert seen["status"] == "in_progress"
    assert {a["status"] for a in seen["attendance"]} == {"unrecorded"}


async def test_a_meeting_starts_no_earlier_than_an_hour_before(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(
        team.coordinator, board["id"], team.participants, starts_in=timedelta(hours=3)
    )
    early = await api.client.post(f"/meetings/{meeting['id']}/start", headers=team.coordinator.headers)
    assert early.status_code == 409 and "one hour" in early.json()["detail"]
    closing = await api.client.post(f"/meetings/{meeting['id']}/close", headers=team.coordinator.headers)
    assert closing.status_code == 409
