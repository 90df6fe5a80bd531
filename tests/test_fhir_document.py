"""The FHIR document of a care plan version: a Bundle an EHR can file, mCODE profiles with their
required elements, codes by stage type, references that resolve, valid R4B (no database needed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import msgspec
import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.test_care_plan_documents import (
    NOW,
    make_dissent_document,
    make_document,
    make_final_document,
)
from tumorboard.care_plans.fhir import build_fhir_bundle
from tumorboard.care_plans.schemas import (
    CarePlanDocument,
    PlanAmendment,
    PlanBiomarker,
    PlanCode,
    PlanComorbidity,
    PlanDiagnosis,
    PlanPriorTreatment,
    PlanReferrer,
    PlanStage,
)
from tumorboard.fhir import codes
from tumorboard.fhir.intake import read_case
from tumorboard.fhir.resources import encode

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"

# The elements each claimed mCODE STU 4 profile marks "Required" (the IG's data dictionary,
# data-dictionary/mCODEDataDictionary-STU4.json, and the FSH sources under input/fsh), as paths into
# the resource; "a|b" means either. Fixed values are checked separately below.
REQUIRED = {
    MCODE + "mcode-cancer-patient": ["identifier.system", "identifier.value", "name", "gender"],
    MCODE + "mcode-primary-cancer-condition": ["category", "code", "subject"],
    MCODE + "mcode-tnm-stage-group": ["status", "code", "focus", "method"],
    MCODE + "mcode-tnm-primary-tumor-category": ["status", "code", "method"],
    MCODE + "mcode-tnm-regional-nodes-category": ["status", "code", "method"],
    MCODE + "mcode-tnm-distant-metastases-category": ["status", "code", "method"],
    MCODE + "mcode-ecog-performance-status": ["status", "subject", "code", "category"],
    MCODE + "mcode-tumor-marker-test": [
        "status",
        "code",
        "subject",
        "category",
        "valueQuantity|valueString|valueCodeableConcept",
    ],
}
# Their must-support elements the export fills whenever the case holds the data.
MUST_SUPPORT = {
    MCODE + "mcode-primary-cancer-condition": [
        "clinicalStatus",
        "verificationStatus",
        "bodySite",
        "extension",
        "stage.assessment",
    ],
    MCODE + "mcode-tnm-stage-group": ["subject", "valueCodeableConcept", "hasMember"],
    MCODE + "mcode-tnm-primary-tumor-category": ["subject", "focus", "valueCodeableConcept"],
    MCODE + "mcode-ecog-performance-status": ["valueInteger", "interpretation"],
    MCODE + "mcode-tumor-marker-test": ["effectiveDateTime", "extension"],
}
STAGE_CODE_SETS = {  # the value sets each TNM profile binds Observation.code to (required)
    "group": {"21908-9", "21902-2", "21914-7"},
    "t": {"21905-5", "21899-0", "21911-3"},
    "n": {"21906-3", "21900-6", "21912-1"},
    "m": {"21907-1", "21901-4", "21913-9"},
}


def full_document(**changes: Any) -> CarePlanDocument:
    """A signed version of a case with every structured field, a referrer and 20 biomarkers."""
    document = make_final_document()
    diagnosis = PlanDiagnosis(
        code="C50.412",
        system="ICD-10-CM",
        display="Malignant neoplasm of upper-outer quadrant of left female breast",
        diagnosed_on=date(2025, 1, 12),
        laterality="left",
        topography=PlanCode(code="C50.4", display="Upper-outer quadrant of breast"),
        morphology=PlanCode(code="8500/3", display="Infiltrating duct carcinoma, NOS"),
    )
    markers = [
        PlanBiomarker(
            name=f"Marker {i}",
            value=f"{i}.50",
            unit="ng/mL",
            loinc="2857-1",
            tested_on=date(2025, 1, 9),
            method="Immunoassay",
        )
        for i in range(17)
    ] + [
        PlanBiomarker(name="HER2", value="positive (3+)", loinc="85319-2", method="IHC"),
        PlanBiomarker(name="Ki-67", value="30", unit="%"),
        PlanBiomarker(name="EGFR", value="exon 19 deletion", method="NGS"),
    ]
    fields: dict[str, Any] = {
        "diagnosis": diagnosis,
        "stage": PlanStage(
            system="AJCC", edition=8, type="pathological", t="pT2", n="pN1a", m="cM0", group="IIB"
        ),
        "biomarkers": markers,
        "prior_treatments": [
            PlanPriorTreatment(
                modality="surgery",
                description="Lumpectomy",
                started_on=date(2025, 1, 20),
                ended_on=date(2025, 1, 20),
            ),
            PlanPriorTreatment(modality="systemic_therapy", started_on=date(2025, 2, 1)),
        ],
        "comorbidities": [PlanComorbidity(name="Type 2 diabetes mellitus", code="E11.9")],
        "treatment_started": True,
        "discuss_by": date(2025, 3, 31),
        "referrer": PlanReferrer(
            name="Dr. Rita Moreau", organisation="Clinique du Parc", email="rita@parc.example"
        ),
    }
    content = msgspec.structs.replace(document.content, **{**fields, **changes})
    return msgspec.structs.replace(document, content=content)


def amended_document() -> CarePlanDocument:
    amendment = PlanAmendment(
        replaces_id=uuid.uuid4(),
        replaces_version=1,
        reason="Pathology revised.",
        requested_by_name="Dr. Ada Okafor",
        requested_at=NOW,
    )
    return full_document(amendment=amendment)


def hostile_document() -> CarePlanDocument:
    """Strings that must not make the document invalid: control characters, odd spacing, markup."""
    return full_document(
        summary="Line one\x0b with a vertical tab <b>and markup</b> & an ampersand",
        stage=PlanStage(system="UICC", edition=8, t="cT1 (m  2)", n="cN0", m="cM0", group="IA"),
        biomarkers=[
            PlanBiomarker(name="PD-L1", value="≥ 50", unit="%"),
            PlanBiomarker(name="CA 15-3", value="007", unit="U/mL"),  # not written back as 7
        ],
    )


VARIANTS = [
    make_document,
    make_dissent_document,
    make_final_document,
    full_document,
    amended_document,
    hostile_document,
]


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def claiming(bundle: dict[str, Any], profile: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if profile in e["resource"].get("meta", {}).get("profile", [])
    ]


def present(resource: Any, path: str) -> bool:
    """Whether a dotted path has a non-empty value (through lists)."""
    if not path:
        return resource not in (None, "", [], {})
    head, _, rest = path.partition(".")
    if isinstance(resource, list):
        return any(present(item, path) for item in resource)
    if not isinstance(resource, dict) or head not in resource:
        return False
    return present(resource[head], rest)


def references(value: Any) -> Iterator[str]:
    """Every Reference.reference in a resource, at any depth."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


@pytest.mark.parametrize("factory", VARIANTS)
def test_the_document_is_valid_r4b_and_every_reference_resolves(factory: Any) -> None:
    bundle = build_fhir_bundle(factory())
    parsed = Bundle.model_validate(msgspec.json.decode(encode(bundle)))  # as served, decimals included
    assert parsed.type == "document"
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(urls) == len(set(urls))
    unresolved = {ref for ref in references(bundle) if ref not in urls}
    assert unresolved == set()


def test_a_document_bundle_starts_with_its_composition() -> None:
    document = full_document()
    bundle = build_fhir_bundle(document)
    assert bundle["type"] == "document" and bundle["identifier"]["value"] == f"{document.id}:final"
    assert bundle["timestamp"] == "2025-03-14T15:30:00Z"
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "85232-7",
        "display": "Tumor board Consult note",
    }
    assert composition["status"] == "final"
    (patient_entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert composition["subject"]["reference"] == patient_entry["fullUrl"]
    titles = [s["title"] for s in composition["section"]]
    assert titles[:4] == [
        "Question for the board",
        "Clinical data",
        "The board's decision",
        "Recommendations",
    ]
    assert titles[4].startswith("Attendance: Breast Tumor Board")
    decision = composition["section"][2]
    assert decision["code"]["coding"][0]["code"] == "18776-5"
    assert "Neoadjuvant systemic therapy" in decision["text"]["div"]
    (care_plan_entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    assert care_plan_entry["fullUrl"] in [ref["reference"] for ref in decision["entry"]]
    attendance = composition["section"][4]["text"]["div"]
    assert "Dr. Bruno Lindqvist (Surgical oncology, Reviewer)" in attendance and "Quorum" in attendance
    recommendations = composition["section"][3]["text"]["div"]
    assert "Medical oncology, Dr. Ada Okafor (version 1): Curative intent" in recommendations
    assert composition["attester"][0]["mode"] == "legal"


def test_a_draft_is_preliminary_an_amendment_amended_and_only_signed_versions_have_provenance() -> None:
    draft = build_fhir_bundle(make_document())
    assert draft["entry"][0]["resource"]["status"] == "preliminary"
    assert "attester" not in draft["entry"][0]["resource"] and resources(draft, "Provenance") == []
    amended = amended_document()
    bundle = build_fhir_bundle(amended)
    composition = bundle["entry"][0]["resource"]
    assert composition["status"] == "amended"
    assert composition["relatesTo"][0]["targetIdentifier"]["value"] == str(
        amended.content.amendment.replaces_id
    )
    (provenance,) = resources(bundle, "Provenance")
    signer = [
        e["fullUrl"] for e in bundle["entry"] if e["resource"].get("name") == [{"text": "Dr. Ada Okafor"}]
    ]
    assert provenance["agent"][0]["who"]["reference"] == signer[0]
    assert provenance["signature"][0]["who"]["reference"] == signer[0]
    assert provenance["recorded"] == "2025-03-14T15:30:00Z"
    assert {ref["reference"] for ref in provenance["target"]} == {
        bundle["entry"][0]["fullUrl"],
        next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"),
    }


@pytest.mark.parametrize("factory", [full_document, make_final_document])
def test_every_claimed_profile_has_its_required_elements(factory: Any) -> None:
    bundle = build_fhir_bundle(factory())
    claimed = {p for e in bundle["entry"] for p in e["resource"].get("meta", {}).get("profile", [])}
    assert claimed <= set(REQUIRED), "a profile is claimed whose requirements the test does not know"
    for profile, paths in REQUIRED.items():
        for resource in claiming(bundle, profile):
            for path in paths:
                assert any(present(resource, p) for p in path.split("|")), (profile, path)


def test_must_support_elements_are_filled_when_the_case_has_the_data() -> None:
    bundle = build_fhir_bundle(full_document())
    for profile, paths in MUST_SUPPORT.items():
        found = claiming(bundle, profile)
        assert found, profile
        for resource in found:
            missing = [p for p in paths if not present(resource, p)]
            assert missing == [] or profile.endswith("tumor-marker-test"), (profile, missing)


def test_claimed_profiles_fixed_values_and_bindings() -> None:
    bundle = build_fhir_bundle(full_document())
    (condition,) = claiming(bundle, codes.PRIMARY_CANCER_PROFILE)
    assert condition["category"][0]["coding"][0]["code"] == "problem-list-item"
    (ecog,) = claiming(bundle, codes.ECOG_PROFILE)
    assert (
        ecog["code"]["coding"][0]["code"] == "89247-1"
        and ecog["category"][0]["coding"][0]["code"] == "survey"
    )
    assert ecog["valueInteger"] == 1 and ecog["interpretation"][0]["coding"][0]["code"] == "LA9623-5"
    for marker in claiming(bundle, codes.TUMOR_MARKER_PROFILE):
        assert {"laboratory", "250724005"} <= {c["code"] for cat in marker["category"] for c in cat["coding"]}
        assert marker["extension"][0]["valueReference"]["reference"].startswith("urn:uuid:")
    for part, profile in (
        ("group", codes.STAGE_GROUP_PROFILE),
        *((p, codes.CATEGORY_PROFILES[p]) for p in "tnm"),
    ):
        (observation,) = claiming(bundle, profile)
        assert {
            c["code"] for c in observation["code"]["coding"] if c["system"] == "http://loinc.org"
        } & STAGE_CODE_SETS[part]
        assert "component" not in observation
        methods = {c["code"] for c in observation["method"]["coding"]}
        assert "897275008" in methods  # AJCC 8th edition (SNOMED CT), in the TNM staging method value set


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (
            PlanStage(system="AJCC8", type="clinical", t="cT2", n="cN1", m="cM0", group="IIB"),
            ("21908-9", "21905-5", "21906-3", "21907-1"),
        ),
        (
            PlanStage(system="AJCC8", type="pathological", t="pT2", n="pN1a", m="cM0", group="IIB"),
            ("21902-2", "21899-0", "21900-6", "21901-4"),
        ),
        (
            PlanStage(
                system="AJCC8", type="post_therapy_pathological", t="ypT1", n="ypN0", m="cM0", group="IA"
            ),
            ("21914-7", "21911-3", "21912-1", "21913-9"),
        ),
        (
            PlanStage(system="AJCC8", t="pT2", n="pN0", m="cM0", group="IIA"),
            ("21902-2", "21899-0", "21900-6", "21901-4"),
        ),
        (
            PlanStage(system="AJCC8", t="T2", n="N0", m="M0", group="IIA"),
            ("21914-7", "21911-3", "21912-1", "21913-9"),
        ),
    ],
)
def test_stage_codes_follow_the_stage_type(stage: PlanStage, expected: tuple[str, ...]) -> None:
    bundle = build_fhir_bundle(full_document(stage=stage))
    profiles = (codes.STAGE_GROUP_PROFILE, *codes.CATEGORY_PROFILES.values())
    found = tuple(
        next(
            c["code"]
            for c in claiming(bundle, profile)[0]["code"]["coding"]
            if c["system"] == "http://loinc.org"
        )
        for profile in profiles
    )
    assert found == expected
    (group,) = claiming(bundle, codes.STAGE_GROUP_PROFILE)
    (t,) = claiming(bundle, codes.CATEGORY_PROFILES["t"])
    assert (
        group["valueCodeableConcept"]["text"] == stage.group and t["valueCodeableConcept"]["text"] == stage.t
    )
    assert {"system": "http://cancerstaging.org", "code": stage.t, "display": stage.t} in t[
        "valueCodeableConcept"
    ]["coding"]
    assert len(group["hasMember"]) == 3


def test_condition_carries_icd10_icdo3_laterality_histology_and_date_the_mcode_way() -> None:
    bundle = build_fhir_bundle(full_document())
    (condition,) = claiming(bundle, codes.PRIMARY_CANCER_PROFILE)
    assert condition["code"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "C50.412",
            "display": "Malignant neoplasm of upper-outer quadrant of left female breast",
        }
    ]
    site = condition["bodySite"][0]
    assert site["coding"][0] == {
        "system": codes.ICDO3,
        "code": "C50.4",
        "display": "Upper-outer quadrant of breast",
    }
    assert site["extension"][0]["url"] == MCODE + "mcode-laterality-qualifier"
    assert site["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "7771000"
    extensions = {e["url"]: e for e in condition["extension"]}
    histology = extensions[MCODE + "mcode-histology-morphology-behavior"]["valueCodeableConcept"]
    assert histology["coding"][0] == {
        "system": codes.ICDO3,
        "code": "8500/3",
        "display": "Infiltrating duct carcinoma, NOS",
    }
    assert (
        extensions["http://hl7.org/fhir/StructureDefinition/condition-assertedDate"]["valueDateTime"]
        == "2025-01-12"
    )
    assert condition["stage"][0]["assessment"][0]["reference"] == next(
        e["fullUrl"]
        for e in bundle["entry"]
        if codes.STAGE_GROUP_PROFILE in e["resource"].get("meta", {}).get("profile", [])
    )


def test_one_tumor_marker_observation_per_biomarker_with_loinc_and_exact_decimals() -> None:
    document = full_document()
    bundle = build_fhir_bundle(document)
    markers = claiming(bundle, codes.TUMOR_MARKER_PROFILE)
    assert [m["code"]["text"] for m in markers] == [b.name for b in document.content.biomarkers]
    assert markers[0]["code"]["coding"] == [{"system": "http://loinc.org", "code": "2857-1"}]
    assert markers[0]["effectiveDateTime"] == "2025-01-09" and markers[0]["method"]["text"] == "Immunoassay"
    assert "coding" not in markers[-1]["code"]  # EGFR: no LOINC code given
    assert markers[-1]["valueString"] == "exon 19 deletion"
    served = encode(bundle)
    assert (
        b'"valueQuantity":{"value":3.50,"unit":"ng/mL","system":"http://unitsofmeasure.org","code":"ng/mL"}'
        in served
    )
    assert markers[-2]["valueQuantity"]["code"] == "%"


def test_care_plan_has_snomed_category_intent_and_steps_and_references_the_trial() -> None:
    document = full_document()
    bundle = build_fhir_bundle(document)
    (plan,) = resources(bundle, "CarePlan")
    assert plan["category"][0]["coding"][0]["code"] == "312384001"
    intent = plan["extension"][0]
    assert intent["url"] == MCODE + "mcode-procedure-intent"
    assert intent["valueCodeableConcept"]["coding"][0]["code"] == "373808002"
    steps = [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]]
    assert steps == ["416608005", "387713003", "108290001"]
    (study,) = resources(bundle, "ResearchStudy")
    assert study["identifier"][0] == {"system": "https://clinicaltrials.gov", "value": "NCT04567890"}
    study_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is study)
    assert plan["supportingInfo"][0]["reference"] == study_url
    names = {p["name"][0]["text"] for p in resources(bundle, "Practitioner")}
    assert {"Dr. Ada Okafor", "Dr. Bruno Lindqvist", "Dr. Chiara Benassi", "Dr. Rita Moreau"} <= names
    assert plan["author"]["display"] == "Dr. Ada Okafor"


def test_the_board_review_request_carries_the_question_and_the_referrer() -> None:
    bundle = build_fhir_bundle(full_document())
    (request,) = resources(bundle, "ServiceRequest")
    assert request["note"] == [{"text": "Should neoadjuvant systemic therapy precede surgery?"}]
    assert request["priority"] == "urgent" and request["occurrencePeriod"] == {"end": "2025-03-31"}
    role = next(e for e in bundle["entry"] if e["fullUrl"] == request["requester"]["reference"])["resource"]
    assert (
        role["resourceType"] == "PractitionerRole" and role["organization"]["display"] == "Clinique du Parc"
    )
    (procedure, ongoing) = resources(bundle, "Procedure")
    assert procedure["status"] == "completed" and procedure["performedPeriod"] == {
        "start": "2025-01-20",
        "end": "2025-01-20",
    }
    assert ongoing["status"] == "in-progress"


def test_hostile_strings_stay_text_and_keep_the_document_valid() -> None:
    bundle = build_fhir_bundle(hostile_document())
    (condition,) = claiming(bundle, codes.PRIMARY_CANCER_PROFILE)
    assert condition["note"][0]["text"].startswith("Line one")
    clinical = bundle["entry"][0]["resource"]["section"][1]["text"]["div"]
    assert "\x0b" not in clinical and "&lt;b&gt;and markup&lt;/b&gt; &amp; an ampersand" in clinical
    (t,) = claiming(bundle, codes.CATEGORY_PROFILES["t"])
    assert t["valueCodeableConcept"] == {"text": "cT1 (m  2)"}  # not a valid code: text only
    (marker, zeros) = claiming(bundle, codes.TUMOR_MARKER_PROFILE)
    assert marker["valueString"] == "≥ 50" and marker["extension"][1]["valueString"] == "%"
    assert zeros["valueString"] == "007"


def test_the_document_is_the_same_each_time_it_is_built() -> None:
    document = full_document()
    assert encode(build_fhir_bundle(document)) == encode(build_fhir_bundle(document))


CASE_FIELDS = (
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


def plain(value: Any) -> Any:
    """A struct as builtins without its empty values, so a case field and a snapshot field compare."""
    value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@pytest.mark.parametrize("factory", [full_document, hostile_document, amended_document, make_document])
def test_a_document_reads_back_into_the_case_it_describes(factory: Any) -> None:
    document = factory()
    data, sources = read_case(encode(build_fhir_bundle(document)))
    for field in CASE_FIELDS:
        assert plain(getattr(data, field)) == plain(getattr(document.content, field)), field
    assert sources["stage.t"].endswith("resource(Observation).valueCodeableConcept")
