"""Agendas: order and time slots, the HTML and PDF document, the lock that freezes and sends it."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from pypdf import PdfReader

from tests.factories import Actor, Factory, Team, eventually
from tumorboard.meetings.agenda import lock_due_agendas, remind_presenters
from tumorboard.meetings.assignment import assign_waiting_cases

BERLIN = ZoneInfo("Europe/Berlin")


async def move(api: Factory, coordinator: Actor, case_id: str, meeting_id: str) -> Any:
    return await api.client.put(
        f"/cases/{case_id}/meeting", json={"meeting_id": meeting_id}, headers=coordinator.headers
    )


async def ready_case(api: Factory, team: Team, **overrides: Any) -> dict[str, Any]:
    """A case that meets the default checklist."""
    case = await api.case(team.presenter, **overrides)
    today = datetime.now(UTC).date().isoformat()
    await api.ok(
        api.client.patch(
            f"/cases/{case['id']}/readiness",
            json={"pathology_report_on": today, "imaging_on": today},
            headers=team.presenter.headers,
        ),
        200,
    )
    return case


async def soon_meeting(api: Factory, team: Team, board_id: str) -> dict[str, Any]:
    """A meeting in three hours whose agenda lock (24 h before) is due; routine cases may still join."""
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return await api.meeting(
        team.coordinator,
        board_id,
        team.participants,
        starts_in=timedelta(hours=3),
        submission_deadline=deadline,
    )


async def test_agenda_is_ordered_with_a_time_slot_per_case(api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, time_zone="Europe/Berlin", minutes_per_case=10)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants, location="Room 4B")
    routine = await ready_case(api, team)
    pressing = await api.case(
        team.presenter, discuss_by=(datetime.now(UTC) + timedelta(days=9)).date().isoformat()
    )
    urgent = await ready_case(api, team, urgency="urgent")
    for case in (routine, pressing, urgent):
        assert (await move(api, team.coordinator, case["id"], meeting["id"])).status_code == 200

    agenda = await api.ok(
        api.client.get(f"/meetings/{meeting['id']}/agenda", headers=team.surgeon.headers), 200
    )
    starts = datetime.fromisoformat(meeting["starts_at"])
    assert [item["id"] for item in agenda["items"]] == [urgent["id"], pressing["id"], routine["id"]]
    assert [item["position"] for item in agenda["items"]] == [1, 2, 3]
    assert [datetime.fromisoformat(item["slot_starts_at"]) for item in agenda["items"]] == [
        starts,
        starts + timedelta(minutes=10),
        starts + timedelta(minutes=20),
    ]
    assert datetime.fromisoformat(agenda["items"][2]["slot_ends_at"]) == starts + timedelta(minutes=30)
    assert [item["ready"] for item in agenda["items"]] == [True, False, True]
    assert agenda["items"][1]["missing_items"] == ["pathology_report", "imaging"]
    assert (agenda["ready_count"], agenda["unready_count"]) == (2, 1)
    assert agenda["items"][0]["presenter_name"] == team.presenter.full_name

    page = await api.client.get(f"/meetings/{meeting['id']}/agenda.html", headers=team.coordinator.headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    local = starts.astimezone(BERLIN)
    second_slot = (starts + timedelta(minutes=10)).astimezone(BERLIN)
    assert f"{local:%H:%M}\u2013{local + timedelta(minutes=10):%H:%M}" in html
    assert f"{second_slot:%H:%M}" in html and "Room 4B" in html
    assert urgent["patient"]["family_name"] in html and "Missing: pathology report, imaging" in html
    assert html.index(urgent["patient"]["family_name"]) < html.index(routine["patient"]["family_name"])

    # The case's presenter takes no part in the meeting: no agenda for them.
    for path in ("agenda", "agenda.html", "agenda.pdf"):
        denied = await api.client.get(f"/meetings/{meeting['id']}/{path}", headers=team.presenter.headers)
        assert denied.status_code == 403, path


async def test_the_lock_freezes_the_agenda_and_moves_unready_routine_cases_on(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await soon_meeting(api, team, board["id"])
    later = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=5))
    ready = await ready_case(api, team)
    unready = await api.case(team.presenter)
    unready_urgent = await api.case(team.presenter, urgency="urgent")
    for case in (ready, unready, unready_urgent):
        assert (await move(api, team.coordinator, case["id"], meeting["id"])).status_code == 200

    async with pool.acquire() as conn:
        assert await lock_due_agendas(conn) == 1
        assert await lock_due_agendas(conn) == 0  # once only
    day = datetime.fromisoformat(meeting["starts_at"]).strftime("%d %b %Y")
    seen = await api.ok(api.client.get(f"/meetings/{meeting['id']}", headers=team.coordinator.headers), 200)
    assert seen["agenda_locked_at"] is not None
    assert [c["id"] for c in seen["cases"]] == [unready_urgent["id"], ready["id"]]
    waiting = await api.ok(api.client.get(f"/cases/{unready['id']}", headers=team.presenter.headers), 200)
    assert waiting["status"] == "submitted"
    assert waiting["assignment_note"] == (
        f"Not ready at the agenda lock of the meeting on {day} (missing: pathology report, imaging). "
        "Waiting for the next meeting that fits."
    )
    frozen = await pool.fetch(
        "SELECT case_id::text, position FROM agenda_item WHERE meeting_id = $1 ORDER BY position",
        meeting["id"],
    )
    assert [(row["case_id"], row["position"]) for row in frozen] == [
        (unready_urgent["id"], 1),
        (ready["id"], 2),
    ]
    notices = await pool.fetch("SELECT user_id, kind, case_id FROM notification")
    assert [(r["user_id"], r["kind"], str(r["case_id"])) for r in notices] == [
        (team.presenter.id, "case_deferred", unready["id"])
    ]
    jobs = await pool.fetch(
        "SELECT job, subject_id::text FROM outbox WHERE done_at IS NULL AND job <> 'assign_waiting_cases'"
    )
    assert {(r["job"], r["subject_id"]) for r in jobs} >= {
        ("send_agenda", meeting["id"]),
        ("assign_case", unready["id"]),
    }

    # The deferred case lands on the next meeting and its note says where it came from.
    async with pool.acquire() as conn:
        await assign_waiting_cases(conn)
    moved = await api.ok(api.client.get(f"/cases/{unready['id']}", headers=team.presenter.headers), 200)
    assert moved["meeting_id"] == later["id"]
    assert moved["assignment_note"] == (
        f"Moved from the meeting on {day}: not ready at its agenda lock (missing: pathology report, imaging)."
    )

    # Only urgent cases join a locked agenda, and they come after the frozen order.
    routine = await ready_case(api, team)
    refused = await move(api, team.coordinator, routine["id"], meeting["id"])
    assert refused.status_code == 409 and "agenda is locked" in refused.json()["detail"]
    late = await ready_case(api, team, urgency="urgent")
    assert (await move(api, team.coordinator, late["id"], meeting["id"])).status_code == 200
    agenda = await api.ok(
        api.client.get(f"/meetings/{meeting['id']}/agenda", headers=team.chair.headers), 200
    )
    assert [(i["id"], i["late_addition"]) for i in agenda["items"]] == [
        (unready_urgent["id"], False),
        (ready["id"], False),
        (late["id"], True),
    ]


async def test_moving_a_locked_meeting_later_reopens_its_agenda(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await soon_meeting(api, team, board["id"])
    async with pool.acquire() as conn:
        assert await lock_due_agendas(conn) == 1
    later = datetime.fromisoformat(meeting["starts_at"]) + timedelta(days=3)
    moved = await api.ok(
        api.client.patch(
            f"/meetings/{meeting['id']}",
            json={"starts_at": later.isoformat()},
            headers=team.coordinator.headers,
        ),
        200,
    )
    assert moved["agenda_locked_at"] is None
    assert datetime.fromisoformat(moved["agenda_locks_at"]) == later - timedelta(hours=24)


@pytest.mark.slow
async def test_the_worker_locks_sends_and_renders_the_agenda(
    api: Factory, pool: asyncpg.Pool, worker: subprocess.Popen[bytes]
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await soon_meeting(api, team, board["id"])
    case = await ready_case(api, team)
    assert (await move(api, team.coordinator, case["id"], meeting["id"])).status_code == 200

    async def sent() -> asyncpg.Record | None:
        return await pool.fetchrow(
            "SELECT agenda_locked_at, agenda_sent_at, agenda_sent_fingerprint FROM meeting"
            " WHERE id = $1 AND agenda_sent_at IS NOT NULL",
            meeting["id"],
        )

    row = await eventually(sent, within=60)  # the lock cron runs every 15 s
    assert row["agenda_locked_at"] <= row["agenda_sent_at"]
    stored = await pool.fetchval(
        "SELECT pdf FROM agenda_pdf WHERE meeting_id = $1 AND fingerprint = $2",
        meeting["id"],
        row["agenda_sent_fingerprint"],
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(stored)).pages)
    assert board["name"] in text and case["patient"]["family_name"] in text
    notices = await pool.fetch(
        "SELECT user_id, kind, case_id FROM notification WHERE meeting_id = $1", meeting["id"]
    )
    assert {(r["user_id"], r["kind"]) for r in notices} == {
        *((actor.id, "agenda") for actor, _ in team.participants),
        (team.presenter.id, "case_on_agenda"),
    }

    # The current agenda (now marked as sent) is rendered on demand.
    path = f"/meetings/{meeting['id']}/agenda.pdf"
    first = await api.client.get(path, headers=team.chair.headers)
    assert first.status_code in (200, 503)

    async def rendered() -> bytes | None:
        response = await api.client.get(path, headers=team.chair.headers)
        return response.content if response.status_code == 200 else None

    pdf = await eventually(rendered, within=30)
    current = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Sent" in current and case["patient"]["family_name"] in current


async def test_presenters_of_unready_cases_are_reminded_a_day_before_the_lock(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    # Starts in 40 hours: the agenda locks in 16 hours, so the reminder is due now.
    meeting = await api.meeting(
        team.coordinator,
        board["id"],
        team.participants,
        starts_in=timedelta(hours=40),
        submission_deadline=(datetime.now(UTC) + timedelta(hours=10)).isoformat(),
    )
    far = await api.meeting(team.coordinator, board["id"], team.participants, starts_in=timedelta(days=6))
    ready = await ready_case(api, team)
    unready = await api.case(team.presenter)
    unready_later = await api.case(team.presenter)
    for case, target in ((ready, meeting), (unready, meeting), (unready_later, far)):
        assert (await move(api, team.coordinator, case["id"], target["id"])).status_code == 200

    async with pool.acquire() as conn:
        assert await remind_presenters(conn) == 1
        assert await remind_presenters(conn) == 0
        assert await lock_due_agendas(conn) == 0  # the lock itself is still 16 hours away
    notices = await pool.fetch("SELECT meeting_id::text, user_id, kind, case_id::text FROM notification")
    assert [tuple(row) for row in notices] == [
        (meeting["id"], team.presenter.id, "missing_items", unready["id"])
    ]
