"""Pages that behave: only eligible people offered as chair and reviewers, a passed deadline said when a
meeting is scheduled, the age beside the date of birth, no attendance form once a meeting is closed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import asyncpg

from tests.browser.scenarios import case_at_a_meeting_soon, meeting_of
from tests.browser.support import flash_of, page_client, text_of
from tests.factories import Factory
from tumorboard.cases.schemas import age_on


async def test_only_eligible_people_are_offered_and_accepted_as_chair_and_reviewers(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    admin = await api.user("admin", name="Dr. Ada Admin")
    await api.user("coordinator", discipline="pathology", name="Dr. Path Coordinator")
    gone = await api.user("reviewer", discipline="pathology", name="Dr. Gone Away")
    await pool.execute("UPDATE app_user SET is_active = false WHERE id = $1", gone.id)
    meeting = await meeting_of(api, team)
    series = await api.series(
        team.coordinator,
        meeting["board_id"],
        starts_on=str(date.today() + timedelta(days=30)),
        start_time="08:00",
    )
    async with page_client(server, team.coordinator) as browser:
        forms = [
            await browser.get(f"/meetings/{meeting['id']}/participants"),
            await browser.get(f"/series/{series['id']}/participants"),
        ]
    for form in forms:
        choices = re.search(r'<form method="post" action="/[^"]+/participants".*?</form>', form.text, re.S)
        assert choices is not None, form.text
        chair_select = re.search(r'<select id="chair".*?</select>', choices[0], re.S)
        assert chair_select is not None
        chairs = set(re.findall(r'<option value="[^"]+"[^>]*>([^<—]+?)(?: —|</option>)', chair_select[0]))
        assert chairs == {"Dr. Chair", "Dr. Surgeon", "Dr. Radiation", "Dr. Path Coordinator"}
        reviewer_names = set(re.findall(r'name="reviewers"[^>]*>\s*<span>([^<]+)<br>', choices[0]))
        assert reviewer_names == {"Dr. Chair", "Dr. Surgeon", "Dr. Radiation"}
        for nobody in (admin, gone, team.presenter, team.coordinator):
            assert f"{nobody.full_name} " not in choices[0] and f"{nobody.full_name}<" not in choices[0]

    # The API holds the same rules: a presenter (with a discipline) may not chair, nor an admin review.
    for person, role in ((team.presenter, "chair"), (admin, "reviewer")):
        refused = await api.client.put(
            f"/meetings/{meeting['id']}/participants",
            json={"participants": [{"user_id": str(person.id), "role": role}]},
            headers=team.coordinator.headers,
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["extra"][0]["key"] == "participants.0.role"


async def test_a_meeting_scheduled_after_its_deadline_says_only_urgent_cases_can_join(
    server: str, api: Factory
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    starts = (datetime.now(UTC) + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M")  # default: 48 h before
    later = (datetime.now(UTC) + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    form = {"board_id": board["id"], "duration_minutes": "60", "capacity": "10"}
    async with page_client(server, team.coordinator) as browser:
        soon = await browser.post("/meetings", {**form, "starts_at": starts})
        assert soon.status_code == 303
        message = flash_of(await browser.get(soon.headers["location"])) or ""
        meeting_page = await browser.get(soon.headers["location"].removesuffix("/participants"))
        in_time = await browser.post("/meetings", {**form, "starts_at": later})
        in_time_message = flash_of(await browser.get(in_time.headers["location"]))
    assert message.startswith("Meeting scheduled. Its submission deadline (")
    assert message.endswith("has already passed: only urgent cases can join it. Now choose who takes part.")
    assert "passed: only urgent cases can still join" in text_of(meeting_page)
    assert in_time_message == "Meeting scheduled. Now choose who takes part."


async def test_the_case_page_shows_the_age_beside_the_date_of_birth(server: str, api: Factory) -> None:
    team = await api.team()
    case = await api.case(team.presenter)
    async with page_client(server, team.presenter) as browser:
        shown = text_of(await browser.get(f"/cases/{case['id']}"))
    age = age_on(date(1961, 5, 17), datetime.now(UTC).date())
    assert f"born 17 May 1961 (age {age})" in shown


async def test_a_closed_meeting_shows_its_attendance_without_a_form(server: str, api: Factory) -> None:
    team, meeting, _case = await case_at_a_meeting_soon(api)
    await api.start(team.chair, meeting["id"])
    await api.attendance(
        team.chair, meeting["id"], present=[team.chair, team.surgeon], excused=[team.radiation]
    )
    attendance_form = f'action="/meetings/{meeting["id"]}/attendance"'
    async with page_client(server, team.chair) as browser:
        running = await browser.get(f"/meetings/{meeting['id']}")
        assert attendance_form in running.text
        await api.ok(api.client.post(f"/meetings/{meeting['id']}/close", headers=team.chair.headers), 200)
        closed = await browser.get(f"/meetings/{meeting['id']}")
        presentation = await browser.get(f"/meetings/{meeting['id']}/present")
    assert closed.status_code == 200 and presentation.status_code == 200
    assert attendance_form not in closed.text and attendance_form not in presentation.text
    assert "Dr. Surgeon — Surgical oncology · present" in text_of(closed)
    assert "Dr. Radiation — Radiation oncology · excused" in text_of(closed)
