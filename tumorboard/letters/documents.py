"""The letter's content from a signed care plan version, and its rendering (HTML, then PDF).

The content is a `LetterDocument` built here; `templates/referrer_letter.html` only lays it out. The
PDF is rendered the way care plans are (weasyprint, in the worker's rendering process), so the letter
can move to another renderer with the care plans by printing the same model.
"""

from __future__ import annotations

import jinja2
import weasyprint
from weasyprint.urls import URLFetcher

from tumorboard.care_plans.documents import register_filters
from tumorboard.care_plans.schemas import CarePlanDocument, PlanReferrer
from tumorboard.labels import label
from tumorboard.letters.schemas import LetterDocument, LetterStep
from tumorboard.notifications.email import case_reference
from tumorboard.settings import TEMPLATES_DIR

TEMPLATE_NAME = "referrer_letter.html"
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


def _trial(document: CarePlanDocument) -> str | None:
    decision = document.content.decision
    if decision is None or decision.trial_status in (None, "not_considered"):
        return None
    words = label(decision.trial_status).lower()
    return f"Clinical trial: {words}" + (f" ({decision.trial_id})." if decision.trial_id else ".")


def letter_document(document: CarePlanDocument, referrer: PlanReferrer, contact_name: str) -> LetterDocument:
    """What the letter to the referrer says about a signed version."""
    content = document.content
    signature = document.signature
    assert signature is not None, "a letter tells a signed plan"
    decision = content.decision
    stage = content.stage
    amendment = content.amendment
    return LetterDocument(
        case_id=content.case_id,
        reference=case_reference(content.case_id),
        version=document.version,
        written_on=signature.signed_at.date(),
        recipient=referrer,
        board_name=content.meeting.board_name,
        meeting_on=content.meeting.starts_at.date(),
        patient_name=f"{content.patient.given_name} {content.patient.family_name}",
        patient_birth_date=content.patient.birth_date,
        patient_mrn=content.patient.mrn,
        diagnosis=f"{content.diagnosis.display} ({content.diagnosis.system} {content.diagnosis.code})",
        stage=f"{stage.t} {stage.n} {stage.m}, stage {stage.group}" if stage else None,
        question=content.question,
        intent=content.intent,
        steps=[
            LetterStep(number=number, modality=modality, words=_STEP_WORDS.get(modality, label(modality)))
            for number, modality in enumerate(content.modalities, start=1)
        ],
        summary=decision.summary if decision else "",
        rationale=decision.rationale if decision else None,
        trial=_trial(document),
        consensus=content.consensus,
        contact_name=contact_name,
        signed_by_name=signature.signed_by_name,
        signed_at=signature.signed_at,
        amends_version=amendment.replaces_version if amendment else None,
        amendment_reason=amendment.reason if amendment else None,
    )


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    register_filters(env)
    return env


_ENV = _environment()


def render_html(letter: LetterDocument) -> str:
    """The letter as a self-contained HTML page."""
    return _ENV.get_template(TEMPLATE_NAME).render(letter=letter)


def render_pdf(letter: LetterDocument) -> bytes:
    """The letter as PDF (CPU work: run it in the rendering process, never on the event loop)."""
    html = weasyprint.HTML(
        string=render_html(letter),
        base_url=str(TEMPLATES_DIR),
        url_fetcher=URLFetcher(allowed_protocols=frozenset()),  # nothing is fetched
    )
    pdf: bytes = html.write_pdf()
    return pdf
