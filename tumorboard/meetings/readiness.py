"""Readiness: whether a case has what its board's checklist asks for, and the agenda built on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.boards.schemas import CHECKLIST_LABELS, ChecklistItem, ChecklistItemKind
from tumorboard.cases.policy import CaseFacts, can_complete_readiness
from tumorboard.cases.schemas import CaseClinical
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import Role
from tumorboard.errors import AccessDenied, InvalidInput, NotFound
from tumorboard.meetings.rules import local_day
from tumorboard.meetings.schemas import AgendaCase, CaseReadiness, ReadinessCheck, ReadinessUpdate
from tumorboard.policy import enforce

# Case fields that satisfy an item when recorded at all.
_RECORDED = {
    ChecklistItemKind.STAGE: "has_stage",
    ChecklistItemKind.HISTOLOGY: "has_histology",
    ChecklistItemKind.ECOG: "has_ecog",
    ChecklistItemKind.BIOMARKERS: "has_biomarkers",
}
# Items satisfied by a dated document (recorded, or attached with its date), and the columns holding
# its date and whether a document of that kind was attached without one.
_DATED = {
    ChecklistItemKind.PATHOLOGY_REPORT: ("pathology_report_on", "undated_pathology_report"),
    ChecklistItemKind.IMAGING: ("imaging_on", "undated_imaging"),
}


def check_item(entry: ChecklistItem, facts: Mapping[str, Any], day: date) -> ReadinessCheck:
    """One checklist item against a case's facts, for a meeting on `day`."""
    label = CHECKLIST_LABELS[entry.item]
    if entry.item in _RECORDED:
        met = bool(facts[_RECORDED[entry.item]])
        return ReadinessCheck(
            item=entry.item, satisfied=met, detail="recorded" if met else f"no {label} recorded"
        )
    date_column, undated_column = _DATED[entry.item]
    recorded_on: date | None = facts[date_column]
    if recorded_on is None:
        detail = f"{label}: attached without its date" if facts[undated_column] else f"no {label} recorded"
        return ReadinessCheck(item=entry.item, satisfied=False, detail=detail)
    if entry.max_age_days is not None and (day - recorded_on).days > entry.max_age_days:
        return ReadinessCheck(
            item=entry.item,
            satisfied=False,
            detail=f"{label} of {recorded_on.isoformat()} is more than {entry.max_age_days} days old",
        )
    return ReadinessCheck(item=entry.item, satisfied=True, detail=f"dated {recorded_on.isoformat()}")


def missing_items(
    checklist: Sequence[ChecklistItem], facts: Mapping[str, Any], day: date
) -> list[ChecklistItemKind]:
    """The checklist items a case does not meet."""
    return [entry.item for entry in checklist if not check_item(entry, facts, day).satisfied]


def checklist_from_rows(rows: Sequence[Record]) -> list[ChecklistItem]:
    """Checklist items from list_meeting_checklist or list_site_checklist rows."""
    return [ChecklistItem(item=row["item"], max_age_days=row["max_age_days"]) for row in rows]


def agenda_cases(
    meeting: Mapping[str, Any], entries: Sequence[Record], checklist: Sequence[ChecklistItem]
) -> list[AgendaCase]:
    """The agenda in order, each case with its time slot and readiness for the meeting's date."""
    day = local_day(meeting["starts_at"], meeting["time_zone"])
    slot = timedelta(minutes=meeting["minutes_per_case"])
    locked = meeting["agenda_locked_at"] is not None
    cases = []
    for index, entry in enumerate(entries):
        missing = missing_items(checklist, entry, day)
        starts = meeting["starts_at"] + index * slot
        cases.append(
            AgendaCase(
                id=entry["id"],
                status=entry["status"],
                urgency=entry["urgency"],
                disease_site=entry["disease_site"],
                presenter_id=entry["presenter_id"],
                patient_name=entry["patient_name"],
                presenter_name=entry["presenter_name"],
                position=index + 1,
                slot_starts_at=starts,
                slot_ends_at=starts + slot,
                ready=not missing,
                missing_items=missing,
                late_addition=locked and entry["frozen_position"] is None,
                clinical=msgspec.convert(
                    {name: entry[name] for name in CaseClinical.__struct_fields__}, CaseClinical
                ),
            )
        )
    return cases


async def load_agenda_cases(conn: asyncpg.Connection, meeting: Mapping[str, Any]) -> list[AgendaCase]:
    """The agenda of a meeting row from get_meeting_detail."""
    entries = await fetch_all(queries.meetings.list_agenda(conn, meeting_id=meeting["id"]))
    checklist = checklist_from_rows(
        await fetch_all(queries.meetings.list_meeting_checklist(conn, meeting_id=meeting["id"]))
    )
    return agenda_cases(meeting, entries, checklist)


async def get_case_readiness(conn: asyncpg.Connection, user: User, case_id: UUID) -> CaseReadiness:
    """A case's readiness item by item, for its presenter, its meeting's participants and coordinators
    (the read is audited by the query that checks access).

    On a meeting, the case is checked against that board's checklist on the meeting's date;
    while waiting, against every board covering its disease site, today.
    """
    facts = await queries.meetings.get_case_readiness_facts(
        conn, id=case_id, user_id=user.id, sees_all=user.has_role(Role.COORDINATOR)
    )
    if facts is None:
        raise NotFound("No such case")
    if not facts["caller_may_view"]:
        raise AccessDenied(
            "Only the case's presenter, its meeting's participants and coordinators may see it",
            action="read_readiness",
            subject_type="case",
            subject_id=case_id,
        )
    if facts["meeting_id"] is not None:
        rows = await fetch_all(queries.meetings.list_meeting_checklist(conn, meeting_id=facts["meeting_id"]))
        day = local_day(facts["meeting_starts_at"], facts["meeting_time_zone"])
    else:
        rows = await fetch_all(queries.meetings.list_site_checklist(conn, disease_site=facts["disease_site"]))
        day = datetime.now(UTC).date()
    checks = [check_item(entry, facts, day) for entry in checklist_from_rows(rows)]
    return CaseReadiness(
        case_id=case_id,
        meeting_id=facts["meeting_id"],
        ready=all(check.satisfied for check in checks),
        checks=checks,
        missing_items=[check.item for check in checks if not check.satisfied],
        checked_for=day,
        pathology_report_on=facts["pathology_report_on"],
        imaging_on=facts["imaging_on"],
    )


async def update_case_readiness(
    conn: asyncpg.Connection, user: User, case_id: UUID, data: ReadinessUpdate
) -> CaseReadiness:
    """The presenter (or a coordinator) supplies what the checklist found missing."""
    case = await queries.meetings.lock_case_for_readiness(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    enforce(
        can_complete_readiness(user, CaseFacts.of(case)),
        action="update_readiness",
        subject_type="case",
        subject_id=case_id,
    )
    today = datetime.now(UTC).date()
    for name in ("pathology_report_on", "imaging_on"):
        value = getattr(data, name)
        if isinstance(value, date) and value > today:
            raise InvalidInput(name, "must not be in the future")
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if {"stage", "histology", "ecog", "biomarkers"} & given.keys():
        await queries.meetings.complete_case_details(
            conn,
            id=case_id,
            stage=msgspec.to_builtins(given.get("stage")),
            histology=given.get("histology"),
            ecog=given.get("ecog"),
            biomarkers=msgspec.to_builtins(given.get("biomarkers")),
        )
    if {"pathology_report_on", "imaging_on"} & given.keys():
        await queries.meetings.upsert_case_readiness(
            conn,
            case_id=case_id,
            pathology_report_on=given.get("pathology_report_on"),
            imaging_on=given.get("imaging_on"),
            set_pathology_report_on="pathology_report_on" in given,
            set_imaging_on="imaging_on" in given,
            updated_by=user.id,
        )
    await audit.record(conn, user.id, "update_readiness", "case", case_id)
    return await get_case_readiness(conn, user, case_id)
