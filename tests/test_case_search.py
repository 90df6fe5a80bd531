"""Case search through the API and the /cases page: what it finds, for whom, and how it refuses."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.browser.support import page_client, text_of
from tests.factories import Actor, Factory, case_body


def _patient(mrn: str, given: str, family: str) -> dict[str, Any]:
    return {
        "mrn": mrn,
        "given_name": given,
        "family_name": family,
        "birth_date": "1958-02-03",
        "sex": "female",
    }


async def _search(api: Factory, actor: Actor, **parameters: Any) -> httpx.Response:
    return await api.client.get("/cases", params=parameters, headers=actor.headers)


async def _found(api: Factory, actor: Actor, **parameters: Any) -> list[str]:
    response = await _search(api, actor, **parameters)
    assert response.status_code == 200, response.text
    return [case["id"] for case in response.json()["items"]]


async def test_search_finds_cases_by_mrn_name_and_diagnosis_code_for_those_who_may_see_them(
    api: Factory, pool: asyncpg.Pool
) -> None:
    coordinator = await api.user("coordinator")
    presenter = await api.user("presenter", discipline="medical_oncology")
    other = await api.user("presenter", discipline="medical_oncology")
    lung = {"code": "C34.90", "system": "ICD-10-CM", "display": "Malignant neoplasm of lung"}
    zoe = await api.case(presenter, patient=_patient("SRCH-0001", "Zoë", "Ödegaard"))
    lovelace = await api.case(presenter, patient=_patient("SRCH-0002", "Ada", "Lovelace"), diagnosis=lung)
    hidden = await api.case(other, patient=_patient("SRCH-0003", "Ada", "Lovelace-Byron"))

    assert await _found(api, presenter, q="zoe odegaard") == [zoe["id"]]
    assert await _found(api, presenter, q="ÖDEGAARD, Zo") == [zoe["id"]]
    assert await _found(api, presenter, q="srch-0001") == [zoe["id"]]
    assert await _found(api, presenter, q="lovelace") == [lovelace["id"]]
    assert await _found(api, presenter, q="c34.9") == [lovelace["id"]]
    assert await _found(api, presenter, q="C50") == [zoe["id"]]
    assert await _found(api, presenter, q="lovelace ada c34") == [lovelace["id"]]
    assert await _found(api, presenter, q="ada love") == [lovelace["id"]]  # the last word as typed
    assert await _found(api, presenter, q="love ada") == []  # the words before it are whole words
    assert await _found(api, presenter, q="ada lovelace c") == [lovelace["id"]]
    assert await _found(api, presenter, q="ovelace") == []  # words match from their start
    assert await _found(api, presenter, q="lovelace", disease_site="thoracic") == []
    assert await _found(api, presenter, q="lovelace", status="submitted") == [lovelace["id"]]
    # The other presenter's patient of the same name is not the presenter's to see; coordinators see both.
    assert await _found(api, other, q="lovelace") == [hidden["id"]]
    assert await _found(api, coordinator, q="ada lovelace") == [hidden["id"], lovelace["id"]]
    # Every case returned is audited as read by the caller, and only those.
    reads = await pool.fetch(
        "SELECT subject_id FROM audit_event"
        " WHERE actor_id = $1 AND action = 'read' AND subject_type = 'case'",
        coordinator.id,
    )
    assert sorted(str(row["subject_id"]) for row in reads) == sorted([hidden["id"], lovelace["id"]])


@pytest.mark.slow
async def test_search_pages_with_a_cursor_and_filters_by_board_and_submission_day(
    api: Factory, worker: subprocess.Popen[bytes]
) -> None:
    team = await api.team()
    board = await api.board(team.coordinator, disease_sites=["breast", "thoracic"])
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    placed = await api.case_on_meeting(
        team.presenter, meeting["id"], patient=_patient("PG-1", "Mia", "Pager")
    )
    waiting = [
        await api.case(team.presenter, patient=_patient(f"PG-{n}", "Mia", "Pager"), disease_site="other")
        for n in (2, 3)
    ]
    first = await _search(api, team.coordinator, q="pager", limit=2)
    assert first.status_code == 200
    page = first.json()
    assert [case["id"] for case in page["items"]] == [waiting[1]["id"], waiting[0]["id"]]
    assert page["next_cursor"]
    rest = await _found(api, team.coordinator, q="pager", limit=2, cursor=page["next_cursor"])
    assert rest == [placed["id"]]
    assert await _found(api, team.coordinator, board_id=board["id"]) == [placed["id"]]
    assert await _found(api, team.chair, q="pager") == [
        placed["id"]
    ]  # a participant sees the case on their meeting
    today = datetime.now(UTC).date()
    day = {"from": str(today), "to": str(today)}
    assert len(await _found(api, team.coordinator, q="pager", **day)) == 3
    tomorrow = str(today + timedelta(days=1))
    assert await _found(api, team.coordinator, q="pager", **{"from": tomorrow}) == []
    assert await _found(api, team.coordinator, q="pager", to=str(today - timedelta(days=1))) == []


async def test_bad_search_input_gets_a_clear_400_and_literal_text_stays_literal(api: Factory) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    await api.case(presenter, patient=_patient("LIT-1", "Ann", "O'Hara"))
    for parameters, field in (
        ({"q": "x" * 10_000}, "q"),
        ({"q": "ab\x00cd"}, "q"),
        ({"q": "%%% ___ ***"}, "q"),
        ({"q": "one two three four five six"}, "q"),
        ({"from": "2026-02-10", "to": "2026-02-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"disease_site": "elbow"}, "disease_site"),
        ({"board_id": "not-a-uuid"}, "board_id"),
    ):
        response = await _search(api, presenter, **parameters)
        assert response.status_code == 400, (parameters, response.text)
        body = response.json()
        assert [item["key"] for item in body["extra"]] == [field], body
        assert "x" * 50 not in response.text and "\x00" not in response.text
    # Quotes, wildcards and SQL are searched as the words they contain.
    assert len(await _found(api, presenter, q="o'hara")) == 1
    assert len(await _found(api, presenter, q='"O%Hara"')) == 1
    assert len(await _found(api, presenter, q="o_hara%")) == 1  # "o hara"
    assert await _found(api, presenter, q="o%ara") == []  # not "o" then anything then "ara"
    assert await _found(api, presenter, q="h_ra") == []  # not "h", any one character, "ra"
    assert await _found(api, presenter, q="'; DROP TABLE patient_case; --") == []
    assert len(await _found(api, presenter)) == 1
    assert len(await _found(api, presenter, q="   ")) == 1  # a blank search is no search


async def test_a_search_that_cannot_finish_in_time_is_refused_not_left_running(
    api: Factory, pool: asyncpg.Pool, service_urls: tuple[str, str]
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    await api.case(presenter, patient=_patient("SLOW-1", "Ida", "Waits"))
    blocker = await asyncpg.connect(service_urls[0])
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE patient_case IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            search = asyncio.create_task(_search(api, presenter, q="waits"))
            listing = asyncio.create_task(_search(api, presenter))
            refused, busy = await search, await listing
            elapsed = time.monotonic() - started
    finally:
        await blocker.close()
    assert refused.status_code == 400
    assert refused.json()["extra"][0]["key"] == "q"
    assert busy.status_code == 503 and busy.headers["retry-after"]
    assert elapsed < 10
    assert len(await _found(api, presenter, q="waits")) == 1


async def test_the_cases_page_searches_and_says_what_is_wrong(server: str, api: Factory) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    await api.case(presenter, patient=_patient("PAGE-S1", "Greta", "Searchable"))
    await api.case(presenter, patient=_patient("PAGE-S2", "Hans", "Quimby"), disease_site="skin")
    async with page_client(server, presenter) as browser:
        found = await browser.get("/cases", params={"q": "greta search"})
        assert found.status_code == 200
        text = text_of(found)
        assert "Searchable" in text and "Quimby" not in text
        assert 'role="search"' in found.text and '<label for="q">' in found.text
        by_site = text_of(await browser.get("/cases", params={"disease_site": "skin"}))
        assert "Quimby" in by_site and "Searchable" not in by_site
        refused = await browser.get("/cases", params={"q": "%%%"})
        assert refused.status_code == 400
        assert "needs at least one letter or digit" in text_of(refused)
        assert 'aria-invalid="true"' in refused.text
        nothing = text_of(await browser.get("/cases", params={"q": "nobody-by-this-name"}))
        assert "No case matches." in nothing


async def test_submitting_a_case_makes_it_findable_at_once(api: Factory) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    created = await api.ok(
        api.client.post(
            "/cases", json=case_body(patient=_patient("NOW-1", "Fresh", "Entry")), headers=presenter.headers
        ),
        201,
    )
    assert await _found(api, presenter, q="fresh entry") == [created["id"]]
