"""The letter to the referring clinician as a document: its document model, built from a signed care plan
version with every date, label and sentence worded once, laid out as HTML by
`templates/referrer_letter.html` and as PDF by `templates/documents/referrer_letter.typ` (docs/documents.md).
The model holds no clock reading, so one signed version gives one letter, byte for byte."""

from __future__ import annotations

import jinja2
import msgspec

from tumorboard.care_plans.schemas import CarePlanDocument, PlanReferrer
from tumorboard.documents.text import day, moment
from tumorboard.labels import label
from tumorboard.notifications.email import case_reference
from tumorboard.settings import TEMPLATES_DIR

HTML_TEMPLATE = "referrer_letter.html"
PDF_TEMPLATE = "referrer_letter"  # templates/documents/referrer_letter.typ

# The plan's steps in the words of a letter to a colleague outside the board.
_STEP_WORDS = {
    "surgery": "Surgery",
    "radiation": "Radiotherapy",
    "systemic_therapy": "Systemic therapy",
    "clinical_trial": "Enrolment in a clinical trial",
    "active_surveillance": "Active surveillance",
    "further_workup": "Further work-up before a treatment decision",
    "supportive_care": "Supportive care",
    "other": "Other treatment (see the board's summary)",
}
_DISSENT = "Not every discipline proposed this plan; the care plan records the differing views."


class LetterModel(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the letter prints, as it reads."""

    title: str
    board_name: str
    reference_line: str  # Multidisciplinary tumor board · care plan version 1 · case reference 7c1e4297
    recipient_name: str
    recipient_organisation: str | None
    written_on: str
    heading: str
    patient: str  # under the heading and in every page's footer
    salutation: str
    opening: str
    amendment: str | None  # This letter replaces the one for version 1:
    amendment_reason: str | None
    question: str
    diagnosis: str
    intent: str  # Curative intent.
    summary: str
    rationale: str | None
    dissent: str | None
    steps: list[str]
    trial: str | None
    contact: str
    signer: str
    signer_role: str


def _trial(document: CarePlanDocument) -> str | None:
    decision = document.content.decision
    if decision is None or decision.trial_status in (None, "not_considered"):
        return None
    words = label(decision.trial_status).lower()
    return f"Clinical trial: {words}" + (f" ({decision.trial_id})." if decision.trial_id else ".")


def letter_model(document: CarePlanDocument, referrer: PlanReferrer, contact_name: str) -> LetterModel:
    """What the letter to the referrer says about a signed version; `contact_name` presented the case."""
    content = document.content
    signature = document.signature
    if signature is None:
        raise ValueError("a letter tells a signed plan")
    decision = content.decision
    stage = content.stage
    amendment = content.amendment
    patient = content.patient
    board = content.meeting.board_name
    coded = content.diagnosis
    diagnosis = f"Diagnosis: {coded.display} ({coded.system} {coded.code})"
    return LetterModel(
        title=f"Tumor board outcome \N{EN DASH} letter to {referrer.name}",
        board_name=board,
        reference_line=(
            f"Multidisciplinary tumor board · care plan version {document.version}"
            f" · case reference {case_reference(content.case_id)}"
        ),
        recipient_name=referrer.name,
        recipient_organisation=referrer.organisation,
        written_on=day(signature.signed_at.date()),
        heading="Outcome of the tumor board for your patient" + (" (amended)" if amendment else ""),
        patient=(
            f"{patient.given_name} {patient.family_name}, born {day(patient.birth_date)}, MRN {patient.mrn}"
        ),
        salutation=f"Dear {referrer.name},",
        opening=(
            f"Thank you for referring your patient. The {board} discussed the case at its meeting of"
            f" {day(content.meeting.starts_at.date())}. The board's care plan was signed by"
            f" {signature.signed_by_name} on {moment(signature.signed_at)}."
        ),
        amendment=(
            f"This letter replaces the one for version {amendment.replaces_version}:" if amendment else None
        ),
        amendment_reason=amendment.reason if amendment else None,
        question=content.question,
        diagnosis=diagnosis + (f" · {stage.t} {stage.n} {stage.m}, stage {stage.group}" if stage else ""),
        intent=f"{label(content.intent)} intent.",
        summary=decision.summary if decision else "",
        rationale=decision.rationale if decision else None,
        dissent=None if content.consensus else _DISSENT,
        steps=[_STEP_WORDS.get(modality, label(modality)) for modality in content.modalities],
        trial=_trial(document),
        contact=(
            f"{contact_name}, who presented your patient, coordinates these steps and is your contact for"
            " questions. The full care plan, with each discipline's recommendation, is available to the"
            " treating team in Tumorboard."
        ),
        signer=signature.signed_by_name,
        signer_role=f"Chair, {board}",
    )


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def render_html(letter: LetterModel) -> str:
    """The letter as a self-contained HTML page."""
    return _ENV.get_template(HTML_TEMPLATE).render(d=letter)
