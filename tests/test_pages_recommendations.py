"""The recommendation form (create, revise, stale version) and the care plan page with its signature."""

from __future__ import annotations

import asyncpg

from tests.browser.scenarios import (
    case_at_a_meeting_soon,
    case_on_a_meeting,
    decide,
    draft_care_plan,
    recommend_all,
)
from tests.browser.support import field_error, flash_of, input_value, page_client, text_of
from tests.factories import PASSWORD, Factory


def recommendation_form(**overrides: str) -> list[tuple[str, str]]:
    """A recommendation form as a browser posts it: plan steps in order, empty later steps."""
    fields = {
        "intent": "curative",
        "summary": "Neoadjuvant chemotherapy, then surgery.",
        "rationale": "",
        "guideline.name": "NCCN Breast",
        "guideline.version": "2026.1",
        "guideline.concordant": "true",
        "trial.id": "",
        **overrides,
    }
    steps = [("modalities", "systemic_therapy"), ("modalities", "surgery"), ("modalities", "")]
    return [*fields.items(), *steps]


async def test_a_reviewer_recommends_then_revises_and_a_stale_form_is_refused(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team, meeting, case = await case_on_a_meeting(api)
    path = f"/cases/{case['id']}/recommendation"
    async with page_client(server, team.surgeon) as browser:
        blank = await browser.get(path)
        assert blank.status_code == 200
        assert "Your recommendation" in text_of(blank) and case["question"] in text_of(blank)

        created = await browser.post(path, recommendation_form())
        assert created.status_code == 303 and created.headers["location"] == f"/cases/{case['id']}"
        shown = await browser.get(created.headers["location"])
        assert flash_of(shown) == "Recommendation saved (version 1)."
        assert "Curative: Systemic therapy → Surgery" in text_of(shown)

        editing = await browser.get(f"{path}?back=/meetings/{meeting['id']}")
        assert "Revise your recommendation" in text_of(editing)
        assert input_value(editing, "version") == "1"
        assert input_value(editing, "guideline.name") == "NCCN Breast"
        recommendation_id = input_value(editing, "recommendation_id")
        assert recommendation_id
        edit = [*recommendation_form(summary="Upfront surgery."), ("version", "1")]
        edit += [("recommendation_id", recommendation_id), ("back", f"/meetings/{meeting['id']}")]
        revised = await browser.post(path, edit)
        assert revised.status_code == 303 and revised.headers["location"] == f"/meetings/{meeting['id']}"
        assert flash_of(await browser.get(revised.headers["location"])) == "Recommendation saved (version 2)."

        stale_form = [*recommendation_form(summary="Typed on an old page"), *edit[-3:]]
        stale = await browser.post(path, stale_form)
        assert stale.status_code == 409
        assert "changed since you read it" in text_of(stale)
        assert "Typed on an old page" in stale.text
        assert "Load the current version (2)" in text_of(stale)
    row = await pool.fetchrow("SELECT version, summary FROM recommendation WHERE case_id = $1", case["id"])
    assert (row["version"], row["summary"]) == (2, "Upfront surgery.")


async def test_the_recommendation_form_marks_each_bad_field(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team, _, case = await case_on_a_meeting(api)
    path = f"/cases/{case['id']}/recommendation"
    async with page_client(server, team.surgeon) as browser:
        bad = [
            (n, v)
            for n, v in recommendation_form(**{"trial.id": "nct123"})
            if n not in ("modalities", "intent")
        ]
        refused = await browser.post(path, [*bad, ("guideline.name", "")])
        assert refused.status_code == 400
        assert field_error(refused, "intent") == "Is required"
        assert field_error(refused, "modalities") == "Is required"
        assert field_error(refused, "trial.id") == "Is not in the expected format"
        assert input_value(refused, "trial.id") == "NCT123"
    async with page_client(server, team.presenter) as presenter:
        denied = await presenter.post(path, recommendation_form())
        assert denied.status_code == 403
    assert await pool.fetchval("SELECT count(*) FROM recommendation") == 0


async def test_the_chair_signs_the_care_plan_version_they_were_shown(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team, meeting, case = await case_at_a_meeting_soon(api)
    path = f"/cases/{case['id']}/care-plan"
    async with page_client(server, team.presenter) as presenter:
        assert "no care plan yet" in text_of(await presenter.get(path))
    await recommend_all(api, team, case["id"])
    async with page_client(server, team.presenter) as presenter:
        assert "no care plan yet" in text_of(await presenter.get(path))  # preparation, not a decision
    await decide(api, team, meeting, case["id"])
    async with page_client(server, team.presenter) as presenter:
        assert "being prepared" in text_of(await presenter.get(path))
    await draft_care_plan(pool, case["id"])

    async with page_client(server, team.presenter) as presenter:
        page = await presenter.get(path)
        text = text_of(page)
        assert "Care plan version 1 Draft" in text and "Consensus" in text
        assert "Sign version" not in text and "waiting for the meeting chair's signature" in text
        document = await presenter.get(f"/api/v1/cases/{case['id']}/care-plan.html")
        assert document.status_code == 200 and case["patient"]["mrn"] in document.text

    async with page_client(server, team.chair) as chair:
        page = await chair.get(path)
        assert "Sign version 1" in text_of(page) and 'name="password"' in page.text
        home = await chair.get("/")
        assert "Care plans waiting for your signature" in text_of(home) and path in home.text

        wrong = await chair.post(f"{path}/sign", {"version": "1", "password": "not my password"})
        assert flash_of(await chair.get(wrong.headers["location"])) == (
            "The password is not correct; the care plan was not signed."
        )
        failed = await pool.fetchval(
            "SELECT count(*) FROM audit_event"
            " WHERE actor_id = $1 AND action = 'sign_in' AND outcome = 'denied'",
            team.chair.id,
        )
        assert failed == 1
        outdated = await chair.post(f"{path}/sign", {"version": "0", "password": PASSWORD})
        assert flash_of(await chair.get(outdated.headers["location"])) == (
            "A newer draft (version 1) has arrived; read it before signing"
        )
        signed = await chair.post(f"{path}/sign", {"version": "1", "password": PASSWORD})
        shown = await chair.get(signed.headers["location"])
        assert flash_of(shown) == "Care plan version 1 signed. The case is finalized."
        assert "Signed by Dr. Chair" in text_of(shown) and "Approved as the board's care plan" in text_of(
            shown
        )
    status = await pool.fetchval("SELECT status FROM care_plan WHERE case_id = $1", case["id"])
    assert status == "final"


async def test_the_form_is_offered_only_to_whom_may_save_it(server: str, api: Factory) -> None:
    team, _, case = await case_on_a_meeting(api)
    path = f"/cases/{case['id']}/recommendation"
    for outsider in (team.presenter, team.coordinator):
        async with page_client(server, outsider) as browser:
            refused = await browser.get(path)
            assert refused.status_code == 403
            assert "reviewer" in text_of(refused) and case["question"] not in text_of(refused)
