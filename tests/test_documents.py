"""The documents: each PDF is archival (PDF/A-2a, tagged, fonts embedded) and says everything its HTML
page says, patient text stays text, and rendering leaves the event loop free and ends cleanly when a
worker stops (no database needed)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.document_checks import archival_facts, html_facts, missing_from_pdf, pdf_pages, pdf_text
from tests.test_care_plan_documents import (
    MRN,
    NOW,
    make_amended_document,
    make_dissent_document,
    make_document,
    make_final_document,
    make_long_document,
    with_attendance,
)
from tumorboard.boards.schemas import ChecklistItemKind
from tumorboard.care_plans.document_model import care_plan_model
from tumorboard.care_plans.documents import render_html, render_pdf
from tumorboard.care_plans.schemas import (
    CarePlanDocument,
    PlanBiomarker,
    PlanCode,
    PlanComorbidity,
    PlanDiagnosis,
    PlanPriorTreatment,
    PlanStage,
)
from tumorboard.care_plans.versions import diff_documents
from tumorboard.cases.schemas import Biomarker, CaseClinical, CodedTerm, Diagnosis, Stage
from tumorboard.documents import pdf
from tumorboard.enums import MeetingStatus
from tumorboard.meetings.documents import agenda_model, fingerprint, render_agenda_html
from tumorboard.meetings.schemas import Agenda, AgendaCase, MeetingSummary, Participant, Quorum

# ---------------------------------------------------------------------------------------------------------
# Documents to check


def with_structured_intake(document: CarePlanDocument) -> CarePlanDocument:
    """A care plan whose case carries every field of the structured intake."""
    content = msgspec.structs.replace(
        document.content,
        diagnosis=PlanDiagnosis(
            code="C50.412",
            system="ICD-10-CM",
            display="Malignant neoplasm of upper-outer quadrant of left female breast",
            diagnosed_on=date(2025, 1, 8),
            laterality="left",
            topography=PlanCode(code="C50.4", display="Upper-outer quadrant of breast"),
            morphology=PlanCode(code="8500/3", display="Infiltrating duct carcinoma, NOS"),
        ),
        stage=PlanStage(
            system="AJCC", edition=8, type="pathological", t="pT2", n="pN1a", m="cM0", group="IIB"
        ),
        biomarkers=[
            PlanBiomarker(
                name="HER2", value="positive (3+)", loinc="85319-2", method="IHC", tested_on=date(2025, 1, 10)
            ),
            PlanBiomarker(name="Ki-67", value="30", unit="%"),
        ],
        prior_treatments=[
            PlanPriorTreatment(
                modality="systemic_therapy", description="Tamoxifen", started_on=date(2025, 2, 1)
            )
        ],
        comorbidities=[
            PlanComorbidity(name="Type 2 diabetes mellitus without complications", code="E11.9"),
            PlanComorbidity(name="Mild asthma"),
        ],
        treatment_started=True,
    )
    return msgspec.structs.replace(document, content=content)


def without_decision(document: CarePlanDocument) -> CarePlanDocument:
    """A version built before the board's decisions were recorded."""
    return msgspec.structs.replace(document, content=msgspec.structs.replace(document.content, decision=None))


def later_draft() -> tuple[CarePlanDocument, Any]:
    """A second draft and what changed since the first."""
    older = make_document()
    newer = msgspec.structs.replace(
        make_dissent_document(),
        version=older.version + 1,
        content=msgspec.structs.replace(make_dissent_document().content, case_id=older.content.case_id),
    )
    return newer, diff_documents(older, newer)


CARE_PLANS = {
    "draft": lambda: (make_document(), None),
    "final": lambda: (make_final_document(), None),
    "differing views": lambda: (make_dissent_document(), None),
    "amendment": lambda: (make_amended_document(), None),
    "changes since the last draft": later_draft,
    "attendance and quorum override": lambda: (
        with_attendance(make_document(quorum_override="Pathology agreed in writing.")),
        None,
    ),
    "structured intake": lambda: (with_structured_intake(make_final_document()), None),
    "minimal": lambda: (make_document(minimal=True), None),
    "before decisions were recorded": lambda: (without_decision(make_dissent_document()), None),
    "several pages": lambda: (make_long_document(), None),
}


def make_agenda(*, items: int = 2, sent: bool = True) -> Agenda:
    """A locked agenda of a board in Berlin, with a ready case and one missing its pathology report."""
    starts = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
    meeting = MeetingSummary(
        id=uuid.uuid4(),
        board_id=uuid.uuid4(),
        board_name="Breast Tumor Board",
        starts_at=starts,
        duration_minutes=60,
        location="Room 4B",
        video_url="https://video.example.org/board",
        capacity=10,
        case_count=items,
        submission_deadline=starts,
        status=MeetingStatus.SCHEDULED,
        created_at=starts,
        time_zone="Europe/Berlin",
        minutes_per_case=10,
        agenda_locks_at=starts,
        agenda_locked_at=starts,
    )
    clinical = CaseClinical(
        diagnosis=Diagnosis(
            code="C50.412",
            system="ICD-10-CM",
            display="Malignant neoplasm of upper-outer quadrant of left female breast",
            laterality="left",
            morphology=CodedTerm(code="8500/3", display="Infiltrating duct carcinoma, NOS"),
        ),
        stage=Stage(system="AJCC8", type="pathological", t="pT2", n="pN1a", m="cM0", group="IIB"),
        ecog=1,
        biomarkers=[
            Biomarker(name="HER2", value="positive (3+)"),
            Biomarker(name="Ki-67", value="30", unit="%"),
        ],
    )
    cases = [
        AgendaCase(
            id=uuid.uuid4(),
            status="scheduled",
            urgency="urgent" if number == 0 else "routine",
            disease_site="breast",
            presenter_id=uuid.uuid4(),
            patient_name=f"Delacroix, Marguerite {number}",
            presenter_name="Dr. Ines Amaral",
            position=number + 1,
            slot_starts_at=starts,
            slot_ends_at=starts,
            ready=number == 0,
            missing_items=[] if number == 0 else [ChecklistItemKind.PATHOLOGY_REPORT],
            late_addition=number == 1,
            clinical=clinical,
        )
        for number in range(items)
    ]
    return Agenda(
        meeting=meeting,
        participants=[
            Participant(
                user_id=uuid.uuid4(), full_name="Dr. Ada Okafor", discipline="medical_oncology", role="chair"
            )
        ],
        quorum=Quorum(
            required=["medical_oncology", "pathology"], covered=["medical_oncology"], missing=["pathology"]
        ),
        items=cases,
        ready_count=1,
        unready_count=max(items - 1, 0),
        ends_at=starts,
        agenda_sent_at=starts if sent else None,
    )


def agenda_pdf(agenda: Agenda) -> bytes:
    return pdf.render_pdf("agenda", agenda_model(agenda))


# ---------------------------------------------------------------------------------------------------------
# One model: the PDF says what the HTML says


@pytest.mark.parametrize("variant", list(CARE_PLANS))
def test_every_fact_of_the_care_plan_page_is_in_its_pdf(variant: str) -> None:
    document, changes = CARE_PLANS[variant]()
    html = render_html(document, changes)
    assert len(html_facts(html)) > 100
    assert missing_from_pdf(html, render_pdf(document, changes)) == []


def test_a_fact_missing_from_the_pdf_is_noticed() -> None:
    final_page = render_html(make_final_document())
    missing = missing_from_pdf(final_page, render_pdf(make_document()))
    assert "Approved as the board's care plan" in missing and "Signed by" in missing


@pytest.mark.parametrize("items", [0, 2])
def test_every_fact_of_the_agenda_page_is_in_its_pdf(items: int) -> None:
    agenda = make_agenda(items=items)
    html = render_agenda_html(agenda_model(agenda))
    assert missing_from_pdf(html, agenda_pdf(agenda)) == []
    text = pdf_text(agenda_pdf(agenda))
    assert "Wednesday 04 March 2026, 08:00\N{EN DASH}08:00 (Europe/Berlin)" in text  # the board's time zone
    if items:
        assert "(left) · Infiltrating duct carcinoma, NOS · pathological pT2 pN1a cM0, group IIB" in text
        assert "Missing: pathology report" in text and "(added after the lock)" in text


def test_the_clinical_summary_of_the_care_plan_reads_as_on_the_case_page() -> None:
    document = with_structured_intake(make_final_document())
    text = pdf_text(render_pdf(document))
    for expected in (
        "Malignant neoplasm of upper-outer quadrant of left female breast ICD-10-CM C50.412",
        "Diagnosed 08 Jan 2025",
        "Upper-outer quadrant of breast ICD-O-3 C50.4 · Laterality: Left",
        "Infiltrating duct carcinoma, NOS ICD-O-3 8500/3",
        "Pathological: pT2 pN1a cM0, group IIB (AJCC 8th edition)",
        "HER2: positive (3+) (IHC, 10 Jan 2025) LOINC 85319-2",
        "Ki-67: 30 %",
        "Systemic therapy \N{EN DASH} Tamoxifen (since 01 Feb 2025)",
        "Type 2 diabetes mellitus without complications ICD-10-CM E11.9",
        "Yes, before the board",
    ):
        assert expected in text, expected


# ---------------------------------------------------------------------------------------------------------
# Archival, identified and marked on every page


def test_the_signed_pdf_is_archival_tagged_and_embeds_its_fonts() -> None:
    facts = archival_facts(render_pdf(make_final_document()))
    assert (facts["pdfa_part"], facts["pdfa_conformance"]) == ("2", "A")  # PDF/A-2a: archival, accessible
    assert facts["pdfua_part"] == "1"
    assert facts["tagged"] and facts["language"] == "en-GB"
    assert facts["title"] == f"Care plan \N{EN DASH} Delacroix, Marguerite (MRN {MRN})"
    assert facts["fonts"] and all(facts["fonts"].values()), facts["fonts"]
    assert {name.split("+")[-1] for name in facts["fonts"]} == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSansMono",
    }


def test_the_agenda_pdf_is_archival_too() -> None:
    facts = archival_facts(agenda_pdf(make_agenda()))
    assert (facts["pdfa_part"], facts["pdfa_conformance"], facts["tagged"]) == ("2", "A", True)
    assert all(facts["fonts"].values())


def test_every_page_names_the_patient_its_status_and_its_number() -> None:
    for document, status in (
        (make_long_document(), "DRAFT \N{EN DASH} NOT SIGNED"),
        (make_final_document(), "FINAL"),
    ):
        pages = pdf_pages(render_pdf(document))
        for number, page in enumerate(pages, start=1):
            assert f"DELACROIX, Marguerite · MRN {MRN}" in page
            assert f"Version 2 · {status}" in page
            assert f"Page {number} of {len(pages)}" in page
    assert len(pdf_pages(render_pdf(make_long_document()))) >= 3


def test_patient_text_is_printed_as_typed_never_read_as_markup() -> None:
    typed = '#set page(fill: red) = Heading *bold* _it_ $x^2$ <tag> @ref `raw` \\ "quoted" -- ... ~ // no'

    document = make_document(summary=typed)
    pages = pdf_pages(render_pdf(document))
    assert typed in " ".join(pages)
    assert len(pages) == len(pdf_pages(render_pdf(make_document())))


def test_names_in_any_script_print_and_what_no_font_has_is_spelled_out() -> None:
    document = make_final_document()
    patient = msgspec.structs.replace(document.content.patient, given_name="王芳", family_name="김")
    content = msgspec.structs.replace(
        document.content, patient=patient, summary="Ελένη, Иван, שלום, مرحبا, 患者, こんにちは; Thai สวัสดี."
    )
    rendered = render_pdf(msgspec.structs.replace(document, content=content))
    text = pdf_text(rendered)
    assert "Ελένη, Иван," in text and "שלום" in text and "مرحبا" in text  # DejaVu
    assert "患者, こんにちは" in text  # Droid Sans Fallback
    assert "Thai [U+0E2A][U+0E27][U+0E31][U+0E2A][U+0E14][U+0E35]." in text  # no font here has Thai
    for page in pdf_pages(rendered):
        assert f"[U+AE40], 王芳 · MRN {MRN}" in page  # Hangul too
    facts = archival_facts(rendered)
    assert (facts["pdfa_part"], facts["pdfa_conformance"]) == ("2", "A") and all(facts["fonts"].values())


def test_one_version_gives_the_same_pdf_every_time() -> None:
    document = make_final_document()
    assert render_pdf(document) == render_pdf(document)
    assert render_pdf(document) != render_pdf(make_final_document())  # another version


def test_the_fingerprint_follows_what_the_document_shows() -> None:
    agenda = make_agenda()
    assert fingerprint(agenda_model(agenda)) == fingerprint(agenda_model(make_agenda_like(agenda)))
    assert fingerprint(agenda_model(agenda)) != fingerprint(agenda_model(make_agenda(sent=False)))


def make_agenda_like(agenda: Agenda) -> Agenda:
    return msgspec.convert(msgspec.to_builtins(agenda), Agenda)


# ---------------------------------------------------------------------------------------------------------
# Off the event loop


async def test_rendering_leaves_the_event_loop_free() -> None:
    ticks = 0
    rendering = True

    async def tick() -> None:
        nonlocal ticks
        while rendering:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    started = ticks
    body = await pdf.render_pdf_off_loop("care_plan", care_plan_model(make_long_document()), created_at=NOW)
    rendering = False
    await ticker
    assert body.startswith(b"%PDF-") and ticks - started > 1


# The worker's way out (tumorboard/cli.py): arq cancels the running jobs, the loop ends, then
# `stop_rendering`. The first render has started when the jobs are cancelled; two more wait behind it.
_STOPPING_WORKER = """
import asyncio, threading
from tests.test_care_plan_documents import make_long_document
from tumorboard.care_plans.document_model import care_plan_model
from tumorboard.documents import pdf

model = care_plan_model(make_long_document())
started, compile, typeset = threading.Event(), pdf._compile, []

def counted(*args):
    started.set()
    typeset.append(compile(*args))
    return typeset[-1]

pdf._compile = counted

async def stop_while_rendering():
    jobs = [asyncio.ensure_future(pdf.render_pdf_off_loop("care_plan", model)) for _ in range(3)]
    await asyncio.to_thread(started.wait)
    for job in jobs:
        job.cancel()

asyncio.run(stop_while_rendering())
pdf.stop_rendering()
print(len(typeset), typeset[0][:5].decode(), threading.active_count())
"""


def test_a_stopping_worker_finishes_the_document_it_renders_and_drops_the_rest() -> None:
    stopped = subprocess.run(
        [sys.executable, "-c", _STOPPING_WORKER],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert (stopped.returncode, stopped.stderr) == (0, "")
    assert stopped.stdout.split() == ["1", "%PDF-", "1"]  # one document, whole; no thread left running
