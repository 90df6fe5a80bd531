"""Consolidation: one care plan version from the board's decision, built exactly once.

A version gathers the decision as the chair recorded it, every recommendation (attributed, with its
version), the attendance and quorum counted when the board decided, and any quorum override. The
job may run more than once (arq runs jobs at least once): it locks the case and writes a version
only when the decision revision or a recommendation version differs from those the latest draft was
built from (`source_fingerprint`), or when the chair reopened the signed version for an amendment;
UNIQUE (case_id, version) backs this up. The version, its PDF job and the notifications of the
people waiting for it commit together.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.care_plans.schemas import CarePlanContent, PlanProposal
from tumorboard.cases.service import load_case
from tumorboard.db import Record, queries
from tumorboard.decisions.schemas import Decision
from tumorboard.decisions.service import current_plan
from tumorboard.enums import CaseStatus
from tumorboard.labels import label
from tumorboard.notifications.schemas import NotificationKind
from tumorboard.notifications.service import notify_care_plan_ready
from tumorboard.recommendations.schemas import Recommendation
from tumorboard.recommendations.service import recommendations_of
from tumorboard.settings import current_settings


def source_fingerprint(decision: Decision, recommendations: Sequence[Recommendation]) -> str:
    """Names what a version is built from: the decision's revision and each recommendation's version."""
    parts = sorted(f"{r.id}:{r.version}" for r in recommendations)
    return hashlib.sha256("|".join([f"decision:{decision.id}", *parts]).encode()).hexdigest()


async def current_sources(
    conn: asyncpg.Connection, case_id: UUID, meeting_id: UUID
) -> tuple[Decision | None, list[Recommendation], str | None]:
    """A case's current plan decision, its recommendations and their fingerprint, as they stand now."""
    decision = await current_plan(conn, case_id, meeting_id)
    recommendations = await recommendations_of(conn, case_id)
    return decision, recommendations, source_fingerprint(decision, recommendations) if decision else None


def agrees(recommendation: Recommendation, decision: Decision) -> bool:
    """Whether a recommendation proposes the decided intent and the same modalities in the same order."""
    return recommendation.intent == decision.intent and list(recommendation.modalities) == list(
        decision.modalities or []
    )


def is_consensus(decision: Decision, recommendations: Sequence[Recommendation]) -> bool:
    """Consensus: at least two disciplines recommended, and every recommendation matches the decision."""
    disciplines = {r.discipline for r in recommendations}
    return len(disciplines) >= 2 and all(agrees(r, decision) for r in recommendations)


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
    """Build the next care plan version of a decided case; None when there is nothing new."""
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None or case["status"] != CaseStatus.DISCUSSED:
        return None
    decision, recommendations, fingerprint = await current_sources(conn, case_id, case["meeting_id"])
    if decision is None or fingerprint is None:
        return None
    latest = await queries.care_plans.get_latest_care_plan_state(conn, case_id=case_id)
    amendment = await queries.care_plans.get_open_care_plan_amendment(conn, case_id=case_id)
    if latest is not None:
        if latest["status"] == "final" and (amendment is None or amendment["amends_id"] != latest["id"]):
            return None
        if latest["status"] == "draft" and latest["source_fingerprint"] == fingerprint:
            return None
    content = await _content(conn, case_id, decision, recommendations, amendment)
    version = (latest["version"] if latest else 0) + 1
    care_plan_id = await queries.care_plans.insert_care_plan(
        conn,
        case_id=case_id,
        version=version,
        consensus=content.consensus,
        content=msgspec.to_builtins(content),
        source_fingerprint=fingerprint,
        replaces_version=amendment["amends_version"] if amendment else None,
        decision_id=decision.id,
    )
    await audit.record(conn, None, "consolidate", "care_plan", care_plan_id)
    await outbox.add_job(conn, outbox.RENDER_CARE_PLAN_PDF, care_plan_id)
    await notify_care_plan_ready(conn, NotificationKind.CARE_PLAN_DRAFT, case_id, care_plan_id)
    if pause := _pause_before_commit():
        await asyncio.sleep(pause)
    return version


async def _content(
    conn: asyncpg.Connection,
    case_id: UUID,
    decision: Decision,
    recommendations: list[Recommendation],
    amendment: Record | None,
) -> CarePlanContent:
    case = await load_case(conn, case_id)
    meeting = dict(await queries.meetings.get_meeting(conn, id=decision.meeting_id))
    decided = msgspec.to_builtins(decision)
    trial = decided.pop("trial") or {}
    snapshot = {
        **msgspec.to_builtins(case),
        "case_id": case.id,
        "meeting": {
            **meeting,
            "participants": decided["attendance"],
            "quorum": {**decided["quorum"], "basis": "attendance"},
        },
        "recommendations": [
            {**msgspec.to_builtins(r), "trial_id": r.trial.id if r.trial else None} for r in recommendations
        ],
        "consensus": is_consensus(decision, recommendations),
        "intent": decision.intent,
        "modalities": decision.modalities,
        "proposals": msgspec.to_builtins(proposals(recommendations)),
        "absent_disciplines": case.preparation.missing if case.preparation else [],
        "trial_ids": sorted(
            {r.trial.id for r in recommendations if r.trial} | ({trial["id"]} if trial.get("id") else set())
        ),
        "decision": {**decided, "trial_status": trial.get("status"), "trial_id": trial.get("id")},
        "differing_views": [
            {**msgspec.to_builtins(r), "recommendation_id": r.id}
            for r in recommendations
            if not agrees(r, decision)
        ],
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
