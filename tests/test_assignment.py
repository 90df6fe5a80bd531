"""The assignment rule (docs/scheduling.md), and capacity under racing worker processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.conftest import WorkerStarter
from tests.factories import Factory, Team, case_body, eventually
from tumorboard import outbox
from tumorboard.db import queries
from tumorboard.meetings.assignment import assign_case, assign_waiting_cases, site_groups

BACKLOG = 20_000  # submissions no pass has looked at yet
WAITING = 5_000  # cases a pass has looked at that still wait


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


async def _noted_backlog(api: Factory, pool: asyncpg.Pool, cases: int, *, analyse: bool = False) -> Team:
    """`cases` breast cases waiting (no board covers the site), written straight into the database
    as after the workers were down, then one batch's pass over them; with `analyse`, PostgreSQL's
    statistics are taken before that pass, while no case has a note."""
    team = await api.team()
    await api.board(team.coordinator, disease_sites=["thoracic"])
    first = await api.case(team.presenter, disease_site="breast")
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO patient_case (patient_id, presenter_id, disease_site, diagnosis, summary, question)"
            " SELECT patient_id, presenter_id, disease_site, diagnosis, summary, question"
            " FROM patient_case, generate_series(2, $2) WHERE id = $1",
            first["id"],
            cases,
        )
        if analyse:
            await conn.execute("ANALYZE patient_case")
    await _assign(pool, first["id"])
    return team


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


async def test_a_backlog_of_submissions_is_assessed_in_one_pass(api: Factory, pool: asyncpg.Pool) -> None:
    """After the workers were down for a while, thousands of submissions wait that no pass has
    looked at: the next batch's pass notes every one of them within its job's time. (Each statement
    that changes cases checks their lifecycle; that check once compared the old and new rows pair by
    pair, and 20,000 cases took minutes: the pass timed out, and so did every retry.)"""
    await _noted_backlog(api, pool, BACKLOG)
    notes = await pool.fetch(
        "SELECT assignment_note, count(*) FROM patient_case WHERE status = 'submitted' GROUP BY 1"
    )
    assert [tuple(row) for row in notes] == [("No board covers this disease site yet.", BACKLOG)]


async def test_a_batch_is_locked_without_reading_the_waiting_list(api: Factory, pool: asyncpg.Pool) -> None:
    """A batch's pass reads its own cases and those no pass has looked at, not every waiting case,
    even on statistics taken before a backlog's pass noted every case (they then say that hardly any
    case has a note, and PostgreSQL read the whole table for the unassessed ones)."""
    team = await _noted_backlog(api, pool, WAITING, analyse=True)
    batch = [(await api.case(team.presenter, disease_site="breast"))["id"] for _ in range(3)]
    lock = queries.meetings.lock_cases_to_assign
    arguments = queries.driver_adapter.maybe_order_params(lock.__name__, {"ids": batch, "sites": ["breast"]})
    async with pool.acquire() as conn, conn.transaction():
        pages = await conn.fetchval("SELECT pg_relation_size('patient_case') / 8192")
        # The first look after the pass meets the index entries its notes left behind and marks
        # them dead (until VACUUM removes them); the next batch's is the one that counts.
        for _ in range(2):
            explained = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {lock.sql}", *arguments)
    plan = json.loads(explained)[0]["Plan"]
    assert plan["Actual Rows"] == len(batch)
    assert plan["Shared Hit Blocks"] + plan["Shared Read Blocks"] < min(200, pages / 4), (pages, plan)


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


# ---------------------------------------------------------------------------------------------------------
# Priority, time budget, manual moves, losing a specialty, notes


async def _assign_all(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await assign_waiting_cases(conn)


async def test_waiting_cases_take_seats_in_priority_order(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    soon = (datetime.now(UTC) + timedelta(days=8)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    # Submitted in this order while no meeting exists: they all wait.
    oldest = await api.case(team.presenter)
    late_deadline = await api.case(team.presenter, discuss_by=later)
    early_deadline = await api.case(team.presenter, discuss_by=soon)
    urgent = await api.case(team.presenter, urgency="urgent")
    newest = await api.case(team.presenter)
    assert await _assign_all(pool) == 0

    first = await api.meeting(team.coordinator, board["id"], team.participants, capacity=3)
    second = await api.meeting(
        team.coordinator, board["id"], team.participants, starts_in=timedelta(days=14), capacity=1
    )
    assert await _assign_all(pool) == 4
    placed = {
        c["id"]: (await _case(api, team, c["id"]))["meeting_id"]
        for c in (oldest, late_deadline, early_deadline, urgent, newest)
    }
    # Urgent first, then the earliest discuss-by, then the other discuss-by, then submission time.
    assert placed[urgent["id"]] == placed[early_deadline["id"]] == placed[late_deadline["id"]] == first["id"]
    assert placed[oldest["id"]] == second["id"]
    assert placed[newest["id"]] is None
    assert (await _case(api, team, newest["id"]))["assignment_note"] == "Every meeting in time is full."


async def test_meeting_time_budget_limits_cases_and_minutes_default_from_the_board(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, minutes_per_case=15)
    assert board["minutes_per_case"] == 15
    short = await api.meeting(team.coordinator, board["id"], team.participants, duration_minutes=45)
    assert (short["minutes_per_case"], short["booked_minutes"], short["capacity"]) == (15, 0, 10)
    other = await api.board(team.coordinator, disease_sites=["thoracic"])
    chosen = await api.meeting(team.coordinator, other["id"], minutes_per_case=20, duration_minutes=40)
    assert chosen["minutes_per_case"] == 20

    cases = [await api.case(team.presenter) for _ in range(4)]
    await _assign_all(pool)
    states = [await _case(api, team, c["id"]) for c in cases]
    # 45 minutes hold three cases of 15 minutes although the capacity is 10.
    assert [s["meeting_id"] for s in states[:3]] == [short["id"]] * 3
    assert states[3]["status"] == "submitted"
    assert states[3]["assignment_note"] == "Every meeting in time is full or has no discussion time left."
    seen = await api.ok(api.client.get(f"/meetings/{short['id']}", headers=team.coordinator.headers), 200)
    assert (seen["case_count"], seen["booked_minutes"]) == (3, 45)


async def test_the_database_refuses_to_book_past_the_time_budget(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, minutes_per_case=30)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants, duration_minutes=60)
    cases = [await api.case(team.presenter) for _ in range(3)]
    place = "UPDATE patient_case SET meeting_id = $1, status = 'scheduled' WHERE id = $2"
    await pool.execute(place, meeting["id"], cases[0]["id"])
    await pool.execute(place, meeting["id"], cases[1]["id"])
    with pytest.raises(asyncpg.CheckViolationError, match="meeting_within_time_budget"):
        await pool.execute(place, meeting["id"], cases[2]["id"])
    with pytest.raises(asyncpg.CheckViolationError, match="meeting_within_time_budget"):
        await pool.execute("UPDATE meeting SET duration_minutes = 45 WHERE id = $1", meeting["id"])
    # Through the API the same refusal is a 409 that says what to do.
    shrink = await api.client.patch(
        f"/meetings/{meeting['id']}", json={"duration_minutes": 45}, headers=team.coordinator.headers
    )
    assert shrink.status_code == 409 and "would not fit" in shrink.json()["detail"]


async def test_a_move_by_hand_says_every_rule_it_breaks(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, minutes_per_case=30)
    passed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    meeting = await api.meeting(
        team.coordinator,
        board["id"],
        team.participants,
        starts_in=timedelta(days=5),
        duration_minutes=30,
        submission_deadline=passed,
    )
    await api.ok(
        api.client.put(
            f"/cases/{(await api.case(team.presenter, urgency='urgent'))['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    discuss_by = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    case = await api.case(team.presenter, discuss_by=discuss_by)
    refused = await api.client.put(
        f"/cases/{case['id']}/meeting", json={"meeting_id": meeting["id"]}, headers=team.coordinator.headers
    )
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    for reason in (
        "discuss-by date",
        "no discussion time left (30 of 30 minutes booked)",
        "deadline has passed",
    ):
        assert reason in detail, detail
    assert (await _case(api, team, case["id"]))["meeting_id"] is None


async def test_a_move_by_hand_onto_a_meeting_without_quorum_is_noted(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], [(team.chair, "chair")])
    case = await api.case(team.presenter)
    moved = await api.ok(
        api.client.put(
            f"/cases/{case['id']}/meeting",
            json={"meeting_id": meeting["id"]},
            headers=team.coordinator.headers,
        ),
        200,
    )
    assert moved["meeting_id"] == meeting["id"]
    assert moved["assignment_note"] == (
        "Placed by hand on a meeting whose participants do not yet cover "
        "surgical oncology, radiation oncology."
    )


async def test_a_meeting_that_loses_a_required_specialty_gives_its_cases_back(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    first = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=3))
    later = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=10))
    case = await _submit_and_assign(api, pool, team)
    assert case["meeting_id"] == first["id"]

    # The radiation oncologist drops out: the first meeting no longer covers radiation oncology.
    response = await api.client.put(
        f"/meetings/{first['id']}/participants",
        json={
            "participants": [
                {"user_id": str(team.chair.id), "role": "chair"},
                {"user_id": str(team.surgeon.id), "role": "reviewer"},
            ]
        },
        headers=team.coordinator.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["case_count"] == 0 and response.json()["quorum"]["missing"] == [
        "radiation_oncology"
    ]
    waiting = await _case(api, team, case["id"])
    assert waiting["status"] == "submitted"
    assert waiting["assignment_note"] == (
        "Its meeting no longer has participants covering radiation oncology; waiting for another meeting."
    )
    await _assign_all(pool)
    assert (await _case(api, team, case["id"]))["meeting_id"] == later["id"]


async def test_the_quorum_note_names_what_the_earliest_meeting_lacks(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    await api.meeting(team.coordinator, board["id"], [(team.chair, "chair"), (team.radiation, "reviewer")])
    case = await _submit_and_assign(api, pool, team)
    assert case["assignment_note"] == (
        "No meeting in time has participants covering every discipline the board requires "
        "(the earliest lacks surgical oncology)."
    )


async def test_routine_cases_do_not_join_a_locked_agenda_urgent_ones_do(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=4))
    await pool.execute("UPDATE meeting SET agenda_locked_at = now() WHERE id = $1", meeting["id"])
    routine = await _submit_and_assign(api, pool, team)
    urgent = await _submit_and_assign(api, pool, team, urgency="urgent")
    assert routine["status"] == "submitted"
    assert routine["assignment_note"].startswith("The submission deadline has passed or the agenda is locked")
    assert urgent["meeting_id"] == meeting["id"]


def test_site_groups_link_sites_through_shared_boards() -> None:
    boards = [["breast", "thoracic"], ["thoracic", "head_and_neck"], ["colorectal"]]
    assert site_groups(boards, ["breast"]) == [["breast", "head_and_neck", "thoracic"]]
    assert site_groups(boards, ["colorectal", "skin"]) == [["colorectal"], ["skin"]]


@pytest.mark.slow
async def test_racing_workers_keep_priority_order(
    api: Factory, pool: asyncpg.Pool, worker: subprocess.Popen[bytes], start_worker: WorkerStarter
) -> None:
    start_worker(), start_worker()
    team = await api.team()
    board = await api.board(team.coordinator)
    # A meeting without quorum: every submission waits.
    meeting = await api.meeting(team.coordinator, board["id"], [(team.chair, "chair")], capacity=6)
    routine = [await api.case(team.presenter) for _ in range(12)]
    urgent = [await api.case(team.presenter, urgency="urgent") for _ in range(4)]

    async def all_noted() -> bool:
        notes = await pool.fetch("SELECT assignment_note FROM patient_case")
        return all(row["assignment_note"] for row in notes)

    await eventually(all_noted, within=60)
    # Quorum arrives, and one job per case races the meeting's own job across three processes.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO meeting_participant (meeting_id, user_id, role)"
            " VALUES ($1, $2, 'reviewer'), ($1, $3, 'reviewer')",
            meeting["id"],
            team.surgeon.id,
            team.radiation.id,
        )
        for case in routine + urgent:
            await outbox.add_job(conn, outbox.ASSIGN_CASE, case["id"])
        await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES, meeting["id"])

    async def settled() -> list[asyncpg.Record] | None:
        rows = await pool.fetch("SELECT count(*) FROM outbox WHERE done_at IS NULL")
        return await pool.fetch("SELECT id, meeting_id FROM patient_case") if rows[0][0] == 0 else None

    rows = await eventually(settled, within=60)
    placed = {str(row["id"]) for row in rows if row["meeting_id"] is not None}
    # The four urgent cases and the two oldest routine ones, whatever order the jobs ran in.
    assert placed == {c["id"] for c in urgent} | {c["id"] for c in routine[:2]}
    seats = await pool.fetchrow("SELECT case_count, capacity FROM meeting WHERE id = $1", meeting["id"])
    assert seats["case_count"] == seats["capacity"] == 6
