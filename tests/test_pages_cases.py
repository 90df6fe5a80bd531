"""Case pages: submission with field-level messages, the case page, and the actions on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from tests.browser.scenarios import case_placed_on, meeting_of
from tests.browser.support import field_error, flash_of, input_value, page_client, text_of
from tests.factories import Factory


def case_form(**overrides: str) -> dict[str, str]:
    """A complete, valid submission form as a browser posts it."""
    form = {
        "idempotency_key": "form-key-1",
        "patient.given_name": "Ines",
        "patient.family_name": "Marquardt",
        "patient.mrn": f"PAGE-{datetime.now(UTC).timestamp():.6f}",
        "patient.birth_date": "1959-03-14",
        "patient.sex": "female",
        "disease_site": "breast",
        "diagnosis.system": "ICD-10-CM",
        "diagnosis.code": "C50.911",
        "diagnosis.display": "Malignant neoplasm of breast",
        "histology": "",
        "stage.t": "cT2",
        "stage.n": "cN1",
        "stage.m": "cM0",
        "stage.group": "IIB",
        "ecog": "1",
        "biomarkers.0.name": "HER2",
        "biomarkers.0.value": "positive",
        "biomarkers.1.name": "",
        "biomarkers.1.value": "",
        "summary": "Palpable mass, biopsy-proven.",
        "question": "Neoadjuvant therapy before surgery?",
        "urgency": "routine",
        "discuss_by": "",
    }
    form.update(overrides)
    return form


async def _case_count(pool: asyncpg.Pool, family_name: str) -> int:
    query = (
        "SELECT count(*) FROM patient_case c JOIN patient p ON p.id = c.patient_id WHERE p.family_name = $1"
    )
    return int(await pool.fetchval(query, family_name))


async def test_the_case_form_keeps_what_was_typed_and_marks_each_bad_field(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    async with page_client(server, presenter) as browser:
        empty = await browser.get("/cases/new")
        assert empty.status_code == 200
        assert input_value(empty, "patient.mrn") == ""

        form = case_form(**{"patient.mrn": "", "biomarkers.0.value": "", "summary": "Typed by hand"})
        refused = await browser.post("/cases/new", form)
        assert refused.status_code == 400
        assert "Some fields need attention" in text_of(refused)
        assert field_error(refused, "patient.mrn") == "Is required"
        assert field_error(refused, "biomarkers.0.value") == "Must not be empty"
        assert input_value(refused, "patient.family_name") == "Marquardt"
        assert input_value(refused, "biomarkers.0.name") == "HER2"
        assert input_value(refused, "stage.group") == "IIB"
        assert "Typed by hand" in refused.text
        assert 'aria-invalid="true"' in refused.text

        future = (date.today() + timedelta(days=30)).isoformat()
        unborn = await browser.post("/cases/new", case_form(**{"patient.birth_date": future}))
        assert unborn.status_code == 400
        assert field_error(unborn, "patient.birth_date") == "Must not be in the future"

        late = await browser.post("/cases/new", case_form(discuss_by="2001-01-01"))
        assert late.status_code == 400
        assert field_error(late, "discuss_by") == "Must not be in the past"
        assert input_value(late, "discuss_by") == "2001-01-01"
    assert await _case_count(pool, "Marquardt") == 0


async def test_a_submitted_case_is_shown_with_a_confirmation_and_a_double_submit_makes_one_case(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology", name="Dr. Hana Sato")
    form = case_form(**{"patient.family_name": "Ostrowski", "idempotency_key": "double-click"})
    async with page_client(server, presenter) as browser:
        first = await browser.post("/cases/new", form)
        assert first.status_code == 303
        location = first.headers["location"]
        assert location.startswith("/cases/")
        again = await browser.post("/cases/new", form)
        assert again.headers["location"] == location

        shown = await browser.get(location)
        assert shown.status_code == 200
        assert shown.headers["cache-control"] == "no-store"  # patient data stays out of browser caches
        assert flash_of(shown) is not None and flash_of(shown).startswith("Case submitted")  # type: ignore[union-attr]
        text = text_of(shown)
        assert "Ostrowski, Ines" in text
        assert "Malignant neoplasm of breast" in text and "HER2: positive" in text
        assert "Submitted by Dr. Hana Sato" in text
        assert "Waiting for a meeting" in text
        # The confirmation shows once.
        assert flash_of(await browser.get(location)) is None
    assert await _case_count(pool, "Ostrowski") == 1


async def test_the_case_page_is_refused_to_a_stranger_and_the_refusal_is_audited(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    stranger = await api.user("presenter")
    async with page_client(server, stranger) as browser:
        refused = await browser.get(f"/cases/{case['id']}")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert case["patient"]["family_name"] not in refused.text
    denied = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND subject_id = $2 AND outcome = 'denied'",
        stranger.id,
        case["id"],
    )
    assert denied == 1


async def test_a_form_post_without_the_csrf_token_is_refused(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter")
    form = case_form(**{"patient.family_name": "Forgery"})
    async with page_client(server, presenter) as browser:
        missing = await browser.post("/cases/new", form, csrf=False)
        wrong = await browser.post("/cases/new", {**form, "_csrf_token": "0" * 128}, csrf=False)
    for refused in (missing, wrong):
        assert refused.status_code == 403
        assert "This form has expired" in refused.text
        assert "default-src" in refused.headers["content-security-policy"]
    assert await _case_count(pool, "Forgery") == 0


async def test_the_presenter_withdraws_the_case_from_its_page(server: str, api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    async with page_client(server, presenter) as browser:
        page = await browser.get(f"/cases/{case['id']}")
        assert "Withdraw the case" in page.text
        done = await browser.post(f"/cases/{case['id']}/withdraw")
        assert done.status_code == 303
        shown = await browser.get(done.headers["location"])
        assert flash_of(shown) == "Case withdrawn; it has left its meeting."
        assert "Withdrawn by" in text_of(shown)
        again = await browser.post(f"/cases/{case['id']}/withdraw")
        assert flash_of(await browser.get(again.headers["location"])) == ("The case is already withdrawn")
    current = await api.ok(api.client.get(f"/cases/{case['id']}", headers=presenter.headers), 200)
    assert current["status"] == "withdrawn"


async def test_the_coordinator_moves_a_waiting_case_onto_a_meeting(server: str, api: Factory) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    case = await api.case(team.presenter)
    async with page_client(server, team.coordinator) as browser:
        page = await browser.get(f"/cases/{case['id']}")
        assert f'value="{meeting["id"]}"' in page.text
        unchosen = await browser.post(f"/cases/{case['id']}/meeting", {"meeting_id": ""})
        assert flash_of(await browser.get(unchosen.headers["location"])) == "Choose a meeting first."
        moved = await browser.post(f"/cases/{case['id']}/meeting", {"meeting_id": meeting["id"]})
        shown = await browser.get(moved.headers["location"])
        assert flash_of(shown) == "Case moved to the chosen meeting."
        assert "Moved to a meeting by" in text_of(shown)
    current = await api.ok(api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200)
    assert current["meeting_id"] == meeting["id"] and current["status"] == "scheduled"


async def test_the_chair_records_the_boards_decision_from_the_case_page(server: str, api: Factory) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await case_placed_on(api, team, meeting)
    deferred = await case_placed_on(api, team, meeting)
    async with page_client(server, team.chair) as browser:
        page = await browser.get(f"/cases/{case['id']}")
        assert "Record the decision" not in page.text  # the meeting has not started
        assert "Preparation: waiting for Medical oncology, Surgical oncology, Radiation oncology" in text_of(
            page
        )
    await api.start(team.chair, meeting["id"])
    await api.attendance(team.chair, meeting["id"], present=[team.chair, team.surgeon, team.radiation])
    async with page_client(server, team.surgeon) as reviewer:
        assert "Record the decision" not in (await reviewer.get(f"/cases/{case['id']}")).text
    async with page_client(server, team.chair) as browser:
        page = await browser.get(f"/cases/{case['id']}")
        assert "Record the decision" in page.text
        form = [
            ("outcome", "plan"),
            ("intent", "curative"),
            ("modalities", "surgery"),
            ("modalities", "radiation"),
            ("modalities", ""),
            ("summary", "Lumpectomy, then whole-breast radiotherapy."),
            ("trial.status", "none_available"),
            ("stage_discussed", "true"),
            ("quorum_override", ""),
        ]
        decided = await browser.post(f"/cases/{case['id']}/decision", form)
        shown = await browser.get(decided.headers["location"])
        assert flash_of(shown).startswith("Decision recorded")  # type: ignore[union-attr]
        text = text_of(shown)
        assert "The board's plan recorded by Dr. Chair (medical oncology)" in text
        assert "Curative: Surgery → Radiation" in text
        assert "Recorded absent: Medical oncology, Surgical oncology, Radiation oncology" in text
        refused = await browser.post(
            f"/cases/{case['id']}/decision", [("outcome", "defer"), ("summary", "Later.")]
        )
        again = await browser.get(refused.headers["location"])
        assert "can no longer be deferred" in flash_of(again)  # type: ignore[operator]

        reason = "Await the PET-CT."
        form = [("outcome", "defer"), ("summary", reason), ("agenda", f"/meetings/{meeting['id']}")]
        moved_on = await browser.post(f"/cases/{deferred['id']}/decision", form)
        assert moved_on.headers["location"] == f"/meetings/{meeting['id']}"
        agenda = await browser.get(moved_on.headers["location"])
        assert flash_of(agenda).startswith("Deferred")  # type: ignore[union-attr]
    async with page_client(server, team.presenter) as presenter:
        history = text_of(await presenter.get(f"/cases/{deferred['id']}"))
        assert f"Deferred by the board, recorded by Dr. Chair (medical oncology): {reason}" in history
    current: dict[str, Any] = await api.ok(
        api.client.get(f"/cases/{case['id']}", headers=team.presenter.headers), 200
    )
    assert current["status"] == "discussed"
    decisions = await api.ok(
        api.client.get(f"/cases/{case['id']}/decisions", headers=team.chair.headers), 200
    )
    assert decisions[0]["modalities"] == ["surgery", "radiation"]
    assert decisions[0]["trial"]["status"] == "none_available" and decisions[0]["stage_discussed"] is True


async def test_the_add_a_biomarker_button_fetches_the_next_row(server: str, api: Factory) -> None:
    presenter = await api.user("presenter")
    async with page_client(server, presenter) as browser:
        row = await browser.get("/cases/new/biomarker-row", params={"index": 2})
        assert row.status_code == 200
        assert 'name="biomarkers.2.name"' in row.text and 'name="biomarkers.2.value"' in row.text
        assert '"index": "3"' in row.text
        last = await browser.get("/cases/new/biomarker-row", params={"index": 49})
        assert 'name="biomarkers.49.name"' in last.text and "Add a biomarker" not in last.text
        beyond = await browser.get("/cases/new/biomarker-row", params={"index": 50})
        assert beyond.status_code == 400
