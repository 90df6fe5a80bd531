"""Care plan documents: the HTML page and the PDF rendered from it (the FHIR Bundle is in fhir.py)."""

from __future__ import annotations

from datetime import date, datetime

import jinja2
import weasyprint
from weasyprint.urls import URLFetcher

from tumorboard.care_plans.schemas import CarePlanDiff, CarePlanDocument
from tumorboard.cases.schemas import age_on
from tumorboard.labels import label
from tumorboard.settings import TEMPLATES_DIR

TEMPLATE_NAME = "care_plan.html"

# Fields whose values are enum values, printed with `label`.
_ENUM_FIELDS = frozenset(
    {"intent", "modalities", "absent_disciplines", "disease_site", "urgency", "sex", "discipline", "role"}
)


# ---------------------------------------------------------------------------------------------------------
# Jinja filters and environment


def date_fmt(value: date | None) -> str:
    """A date as ``14 Mar 2025`` (unambiguous across locales)."""
    return value.strftime("%d %b %Y") if value is not None else "—"


def datetime_fmt(value: datetime | None) -> str:
    """A timestamp as ``14 Mar 2025, 14:30 UTC`` in its own time zone."""
    if value is None:
        return "—"
    zone = value.tzname() or ""
    return f"{value.strftime('%d %b %Y, %H:%M')} {zone}".rstrip()


def change_value(value: object, field: str = "") -> str:
    """A value of a changed field (JSON as stored in a version) in a few readable words."""
    name = field.rsplit(".", 1)[-1]
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        separator = " → " if name == "modalities" else "; "
        return separator.join(change_value(item, field) for item in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{label(key)}: {change_value(item, key)}" for key, item in value.items() if item is not None
        )
    return label(value) if name in _ENUM_FIELDS else str(value)


def field_label(field: str) -> str:
    """A changed field's name as people read it: ``meeting.participants`` -> ``Meeting participants``."""
    return label(field.replace(".", " "))


def register_filters(env: jinja2.Environment) -> None:
    """Register the document filters (``label``, dates, changed values) on a jinja environment."""
    env.filters["label"] = label
    env.filters["date_fmt"] = date_fmt
    env.filters["datetime_fmt"] = datetime_fmt
    env.filters["change_value"] = change_value
    env.filters["field_label"] = field_label


def _build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    register_filters(env)
    return env


_ENV = _build_environment()


# ---------------------------------------------------------------------------------------------------------
# HTML and PDF


def render_html(document: CarePlanDocument, changes: CarePlanDiff | None = None) -> str:
    """The care plan as a self-contained HTML page, with what changed since `changes.from_version`."""
    age = age_on(document.content.patient.birth_date, document.generated_at.date())
    return _ENV.get_template(TEMPLATE_NAME).render(document=document, age=age, changes=changes)


def _no_fetch() -> URLFetcher:
    # The document is self-contained: refuse every external fetch (files, network, data URIs).
    return URLFetcher(allowed_protocols=frozenset())


def render_pdf(document: CarePlanDocument, changes: CarePlanDiff | None = None) -> bytes:
    """The care plan as PDF, rendered from the same HTML (CPU-heavy: call it off the event loop)."""
    page = render_html(document, changes)
    html = weasyprint.HTML(string=page, base_url=str(TEMPLATES_DIR), url_fetcher=_no_fetch())
    pdf: bytes = html.write_pdf()
    return pdf
