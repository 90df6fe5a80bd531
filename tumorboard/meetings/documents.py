"""The meeting documents, the agenda and the meeting pack: each a document model laid out as an HTML
page (templates/agenda.html, templates/meeting_pack.html) and as a PDF (templates/documents/agenda.typ,
templates/documents/meeting_pack.typ), so both say the same thing. The pack's model is built in
`tumorboard/meetings/pack_document.py`.

The models carry no clock reading: the same agenda gives the same model, hence the same
fingerprint, and its stored PDF is found again by that fingerprint.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import jinja2
import msgspec

from tumorboard.boards.schemas import describe_items
from tumorboard.documents import pdf
from tumorboard.documents.clinical import Line, clinical_line
from tumorboard.documents.text import labels, local_time, register_filters, time_span
from tumorboard.labels import label
from tumorboard.meetings.pack_document import PackModel
from tumorboard.meetings.schemas import Agenda
from tumorboard.settings import TEMPLATES_DIR

HTML_TEMPLATE = "agenda.html"
PDF_TEMPLATE = "agenda"  # templates/documents/agenda.typ
PACK_HTML_TEMPLATE = "meeting_pack.html"


class AgendaState(msgspec.Struct, kw_only=True, frozen=True):
    """A note on the agenda's state: locked, sent, how many cases are ready."""

    text: str
    warn: bool = False


class AgendaItem(msgspec.Struct, kw_only=True, frozen=True):
    """A case on the agenda, in order, with its slot and readiness."""

    position: int
    slot: str
    patient_name: str
    late_addition: bool
    clinical: Line | None
    disease_site: str
    urgency: str
    urgent: bool
    presenter: str
    ready: bool
    readiness: str


class AgendaParticipant(msgspec.Struct, kw_only=True, frozen=True):
    """A participant of the meeting."""

    name: str
    discipline: str
    role: str


class AgendaModel(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the agenda's HTML page and PDF print; times in the board's time zone."""

    title: str
    board_name: str
    when: str
    location: str | None
    video_url: str | None
    states: list[AgendaState]
    items: list[AgendaItem]
    required: str
    not_covered: str | None
    participants: list[AgendaParticipant]


def _states(agenda: Agenda, zone: ZoneInfo) -> list[AgendaState]:
    m = agenda.meeting
    states = [AgendaState(text=f"Meeting {label(m.status)}", warn=True)] if m.status != "scheduled" else []
    if m.agenda_locked_at:
        states.append(
            AgendaState(text=f"Agenda locked {local_time(m.agenda_locked_at, zone, '%d %b %Y %H:%M')}")
        )
    else:
        states.append(
            AgendaState(
                text=f"Draft agenda \N{EN DASH} locks {local_time(m.agenda_locks_at, zone, '%d %b %Y %H:%M')}"
            )
        )
    if agenda.agenda_sent_at:
        states.append(AgendaState(text=f"Sent {local_time(agenda.agenda_sent_at, zone, '%d %b %Y %H:%M')}"))
    states.append(AgendaState(text=f"{len(agenda.items)} case(s), {m.minutes_per_case} min each"))
    states.append(
        AgendaState(
            text=f"{agenda.ready_count} ready, {agenda.unready_count} not ready",
            warn=agenda.unready_count > 0,
        )
    )
    return states


def agenda_model(agenda: Agenda) -> AgendaModel:
    """The agenda document's model, with every time in the board's time zone."""
    m = agenda.meeting
    zone = ZoneInfo(m.time_zone)
    return AgendaModel(
        title=f"Agenda \N{EN DASH} {m.board_name}, {local_time(m.starts_at, zone, '%d %b %Y %H:%M')}",
        board_name=m.board_name,
        when=f"{time_span(m.starts_at, agenda.ends_at, zone, '%A %d %B %Y, %H:%M')} ({m.time_zone})",
        location=m.location or None,
        video_url=m.video_url or None,
        states=_states(agenda, zone),
        items=[
            AgendaItem(
                position=item.position,
                slot=time_span(item.slot_starts_at, item.slot_ends_at, zone),
                patient_name=item.patient_name,
                late_addition=item.late_addition,
                clinical=clinical_line(item.clinical) if item.clinical else None,
                disease_site=label(item.disease_site),
                urgency=label(item.urgency),
                urgent=item.urgency == "urgent",
                presenter=item.presenter_name,
                ready=item.ready,
                readiness="Ready"
                if item.ready
                else f"Missing: {describe_items([str(kind) for kind in item.missing_items])}",
            )
            for item in agenda.items
        ],
        required=labels(agenda.quorum.required),
        not_covered=labels(agenda.quorum.missing) or None,
        participants=[
            AgendaParticipant(name=p.full_name, discipline=label(p.discipline), role=label(p.role))
            for p in agenda.participants
        ],
    )


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
register_filters(_ENV)


def render_agenda_html(model: AgendaModel) -> str:
    """The agenda as a self-contained HTML page."""
    return _ENV.get_template(HTML_TEMPLATE).render(d=model)


def render_pack_html(model: PackModel) -> str:
    """The meeting pack as a self-contained HTML page."""
    return _ENV.get_template(PACK_HTML_TEMPLATE).render(d=model)


def fingerprint(model: AgendaModel) -> str:
    """What the agenda's PDF is made from, hashed: the same agenda gives the same document."""
    return pdf.fingerprint(PDF_TEMPLATE, model)


async def render_agenda_pdf(model: AgendaModel) -> bytes:
    """The agenda as an archival PDF, typeset off the event loop."""
    return await pdf.render_pdf_off_loop(PDF_TEMPLATE, model)
