"""What a meeting pack costs the worker that renders it.

    .venv/bin/python -m bench.meeting_pack            # 10 cases, 3 recommendations each; a few seconds

Builds a `MeetingPack` in memory (no database: its content is what the worker renders), words it as
the pack's document model and fingerprints it (what a download does too), then typesets the PDF with
Typst as the worker does, `--runs` times after one warm-up (fonts), and reports the median CPU seconds
of each step, the pages and the size. Results go to bench/results/meeting_pack.json;
docs/scheduling.md records figures.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tumorboard.cases.schemas import Biomarker, CaseClinical, Diagnosis, Stage
from tumorboard.documents.pdf import fingerprint, render_pdf
from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, Intent, Modality, Urgency
from tumorboard.meetings.pack_document import PDF_TEMPLATE, pack_model
from tumorboard.meetings.pack_schemas import MeetingPack, PackCase, PackProposal, PackRecommendation

RESULTS = Path(__file__).resolve().parent / "results" / "meeting_pack.json"
AGREED = [Modality.SYSTEMIC_THERAPY, Modality.SURGERY, Modality.RADIATION]
DIFFERING = [Modality.SURGERY, Modality.RADIATION]


def _recommendation(discipline: Discipline, letter: str, modalities: list[Modality]) -> PackRecommendation:
    return PackRecommendation(
        proposal=letter,
        discipline=discipline,
        author_name="Dr. Reviewer",
        version=1,
        intent=Intent.CURATIVE,
        modalities=modalities,
        summary="Neoadjuvant chemotherapy, then breast-conserving surgery, then whole-breast radiotherapy. "
        * 2,
        rationale="Node-positive disease; downstaging makes conservation possible.",
        guideline=None,
        trial=None,
    )


def pack_of(cases: int, meeting: int = 0) -> MeetingPack:
    """A pack of `cases` cases, each with three recommendations (one differing); each `meeting` number
    names other patients, so no two packs share a page (Typst reuses the layout of unchanged ones)."""
    start = datetime(2026, 5, 12, 7, 30, tzinfo=UTC)
    clinical = CaseClinical(
        diagnosis=Diagnosis(code="C50.911", system="ICD-10-CM", display="Malignant neoplasm of breast"),
        histology="Invasive ductal carcinoma, grade 2",
        stage=Stage(system="AJCC8", t="cT2", n="cN1", m="cM0", group="IIB"),
        ecog=1,
        biomarkers=[Biomarker(name=name, value="positive") for name in ("ER", "PR", "HER2")],
    )
    return MeetingPack(
        meeting_id=uuid.uuid4(),
        board_name="Breast Tumor Board",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/Berlin",
        location="Conference room 4B",
        minutes_per_case=6,
        agenda_locked_at=start - timedelta(days=1),
        required_disciplines=[
            Discipline.MEDICAL_ONCOLOGY,
            Discipline.SURGICAL_ONCOLOGY,
            Discipline.RADIATION_ONCOLOGY,
        ],
        participants=[],
        cases=[
            PackCase(
                id=uuid.uuid4(),
                position=index + 1,
                slot_starts_at=start + timedelta(minutes=6 * index),
                slot_ends_at=start + timedelta(minutes=6 * index + 6),
                status=CaseStatus.SCHEDULED,
                urgency=Urgency.ROUTINE,
                patient_name=f"Patient{index}-{meeting}, Ada",
                mrn=f"MRN-{index:06d}",
                birth_date=date(1961, 5, 17),
                age=64,
                sex="female",
                disease_site=DiseaseSite.BREAST,
                presenter_name="Dr. Presenter",
                clinical=clinical,
                summary="Palpable mass in the upper-outer quadrant, biopsy-proven; one suspicious node. " * 4,
                question="Neoadjuvant systemic therapy before surgery?",
                recommendations=[
                    _recommendation(Discipline.MEDICAL_ONCOLOGY, "A", AGREED),
                    _recommendation(Discipline.SURGICAL_ONCOLOGY, "A", AGREED),
                    _recommendation(Discipline.RADIATION_ONCOLOGY, "B", DIFFERING),
                ],
                proposals=[
                    PackProposal(
                        letter="A",
                        intent=Intent.CURATIVE,
                        modalities=AGREED,
                        disciplines=[Discipline.MEDICAL_ONCOLOGY, Discipline.SURGICAL_ONCOLOGY],
                    ),
                    PackProposal(
                        letter="B",
                        intent=Intent.CURATIVE,
                        modalities=DIFFERING,
                        disciplines=[Discipline.RADIATION_ONCOLOGY],
                    ),
                ],
                agreed=False,
                missing_disciplines=[],
            )
            for index in range(cases)
        ],
    )


def measure(cases: int, runs: int) -> dict[str, Any]:
    """Median CPU seconds of wording and fingerprinting a pack and of typesetting its PDF, with its pages
    and size."""
    render_pdf(PDF_TEMPLATE, pack_model(pack_of(cases)))  # warm-up: fonts and templates load once
    wording, rendering = [], []
    pdf = b""
    for run in range(1, runs + 1):
        pack = pack_of(cases, run)
        started = time.process_time()
        model = pack_model(pack)
        fingerprint(PDF_TEMPLATE, model)
        worded = time.process_time()
        pdf = render_pdf(PDF_TEMPLATE, model)
        wording.append(worded - started)
        rendering.append(time.process_time() - worded)
    return {
        "cases": cases,
        "runs": runs,
        "model_and_fingerprint_cpu_seconds_median": round(statistics.median(wording), 4),
        "pdf_cpu_seconds_median": round(statistics.median(rendering), 3),
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "bytes": len(pdf),
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    """Measure and write bench/results/meeting_pack.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.cases, args.runs)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
