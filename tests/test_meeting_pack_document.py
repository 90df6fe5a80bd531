"""The meeting pack as a document: its PDF says everything its HTML page says, is archival, words the
clinical summary like every other document and gives each case a page (no database needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from tests.document_checks import archival_facts, html_facts, missing_from_pdf, pdf_pages, pdf_text
from tumorboard.cases.schemas import (
    Biomarker,
    CaseClinical,
    CodedTerm,
    Comorbidity,
    Diagnosis,
    PriorTreatment,
    Stage,
)
from tumorboard.documents import pdf
from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, Intent, Modality, Urgency
from tumorboard.meetings.documents import render_pack_html
from tumorboard.meetings.pack_document import PDF_TEMPLATE, pack_model
from tumorboard.meetings.pack_schemas import MeetingPack, PackCase, PackProposal, PackRecommendation
from tumorboard.meetings.schemas import Participant
from tumorboard.recommendations.schemas import Guideline, Trial

STARTS = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
AGREED = [Modality.SYSTEMIC_THERAPY, Modality.SURGERY, Modality.RADIATION]
SURGERY_FIRST = [Modality.SURGERY, Modality.RADIATION]
TYPED = "Node status #set page(fill: red) *unclear* $x^2$ <tag> @ref -- ... ~ // as typed"

CLINICAL = CaseClinical(
    diagnosis=Diagnosis(
        code="C50.412",
        system="ICD-10-CM",
        display="Malignant neoplasm of upper-outer quadrant of left female breast",
        diagnosed_on=date(2025, 1, 8),
        laterality="left",
        topography=CodedTerm(code="C50.4", display="Upper-outer quadrant of breast"),
        morphology=CodedTerm(code="8500/3", display="Infiltrating duct carcinoma, NOS"),
    ),
    stage=Stage(system="AJCC8", type="clinical", t="cT2", n="cN1", m="cM0", group="IIB"),
    ecog=1,
    biomarkers=[Biomarker(name="HER2", value="positive (3+)", loinc="85319-2", method="IHC")],
    prior_treatments=[
        PriorTreatment(modality="systemic_therapy", description="Tamoxifen", started_on=date(2025, 2, 1))
    ],
    comorbidities=[Comorbidity(name="Type 2 diabetes mellitus without complications", code="E11.9")],
    treatment_started=True,
)


def _recommendation(
    discipline: Discipline, letter: str, modalities: list[Modality], summary: str, **more: object
) -> PackRecommendation:
    fields: dict[str, object] = {"rationale": None, "guideline": None, "trial": None, **more}
    return PackRecommendation(
        proposal=letter,
        discipline=discipline,
        author_name=f"Dr. {discipline.split('_')[0].title()}",
        version=2,
        intent=Intent.CURATIVE,
        modalities=modalities,
        summary=summary,
        **fields,  # type: ignore[arg-type]
    )


def _case(position: int, **fields: object) -> PackCase:
    base: dict[str, object] = {
        "id": uuid.uuid4(),
        "position": position,
        "slot_starts_at": STARTS + timedelta(minutes=10 * (position - 1)),
        "slot_ends_at": STARTS + timedelta(minutes=10 * position),
        "status": CaseStatus.SCHEDULED,
        "urgency": Urgency.ROUTINE,
        "patient_name": f"Delacroix, Marguerite {position}",
        "mrn": f"MRN-{position:05d}",
        "birth_date": date(1961, 5, 17),
        "age": 64,
        "sex": "female",
        "disease_site": DiseaseSite.BREAST,
        "presenter_name": "Dr. Ines Amaral",
        "clinical": CLINICAL,
        "summary": "Palpable mass, biopsy-proven.\nOne suspicious axillary node.",
        "question": "Neoadjuvant therapy before surgery?",
        "recommendations": [],
        "proposals": [],
        "agreed": False,
        "missing_disciplines": [],
    }
    return msgspec.convert({**base, **fields}, PackCase)


def make_pack(*, cases: bool = True) -> MeetingPack:
    """A pack of three cases (agreed and urgent; two differing plans; none yet) of a board in Berlin."""
    agreed = [
        _recommendation(
            Discipline.MEDICAL_ONCOLOGY,
            "A",
            AGREED,
            "Neoadjuvant chemotherapy, surgery, radiotherapy.",
            rationale="Node-positive disease.\nDownstaging makes conservation possible.",
            guideline=Guideline(name="NCCN Breast", version="4.2025", concordant=True),
            trial=Trial(id="NCT01234567"),
        ),
        _recommendation(Discipline.SURGICAL_ONCOLOGY, "A", AGREED, "Agree: neoadjuvant first."),
    ]
    differing = [
        _recommendation(Discipline.SURGICAL_ONCOLOGY, "A", SURGERY_FIRST, "Resectable: operate first."),
        _recommendation(
            Discipline.RADIATION_ONCOLOGY,
            "B",
            AGREED,
            TYPED,
            guideline=Guideline(name="ESMO", concordant=False, reason="Patient preference"),
        ),
    ]
    return MeetingPack(
        meeting_id=uuid.uuid4(),
        board_name="Breast Tumor Board",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
        time_zone="Europe/Berlin",
        location="Room 4B",
        minutes_per_case=10,
        agenda_locked_at=STARTS - timedelta(days=1),
        required_disciplines=[Discipline.MEDICAL_ONCOLOGY, Discipline.PATHOLOGY],
        participants=[
            Participant(
                user_id=uuid.uuid4(), full_name="Dr. Ada Okafor", discipline="medical_oncology", role="chair"
            ),
            Participant(user_id=uuid.uuid4(), full_name="Dr. Lee Chen", discipline=None, role="reviewer"),
        ]
        if cases
        else [],
        cases=[
            _case(
                1,
                urgency=Urgency.URGENT,
                recommendations=agreed,
                proposals=[
                    PackProposal(
                        letter="A",
                        intent=Intent.CURATIVE,
                        modalities=AGREED,
                        disciplines=[Discipline.MEDICAL_ONCOLOGY, Discipline.SURGICAL_ONCOLOGY],
                    )
                ],
                agreed=True,
            ),
            _case(
                2,
                recommendations=differing,
                proposals=[
                    PackProposal(
                        letter="A",
                        intent=Intent.CURATIVE,
                        modalities=SURGERY_FIRST,
                        disciplines=[Discipline.SURGICAL_ONCOLOGY],
                    ),
                    PackProposal(
                        letter="B",
                        intent=Intent.CURATIVE,
                        modalities=AGREED,
                        disciplines=[Discipline.RADIATION_ONCOLOGY],
                    ),
                ],
                missing_disciplines=[Discipline.PATHOLOGY],
            ),
            _case(3, missing_disciplines=[Discipline.MEDICAL_ONCOLOGY, Discipline.PATHOLOGY]),
        ]
        if cases
        else [],
    )


def pack_pdf(pack: MeetingPack) -> bytes:
    return pdf.render_pdf(PDF_TEMPLATE, pack_model(pack))


@pytest.mark.parametrize("cases", [True, False], ids=["three cases", "no cases"])
def test_every_fact_of_the_pack_page_is_in_its_pdf(cases: bool) -> None:
    pack = make_pack(cases=cases)
    html = render_pack_html(pack_model(pack))
    assert len(html_facts(html)) > (100 if cases else 5)
    assert missing_from_pdf(html, pack_pdf(pack)) == []


def test_a_fact_missing_from_the_pack_pdf_is_noticed() -> None:
    missing = missing_from_pdf(render_pack_html(pack_model(make_pack())), pack_pdf(make_pack(cases=False)))
    assert "Every recommendation proposes the same plan." in missing and "Delacroix, Marguerite 2" in missing


def test_the_pack_pdf_is_archival_tagged_and_embeds_its_fonts() -> None:
    facts = archival_facts(pack_pdf(make_pack()))
    assert (facts["pdfa_part"], facts["pdfa_conformance"], facts["pdfua_part"]) == ("2", "A", "1")
    assert facts["tagged"] and facts["language"] == "en-GB"
    assert facts["title"] == "Meeting pack \N{EN DASH} Breast Tumor Board, 04 Mar 2026 08:00"
    assert facts["fonts"] and all(facts["fonts"].values()), facts["fonts"]


def test_each_case_has_its_page_worded_like_every_other_document() -> None:
    pages = pdf_pages(pack_pdf(make_pack()))
    assert len(pages) == 4  # the meeting, then one page per case
    first, *cases = pages
    assert "Wednesday 04 March 2026, 08:00\N{EN DASH}09:00 (Europe/Berlin) · Room 4B" in first
    assert "agenda locked 03 Mar 2026 08:00" in first  # the board's time zone
    assert "Dr. Ada Okafor (Medical oncology, chair); Dr. Lee Chen" in first
    assert "Page 1 of 4" in first and "Meeting of 04 Mar 2026" in first
    for position, page in enumerate(cases, start=1):
        assert f"{position}. Delacroix, Marguerite {position}" in page and f"Page {position + 1} of 4" in page
        for expected in (  # the clinical summary as the case page and the care plan word it
            "Malignant neoplasm of upper-outer quadrant of left female breast ICD-10-CM C50.412",
            "Clinical: cT2 cN1 cM0, group IIB (AJCC 8th edition)",
            "HER2: positive (3+) (IHC) LOINC 85319-2",
            "Systemic therapy \N{EN DASH} Tamoxifen (since 01 Feb 2025)",
            "Type 2 diabetes mellitus without complications ICD-10-CM E11.9",
            "Yes, before the board",
        ):
            assert expected in page, expected
    assert "Every recommendation proposes the same plan." in cases[0]
    assert "Guideline: NCCN Breast 4.2025, concordant" in cases[0] and "NCT01234567" in cases[0]
    assert "The recommendations differ: 2 different plans. Not yet recommended: Pathology." in cases[1]
    assert "ESMO, not concordant (Patient preference)" in cases[1]
    assert "No recommendation yet: awaiting medical oncology, pathology." in cases[2]
    assert TYPED in pdf_text(pack_pdf(make_pack()))  # patient text printed as typed, never markup


def test_the_pack_fingerprint_follows_what_it_shows() -> None:
    pack = make_pack()
    again = msgspec.convert(msgspec.to_builtins(pack), MeetingPack)
    assert pdf.fingerprint(PDF_TEMPLATE, pack_model(pack)) == pdf.fingerprint(PDF_TEMPLATE, pack_model(again))
    moved = msgspec.structs.replace(pack, location="Room 5A")
    assert pdf.fingerprint(PDF_TEMPLATE, pack_model(pack)) != pdf.fingerprint(PDF_TEMPLATE, pack_model(moved))
