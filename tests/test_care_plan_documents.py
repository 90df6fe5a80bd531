"""Care plan documents: HTML, PDF and FHIR built from a CarePlanDocument (no database needed)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime
from html import unescape
from typing import Any, Literal

import msgspec
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from tumorboard.care_plans.documents import render_html, render_pdf
from tumorboard.care_plans.fhir import build_fhir_bundle
from tumorboard.care_plans.schemas import (
    CarePlanContent,
    CarePlanDocument,
    CarePlanSignature,
    PlanAmendment,
    PlanBiomarker,
    PlanDecision,
    PlanDiagnosis,
    PlanDifferingView,
    PlanGuideline,
    PlanMeeting,
    PlanParticipant,
    PlanPatient,
    PlanProposal,
    PlanQuorum,
    PlanRecommendation,
    PlanStage,
)
from tumorboard.care_plans.versions import diff_documents
from tumorboard.labels import label

MRN = "MRN-004217"
PLAN = ["systemic_therapy", "surgery", "radiation"]
ALT_PLAN = ["surgery", "radiation", "systemic_therapy"]
NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
HASH = "3f7a9c" + "0" * 58
SUMMARY = "62-year-old woman with a 3.1 cm left breast mass, biopsy-proven invasive ductal carcinoma."


# ---------------------------------------------------------------------------------------------------------
# Factory


def make_recommendation(
    discipline: str,
    author: str,
    modalities: list[str] | None = None,
    *,
    intent: str = "curative",
    summary: str | None = None,
    rationale: str | None = "Locally advanced disease; neoadjuvant therapy improves resectability.",
    guideline: PlanGuideline | None = None,
    trial_id: str | None = None,
) -> PlanRecommendation:
    """One reviewer's recommendation."""
    return PlanRecommendation(
        id=uuid.uuid4(),
        discipline=discipline,
        author_name=author,
        intent=intent,
        modalities=list(modalities if modalities is not None else PLAN),
        summary=summary or f"{label(discipline)} recommends the sequence above.",
        rationale=rationale,
        guideline=guideline,
        trial_id=trial_id,
        version=1,
        updated_at=NOW,
    )


def default_recommendations() -> list[PlanRecommendation]:
    nccn = PlanGuideline(name="NCCN Breast Cancer", version="4.2024", concordant=True)
    return [
        make_recommendation("medical_oncology", "Dr. Ada Okafor", guideline=nccn, trial_id="NCT04567890"),
        make_recommendation("surgical_oncology", "Dr. Bruno Lindqvist", guideline=nccn),
        make_recommendation("radiation_oncology", "Dr. Chiara Benassi"),
    ]


def make_document(
    *,
    recommendations: list[PlanRecommendation] | None = None,
    consensus: bool = True,
    proposals: list[PlanProposal] | None = None,
    status: Literal["draft", "final"] = "draft",
    signed: bool = False,
    minimal: bool = False,
    summary: str = SUMMARY,
    absent: list[str] | None = None,
    quorum_override: str | None = None,
) -> CarePlanDocument:
    """A care plan document; `minimal` leaves every optional field out."""
    recs = recommendations if recommendations is not None else default_recommendations()
    if proposals is None:
        proposals = [
            PlanProposal(intent="curative", modalities=PLAN, supporters=[r.author_name for r in recs])
        ]
    meeting = PlanMeeting(
        id=uuid.uuid4(),
        board_name="Breast Tumor Board",
        starts_at=datetime(2025, 3, 12, 7, 30, tzinfo=UTC),
        duration_minutes=60,
        location=None if minimal else "Conference room 4B",
        participants=[
            PlanParticipant(full_name="Dr. Ada Okafor", discipline="medical_oncology", role="chair"),
            PlanParticipant(full_name="Dr. Bruno Lindqvist", discipline="surgical_oncology", role="reviewer"),
            PlanParticipant(full_name="Dr. Chiara Benassi", discipline="radiation_oncology", role="reviewer"),
            PlanParticipant(full_name="Dr. Dana Pruitt", discipline=None, role="reviewer"),
        ],
        quorum=PlanQuorum(
            required=["medical_oncology", "surgical_oncology", "radiation_oncology", "pathology"],
            covered=["medical_oncology", "surgical_oncology", "radiation_oncology"],
            missing=["pathology"],
        ),
    )
    content = CarePlanContent(
        case_id=uuid.uuid4(),
        disease_site="breast",
        urgency="routine" if minimal else "urgent",
        patient=PlanPatient(
            mrn=MRN,
            given_name="Marguerite",
            family_name="Delacroix",
            birth_date=date(1962, 7, 9),
            sex="female",
        ),
        diagnosis=PlanDiagnosis(
            code="C50.412",
            system="ICD-10-CM",
            display="Malignant neoplasm of upper-outer quadrant of left female breast",
        ),
        histology=None if minimal else "Invasive ductal carcinoma, grade 2",
        stage=None if minimal else PlanStage(system="AJCC8", t="cT2", n="cN1", m="cM0", group="IIB"),
        ecog=None if minimal else 1,
        biomarkers=[]
        if minimal
        else [
            PlanBiomarker(name="ER", value="positive (90%)"),
            PlanBiomarker(name="HER2", value="negative (IHC 1+)"),
        ],
        summary=summary,
        question="Should neoadjuvant systemic therapy precede surgery?",
        meeting=meeting,
        recommendations=recs,
        consensus=consensus,
        intent="curative",
        modalities=list(PLAN),
        proposals=proposals,
        absent_disciplines=absent if absent is not None else ([] if minimal else ["pathology"]),
        trial_ids=[] if minimal else ["NCT04567890"],
        decision=PlanDecision(
            id=uuid.uuid4(),
            revision=1,
            outcome="plan",
            intent="curative",
            modalities=list(PLAN),
            summary="Neoadjuvant systemic therapy, then breast-conserving surgery and radiotherapy.",
            rationale=None if minimal else "Node-positive disease; downstaging allows breast conservation.",
            trial_status=None if minimal else "eligible",
            trial_id=None if minimal else "NCT04567890",
            stage_discussed=None if minimal else True,
            quorum_override=quorum_override,
            decided_by_name="Dr. Ada Okafor",
            decided_at=NOW,
        ),
        differing_views=[
            PlanDifferingView(
                recommendation_id=r.id,
                discipline=r.discipline,
                author_name=r.author_name,
                version=r.version,
                intent=r.intent,
                modalities=r.modalities,
                summary=r.summary,
                rationale=r.rationale,
            )
            for r in recs
            if (r.intent, r.modalities) != ("curative", PLAN)
        ],
    )
    signature = (
        CarePlanSignature(
            signed_by=uuid.uuid4(), signed_by_name="Dr. Ada Okafor", signed_at=NOW, content_hash=HASH
        )
        if signed
        else None
    )
    return CarePlanDocument(
        id=uuid.uuid4(),
        version=2,
        status=status,
        generated_at=NOW,
        content=content,
        signature=signature,
    )


def make_dissent_document() -> CarePlanDocument:
    recs = default_recommendations()
    recs[1] = make_recommendation("surgical_oncology", "Dr. Bruno Lindqvist", ALT_PLAN)
    proposals = [
        PlanProposal(intent="curative", modalities=PLAN, supporters=["Dr. Ada Okafor", "Dr. Chiara Benassi"]),
        PlanProposal(intent="curative", modalities=ALT_PLAN, supporters=["Dr. Bruno Lindqvist"]),
    ]
    return make_document(recommendations=recs, consensus=False, proposals=proposals)


def make_final_document() -> CarePlanDocument:
    return make_document(status="final", signed=True)


def make_long_document() -> CarePlanDocument:
    long_text = " ".join(
        ["The multidisciplinary discussion weighed toxicity, comorbidity and patient preference."] * 12
    )
    disciplines = [
        "medical_oncology",
        "surgical_oncology",
        "radiation_oncology",
        "pathology",
        "radiology",
        "genetics",
    ]
    recs = [
        make_recommendation(d, f"Dr. Reviewer {i}", summary=long_text, rationale=long_text)
        for i, d in enumerate(disciplines, start=1)
    ]
    return make_document(recommendations=recs)


def pdf_pages(document: CarePlanDocument) -> list[str]:
    reader = PdfReader(io.BytesIO(render_pdf(document)))
    return [page.extract_text() or "" for page in reader.pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------------------------------------------------
# HTML


def test_label_prints_enum_values_for_people() -> None:
    assert label("systemic_therapy") == "Systemic therapy"
    assert label("medical_oncology") == "Medical oncology"
    assert label("upper_gi") == "Upper GI"
    assert label(None) == "—"


def test_html_shows_patient_diagnosis_and_authors() -> None:
    html = render_html(make_document())
    for text in (
        "Marguerite",
        "Delacroix",
        MRN,
        "C50.412",
        "ICD-10-CM",
        "Invasive ductal carcinoma",
        "IIB",
        "cT2",
    ):
        assert text in html
    for author in ("Dr. Ada Okafor", "Dr. Bruno Lindqvist", "Dr. Chiara Benassi"):
        assert author in html
    assert "Should neoadjuvant systemic therapy precede surgery?" in html
    assert "Breast Tumor Board" in html
    assert "NCCN Breast Cancer" in html and "NCT04567890" in html
    assert "systemic_therapy" not in html


def test_html_lists_consolidated_modalities_in_order() -> None:
    html = render_html(make_document())
    plan = html[html.index("The board's decision") :]
    positions = [plan.index(text) for text in ("Systemic therapy", "Surgery", "Radiation")]
    assert positions == sorted(positions)
    assert "Consensus reached" in html
    assert "Neoadjuvant systemic therapy, then breast-conserving surgery" in plan
    assert "Eligible · <strong>NCT04567890</strong>" in plan and "Dr. Ada Okafor (chair)" in plan


def test_html_marks_draft_and_not_signed() -> None:
    html = render_html(make_document())
    assert "DRAFT" in html and "Not signed" in html
    assert "FINAL" not in html


def test_html_marks_final_with_signature() -> None:
    html = render_html(make_final_document())
    assert "FINAL" in html and "DRAFT" not in html
    assert "Not signed" not in html
    assert HASH in html and "Signed by" in html


def test_html_lists_the_views_that_differ_from_the_decision() -> None:
    html = unescape(render_html(make_dissent_document()))
    assert "Consensus reached" not in html
    assert "No consensus" in html
    views = html[html.index("differ from the board's decision") : html.index("Guideline concordance")]
    assert "Dr. Bruno Lindqvist" in views and "Surgery → Radiation → Systemic therapy" in views
    assert "Dr. Chiara Benassi" not in views


def test_one_opinion_is_never_printed_as_consensus() -> None:
    html = render_html(make_document(recommendations=default_recommendations()[:1], consensus=False))
    assert "Consensus reached" not in html and "never a consensus on one opinion" in html


def test_a_quorum_override_is_printed_with_its_reason() -> None:
    reason = "Pathology reviewed the slides beforehand and agreed in writing."
    html = render_html(make_document(quorum_override=reason))
    meeting = html[html.index("<h2>Meeting</h2>") : html.index("Recommendations by discipline")]
    assert "Decided without quorum" in meeting and reason in meeting
    assert "Decided without quorum" not in render_html(make_document())


def test_the_signature_says_who_when_and_what_it_means() -> None:
    html = unescape(render_html(make_final_document()))
    signature = html[html.index("Status and signature") :]
    assert "Dr. Ada Okafor" in signature and "14 Mar 2025, 15:30 UTC" in signature
    assert "Approved as the board's care plan" in signature
    pdf = squash(" ".join(pdf_pages(make_final_document())))
    assert "Approved as the board's care plan" in pdf


def test_html_lists_absent_disciplines_and_quorum_gap() -> None:
    html = render_html(make_document(absent=["pathology"]))
    assert "Required disciplines that did not recommend" in html
    assert "Pathology" in html


def test_html_without_optional_fields() -> None:
    html = render_html(make_document(minimal=True))
    assert "Not recorded" in html
    assert "No clinical trial was proposed" in html
    assert "did not recommend" not in html


def test_html_escapes_free_text() -> None:
    html = render_html(make_document(summary='<script>alert("x")</script> & more'))
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_html_is_self_contained() -> None:
    html = render_html(make_document())
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert "hyphens" not in html
    assert "http://" not in html and "https://" not in html


# ---------------------------------------------------------------------------------------------------------
# PDF


def test_pdf_page_one_has_identity_question_and_plan() -> None:
    pages = pdf_pages(make_document())
    text = squash(" ".join(pages))
    first = squash(pages[0])
    assert "DELACROIX" in first and MRN in first
    assert "Page 1 of" in first
    assert "Should neoadjuvant systemic therapy precede surgery?" in text
    plan = text[text.index("The board's decision") :]
    positions = [plan.index(word) for word in ("Systemic therapy", "Surgery", "Radiation")]
    assert positions == sorted(positions)


def test_long_pdf_has_identity_and_page_numbers_on_every_page() -> None:
    pages = pdf_pages(make_long_document())
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        flat = squash(text)
        assert MRN in flat
        assert "DELACROIX" in flat
        assert f"Page {number} of {len(pages)}" in flat


def test_pdf_final_has_signature() -> None:
    text = squash(" ".join(pdf_pages(make_final_document())))
    assert "FINAL" in text and "Dr. Ada Okafor" in text


# ---------------------------------------------------------------------------------------------------------
# FHIR


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def loinc_codes(bundle: dict[str, Any]) -> set[str]:
    return {c["code"] for obs in resources(bundle, "Observation") for c in obs["code"].get("coding", [])}


def test_fhir_bundle_holds_patient_condition_observations_and_plan() -> None:
    bundle = build_fhir_bundle(make_document())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "document"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Condition", "CarePlan", "Observation"} <= kinds
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in bundle["entry"])
    assert {"21908-9", "89247-1"} <= loinc_codes(bundle)

    (patient,) = resources(bundle, "Patient")
    assert patient["identifier"][0]["value"] == MRN
    assert patient["gender"] == "female" and patient["birthDate"] == "1962-07-09"

    (condition,) = resources(bundle, "Condition")
    assert condition["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "C50.412",
        "display": "Malignant neoplasm of upper-outer quadrant of left female breast",
    }
    patient_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert condition["subject"]["reference"] == patient_url


def test_fhir_care_plan_activities_follow_modalities() -> None:
    document = make_document()
    (plan,) = resources(build_fhir_bundle(document), "CarePlan")
    assert plan["status"] == "draft" and plan["intent"] == "plan"
    assert plan["category"][0]["coding"][0]["code"] == "312384001"
    assert len(plan["activity"]) == len(document.content.modalities)
    assert [a["detail"]["code"]["text"] for a in plan["activity"]] == [
        "Systemic therapy",
        "Surgery",
        "Radiation",
    ]
    assert all(a["detail"]["status"] == "not-started" for a in plan["activity"])
    assert "author" not in plan


def test_fhir_final_plan_is_active_and_authored() -> None:
    (plan,) = resources(build_fhir_bundle(make_final_document()), "CarePlan")
    assert plan["status"] == "active"
    assert plan["author"]["display"] == "Dr. Ada Okafor"


def test_fhir_dissent_is_recorded_as_notes() -> None:
    (plan,) = resources(build_fhir_bundle(make_dissent_document()), "CarePlan")
    notes = " ".join(n["text"] for n in plan["note"])
    assert "The board's decision, recorded by Dr. Ada Okafor" in notes
    assert "Dissent of Dr. Bruno Lindqvist" in notes and "Dissent of Dr. Chiara Benassi" not in notes
    legacy = make_dissent_document()
    legacy = msgspec.structs.replace(legacy, content=msgspec.structs.replace(legacy.content, decision=None))
    (old_plan,) = resources(build_fhir_bundle(legacy), "CarePlan")
    assert "Dissenting proposal 2" in " ".join(n["text"] for n in old_plan["note"])


def test_fhir_minimal_document_has_no_observations() -> None:
    bundle = build_fhir_bundle(make_document(minimal=True))
    assert resources(bundle, "Observation") == []
    (plan,) = resources(bundle, "CarePlan")
    assert [n["text"] for n in plan["note"]] == [
        "The board's decision, recorded by Dr. Ada Okafor: "
        "Neoadjuvant systemic therapy, then breast-conserving surgery and radiotherapy."
    ]


@pytest.mark.parametrize("factory", [make_document, make_dissent_document, make_final_document])
def test_fhir_bundle_round_trips_through_validation(factory: Any) -> None:
    bundle = build_fhir_bundle(factory())
    again = Bundle.model_validate(bundle)
    assert again.model_dump(mode="json") == bundle


def test_fhir_bundle_is_stable_for_the_same_document() -> None:
    document = make_document()
    assert build_fhir_bundle(document) == build_fhir_bundle(document)


def test_fhir_maps_icd_o_3_and_unknown_sex() -> None:
    document = make_document()
    content = msgspec.structs.replace(
        document.content,
        diagnosis=PlanDiagnosis(code="8500/3", system="ICD-O-3", display="Infiltrating duct carcinoma, NOS"),
        patient=msgspec.structs.replace(document.content.patient, sex="not_stated"),
    )
    bundle = build_fhir_bundle(msgspec.structs.replace(document, content=content))
    (condition,) = resources(bundle, "Condition")
    assert condition["code"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/icd-o-3"
    assert condition["code"]["coding"][0]["code"] == "8500/3"
    (patient,) = resources(bundle, "Patient")
    assert patient["gender"] == "unknown"


# ---------------------------------------------------------------------------------------------------------
# Guideline concordance, dissent, attendance, amendments and changes


def make_amended_document() -> CarePlanDocument:
    document = make_final_document()
    amendment = PlanAmendment(
        replaces_id=uuid.uuid4(),
        replaces_version=1,
        reason="Pathology review upgraded the tumour.",
        requested_by_name="Dr. Ada Okafor",
        requested_at=NOW,
    )
    return msgspec.structs.replace(
        document, content=msgspec.structs.replace(document.content, amendment=amendment)
    )


def with_attendance(document: CarePlanDocument) -> CarePlanDocument:
    meeting = document.content.meeting
    participants = [
        msgspec.structs.replace(p, attendance="present" if i < 2 else "absent")
        for i, p in enumerate(meeting.participants)
    ]
    quorum = msgspec.structs.replace(meeting.quorum, basis="attendance")
    meeting = msgspec.structs.replace(meeting, participants=participants, quorum=quorum)
    return msgspec.structs.replace(
        document, content=msgspec.structs.replace(document.content, meeting=meeting)
    )


def test_non_concordance_says_why_not_in_every_format() -> None:
    why = PlanGuideline(
        name="NCCN Breast Cancer", version="4.2024", concordant=False, reason="ECOG 3; frail."
    )
    silent = PlanGuideline(name="ESMO", concordant=False)
    recs = [
        make_recommendation("medical_oncology", "Dr. Ada Okafor", guideline=why),
        make_recommendation("surgical_oncology", "Dr. Bruno Lindqvist", guideline=silent),
    ]
    document = make_document(recommendations=recs)
    html = render_html(document)
    table = html[html.index("Guideline concordance") : html.index("Clinical trial considerations")]
    assert "Why not" in table and "ECOG 3; frail." in table and "No reason given" in table
    pdf = squash(" ".join(pdf_pages(document)))
    assert "ECOG 3; frail." in pdf
    (plan,) = resources(build_fhir_bundle(document), "CarePlan")
    notes = [n["text"] for n in plan["note"]]
    assert (
        "Not concordant with NCCN Breast Cancer (4.2024) (Dr. Ada Okafor, Medical oncology): ECOG 3; frail."
        in notes
    )
    assert any("ESMO" in n and "no reason given" in n for n in notes)


def test_dissenting_views_are_quoted_and_attributed() -> None:
    document = make_dissent_document()
    dissenter = document.content.recommendations[1]
    html = unescape(render_html(document))
    views = html[html.index("differ from the board's decision") : html.index("Guideline concordance")]
    assert "Dr. Bruno Lindqvist" in views and f"“{dissenter.summary}”" in views
    assert "Dr. Ada Okafor" not in views  # she proposed the decided plan
    (plan,) = resources(build_fhir_bundle(document), "CarePlan")
    assert f"Dissent of Dr. Bruno Lindqvist (Surgical oncology): “{dissenter.summary}”" in [
        n["text"] for n in plan["note"]
    ]


def test_attendance_and_quorum_basis_are_printed() -> None:
    before = render_html(make_document())
    assert (
        "participants invited (attendance not taken yet)" in before
        and '<th style="width: 15%">Attendance' not in before
    )
    after = render_html(with_attendance(make_document()))
    assert "participants present" in after
    table = after[after.index('<div class="label">Attendance') : after.index("Recommendations by discipline")]
    assert table.count('badge ok">Present') == 2 and table.count('badge warn">Absent') == 2


def test_amendment_is_printed_and_points_to_the_replaced_version() -> None:
    document = make_amended_document()
    html = render_html(document)
    assert "Amendment of signed version 1" in html and "Pathology review upgraded the tumour." in html
    assert "Signed version 1 (amendment)" in html
    pdf = squash(" ".join(pdf_pages(document)))
    assert "Amendment of signed version 1" in pdf and HASH in pdf.replace(" ", "")
    bundle = build_fhir_bundle(document)
    Bundle.model_validate(bundle)
    (plan,) = resources(bundle, "CarePlan")
    assert plan["replaces"][0]["identifier"]["value"] == str(document.content.amendment.replaces_id)
    assert f"Content hash (SHA-256): {HASH}" in [n["text"] for n in plan["note"]]


def test_changes_since_the_previous_version_are_printed() -> None:
    older = make_document()
    newer = make_dissent_document()
    newer = msgspec.structs.replace(
        newer,
        version=older.version + 1,
        content=msgspec.structs.replace(
            newer.content,
            case_id=older.content.case_id,
            recommendations=[
                older.content.recommendations[0],
                msgspec.structs.replace(
                    newer.content.recommendations[1], id=older.content.recommendations[1].id
                ),
            ],
        ),
    )
    changes = diff_documents(older, newer)
    assert [c.field for c in changes.changes][:2] == ["consensus", "proposals"]
    assert [(r.change, r.author_name) for r in changes.recommendations] == [
        ("changed", "Dr. Bruno Lindqvist"),
        ("removed", "Dr. Chiara Benassi"),
    ]
    html = render_html(newer, changes)
    section = html[html.index(f"Changes since version {older.version}") :]
    assert "Surgery → Radiation → Systemic therapy" in section and "Removed" in section
    assert "Changes since" not in render_html(newer)
    assert "Changes since" in squash(" ".join(pdf_pages_with(newer, changes)))


def pdf_pages_with(document: CarePlanDocument, changes: Any) -> list[str]:
    reader = PdfReader(io.BytesIO(render_pdf(document, changes)))
    return [page.extract_text() or "" for page in reader.pages]
