"""Consolidation: one care plan version from the recommendations, built exactly once.

The job may run more than once (arq runs jobs at least once). It locks the case, and
writes a version only when the recommendations it would be built from differ from those of
the latest draft, or when the chair reopened the signed version for an amendment;
UNIQUE (case_id, version) backs this up. The version, its PDF job and the notifications of the
people waiting for it commit together.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.care_plans.schemas import CarePlanContent, PlanProposal
from tumorboard.cases.service import load_case, missing_disciplines
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import CaseStatus, Intent
from tumorboard.labels import label
from tumorboard.meetings.quorum import attendance_view, meeting_quorum
from tumorboard.notifications.schemas import NotificationKind
from tumorboard.notifications.service import notify_care_plan_ready
from tumorboard.recommendations.schemas import Recommendation
from tumorboard.recommendations.service import recommendations_of
from tumorboard.settings import current_settings


def source_fingerprint(recommendations: Sequence[Recommendation], absent: Sequence[str]) -> str:
    """Names the recommendation versions (and absences) a care plan version is built from."""
    parts = sorted(f"{r.id}:{r.version}" for r in recommendations)
    return hashlib.sha256("|".join([*parts, "absent", *sorted(absent)]).encode()).hexdigest()


async def current_sources(
    conn: asyncpg.Connection, case_id: UUID, meeting_id: UUID
) -> tuple[list[Recommendation], list[str], str]:
    """A case's recommendations, its absent disciplines and their fingerprint, as they stand now."""
    recommendations = await recommendations_of(conn, case_id)
    absent = await missing_disciplines(conn, case_id, meeting_id)
    return recommendations, absent, source_fingerprint(recommendations, absent)


def proposals(recommendations: Sequence[Recommendation]) -> list[PlanProposal]:
    """Distinct (intent, modalities in order) proposals, most supported first."""
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for r in recommendations:
        key = (str(r.intent), tuple(str(m) for m in r.modalities))
        grouped.setdefault(key, []).append(f"{r.author_name} ({label(r.discipline)})")
    ranked = sorted(grouped.items(), key=lambda item: -len(item[1]))  # stable: first proposed wins ties
    return [
        PlanProposal(intent=intent, modalities=list(modalities), supporters=supporters)
        for (intent, modalities), supporters in ranked
    ]


def _pause_before_commit() -> float:
    # Zero outside the test that kills a worker in the middle of a consolidation.
    return current_settings().test_consolidation_delay


async def consolidate_care_plan(conn: asyncpg.Connection, case_id: UUID) -> int | None:
    """Build the next care plan version of a discussed case; None when there is nothing new."""
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None or case["status"] != CaseStatus.DISCUSSED:
        return None
    recommendations, absent, fingerprint = await current_sources(conn, case_id, case["meeting_id"])
    latest = await queries.care_plans.get_latest_care_plan_state(conn, case_id=case_id)
    amendment = await queries.care_plans.get_open_care_plan_amendment(conn, case_id=case_id)
    if latest is not None:
        if latest["status"] == "final" and (amendment is None or amendment["amends_id"] != latest["id"]):
            return None
        if latest["status"] == "draft" and latest["source_fingerprint"] == fingerprint:
            return None
    content = await _content(conn, case_id, recommendations, absent, amendment)
    version = (latest["version"] if latest else 0) + 1
    care_plan_id = await queries.care_plans.insert_care_plan(
        conn,
        case_id=case_id,
        version=version,
        consensus=content.consensus,
        content=msgspec.to_builtins(content),
        source_fingerprint=fingerprint,
        replaces_version=amendment["amends_version"] if amendment else None,
    )
    await audit.record(conn, None, "consolidate", "care_plan", care_plan_id)
    await outbox.add_job(conn, outbox.RENDER_CARE_PLAN_PDF, care_plan_id)
    await notify_care_plan_ready(conn, NotificationKind.CARE_PLAN_DRAFT, case_id, care_plan_id)
    if pause := _pause_before_commit():
        await asyncio.sleep(pause)
    return version


async def _attendance_and_quorum(conn: asyncpg.Connection, meeting: dict[str, Any]) -> dict[str, Any]:
    """Who took part and, once the meeting has started, who attended; quorum on the same basis."""
    rows = [
        dict(row) for row in await fetch_all(queries.meetings.list_attendance(conn, meeting_id=meeting["id"]))
    ]
    attendance = attendance_view(meeting["status"], rows)
    recorded = {entry.user_id: entry.status for entry in attendance}
    quorum, basis = meeting_quorum(meeting["status"], meeting["required_disciplines"], rows, attendance)
    return {
        "participants": [{**row, "attendance": recorded.get(row["user_id"])} for row in rows],
        "quorum": {**msgspec.to_builtins(quorum), "basis": basis},
    }


async def _content(
    conn: asyncpg.Connection,
    case_id: UUID,
    recommendations: list[Recommendation],
    absent: list[str],
    amendment: Record | None,
) -> CarePlanContent:
    case = await load_case(conn, case_id)
    meeting = dict(await queries.meetings.get_meeting(conn, id=case.meeting_id))
    ranked = proposals(recommendations)
    snapshot = {
        **msgspec.to_builtins(case),
        "case_id": case.id,
        "meeting": {**meeting, **await _attendance_and_quorum(conn, meeting)},
        "recommendations": [
            {**msgspec.to_builtins(r), "trial_id": r.trial.id if r.trial else None} for r in recommendations
        ],
        "consensus": len(ranked) == 1,
        "intent": ranked[0].intent if ranked else Intent.UNDETERMINED,
        "modalities": ranked[0].modalities if ranked else [],
        "proposals": msgspec.to_builtins(ranked),
        "absent_disciplines": absent,
        "trial_ids": sorted({r.trial.id for r in recommendations if r.trial}),
        "amendment": None
        if amendment is None
        else {
            "replaces_id": amendment["amends_id"],
            "replaces_version": amendment["amends_version"],
            "reason": amendment["reason"],
            "requested_by_name": amendment["requested_by_name"],
            "requested_at": amendment["requested_at"],
        },
    }
    return msgspec.convert(snapshot, CarePlanContent)
