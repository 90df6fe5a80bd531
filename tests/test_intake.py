"""Structured intake over HTTP: the full clinical record round-trips, today's bodies still work, and
every malformed code, impossible date or unknown stage prefix is a 400 naming the field, storing nothing."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from tests.factories import Actor, Factory, case_body
from tests.test_validation import SECRETS, assert_error, messages, secret_case
from tumorboard.cases.clinical import is_loinc, loinc_check_digit_ok


def full_case(**overrides: Any) -> dict[str, Any]:
    """A POST /cases body with every structured field filled in."""
    body = case_body(
        diagnosis={
            "code": "C50.412",
            "system": "ICD-10-CM",
            "display": "Malignant neoplasm of upper-outer quadrant of left female breast",
            "diagnosed_on": "2026-01-12",
            "laterality": "left",
            "topography": {"code": "C50.4", "display": "Upper-outer quadrant of breast"},
            "morphology": {"code": "8500/3", "display": "Infiltrating duct carcinoma, NOS"},
        },
        stage={
            "system": "AJCC",
            "edition": 8,
            "type": "pathological",
            "t": "pT2",
            "n": "pN1a",
            "m": "cM0",
            "group": "IIB",
        },
        biomarkers=[
            {
                "name": "HER2",
                "value": "positive (3+)",
                "loinc": "85319-2",
                "tested_on": "2026-01-10",
                "method": "IHC",
            },
            {"name": "Ki-67", "value": "30", "unit": "%", "method": "IHC"},
        ],
        prior_treatments=[
            {
                "modality": "surgery",
                "description": "Lumpectomy with sentinel node biopsy",
                "started_on": "2026-01-20",
                "ended_on": "2026-01-20",
            },
            {"modality": "systemic_therapy", "description": "Tamoxifen", "started_on": "2026-02-01"},
        ],
        comorbidities=[
            {"name": "Type 2 diabetes mellitus without complications", "code": "E11.9"},
            {"name": "Mild asthma"},
        ],
        treatment_started=True,
    )
    body.update(overrides)
    return body


async def post_case(api: Factory, presenter: Actor, body: Any) -> Any:
    return await api.client.post("/cases", json=body, headers=presenter.headers)


async def stored_cases(pool: asyncpg.Pool, presenter: Actor) -> int:
    return await pool.fetchval("SELECT count(*) FROM patient_case WHERE presenter_id = $1", presenter.id)


async def test_a_case_with_full_structured_data_is_stored_and_read_back(
    api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    body = full_case()
    created = await api.ok(post_case(api, presenter, body), 201)
    for field in ("diagnosis", "stage", "biomarkers", "prior_treatments", "comorbidities"):
        assert created[field] == body[field], field
    assert created["treatment_started"] is True
    read = await api.ok(api.client.get(f"/cases/{created['id']}", headers=presenter.headers), 200)
    assert read == created

    row = await pool.fetchrow(
        "SELECT diagnosis, stage, biomarkers, prior_treatments, comorbidities, treatment_started"
        " FROM patient_case WHERE id = $1",
        created["id"],
    )
    assert row["diagnosis"]["morphology"] == {"code": "8500/3", "display": "Infiltrating duct carcinoma, NOS"}
    assert row["stage"]["type"] == "pathological" and row["stage"]["edition"] == 8
    assert row["biomarkers"][0]["loinc"] == "85319-2"
    assert row["prior_treatments"][0]["ended_on"] == "2026-01-20"
    assert row["comorbidities"][0]["code"] == "E11.9"
    assert row["treatment_started"] is True


async def test_todays_bodies_stay_valid_and_read_back_unchanged(api: Factory, pool: asyncpg.Pool) -> None:
    presenter = await api.user("presenter")
    body = case_body()  # stage {system: AJCC8, t, n, m, group}, biomarkers [{name, value}]
    created = await api.ok(post_case(api, presenter, body), 201)
    assert created["stage"] == body["stage"] and created["biomarkers"] == body["biomarkers"]
    assert created["diagnosis"] == body["diagnosis"]
    assert created["prior_treatments"] == [] and created["comorbidities"] == []
    assert created["treatment_started"] is None
    row = await pool.fetchrow(
        "SELECT stage, treatment_started FROM patient_case WHERE id = $1", created["id"]
    )
    assert row["stage"] == body["stage"] and row["treatment_started"] is None


@pytest.mark.parametrize(
    "stage",
    [
        {"system": "AJCC8", "type": "clinical", "t": "cT1mi", "n": "cN0", "m": "cM0", "group": "IA"},
        {"system": "AJCC8", "type": "pathological", "t": "pTis (DCIS)", "n": "cN0", "m": "cM0", "group": "0"},
        {"system": "AJCC8", "type": "pathological", "t": "pT1c", "n": "pN0(i+)", "m": "cM0", "group": "IA"},
        {
            "system": "AJCC",
            "edition": 9,
            "type": "post_therapy_pathological",
            "t": "ypT0",
            "n": "ypN0",
            "m": "cM0",
            "group": "0",
        },
        {
            "system": "UICC",
            "edition": 8,
            "type": "post_therapy_clinical",
            "t": "ycT2",
            "n": "ycN1",
            "m": "cM0",
            "group": "IIIA",
        },
        {"system": "AJCC8", "type": "clinical", "t": "cT4b", "n": "cN3c", "m": "pM1c", "group": "IVB"},
        {"system": "AJCC8", "t": "T2", "n": "N1", "m": "M0", "group": "IIB"},
    ],
)
async def test_valid_stages_of_every_type_are_accepted(api: Factory, stage: dict[str, Any]) -> None:
    presenter = await api.user("presenter")
    created = await api.ok(post_case(api, presenter, case_body(stage=stage)), 201)
    assert created["stage"] == stage


def _with(path: str, value: Any) -> dict[str, Any]:
    """A full case body with one value replaced, by dotted path (numbers index lists)."""
    body = copy.deepcopy(full_case())
    body["patient"] = secret_case()["patient"]
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return body


TOMORROW_ANYWHERE = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()

BAD_INPUT = [
    ("diagnosis.code", "C50412", "ICD-10-CM"),
    ("diagnosis.code", "c50.412", "ICD-10-CM"),
    ("diagnosis.diagnosed_on", TOMORROW_ANYWHERE, "future"),
    ("diagnosis.diagnosed_on", "1950-01-01", "birth date"),
    ("diagnosis.laterality", "sideways", "allowed values"),
    ("diagnosis.topography.code", "C504", "topography"),
    ("diagnosis.topography.code", "D50.4", "topography"),
    ("diagnosis.morphology.code", "9999", "morphology"),
    ("diagnosis.morphology.code", "8500/7", "morphology"),
    ("stage.type", "radiological", "allowed values"),
    ("stage.t", "xT2", "unknown prefix"),
    ("stage.t", "rT2", "unknown prefix"),
    ("stage.t", "cT2", "start with p"),
    ("stage.n", "ycN1", "start with p or c"),
    ("stage.m", "pM0", "pathological M0"),
    ("stage.t", "pQ2", "T category"),
    ("stage.group", "IIZ", "stage group"),
    ("stage.edition", 0, "at least 1"),
    ("biomarkers.0.loinc", "85319-3", "check digit"),
    ("biomarkers.0.loinc", "LOINC-1", "LOINC"),
    ("biomarkers.0.tested_on", TOMORROW_ANYWHERE, "future"),
    ("prior_treatments.0.modality", "prayer", "allowed values"),
    ("prior_treatments.0.ended_on", "2026-01-19", "before the start date"),
    ("prior_treatments.1.started_on", TOMORROW_ANYWHERE, "future"),
    ("comorbidities.0.code", "diabetes", "ICD-10-CM"),
    ("treatment_started", "yes", "bool"),
]


@pytest.mark.parametrize(("path", "value", "says"), BAD_INPUT)
async def test_bad_structured_input_is_400_naming_the_field_and_stores_nothing(
    api: Factory, pool: asyncpg.Pool, path: str, value: Any, says: str
) -> None:
    presenter = await api.user("presenter")
    response = await post_case(api, presenter, _with(path, value))
    error = assert_error(response, 400, path)
    assert says in messages(error)[path], messages(error)
    assert str(value) not in response.text or str(value) in ("0",)
    assert await stored_cases(pool, presenter) == 0


async def test_every_bad_field_is_named_at_once(api: Factory, pool: asyncpg.Pool) -> None:
    presenter = await api.user("presenter")
    body = full_case()
    body["patient"] = secret_case()["patient"]
    body["diagnosis"]["topography"]["code"] = "breast"
    body["stage"]["t"] = "zT2"
    body["biomarkers"][0]["loinc"] = "1-1"
    body["prior_treatments"][0]["ended_on"] = "2025-12-31"
    error = assert_error(
        await post_case(api, presenter, body),
        400,
        "diagnosis.topography.code",
        "stage.t",
        "biomarkers.0.loinc",
        "prior_treatments.0.ended_on",
    )
    assert len(error["extra"]) == 4
    for secret in (*SECRETS, "breast", "zT2"):
        assert secret not in str(error)
    assert await stored_cases(pool, presenter) == 0


async def test_an_edition_must_agree_with_the_system(api: Factory) -> None:
    presenter = await api.user("presenter")
    stage = {"system": "AJCC8", "edition": 9, "t": "cT2", "n": "cN1", "m": "cM0", "group": "IIB"}
    assert_error(await post_case(api, presenter, secret_case(stage=stage)), 400, "stage.edition")
    stage = {"system": "UICC", "t": "cT2", "n": "cN1", "m": "cM0", "group": "IIB"}
    assert_error(await post_case(api, presenter, secret_case(stage=stage)), 400, "stage.edition")


async def test_the_readiness_update_checks_stage_and_biomarkers_too(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter, stage=None, biomarkers=[])
    body = {
        "stage": {"system": "AJCC8", "type": "clinical", "t": "pT2", "n": "cN0", "m": "cM0", "group": "IIA"},
        "biomarkers": [{"name": "ER", "value": "positive", "loinc": "85337-5"}],
    }
    response = await api.client.patch(f"/cases/{case['id']}/readiness", json=body, headers=presenter.headers)
    assert_error(response, 400, "stage.t", "biomarkers.0.loinc")


async def test_a_diagnosis_coded_in_icd_o_3_is_format_checked() -> None:
    # The checks themselves, without HTTP: both ICD-O-3 axes are accepted as the diagnosis code.
    from tumorboard.cases.clinical import diagnosis_errors
    from tumorboard.cases.schemas import Diagnosis

    today = date(2026, 3, 1)
    for code in ("C34.1", "8140/3"):
        assert diagnosis_errors(Diagnosis(code=code, system="ICD-O-3", display="Lung"), None, today) == []
    assert diagnosis_errors(Diagnosis(code="C34", system="ICD-O-3", display="Lung"), None, today)


def test_loinc_check_digits() -> None:
    # Codes from LOINC (HER2 IHC, PSA, CEA, MSI, TMB); a changed check digit fails.
    for code in ("85319-2", "2857-1", "2039-6", "81695-9", "94076-7"):
        assert is_loinc(code), code
    assert not loinc_check_digit_ok("85319-1") and not is_loinc("853192")


def test_a_care_plan_version_built_before_structured_intake_still_loads_and_renders() -> None:
    # A stored version's content from before these fields existed: only the old keys.
    from tests.test_care_plan_documents import make_document
    from tumorboard.care_plans.documents import render_html, render_pdf
    from tumorboard.care_plans.fhir import build_fhir_bundle
    from tumorboard.care_plans.schemas import CarePlanDocument

    stored = msgspec.json.decode(msgspec.json.encode(make_document()))
    content = stored["content"]
    for name in ("prior_treatments", "comorbidities", "treatment_started"):
        del content[name]
    content["diagnosis"] = {key: content["diagnosis"][key] for key in ("code", "system", "display")}
    content["stage"] = {key: content["stage"][key] for key in ("system", "t", "n", "m", "group")}
    content["biomarkers"] = [{"name": b["name"], "value": b["value"]} for b in content["biomarkers"]]

    document = msgspec.convert(stored, CarePlanDocument)
    assert document.content.prior_treatments == [] and document.content.stage.type is None
    html = render_html(document)
    assert "cT2 cN1 cM0, group IIB" in html and "AJCC 8th edition" in html and "Not stated" in html
    assert build_fhir_bundle(document)["type"]
    assert render_pdf(document).startswith(b"%PDF")
