"""The care plan's document model: what the HTML page and the PDF say, worded once.

`care_plan_model` builds it from a version (and what changed since the one it is compared with);
`templates/care_plan.html` lays it out as HTML and `templates/documents/care_plan.typ` as PDF. Every
date, label and choice of wording is made here, so the two cannot say different things.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from tumorboard.care_plans.schemas import (
    CarePlanContent,
    CarePlanDiff,
    CarePlanDocument,
    FieldChange,
    PlanGuideline,
    PlanMeeting,
    PlanRecommendation,
)
from tumorboard.cases.schemas import age_on
from tumorboard.documents.clinical import ClinicalRow, clinical_rows
from tumorboard.documents.text import NOTHING, day, labels, moment
from tumorboard.labels import label

SIGNATURE_MEANING = "Approved as the board's care plan"
# Fields whose values are enum values, printed with `label`.
_ENUM_FIELDS = frozenset(
    {"intent", "modalities", "absent_disciplines", "disease_site", "urgency", "sex", "discipline", "role"}
)


class PatientPart(msgspec.Struct, kw_only=True, frozen=True):
    """Who the plan is for, as the header, the patient table and every page's footer print it."""

    banner: str  # DELACROIX, Marguerite · MRN 123: the patient bar and every page's footer
    name: str
    mrn: str
    born: str  # Born 09 Jul 1962 (62 y)
    birth_date: str
    sex: str
    disease_site: str
    urgency: str
    urgent: bool


class Guideline(msgspec.Struct, kw_only=True, frozen=True):
    """A cited guideline and whether the proposal follows it."""

    name: str  # NCCN Breast Cancer (4.2024)
    concordant: bool
    reason: str | None


class Participant(msgspec.Struct, kw_only=True, frozen=True):
    """A meeting participant and, once the meeting started, whether they attended."""

    name: str
    role: str
    discipline: str
    attendance: str | None
    present: bool


class MeetingPart(msgspec.Struct, kw_only=True, frozen=True):
    """The meeting that decided, its quorum and who took part."""

    board: str
    when: str
    location: str | None
    quorum_met: bool
    missing: str
    required: str
    covered: str
    basis: str
    quorum_override: str | None
    attendance_taken: bool
    participants: list[Participant]


class Recommendation(msgspec.Struct, kw_only=True, frozen=True):
    """One reviewer's recommendation."""

    discipline: str
    byline: str
    intent: str
    modalities: list[str]
    summary: str
    rationale: str | None
    guideline: Guideline | None
    trial_id: str | None


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    """The board's decision as the chair recorded it."""

    summary: str
    rationale: str | None
    guideline: Guideline | None
    trial: str | None
    trial_id: str | None
    stage_discussed: str | None
    recorded_by: str


class View(msgspec.Struct, kw_only=True, frozen=True):
    """A recommendation that differs from the decision, in its author's words."""

    author: str
    discipline: str
    version: int
    intent: str  # lower case: "proposes curative intent"
    sequence: str
    summary: str
    rationale: str | None


class Consensus(msgspec.Struct, kw_only=True, frozen=True):
    """Whether the board agreed, why not, and the views that differ."""

    reached: bool
    statement: str
    views: list[View]


class ConcordanceRow(msgspec.Struct, kw_only=True, frozen=True):
    """One recommendation's guideline and whether it follows it."""

    discipline: str
    author: str
    guideline: str
    concordant: bool
    reason: str | None


class Trial(msgspec.Struct, kw_only=True, frozen=True):
    """A clinical trial proposed for the patient and who proposed it."""

    id: str
    proposed_by: str | None


class ChangeRow(msgspec.Struct, kw_only=True, frozen=True):
    """One line of what changed since an earlier version."""

    what: str
    before: str
    after: str


class Changes(msgspec.Struct, kw_only=True, frozen=True):
    """What changed since the version this one is compared with."""

    from_version: int
    to_version: int
    rows: list[ChangeRow]


class Amendment(msgspec.Struct, kw_only=True, frozen=True):
    """The signed version an amendment replaces and why."""

    replaces_version: int
    requested_by: str
    requested_at: str
    reason: str


class Signature(msgspec.Struct, kw_only=True, frozen=True):
    """Who signed, when, what it means, and the hash of the signed content."""

    signed_by: str
    signed_at: str
    meaning: str
    content_hash: str


class CarePlanModel(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the care plan's HTML page and PDF print."""

    title: str
    document_id: str
    case_id: str
    version: int
    final: bool
    generated_at: str
    subtitle: str
    patient: PatientPart
    clinical: list[ClinicalRow]
    summary: str
    question: str
    meeting: MeetingPart
    recommendations: list[Recommendation]
    absent_disciplines: str | None
    intent: str
    modalities: list[str]
    decision: Decision | None
    consensus: Consensus
    concordance_summary: str | None
    concordance: list[ConcordanceRow]
    trials: list[Trial]
    changes: Changes | None
    amendment: Amendment | None
    signature: Signature | None


# ---------------------------------------------------------------------------------------------------------
# Values of changed fields


def change_value(value: object, field: str = "") -> str:
    """A value of a changed field (JSON as stored in a version) in a few readable words."""
    name = field.rsplit(".", 1)[-1]
    if value is None or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        separator = " → " if name == "modalities" else "; "
        return separator.join(change_value(item, field) for item in value)
    if isinstance(value, dict):  # record ids mean nothing to a reader (an NCT number does)
        return ", ".join(
            f"{label(key)}: {change_value(item, key)}"
            for key, item in value.items()
            if item is not None and not _record_id(key, item)
        )
    if name.endswith("_at") and isinstance(value, str):
        try:
            return moment(datetime.fromisoformat(value))
        except ValueError:
            return value
    return label(value) if name in _ENUM_FIELDS else str(value)


def _record_id(key: str, value: object) -> bool:
    """Whether a stored value is one of our records' UUIDs."""
    if not (key == "id" or key.endswith("_id")) or not isinstance(value, str):
        return False
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def field_label(field: str) -> str:
    """A changed field's name as people read it: ``meeting.participants`` -> ``Meeting participants``."""
    return label(field.replace(".", " "))


def _change(what: str, change: FieldChange) -> ChangeRow:
    return ChangeRow(
        what=what,
        before=change_value(change.before, change.field),
        after=change_value(change.after, change.field),
    )


def change_rows(diff: CarePlanDiff | None) -> Changes | None:
    """What changed between two versions as rows people read (the documents and the diff page)."""
    if diff is None:
        return None
    rows = [_change(field_label(change.field), change) for change in diff.changes]
    for rec in diff.recommendations:
        who = f"{label(rec.discipline)} ({rec.author_name})"
        if rec.change == "changed":
            rows += [_change(f"{who}: {field_label(change.field)}", change) for change in rec.fields]
        elif rec.change == "added":
            rows.append(ChangeRow(what=who, before=NOTHING, after="Recommendation added"))
        else:
            rows.append(ChangeRow(what=who, before="Recommendation", after="Removed"))
    return Changes(from_version=diff.from_version, to_version=diff.to_version, rows=rows)


# ---------------------------------------------------------------------------------------------------------
# The parts


def _patient(document: CarePlanDocument) -> PatientPart:
    c = document.content
    p = c.patient
    age = age_on(p.birth_date, document.generated_at.date())
    return PatientPart(
        banner=f"{p.family_name.upper()}, {p.given_name} · MRN {p.mrn}",
        name=f"{p.given_name} {p.family_name}",
        mrn=p.mrn,
        born=f"Born {day(p.birth_date)}" + (f" ({age} y)" if age is not None else ""),
        birth_date=day(p.birth_date),
        sex=label(p.sex),
        disease_site=label(c.disease_site),
        urgency=label(c.urgency),
        urgent=c.urgency == "urgent",
    )


def _guideline(guideline: PlanGuideline | None) -> Guideline | None:
    if guideline is None:
        return None
    name = guideline.name + (f" ({guideline.version})" if guideline.version else "")
    return Guideline(name=name, concordant=guideline.concordant, reason=guideline.reason or None)


def _meeting(meeting: PlanMeeting, quorum_override: str | None) -> MeetingPart:
    quorum = meeting.quorum
    return MeetingPart(
        board=meeting.board_name,
        when=f"{moment(meeting.starts_at)} ({meeting.duration_minutes} min)",
        location=meeting.location or None,
        quorum_met=not quorum.missing,
        missing=labels(quorum.missing),
        required=labels(quorum.required) or "None",
        covered=labels(quorum.covered) or "None",
        basis="participants present when the board decided"
        if quorum.basis == "attendance"
        else "participants invited (attendance not taken yet)",
        quorum_override=quorum_override,
        attendance_taken=any(p.attendance for p in meeting.participants),
        participants=[
            Participant(
                name=p.full_name,
                role=label(p.role),
                discipline=label(p.discipline),
                attendance=label(p.attendance) if p.attendance else None,
                present=p.attendance == "present",
            )
            for p in meeting.participants
        ],
    )


def _recommendation(r: PlanRecommendation) -> Recommendation:
    return Recommendation(
        discipline=label(r.discipline),
        byline=f"{r.author_name} · v{r.version} · {moment(r.updated_at)}",
        intent=label(r.intent),
        modalities=[label(m) for m in r.modalities],
        summary=r.summary,
        rationale=r.rationale or None,
        guideline=_guideline(r.guideline),
        trial_id=r.trial_id,
    )


def _decision(c: CarePlanContent) -> Decision | None:
    d = c.decision
    if d is None:
        return None
    stage = None if d.stage_discussed is None else ("Yes" if d.stage_discussed else "No")
    correction = f" · correction {d.revision}" if d.revision > 1 else ""
    return Decision(
        summary=d.summary,
        rationale=d.rationale or None,
        guideline=_guideline(d.guideline),
        trial=label(d.trial_status) if d.trial_status else None,
        trial_id=d.trial_id,
        stage_discussed=stage,
        recorded_by=f"{d.decided_by_name} (chair), {moment(d.decided_at)}{correction}",
    )


def _view(
    author: str,
    discipline: str,
    version: int,
    intent: str,
    modalities: list[str],
    summary: str,
    rationale: str | None,
) -> View:
    return View(
        author=author,
        discipline=label(discipline),
        version=version,
        intent=label(intent).lower(),
        sequence=labels(modalities, " → "),
        summary=summary,
        rationale=rationale or None,
    )


def _consensus(c: CarePlanContent) -> Consensus:
    if c.consensus:
        disciplines = len({r.discipline for r in c.recommendations})
        statement = (
            f"All {len(c.recommendations)} recommendations, from {disciplines} disciplines, propose the "
            "decided intent and the same modalities in the same order."
        )
        return Consensus(reached=True, statement=statement, views=[])
    if c.decision is not None:
        views = [
            _view(v.author_name, v.discipline, v.version, v.intent, v.modalities, v.summary, v.rationale)
            for v in c.differing_views
        ]
        statement = (
            "These recommendations differ from the board's decision "
            "(differing views, in the reviewers' words):"
            if views
            else "Every recommendation proposes the decided plan, but fewer than two disciplines "
            "recommended: a plan is never a consensus on one opinion."
        )
        return Consensus(reached=False, statement=statement, views=views)
    # Versions built before the board's decisions were recorded: the recommendations that differ.
    views = [
        _view(r.author_name, r.discipline, r.version, r.intent, r.modalities, r.summary, r.rationale)
        for r in c.recommendations
        if r.intent != c.intent or r.modalities != c.modalities
    ]
    return Consensus(reached=False, statement="The recommendations differ:", views=views)


def _concordance(c: CarePlanContent) -> tuple[str | None, list[ConcordanceRow]]:
    cited = [r for r in c.recommendations if r.guideline is not None]
    rows = [
        ConcordanceRow(
            discipline=label(r.discipline),
            author=r.author_name,
            guideline=guideline.name,
            concordant=guideline.concordant,
            reason=guideline.reason,
        )
        for r in cited
        if (guideline := _guideline(r.guideline)) is not None
    ]
    if not rows:
        return None, []
    concordant = sum(row.concordant for row in rows)
    return (
        f"{len(rows)} of {len(c.recommendations)} recommendation(s) cite a guideline; "
        f"{concordant} concordant.",
        rows,
    )


def _trials(c: CarePlanContent) -> list[Trial]:
    trials = []
    for trial_id in c.trial_ids:
        proposers = [
            f"{r.author_name} ({label(r.discipline)})" for r in c.recommendations if r.trial_id == trial_id
        ]
        trials.append(Trial(id=trial_id, proposed_by=", ".join(proposers) or None))
    return trials


def care_plan_model(document: CarePlanDocument, changes: CarePlanDiff | None = None) -> CarePlanModel:
    """The document model of a care plan version, with what changed since `changes.from_version`."""
    c = document.content
    p = c.patient
    concordance_summary, concordance = _concordance(c)
    signature = document.signature
    amendment = c.amendment
    return CarePlanModel(
        title=f"Care plan \N{EN DASH} {p.family_name}, {p.given_name} (MRN {p.mrn})",
        document_id=str(document.id),
        case_id=str(c.case_id),
        version=document.version,
        final=document.status == "final",
        generated_at=moment(document.generated_at),
        subtitle=f"{c.meeting.board_name} · {label(c.disease_site)}",
        patient=_patient(document),
        clinical=clinical_rows(c),
        summary=c.summary,
        question=c.question,
        meeting=_meeting(c.meeting, c.decision.quorum_override if c.decision else None),
        recommendations=[_recommendation(r) for r in c.recommendations],
        absent_disciplines=labels(c.absent_disciplines) or None,
        intent=label(c.intent),
        modalities=[label(m) for m in c.modalities],
        decision=_decision(c),
        consensus=_consensus(c),
        concordance_summary=concordance_summary,
        concordance=concordance,
        trials=_trials(c),
        changes=change_rows(changes),
        amendment=Amendment(
            replaces_version=amendment.replaces_version,
            requested_by=amendment.requested_by_name,
            requested_at=moment(amendment.requested_at),
            reason=amendment.reason,
        )
        if amendment
        else None,
        signature=Signature(
            signed_by=signature.signed_by_name,
            signed_at=moment(signature.signed_at),
            meaning=SIGNATURE_MEANING,
            content_hash=signature.content_hash,
        )
        if signature
        else None,
    )
