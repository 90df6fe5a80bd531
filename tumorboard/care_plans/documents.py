"""Care plan documents: the HTML page and the PDF, both laid out from one document model (the FHIR
Bundle is in fhir.py)."""

from __future__ import annotations

from datetime import datetime

import jinja2

from tumorboard.care_plans.document_model import CarePlanModel, care_plan_model
from tumorboard.care_plans.schemas import CarePlanDiff, CarePlanDocument
from tumorboard.documents import pdf
from tumorboard.documents.text import register_filters
from tumorboard.settings import TEMPLATES_DIR

HTML_TEMPLATE = "care_plan.html"
PDF_TEMPLATE = "care_plan"  # templates/documents/care_plan.typ

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
    undefined=jinja2.StrictUndefined,
)
register_filters(_ENV)


def html_of(model: CarePlanModel) -> str:
    """A care plan's document model as a self-contained HTML page."""
    return _ENV.get_template(HTML_TEMPLATE).render(d=model)


def render_html(document: CarePlanDocument, changes: CarePlanDiff | None = None) -> str:
    """The care plan as a self-contained HTML page, with what changed since `changes.from_version`."""
    return html_of(care_plan_model(document, changes))


def render_pdf(document: CarePlanDocument, changes: CarePlanDiff | None = None) -> bytes:
    """The care plan as an archival PDF (PDF/A-2a, tagged), from the same model as the HTML page.
    CPU work of a few tens of milliseconds: from async code, use `render_pdf_off_loop`."""
    return pdf.render_pdf(PDF_TEMPLATE, care_plan_model(document, changes), created_at=_created_at(document))


async def render_pdf_off_loop(document: CarePlanDocument, changes: CarePlanDiff | None = None) -> bytes:
    """`render_pdf` in the process's rendering thread, off the event loop."""
    model = care_plan_model(document, changes)
    return await pdf.render_pdf_off_loop(PDF_TEMPLATE, model, created_at=_created_at(document))


def _created_at(document: CarePlanDocument) -> datetime:
    # A signed version's PDF is made when it is signed; a draft's when the version was built. The same
    # version in the same status therefore always gives the same bytes.
    return document.signature.signed_at if document.signature else document.generated_at
