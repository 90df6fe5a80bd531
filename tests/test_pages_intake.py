"""Structured intake and documents in the pages: the form with its pick lists, the clinical summary
wherever a case is shown (case page, recommendation form, agenda, care plan), uploads and the viewer."""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from tests.browser.scenarios import case_placed_on, decide, draft_care_plan, meeting_of, recommend_all
from tests.browser.support import PageClient, field_error, flash_of, input_value, page_client, text_of
from tests.factories import Actor, Factory
from tests.test_attachments import HTML, PDF, PNG
from tests.test_intake import full_case
from tests.test_pages_cases import case_form
from tumorboard.pages.security import CSRF_FIELD


def structured_form(**overrides: str) -> dict[str, str]:
    """The case form with every structured field filled in, codes picked from the lists."""
    form = case_form(
        **{
            "patient.family_name": "Ferreira",
            "diagnosis.code": "C50.412",
            "diagnosis.display": "",  # filled in from the pick list
            "diagnosis.diagnosed_on": "2026-01-12",
            "diagnosis.laterality": "left",
            "diagnosis.topography.code": "C50.4",
            "diagnosis.morphology.code": "8500/3",
            "histology": "Grade 2",
            "stage.type": "pathological",
            "stage.system": "AJCC",
            "stage.edition": "8",
            "stage.t": "pT2",
            "stage.n": "pN1a",
            "stage.m": "cM0",
            "biomarkers.0.loinc": "85319-2",
            "biomarkers.0.method": "IHC",
            "biomarkers.0.tested_on": "2026-01-10",
            "biomarkers.1.name": "Ki-67",
            "biomarkers.1.value": "30",
            "biomarkers.1.unit": "%",
            "prior_treatments.0.modality": "surgery",
            "prior_treatments.0.description": "Lumpectomy with sentinel node biopsy",
            "prior_treatments.0.started_on": "2026-01-20",
            "prior_treatments.0.ended_on": "2026-01-20",
            "comorbidities.0.code": "E11.9",
            "comorbidities.0.name": "",  # filled in from the pick list
            "treatment_started": "true",
        }
    )
    form.update(overrides)
    return form


async def upload(browser: PageClient, case_id: str, content: bytes, **fields: str) -> Any:
    token = await browser.csrf_token()
    return await browser.client.post(
        f"/cases/{case_id}/attachments",
        data={CSRF_FIELD: token, **fields},
        files={"file": ("biopsy.pdf", content, "application/pdf")},
    )


async def test_the_form_offers_pick_lists_and_stores_the_structured_case(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    async with page_client(server, presenter) as browser:
        empty = await browser.get("/cases/new")
        assert '<datalist id="icdo3-morphology">' in empty.text
        assert '<option value="8500/3">Infiltrating duct carcinoma, NOS</option>' in empty.text
        assert (
            '<option value="85319-2">HER2: HER2 [Presence] in Breast cancer specimen by Immune stain</option>'
            in (empty.text)
        )
        assert 'list="icd10cm-codes"' in empty.text and 'name="prior_treatments.0.modality"' in empty.text

        created = await browser.post("/cases/new", structured_form())
        assert created.status_code == 303, text_of(created)
        shown = await browser.get(created.headers["location"])
    text = text_of(shown)
    for expected in (
        "Malignant neoplasm of upper-outer quadrant of left female breast",
        "Diagnosed 12 Jan 2026",
        "Upper-outer quadrant of breast ICD-O-3 C50.4",
        "Laterality: Left",
        "Infiltrating duct carcinoma, NOS ICD-O-3 8500/3",
        "Pathological: pT2 pN1a cM0, group IIB (AJCC 8th edition)",
        "HER2: positive (IHC, 10 Jan 2026) LOINC 85319-2",
        "Ki-67: 30 %",
        "Surgery \N{EN DASH} Lumpectomy with sentinel node biopsy (20 Jan 2026)",
        "Type 2 diabetes mellitus without complications ICD-10-CM E11.9",
        "Yes, before the board",
    ):
        assert expected in text, expected
    row = await pool.fetchrow(
        "SELECT c.diagnosis, c.stage, c.comorbidities, c.treatment_started FROM patient_case c"
        " JOIN patient p ON p.id = c.patient_id WHERE p.family_name = 'Ferreira'"
    )
    assert row["diagnosis"]["topography"] == {"code": "C50.4", "display": "Upper-outer quadrant of breast"}
    assert row["stage"] == {
        "system": "AJCC",
        "edition": 8,
        "type": "pathological",
        "t": "pT2",
        "n": "pN1a",
        "m": "cM0",
        "group": "IIB",
    }
    assert row["comorbidities"] == [
        {"name": "Type 2 diabetes mellitus without complications", "code": "E11.9"}
    ]
    assert row["treatment_started"] is True


async def test_the_form_marks_bad_codes_dates_and_prefixes_and_keeps_the_typing(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter")
    form = structured_form(
        **{
            "patient.family_name": "Nakamura",
            "stage.t": "cT2",
            "biomarkers.0.loinc": "85319-9",
            "prior_treatments.0.ended_on": "2026-01-01",
            "diagnosis.topography.code": "breast",
        }
    )
    async with page_client(server, presenter) as browser:
        refused = await browser.post("/cases/new", form)
    assert refused.status_code == 400
    assert field_error(refused, "stage.t") == "Must start with p for a pathological stage"
    assert (
        field_error(refused, "biomarkers.0.loinc")
        == "Must be a LOINC code with its check digit, such as 85319-2"
    )
    assert field_error(refused, "prior_treatments.0.ended_on") == "Must not be before the start date"
    assert (
        field_error(refused, "diagnosis.topography.code")
        == "Must be an ICD-O-3 topography code such as C50.4"
    )
    assert input_value(refused, "prior_treatments.0.description") == "Lumpectomy with sentinel node biopsy"
    assert input_value(refused, "comorbidities.0.code") == "E11.9"
    assert re.search(r'<option value="true" selected>', refused.text)
    count = await pool.fetchval(
        "SELECT count(*) FROM patient_case c JOIN patient p ON p.id = c.patient_id"
        " WHERE p.family_name = 'Nakamura'"
    )
    assert count == 0


async def test_treatment_and_comorbidity_rows_are_fetched_one_at_a_time(server: str, api: Factory) -> None:
    presenter = await api.user("presenter")
    async with page_client(server, presenter) as browser:
        row = await browser.get("/cases/new/treatment-row", params={"index": 1})
        assert 'name="prior_treatments.1.modality"' in row.text and "Add a prior treatment" in row.text
        last = await browser.get("/cases/new/comorbidity-row", params={"index": 49})
        assert 'name="comorbidities.49.code"' in last.text and "Add a comorbidity" not in last.text
        assert (await browser.get("/cases/new/comorbidity-row", params={"index": 50})).status_code == 400


async def _full_case_on_a_meeting(api: Factory) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    body = full_case()
    case = await case_placed_on(api, team, meeting, **{k: v for k, v in body.items() if k != "patient"})
    return team, meeting, case


async def test_the_clinical_summary_shows_on_the_recommendation_form_agenda_and_care_plan(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team, meeting, case = await _full_case_on_a_meeting(api)
    async with page_client(server, team.surgeon) as browser:
        form = text_of(await browser.get(f"/cases/{case['id']}/recommendation"))
        assert "Infiltrating duct carcinoma, NOS ICD-O-3 8500/3" in form and "Mild asthma" in form
        agenda_page = text_of(await browser.get(f"/meetings/{meeting['id']}"))
        assert "Infiltrating duct carcinoma, NOS · pathological pT2 pN1a cM0, group IIB" in agenda_page
    agenda_html = await api.client.get(f"/meetings/{meeting['id']}/agenda.html", headers=team.chair.headers)
    assert "(left) · Infiltrating duct carcinoma, NOS · pathological pT2 pN1a cM0" in text_of(agenda_html)
    assert "HER2 positive (3+); Ki-67 30 %" in text_of(agenda_html)

    await recommend_all(api, team, case["id"])
    await decide(api, team, meeting, case["id"])
    await draft_care_plan(pool, case["id"])
    document = await api.client.get(f"/cases/{case['id']}/care-plan.html", headers=team.presenter.headers)
    assert document.status_code == 200
    text = text_of(document)
    for expected in (
        "Upper-outer quadrant of breast ICD-O-3 C50.4 · Laterality: Left",
        "Pathological: pT2 pN1a cM0, group IIB (AJCC 8th edition)",
        "HER2: positive (3+) (IHC, 10 Jan 2026) LOINC 85319-2",
        "Systemic therapy \N{EN DASH} Tamoxifen (since 01 Feb 2026)",
        "Type 2 diabetes mellitus without complications ICD-10-CM E11.9",
        "Yes, before the board",
    ):
        assert expected in text, expected


async def _open_case(api: Factory) -> tuple[Actor, dict[str, Any]]:
    presenter = await api.user("presenter")
    await api.board(await api.user("coordinator"))
    return presenter, await api.case(presenter)


async def test_a_report_uploaded_on_the_case_page_is_listed_counts_for_readiness_and_opens_in_a_sandbox(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter, case = await _open_case(api)
    async with page_client(server, presenter) as browser:
        before = await browser.get(f"/cases/{case['id']}")
        assert 'enctype="multipart/form-data"' in before.text and "No document attached yet." in text_of(
            before
        )
        assert "no pathology report recorded" in text_of(before)

        sent = await upload(browser, case["id"], PDF, kind="pathology_report", document_date="2026-11-20")
        assert sent.status_code == 303 and sent.headers["location"] == f"/cases/{case['id']}#documents"
        shown = await browser.get(f"/cases/{case['id']}")
        assert flash_of(shown) == "Pathology report “biopsy.pdf” attached."
        text = text_of(shown)
        assert "biopsy.pdf" in text and "dated 2026-11-20" in text and "Document attached by" in text

        attachment_id = await pool.fetchval("SELECT id FROM case_attachment WHERE case_id = $1", case["id"])
        viewer = await browser.get(f"/cases/{case['id']}/attachments/{attachment_id}")
        assert viewer.status_code == 200
        frame = re.search(r"<iframe[^>]*>", viewer.text)
        # A PDF's frame is sandboxed by its response (Chromium shows no PDF in a sandbox-attribute frame).
        assert frame and f'src="/attachments/{attachment_id}/inline"' in frame.group(0)
        assert " sandbox" not in frame.group(0)
        assert "frame-src" not in viewer.headers["content-security-policy"]  # the page's policy is unchanged
        assert viewer.headers["x-frame-options"] == "DENY"

        inline = await browser.get(f"/attachments/{attachment_id}/inline")
        assert inline.status_code == 200 and inline.content == PDF
        policy = inline.headers["content-security-policy"]
        assert (
            policy.startswith("sandbox;")
            and "default-src 'none'" in policy
            and "frame-ancestors 'self'" in policy
        )
        assert inline.headers["x-frame-options"] == "SAMEORIGIN"
        assert inline.headers["x-content-type-options"] == "nosniff"
        assert inline.headers["content-disposition"].startswith("inline;")
        assert inline.headers["cache-control"] == "no-store"
        sent = await upload(browser, case["id"], PNG, kind="imaging_report")
        image_id = await pool.fetchval(
            "SELECT id FROM case_attachment WHERE case_id = $1 AND kind = 'imaging_report'", case["id"]
        )
        image_viewer = await browser.get(f"/cases/{case['id']}/attachments/{image_id}")
        image_frame = re.search(r"<iframe[^>]*>", image_viewer.text)
        assert image_frame and " sandbox" in image_frame.group(0)  # an image is sandboxed by the frame too
    reads = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'read' AND subject_id = $2",
        presenter.id,
        attachment_id,
    )
    assert reads == 1


async def test_a_disguised_upload_on_the_case_page_is_refused_with_a_message(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter, case = await _open_case(api)
    async with page_client(server, presenter) as browser:
        sent = await upload(browser, case["id"], HTML, kind="pathology_report")
        assert sent.status_code == 303
        shown = await browser.get(sent.headers["location"])
        assert flash_of(shown) == (
            "The document was not attached: File must be a PDF, PNG or JPEG document (judged by its content)."
        )
        no_kind = await upload(browser, case["id"], PDF)
        assert flash_of(await browser.get(no_kind.headers["location"])) == (
            "The document was not attached: Kind is required."
        )
        forged = await browser.client.post(
            f"/cases/{case['id']}/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}
        )
        assert forged.status_code == 403  # no CSRF token
    assert await pool.fetchval("SELECT count(*) FROM case_attachment WHERE case_id = $1", case["id"]) == 0


async def test_strangers_see_no_documents_and_participants_no_upload_form(server: str, api: Factory) -> None:
    team = await api.team()
    meeting = await meeting_of(api, team)
    case = await case_placed_on(api, team, meeting)
    async with page_client(server, team.surgeon) as browser:
        page = await browser.get(f"/cases/{case['id']}")
        assert page.status_code == 200 and 'action="/cases/' + case["id"] + '/attachments"' not in page.text
        refused = await upload(browser, case["id"], PDF, kind="letter")
        assert refused.status_code == 403
    stranger = await api.user("presenter")
    async with page_client(server, stranger) as browser:
        assert (await browser.get(f"/cases/{case['id']}/attachments/{case['id']}")).status_code == 403


async def test_a_form_with_a_binary_part_without_a_file_name_is_400_not_500(
    server: str, api: Factory
) -> None:
    presenter, case = await _open_case(api)
    async with page_client(server, presenter) as browser:
        token = await browser.csrf_token()
        boundary = "xyz"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{CSRF_FIELD}"\r\n\r\n{token}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
            ).encode()
            + b"\xff\xfe\x00"
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = await browser.client.post(
            f"/cases/{case['id']}/attachments",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code == 400 and "could not be read" in response.text
