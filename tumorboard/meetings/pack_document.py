"""The meeting pack's document model: the pack (`MeetingPack`) as it reads, every time in the board's
time zone and every value worded, laid out as HTML by templates/meeting_pack.html and as PDF by
templates/documents/meeting_pack.typ. It holds no clock reading, so the same pack gives the same
model, hence the same fingerprint."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

import msgspec

from tumorboard.documents.clinical import ClinicalRow, clinical_rows
from tumorboard.documents.text import day, labels, local_time, time_span
from tumorboard.labels import label
from tumorboard.meetings.pack_schemas import MeetingPack, PackCase, PackProposal, PackRecommendation
from tumorboard.meetings.schemas import Participant
from tumorboard.recommendations.schemas import Guideline

PDF_TEMPLATE = "meeting_pack"  # templates/documents/meeting_pack.typ

_THEN = " \N{RIGHTWARDS ARROW} "


class PackProposalModel(msgspec.Struct, kw_only=True, frozen=True):
    """A distinct plan proposed, by its letter, and the disciplines behind it."""

    letter: str
    plan: str
    disciplines: str


class PackRecommendationModel(msgspec.Struct, kw_only=True, frozen=True):
    """One reviewer's recommendation, attributed, with the letter of the plan it proposes."""

    proposal: str
    discipline: str
    byline: str
    plan: str
    summary: str
    rationale: str | None
    guideline: str | None
    trial: str | None


class PackCaseModel(msgspec.Struct, kw_only=True, frozen=True):
    """One case of the pack: its line in the running order and its page."""

    position: int
    heading: str
    slot: str
    patient_name: str
    urgent: bool
    disease_site: str
    presenter: str
    details: str
    recommendation_count: int
    agreement: str | None
    agreed: bool
    awaiting: str | None
    clinical: list[ClinicalRow]
    summary: str
    question: str
    proposals: list[PackProposalModel]
    verdict: str
    verdict_tone: str | None
    not_yet: str | None
    recommendations: list[PackRecommendationModel]


class PackModel(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the meeting pack's HTML page and PDF print."""

    title: str
    board_name: str
    meeting_day: str
    overview: str
    participants: str
    cases: list[PackCaseModel]


def _plan(intent: object, modalities: Iterable[object]) -> str:
    return f"{label(intent)}: {labels(modalities, _THEN)}"


def _guideline(g: Guideline) -> str:
    name = f"{g.name} {g.version}" if g.version else g.name
    verdict = "concordant" if g.concordant else "not concordant"
    return f"{name}, {verdict}" + (f" ({g.reason})" if g.reason else "")


def _recommendation(r: PackRecommendation) -> PackRecommendationModel:
    return PackRecommendationModel(
        proposal=r.proposal,
        discipline=label(r.discipline),
        byline=f"{r.author_name}, version {r.version}",
        plan=_plan(r.intent, r.modalities),
        summary=r.summary,
        rationale=r.rationale,
        guideline=_guideline(r.guideline) if r.guideline else None,
        trial=r.trial.id if r.trial else None,
    )


def _proposal(p: PackProposal) -> PackProposalModel:
    return PackProposalModel(
        letter=p.letter, plan=_plan(p.intent, p.modalities), disciplines=labels(p.disciplines)
    )


def _verdict(case: PackCase, awaiting: str | None) -> tuple[str, str | None]:
    """What the recommendations so far come to, and its tone (ok, bad or none)."""
    if not case.recommendations:
        return "No recommendation yet" + (f": awaiting {awaiting}." if awaiting else "."), "bad"
    if case.agreed:
        return "Every recommendation proposes the same plan.", "ok"
    if len(case.proposals) > 1:
        return f"The recommendations differ: {len(case.proposals)} different plans.", None
    return "One discipline has recommended so far.", None


def _case(case: PackCase, zone: ZoneInfo) -> PackCaseModel:
    awaiting = labels(case.missing_disciplines).lower() or None
    born = day(case.birth_date) + (f" ({case.age} years)" if case.age is not None else "")
    slot = time_span(case.slot_starts_at, case.slot_ends_at, zone)
    verdict, tone = _verdict(case, awaiting)
    return PackCaseModel(
        position=case.position,
        heading=f"{case.position}. {case.patient_name}",
        slot=slot,
        patient_name=case.patient_name,
        urgent=case.urgency == "urgent",
        disease_site=label(case.disease_site),
        presenter=case.presenter_name,
        details=" · ".join(
            (
                slot,
                f"MRN {case.mrn}",
                f"born {born}",
                label(case.sex),
                label(case.disease_site),
                f"presented by {case.presenter_name}",
            )
        ),
        recommendation_count=len(case.recommendations),
        agreement="agreed"
        if case.agreed
        else (f"{len(case.proposals)} different plans" if len(case.proposals) > 1 else None),
        agreed=case.agreed,
        awaiting=awaiting,
        clinical=clinical_rows(case.clinical),
        summary=case.summary,
        question=case.question,
        proposals=[_proposal(p) for p in case.proposals],
        verdict=verdict,
        verdict_tone=tone,
        not_yet=f"Not yet recommended: {labels(case.missing_disciplines)}."
        if case.recommendations and case.missing_disciplines
        else None,
        recommendations=[_recommendation(r) for r in case.recommendations],
    )


def _participant(p: Participant) -> str:
    roles = ([label(p.discipline)] if p.discipline else []) + (["chair"] if p.role == "chair" else [])
    return f"{p.full_name} ({', '.join(roles)})" if roles else p.full_name


def pack_model(pack: MeetingPack) -> PackModel:
    """The meeting pack's document model, with every time in the board's time zone."""
    zone = ZoneInfo(pack.time_zone)
    overview = [f"{time_span(pack.starts_at, pack.ends_at, zone, '%A %d %B %Y, %H:%M')} ({pack.time_zone})"]
    if pack.location:
        overview.append(pack.location)
    overview.append(f"{len(pack.cases)} case(s), {pack.minutes_per_case} min each")
    if pack.agenda_locked_at:
        overview.append(f"agenda locked {local_time(pack.agenda_locked_at, zone, '%d %b %Y %H:%M')}")
    starts = local_time(pack.starts_at, zone, "%d %b %Y %H:%M")
    return PackModel(
        title=f"Meeting pack \N{EN DASH} {pack.board_name}, {starts}",
        board_name=pack.board_name,
        meeting_day=local_time(pack.starts_at, zone, "%d %b %Y"),
        overview=" · ".join(overview),
        participants="; ".join(_participant(p) for p in pack.participants) or "No participants yet.",
        cases=[_case(case, zone) for case in pack.cases],
    )
