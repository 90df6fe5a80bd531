"""Coordinator pages (boards, meetings, participants) and the meeting page with its live agenda."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.browser.scenarios import case_on_a_meeting, meeting_of
from tests.browser.support import field_error, flash_of, input_value, page_client, text_of
from tests.factories import Factory, recommendation_body
from tumorboard.web import SESSION_COOKIE


async def test_the_coordinator_creates_a_board_then_schedules_a_meeting(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    coordinator = await api.user("coordinator")
    async with page_client(server, coordinator) as browser:
        empty = await browser.get("/meetings/new")
        assert "Create a board" in text_of(empty)

        unnamed = await browser.post("/boards", [("name", ""), ("disease_sites", "breast")])
        assert unnamed.status_code == 400
        assert field_error(unnamed, "name") == "Must not be empty"
        created = await browser.post(
            "/boards",
            [
                ("name", "Breast Board"),
                ("disease_sites", "breast"),
                ("required_disciplines", "medical_oncology"),
                ("required_disciplines", "surgical_oncology"),
            ],
        )
        assert created.status_code == 303
        boards = await browser.get("/boards")
        assert flash_of(boards) == "Board “Breast Board” created. Schedule its first meeting next."
        board_id = await pool.fetchval("SELECT id FROM board WHERE name = 'Breast Board'")

        start = (datetime.now(UTC) + timedelta(days=9)).replace(hour=14, minute=0, second=0, microsecond=0)
        form = {
            "board_id": str(board_id),
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "90",
            "capacity": "6",
            "submission_deadline": "",
            "location": "Room 4B",
            "video_url": "",
        }
        past = await browser.post("/meetings", {**form, "starts_at": "2020-01-01T09:00"})
        assert past.status_code == 400
        assert field_error(past, "starts_at") == "Must be in the future"
        assert input_value(past, "starts_at") == "2020-01-01T09:00"
        assert input_value(past, "location") == "Room 4B"

        scheduled = await browser.post("/meetings", form)
        assert scheduled.status_code == 303
        assert scheduled.headers["location"].endswith("/participants")
        participants = await browser.get(scheduled.headers["location"])
        assert flash_of(participants) == "Meeting scheduled. Now choose who takes part."
    row = await pool.fetchrow("SELECT starts_at, duration_minutes, capacity, location FROM meeting")
    assert row["starts_at"] == start  # the tests run the service in UTC
    assert (row["duration_minutes"], row["capacity"], row["location"]) == (90, 6, "Room 4B")


async def test_the_coordinator_chooses_the_chair_and_reviewers(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"])
    path = f"/meetings/{meeting['id']}/participants"
    async with page_client(server, team.coordinator) as browser:
        form = await browser.get(path)
        assert form.status_code == 200
        assert team.surgeon.full_name in form.text and team.chair.full_name in form.text

        not_a_reviewer = await browser.post(
            path, [("chair", str(team.chair.id)), ("reviewers", str(team.presenter.id))]
        )
        assert not_a_reviewer.status_code == 400
        assert "does not hold the reviewer role" in text_of(not_a_reviewer)

        saved = await browser.post(
            path,
            [
                ("chair", str(team.chair.id)),
                ("reviewers", str(team.chair.id)),  # the chair ticked as reviewer too counts once
                ("reviewers", str(team.surgeon.id)),
            ],
        )
        assert saved.status_code == 303
        shown = await browser.get(saved.headers["location"])
        assert flash_of(shown) == "Participants saved. Quorum is missing radiation oncology."
        assert "Missing Radiation oncology" in text_of(shown)
    rows = await pool.fetch("SELECT user_id, role FROM meeting_participant ORDER BY role")
    assert [(r["user_id"], r["role"]) for r in rows] == [
        (team.chair.id, "chair"),
        (team.surgeon.id, "reviewer"),
    ]


async def test_the_meeting_page_shows_the_agenda_with_each_disciplines_progress(
    server: str, api: Factory
) -> None:
    team, meeting, case = await case_on_a_meeting(api)
    await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    async with page_client(server, team.radiation) as browser:
        page = await browser.get(f"/meetings/{meeting['id']}")
        assert page.status_code == 200
        text = text_of(page)
        assert f"{case['patient']['given_name']} {case['patient']['family_name']}" in text
        assert "✓ Surgical oncology" in text and "○ Radiation oncology" in text
        assert "0 of 1 discussed" in text
        assert f'hx-sse:connect="/meetings/{meeting["id"]}/live?since=' in page.text
        assert f"/cases/{case['id']}/recommendation?back=/meetings/{meeting['id']}" in page.text
    async with page_client(server, team.presenter) as presenter:  # the running order only
        page = await presenter.get(f"/meetings/{meeting['id']}")
        assert page.status_code == 200 and "Running order" in text_of(page)
        assert "✓ Surgical oncology" not in text_of(page) and "hx-sse:connect" in page.text
    outsider = await api.user("presenter")
    async with page_client(server, outsider) as browser:
        assert (await browser.get(f"/meetings/{meeting['id']}")).status_code == 403


async def _next_event(lines: object, within: float) -> str:
    """The data of the next server-sent event on a stream, joined across its data lines."""
    data: list[str] = []

    async def read() -> str:
        async for line in lines:  # type: ignore[attr-defined]
            if line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                return "\n".join(data)
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), within)


async def test_the_live_agenda_sends_a_new_recommendation_as_it_arrives(server: str, api: Factory) -> None:
    team, meeting, case = await case_on_a_meeting(api)
    async with page_client(server, team.chair) as browser:
        page = await browser.get(f"/meetings/{meeting['id']}")
        since = page.text.split("/live?since=", 1)[1].split('"', 1)[0]
        url = f"/meetings/{meeting['id']}/live"
        async with browser.client.stream("GET", url, params={"since": since}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["x-content-type-options"] == "nosniff"
            lines = stream.aiter_lines()
            started = time.monotonic()
            await api.ok(
                api.client.post(
                    f"/cases/{case['id']}/recommendations",
                    json=recommendation_body(),
                    headers=team.surgeon.headers,
                ),
                201,
            )
            agenda = await _next_event(lines, within=10)
            assert time.monotonic() - started < 6
            assert "✓ Surgical oncology" in agenda and "○ Radiation oncology" in agenda
            assert case["patient"]["family_name"] in agenda


async def test_the_live_agenda_needs_a_session_and_does_not_keep_it_alive(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    url = f"/meetings/{meeting['id']}/live"
    async with httpx.AsyncClient(base_url=server, timeout=10) as anonymous:
        refused = await anonymous.get(url)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("text/plain")

    async with page_client(server, team.chair) as browser:
        token_hash = await pool.fetchval("SELECT token_hash FROM access_token WHERE kind = 'session'")
        await pool.execute("UPDATE access_token SET expires_at = now() + interval '5 minutes'")
        before = await pool.fetchval("SELECT expires_at FROM access_token WHERE token_hash = $1", token_hash)
        async with browser.client.stream("GET", url) as stream:
            assert stream.status_code == 200
        after = await pool.fetchval("SELECT expires_at FROM access_token WHERE token_hash = $1", token_hash)
        assert after == before
        assert browser.client.cookies[SESSION_COOKIE]
    async with page_client(server, team.presenter) as outsider:
        assert (await outsider.client.get(url)).status_code == 403


async def test_the_coordinator_cancels_a_meeting_from_its_page(server: str, api: Factory) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    async with page_client(server, team.coordinator) as browser:
        assert "Cancel the meeting" in (await browser.get(f"/meetings/{meeting['id']}")).text
        cancelled = await browser.post(f"/meetings/{meeting['id']}/cancel")
        shown = await browser.get(cancelled.headers["location"])
        assert flash_of(shown) == "Meeting cancelled. Its cases are being placed again."
        assert "Cancelled" in text_of(shown)
        again = await browser.post(f"/meetings/{meeting['id']}/cancel")
        assert flash_of(await browser.get(again.headers["location"])) == ("The meeting is already cancelled")


async def test_the_chair_runs_the_meeting_from_its_page(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team, starts_in=timedelta(minutes=30))
    path = f"/meetings/{meeting['id']}"
    async with page_client(server, team.surgeon) as reviewer:
        assert "Start the meeting" not in (await reviewer.get(path)).text
    async with page_client(server, team.chair) as chair:
        assert "Start the meeting" in (await chair.get(path)).text
        started = await chair.post(f"{path}/start")
        assert flash_of(await chair.get(started.headers["location"])) == (
            "Meeting started. Record who is present below."
        )
        recorded = await chair.post(
            f"{path}/attendance",
            {
                f"attendance.{team.chair.id}": "present",
                f"attendance.{team.surgeon.id}": "present",
                f"attendance.{team.radiation.id}": "absent",
            },
        )
        shown = await chair.get(recorded.headers["location"])
        assert flash_of(shown) == "Attendance saved."
        text = text_of(shown)
        assert "Quorum (of those present): Missing Radiation oncology" in text
        assert "flagged" in text
        closed = await chair.post(f"{path}/close")
        final = await chair.get(closed.headers["location"])
        assert flash_of(final) == "Meeting closed."
        assert "hx-sse:connect" not in final.text
        again = await chair.post(f"{path}/close")
        assert "only a meeting in progress can close" in (
            flash_of(await chair.get(again.headers["location"])) or ""
        )
    statuses = await pool.fetch("SELECT user_id, status FROM meeting_attendance ORDER BY status")
    assert {(r["user_id"], r["status"]) for r in statuses} == {
        (team.chair.id, "present"),
        (team.surgeon.id, "present"),
        (team.radiation.id, "absent"),
    }
