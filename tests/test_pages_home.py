"""The home page: each role finds its own work first."""

from __future__ import annotations

import asyncpg

from tests.browser.scenarios import case_placed_on, meeting_of
from tests.browser.support import page_client, text_of
from tests.factories import Factory, recommendation_body


async def test_a_reviewer_sees_the_cases_waiting_for_their_recommendation_first(
    server: str, api: Factory
) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    done = await case_placed_on(api, team, meeting)
    waiting = await case_placed_on(api, team, meeting)
    await api.ok(
        api.client.post(
            f"/cases/{done['id']}/recommendations", json=recommendation_body(), headers=team.surgeon.headers
        ),
        201,
    )
    elsewhere = await api.case(team.presenter)  # not on any of the surgeon's meetings
    async with page_client(server, team.surgeon) as browser:
        home = await browser.get("/")
    text = text_of(home)
    assert "Cases for your coming meetings" in text
    assert "1 waiting for your recommendation" in text
    first, second = waiting["patient"]["family_name"], done["patient"]["family_name"]
    assert text.index(first) < text.index(second)
    assert f"/cases/{waiting['id']}/recommendation" in home.text
    assert "Given (version 1)" in text
    assert elsewhere["patient"]["family_name"] not in text
    assert "Meetings you chair" not in text and "Your cases" not in text


async def test_a_coordinator_sees_agenda_fill_quorum_and_why_cases_wait(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, name="Thoracic Board", disease_sites=["thoracic"])
    meeting = await api.meeting(team.coordinator, board["id"], [(team.chair, "chair")], capacity=4)
    waiting = await api.case(team.presenter, disease_site="thoracic")
    await pool.execute(
        "UPDATE patient_case SET assignment_note = 'Every meeting in time is full.' WHERE id = $1",
        waiting["id"],
    )
    async with page_client(server, team.coordinator) as browser:
        home = await browser.get("/")
    text = text_of(home)
    assert "Coming meetings" in text and "Thoracic Board" in text
    assert "0 / 4" in text
    assert "Missing Surgical oncology, Radiation oncology" in text
    assert f"/meetings/{meeting['id']}/participants" in home.text
    assert "Cases waiting for a meeting" in text
    assert waiting["patient"]["family_name"] in text and "Every meeting in time is full." in text


async def test_a_chair_sees_the_meetings_they_chair(server: str, api: Factory) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    await case_placed_on(api, team, meeting)
    async with page_client(server, team.chair) as browser:
        home = await browser.get("/")
    text = text_of(home)
    assert "Meetings you chair" in text
    assert f"/meetings/{meeting['id']}" in home.text
    assert "1 / 10" in text
    assert "No care plan is waiting for your signature." in text


async def test_a_user_with_several_roles_sees_each_section(server: str, api: Factory) -> None:
    everyone = await api.user("presenter", "coordinator", "reviewer", "admin", discipline="medical_oncology")
    async with page_client(server, everyone) as browser:
        home = await browser.get("/")
    text = text_of(home)
    for section in ("Cases for your coming meetings", "Coming meetings", "Cases waiting for a meeting"):
        assert section in text
    for section in ("Your cases", "Administration"):
        assert section in text
    assert "You have not submitted a case yet." in text
    assert "No meetings are scheduled." in text


async def test_a_presenter_sees_where_each_case_stands(server: str, api: Factory) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    placed = await case_placed_on(api, team, meeting)
    waiting = await api.case(team.presenter, disease_site="sarcoma")
    async with page_client(server, team.presenter) as browser:
        home = await browser.get("/")
    text = text_of(home)
    assert "Your cases" in text
    assert placed["patient"]["mrn"] in text and waiting["patient"]["mrn"] in text
    assert "On the agenda of" in text and "Waiting for a meeting." in text
    assert "Cases for your coming meetings" not in text
