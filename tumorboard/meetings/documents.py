"""Meeting documents: the agenda and the meeting pack as HTML pages, and the PDFs weasyprint renders
from the same HTML. Each is rendered from its document model (`Agenda`, `MeetingPack`) by a template
of its own, so the content does not depend on the rendering engine."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import jinja2
import weasyprint
from weasyprint.urls import URLFetcher

from tumorboard.boards.schemas import describe_items
from tumorboard.meetings.pack_schemas import MeetingPack
from tumorboard.meetings.schemas import Agenda
from tumorboard.settings import TEMPLATES_DIR

TEMPLATE_NAME = "agenda.html"
PACK_TEMPLATE_NAME = "meeting_pack.html"


def local(moment: datetime | None, time_zone: str, pattern: str) -> str:
    """A moment in a time zone, formatted (``—`` when absent)."""
    return moment.astimezone(ZoneInfo(time_zone)).strftime(pattern) if moment else "—"


def label(value: object) -> str:
    """An enum value as people read it: ``surgical_oncology`` -> ``Surgical oncology``."""
    if value is None or value == "":
        return "—"
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def _items(values: Iterable[str]) -> str:
    return describe_items(list(values))


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(local=local, label=label, items=_items)


def render_agenda_html(agenda: Agenda) -> str:
    """The agenda as a self-contained HTML page."""
    return _ENV.get_template(TEMPLATE_NAME).render(agenda=agenda)


def render_pack_html(pack: MeetingPack) -> str:
    """The meeting pack as a self-contained HTML page."""
    return _ENV.get_template(PACK_TEMPLATE_NAME).render(pack=pack)


def fingerprint(html: str) -> str:
    """SHA-256 of a rendered document: the same content gives the same document."""
    return hashlib.sha256(html.encode()).hexdigest()


def render_pdf(html: str) -> bytes:
    """A meeting document's page as PDF (CPU-heavy: call it off the event loop)."""
    # The page is self-contained: refuse every external fetch.
    document = weasyprint.HTML(
        string=html, base_url=str(TEMPLATES_DIR), url_fetcher=URLFetcher(allowed_protocols=frozenset())
    )
    pdf: bytes = document.write_pdf()
    return pdf
