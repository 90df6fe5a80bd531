"""POST /cases with an mCODE FHIR Bundle (application/fhir+json): the same rules and idempotency as
JSON, a round trip that keeps every structured field, and bad bundles refused naming the element."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.care_plan_helpers import consolidate, meeting_under_way, sign
from tests.factories import Actor, Factory, Team, case_body, recommendation_body

FHIR = {"Content-Type": "application/fhir+json"}
STRUCTURED_FIELDS = (
    "patient",
    "disease_site",
    "diagnosis",
    "histology",
    "stage",
    "ecog",
    "biomarkers",
    "summary",
    "question",
    "urgency",
    "discuss_by",
    "prior_treatments",
    "comorbidities",
    "treatment_started",
    "referrer",
)


def full_body(**overrides: Any) -> dict[str, Any]:
    """A case with every structured field, a referrer, 20 biomarkers."""
    markers = [
        {
            "name": f"Marker {i}",
            "value": f"{i}.50",
            "unit": "ng/mL",
            "loinc": "2857-1",
            "tested_on": "2026-01-09",
            "method": "Immunoassay",
        }
        for i in range(17)
    ]
    markers += [
        {
            "name": "HER2",
            "value": "positive (3+)",
            "loinc": "85319-2",
            "tested_on": "2026-01-10",
            "method": "IHC",
        },
        {"name": "Ki-67", "value": "30", "unit": "%", "method": "IHC"},
        {"name": "PD-L1", "value": "≥ 50", "unit": "%"},
    ]
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
        histology="Invasive ductal carcinoma, grade 2",
        stage={
            "system": "AJCC",
            "edition": 8,
            "type": "pathological",
            "t": "pT2",
            "n": "pN1a",
            "m": "cM0",
            "group": "IIB",
        },
        ecog=1,
        biomarkers=markers,
        prior_treatments=[
            {
                "modality": "surgery",
                "description": "Lumpectomy with sentinel node biopsy",
                "started_on": "2026-01-20",
                "ended_on": "2026-01-20",
            },
            {"modality": "systemic_therapy", "started_on": "2026-02-01"},
        ],
        comorbidities=[{"name": "Type 2 diabetes mellitus", "code": "E11.9"}, {"name": "Mild asthma"}],
        treatment_started=True,
        urgency="urgent",
        discuss_by=(datetime.now(UTC).date() + timedelta(days=30)).isoformat(),
        referrer={
            "name": "Dr. Rita Moreau",
            "organisation": "Clinique du Parc",
            "email": "rita.moreau@parc.example",
        },
    )
    body.update(overrides)
    return body


async def signed_case(api: Factory, pool: asyncpg.Pool, team: Team, body: dict[str, Any]) -> dict[str, Any]:
    """The case submitted with `body`, decided at its meeting and its care plan signed."""
    meeting = await api.board_meeting_soon(team)
    case = await api.ok(api.client.post("/cases", json=body, headers=team.presenter.headers), 201)
    await api.place(team.coordinator, case["id"], meeting["id"])
    for reviewer in (team.chair, team.surgeon, team.radiation):
        await api.ok(
            api.client.post(
                f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=reviewer.headers
            ),
            201,
        )
    await meeting_under_way(api, team, {**case, "meeting_id": meeting["id"]})
    decided = await api.decide(team.chair, case["id"], trial={"status": "eligible", "id": "NCT04567890"})
    assert decided.status_code == 200, decided.text
    await consolidate(pool, case["id"])
    await sign(api, team.chair, case["id"])
    return case


async def post_bundle(api: Factory, actor: Actor, bundle: Any, **headers: str) -> Any:
    content = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
    return await api.client.post("/cases", content=content, headers={**actor.headers, **FHIR, **headers})


async def case_count(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM patient_case")
    return count


async def test_an_exported_document_imports_back_keeping_every_structured_field(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    original = await signed_case(api, pool, team, full_body())
    exported = await api.client.get(
        f"/cases/{original['id']}/care-plan.fhir.json", headers=team.presenter.headers
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "application/fhir+json"
    )

    response = await post_bundle(api, team.presenter, exported.content)
    assert response.status_code == 201, response.text
    imported = response.json()
    assert imported["id"] != original["id"] and imported["status"] == "submitted"
    assert imported["presenter_id"] == str(team.presenter.id)
    stored = await api.ok(api.client.get(f"/cases/{imported['id']}", headers=team.presenter.headers), 200)
    before = await api.ok(api.client.get(f"/cases/{original['id']}", headers=team.presenter.headers), 200)
    for field in STRUCTURED_FIELDS:
        assert stored[field] == before[field], field
        assert imported[field] == before[field], field
    assert len(stored["biomarkers"]) == 20 and stored["biomarkers"][0]["value"] == "0.50"


async def test_a_retried_bundle_with_the_same_key_returns_the_first_case(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    bundle = minimal_bundle()
    first = await post_bundle(api, team.presenter, bundle, **{"Idempotency-Key": "referral-42"})
    again = await post_bundle(api, team.presenter, bundle, **{"Idempotency-Key": "referral-42"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and await case_count(pool) == 1
    other = copy.deepcopy(bundle)
    other["entry"][-1]["resource"]["note"][0]["text"] = "Another question?"
    conflict = await post_bundle(api, team.presenter, other, **{"Idempotency-Key": "referral-42"})
    assert conflict.status_code == 409 and await case_count(pool) == 1


# ---------------------------------------------------------------------------------------------------------
# A bundle from another system: mCODE profiles, SNOMED CT and LOINC codes, none of ours


def minimal_bundle() -> dict[str, Any]:
    """What an EHR might send: no Tumorboard codes; the disease site follows from the ICD-10-CM code."""
    mcode = "http://hl7.org/fhir/us/mcode/StructureDefinition/"

    def entry(resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "fullUrl": f"http://ehr.example/fhir/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }

    patient = {"reference": "Patient/p1"}
    condition = {"reference": "Condition/c1"}
    stage = {
        "resourceType": "Observation",
        "status": "final",
        "subject": patient,
        "focus": [condition],
        "method": {"coding": [{"system": "http://snomed.info/sct", "code": "897275008"}]},
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            entry(
                {
                    "resourceType": "Patient",
                    "id": "p1",
                    "identifier": [
                        {
                            "type": {
                                "coding": [
                                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                                ]
                            },
                            "system": "urn:oid:1.2.3",
                            "value": "EHR-778899",
                        }
                    ],
                    "name": [{"family": "Lindgren", "given": ["Astrid", "Maja"]}],
                    "gender": "female",
                    "birthDate": "1958-11-02",
                }
            ),
            entry(
                {
                    "resourceType": "Condition",
                    "id": "c1",
                    "meta": {"profile": [mcode + "mcode-primary-cancer-condition"]},
                    "code": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/sid/icd-10-cm",
                                "code": "C34.11",
                                "display": "Malignant neoplasm of upper lobe, right bronchus or lung",
                            }
                        ]
                    },
                    "bodySite": [
                        {
                            "extension": [
                                {
                                    "url": mcode + "mcode-laterality-qualifier",
                                    "valueCodeableConcept": {
                                        "coding": [{"system": "http://snomed.info/sct", "code": "24028007"}]
                                    },
                                }
                            ]
                        }
                    ],
                    "onsetDateTime": "2026-01-05T10:00:00Z",
                    "subject": patient,
                    "note": [{"text": "Right upper lobe mass, EGFR exon 19 deletion."}],
                }
            ),
            entry(
                {
                    **stage,
                    "id": "sg",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "21908-9"}]},
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://cancerstaging.org", "code": "3A"}]
                    },
                    "hasMember": [
                        {"reference": "Observation/st"},
                        {"reference": "Observation/sn"},
                        {"reference": "Observation/sm"},
                    ],
                }
            ),
            entry(
                {
                    **stage,
                    "id": "st",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "21905-5"}]},
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://cancerstaging.org", "code": "cT2a"}]
                    },
                }
            ),
            entry(
                {
                    **stage,
                    "id": "sn",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "21906-3"}]},
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://cancerstaging.org", "code": "cN2"}]
                    },
                }
            ),
            entry(
                {
                    **stage,
                    "id": "sm",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "21907-1"}]},
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://cancerstaging.org", "code": "cM0"}]
                    },
                }
            ),
            entry(
                {
                    "resourceType": "Observation",
                    "id": "e1",
                    "status": "final",
                    "subject": patient,
                    "code": {"coding": [{"system": "http://loinc.org", "code": "89247-1"}]},
                    "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA9624-3"}]},
                }
            ),
            entry(
                {
                    "resourceType": "Observation",
                    "id": "m1",
                    "meta": {"profile": [mcode + "mcode-tumor-marker-test"]},
                    "status": "final",
                    "subject": patient,
                    "code": {
                        "coding": [
                            {
                                "system": "http://loinc.org",
                                "code": "2039-6",
                                "display": "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma",
                            }
                        ],
                        "text": "CEA",
                    },
                    "valueQuantity": {"value": 7.20, "unit": "ng/mL"},
                    "effectiveDateTime": "2026-01-03",
                }
            ),
            entry(
                {
                    "resourceType": "Procedure",
                    "id": "x1",
                    "status": "completed",
                    "subject": patient,
                    "code": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "367336001"}],
                        "text": "Carboplatin and pemetrexed",
                    },
                    "performedPeriod": {"start": "2025-11-01", "end": "2025-12-20"},
                }
            ),
            entry(
                {
                    "resourceType": "ServiceRequest",
                    "id": "r1",
                    "status": "active",
                    "intent": "order",
                    "subject": patient,
                    "priority": "asap",
                    "reasonReference": [condition],
                    "note": [{"text": "Surgery after induction?"}],
                }
            ),
        ],
    }


async def test_a_bundle_from_another_system_makes_a_case(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    response = await post_bundle(api, team.presenter, minimal_bundle())
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["patient"] == {
        "mrn": "EHR-778899",
        "given_name": "Astrid Maja",
        "family_name": "Lindgren",
        "birth_date": "1958-11-02",
        "sex": "female",
    }
    assert case["disease_site"] == "thoracic" and case["urgency"] == "urgent"
    assert case["diagnosis"] == {
        "code": "C34.11",
        "system": "ICD-10-CM",
        "display": "Malignant neoplasm of upper lobe, right bronchus or lung",
        "diagnosed_on": "2026-01-05",
        "laterality": "right",
    }
    assert case["stage"] == {
        "system": "AJCC8",
        "type": "clinical",
        "t": "cT2a",
        "n": "cN2",
        "m": "cM0",
        "group": "IIIA",
    }
    assert case["ecog"] == 2
    assert case["biomarkers"] == [
        {"name": "CEA", "value": "7.2", "loinc": "2039-6", "unit": "ng/mL", "tested_on": "2026-01-03"}
    ]
    assert case["prior_treatments"] == [
        {
            "modality": "systemic_therapy",
            "description": "Carboplatin and pemetrexed",
            "started_on": "2025-11-01",
            "ended_on": "2025-12-20",
        }
    ]
    assert (
        case["summary"] == "Right upper lobe mass, EGFR exon 19 deletion."
        and case["question"] == "Surgery after induction?"
    )
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE action = 'create' AND subject_type = 'case' AND subject_id = $1",
        case["id"],
    )
    assert audited == 1


# ---------------------------------------------------------------------------------------------------------
# Refusals: a 400 naming the resource and element, no value repeated, nothing stored


def _edit(path: list[Any], value: Any) -> Any:
    def change(bundle: dict[str, Any]) -> dict[str, Any]:
        target: Any = bundle
        for step in path[:-1]:
            target = target[step]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return bundle

    return change


_DELETE = object()
PATIENT, CONDITION, GROUP, T = 0, 1, 2, 3
REFUSALS = [
    (
        "no patient",
        lambda b: {**b, "entry": b["entry"][1:]},
        "Bundle.entry",
        "must contain a Patient resource",
    ),
    (
        "malformed diagnosis code",
        _edit(["entry", CONDITION, "resource", "code", "coding", 0, "code"], "C3X.11.Z9"),
        "Bundle.entry[1].resource(Condition).code.coding[0].code",
        "must be an ICD-10-CM code",
    ),
    (
        "impossible birth date",
        _edit(["entry", PATIENT, "resource", "birthDate"], "1958-02-30"),
        "Bundle.entry[0].resource(Patient).birthDate",
        "is not a date of the calendar",
    ),
    (
        "malformed date",
        _edit(["entry", PATIENT, "resource", "birthDate"], "02/11/1958"),
        "Bundle.entry[0].resource(Patient).birthDate",
        "is not a valid FHIR date",
    ),
    (
        "diagnosis in the future",
        _edit(["entry", CONDITION, "resource", "onsetDateTime"], "2999-01-01"),
        "Bundle.entry[1].resource(Condition).onsetDateTime",
        "must not be in the future",
    ),
    (
        "unknown stage prefix",
        _edit(["entry", T, "resource", "valueCodeableConcept"], {"text": "xT2a"}),
        "Bundle.entry[3].resource(Observation).valueCodeableConcept",
        "unknown prefix",
    ),
    (
        "stage without its group",
        lambda b: {**b, "entry": [e for i, e in enumerate(b["entry"]) if i != GROUP]},
        "Bundle.entry",
        "needs the stage group",
    ),
    (
        "treatment ended before it started",
        _edit(["entry", 8, "resource", "performedPeriod"], {"start": "2025-12-20", "end": "2025-11-01"}),
        "Bundle.entry[8].resource(Procedure).performed[x]",
        "must not be before the start date",
    ),
    (
        "a code given as a number",
        _edit(["entry", CONDITION, "resource", "code", "coding", 0, "code"], 3411),
        "Bundle.entry[1].resource(Condition).code.coding[0].code",
        "has the wrong type",
    ),
    (
        "an unknown resource type",
        _edit(["entry", 7, "resource", "resourceType"], "TumorMarker"),
        "Bundle.entry[7].resource.resourceType",
        "is not a FHIR R4 resource type",
    ),
    (
        "no question",
        _edit(["entry", 9, "resource", "note"], _DELETE),
        "Bundle.entry[9].resource(ServiceRequest).note",
        "is required",
    ),
    ("not a bundle", lambda b: b["entry"][0]["resource"], "Bundle.resourceType", "must be Bundle"),
    ("a history bundle", _edit(["type"], "history"), "Bundle.type", "must be one of"),
    (
        "a second patient",
        lambda b: {**b, "entry": [*b["entry"], copy.deepcopy(b["entry"][0])]},
        "Bundle.entry[10].resource(Patient)",
        "is a second Patient",
    ),
    (
        "a subject elsewhere",
        _edit(["entry", 7, "resource", "subject"], {"reference": "Patient/someone-else"}),
        "Bundle.entry[7].resource(Observation).subject",
        "must refer to the bundle's Patient",
    ),
]


@pytest.mark.parametrize(
    ("change", "key", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
async def test_a_bad_bundle_is_refused_naming_the_element(
    api: Factory, pool: asyncpg.Pool, change: Any, key: str, message: str
) -> None:
    team = await api.team()
    bundle = change(minimal_bundle())
    response = await post_bundle(api, team.presenter, bundle)
    assert response.status_code == 400, response.text
    problems = response.json()["extra"]
    assert any(p["key"] == key and message in p["message"] for p in problems), problems
    for secret in ("EHR-778899", "Lindgren", "Astrid", "1958", "C3X", "xT2a", "3411", "someone-else"):
        assert secret not in response.text
    assert await case_count(pool) == 0


async def test_malformed_json_and_other_media_types(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    broken = await post_bundle(api, team.presenter, b'{"resourceType": "Bundle", ')
    assert broken.status_code == 400 and broken.json()["extra"][0]["key"] == "body"
    text = await api.client.post(
        "/cases",
        content=json.dumps(case_body()),
        headers={**team.presenter.headers, "Content-Type": "text/plain"},
    )
    assert text.status_code == 415 and "application/fhir+json" in text.json()["detail"]
    xml = await api.client.post(
        "/cases",
        content=b"<Bundle/>",
        headers={**team.presenter.headers, "Content-Type": "application/fhir+xml"},
    )
    assert xml.status_code == 415
    assert await case_count(pool) == 0


async def test_only_presenters_import_bundles(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    refused = await post_bundle(api, team.chair, minimal_bundle())
    assert refused.status_code == 403 and await case_count(pool) == 0


async def test_a_deadline_in_the_past_names_the_request_element(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    bundle = minimal_bundle()
    bundle["entry"][9]["resource"]["occurrenceDateTime"] = "2020-01-01"
    response = await post_bundle(api, team.presenter, bundle)
    assert response.status_code == 400
    (problem,) = response.json()["extra"]
    assert problem["key"] == "Bundle.entry[9].resource(ServiceRequest).occurrence[x]"
    assert "must not be in the past" in problem["message"] and await case_count(pool) == 0
