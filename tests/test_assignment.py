"""The assignment rule of DESIGN section 4, and capacity under racing worker processes."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.conftest import WorkerStarter
from tests.factories import Factory, Team, case_body, eventually
from tumorboard.meetings.assignment import assign_case


async def _assign(pool: asyncpg.Pool, case_id: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await assign_case(conn, case_id)


async def _case(api: Factory, team: Team, case_id: str) -> dict[str, Any]:
    return await api.ok(api.client.get(f"/cases/{case_id}", headers=team.coordinator.headers), 200)


async def _submit_and_assign(
    api: Factory, pool: asyncpg.Pool, team: Team, **overrides: Any
) -> dict[str, Any]:
    case = await api.case(team.presenter, **overrides)
    await _assign(pool, case["id"])
    return await _case(api, team, case["id"])


async def test_case_goes_to_the_earliest_fitting_meeting(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=10))
    earlier = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=5))
    case = await _submit_and_assign(api, pool, team)
    assert (case["status"], case["meeting_id"]) == ("scheduled", earlier["id"])


async def test_case_without_a_board_for_its_site_waits_with_a_note(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, disease_sites=["thoracic"])
    await api.meeting(team.coordinator, board["id"], team.participants)
    case = await _submit_and_assign(api, pool, team, disease_site="breast")
    assert case["status"] == "submitted" and case["meeting_id"] is None
    assert case["assignment_note"] == "No board covers this disease site yet."


async def test_cancelled_meetings_are_skipped(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    first = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=2))
    later = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=9))
    await api.ok(api.client.post(f"/meetings/{first['id']}/cancel", headers=team.coordinator.headers), 200)
    case = await _submit_and_assign(api, pool, team)
    assert case["meeting_id"] == later["id"]


async def test_meeting_after_discuss_by_is_not_used(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=10))
    discuss_by = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    case = await _submit_and_assign(api, pool, team, discuss_by=discuss_by)
    assert case["status"] == "submitted"
    assert "discuss-by date" in case["assignment_note"]


async def test_full_meeting_sends_the_case_to_the_next(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    small = await api.meeting(
        team.coordinator, board["id"], team.participants, starts_in=timedelta(days=3), capacity=1
    )
    later = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=9))
    first = await _submit_and_assign(api, pool, team)
    second = await _submit_and_assign(api, pool, team)
    assert (first["meeting_id"], second["meeting_id"]) == (small["id"], later["id"])


async def test_routine_cases_respect_the_deadline_urgent_ones_do_not(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    deadline_passed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    meeting = await api.meeting(
        team.coordinator,
        board["id"],
        team.participants,
        starts_in=timedelta(days=1),
        submission_deadline=deadline_passed,
    )
    routine = await _submit_and_assign(api, pool, team, urgency="routine")
    urgent = await _submit_and_assign(api, pool, team, urgency="urgent")
    assert routine["status"] == "submitted"
    assert "submission deadline has passed" in routine["assignment_note"]
    assert (urgent["status"], urgent["meeting_id"]) == ("scheduled", meeting["id"])


async def test_meeting_without_every_required_discipline_is_not_used(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    await api.meeting(team.coordinator, board["id"], [(team.chair, "chair"), (team.surgeon, "reviewer")])
    case = await _submit_and_assign(api, pool, team)
    assert case["status"] == "submitted"
    assert "covering every discipline" in case["assignment_note"]


async def test_the_database_refuses_to_overbook(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants, capacity=1)
    first, second = await api.case(team.presenter), await api.case(team.presenter)
    place = "UPDATE patient_case SET meeting_id = $1, status = 'scheduled' WHERE id = $2"
    await pool.execute(place, meeting["id"], first["id"])
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(place, meeting["id"], second["id"])


@pytest.mark.slow
async def test_racing_workers_fill_meetings_exactly_to_capacity(
    api: Factory, pool: asyncpg.Pool, worker: subprocess.Popen[bytes], start_worker: WorkerStarter
) -> None:
    start_worker(), start_worker()  # three worker processes in all
    team = await api.team()
    board = await api.board(team.coordinator)
    meetings = [
        await api.meeting(
            team.coordinator, board["id"], team.participants, starts_in=timedelta(days=d), capacity=5
        )
        for d in (3, 4)
    ]
    submissions = [
        api.client.post("/cases", json=case_body(), headers=team.presenter.headers) for _ in range(30)
    ]
    assert {r.status_code for r in await asyncio.gather(*submissions)} == {201}

    async def settled() -> list[asyncpg.Record] | None:
        rows = await pool.fetch("SELECT status, meeting_id, assignment_note FROM patient_case")
        return rows if all(r["status"] == "scheduled" or r["assignment_note"] for r in rows) else None

    rows = await eventually(settled, within=60)
    per_meeting = {m["id"]: sum(str(r["meeting_id"]) == m["id"] for r in rows) for m in meetings}
    assert per_meeting == {meetings[0]["id"]: 5, meetings[1]["id"]: 5}
    waiting = [r for r in rows if r["status"] == "submitted"]
    assert len(waiting) == 20
    assert {r["assignment_note"] for r in waiting} == {"Every meeting in time is full."}
    counts = await pool.fetch("SELECT case_count, capacity FROM meeting")
    assert all(row["case_count"] == row["capacity"] == 5 for row in counts)
