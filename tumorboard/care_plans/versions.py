"""Care plan versions: each one kept and readable, and what changed from one to another."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from tumorboard.auth.schemas import User
from tumorboard.care_plans.schemas import (
    CarePlan,
    CarePlanContent,
    CarePlanDiff,
    CarePlanDocument,
    CarePlanSignature,
    FieldChange,
    GuidelineConcordance,
    RecommendationChange,
)
from tumorboard.cases.service import get_case
from tumorboard.db import Record, fetch_all, queries
from tumorboard.errors import InvalidInput, NotFound

MAX_VERSION = 999_999  # far beyond any real case; keeps numbers from the URL within PostgreSQL's integer

# The plan itself first, then what it was built from; the rest of the content follows in struct order.
_LEADING_FIELDS = ("intent", "modalities", "consensus", "proposals", "absent_disciplines", "trial_ids")
_UNCOMPARED_FIELDS = frozenset({"case_id", "meeting", "recommendations"})
_MEETING_FIELDS = ("board_name", "starts_at", "duration_minutes", "location", "participants", "quorum")
_RECOMMENDATION_FIELDS = ("intent", "modalities", "summary", "rationale", "guideline", "trial_id")


def document_from_row(row: Record) -> CarePlanDocument:
    """A care plan version as the documents render it."""
    signature = None
    if row["status"] == "final":
        signature = CarePlanSignature(
            signed_by=row["signed_by"],
            signed_by_name=row["signed_by_name"],
            signed_at=row["signed_at"],
            content_hash=row["content_hash"],
        )
    return CarePlanDocument(
        id=row["id"],
        version=row["version"],
        status=row["status"],
        generated_at=row["generated_at"],
        content=msgspec.convert(row["content"], CarePlanContent),
        signature=signature,
    )


def summary(document: CarePlanDocument) -> CarePlan:
    """The API view of a care plan version."""
    content = document.content
    signature = document.signature
    return CarePlan(
        id=document.id,
        case_id=content.case_id,
        version=document.version,
        status=document.status,
        consensus=content.consensus,
        intent=content.intent,
        modalities=content.modalities,
        proposals=content.proposals,
        absent_disciplines=content.absent_disciplines,
        generated_at=document.generated_at,
        signed_by=signature.signed_by if signature else None,
        signed_at=signature.signed_at if signature else None,
        content_hash=signature.content_hash if signature else None,
        guideline_concordance=[
            GuidelineConcordance(
                discipline=r.discipline,
                author_name=r.author_name,
                guideline=r.guideline.name,
                guideline_version=r.guideline.version,
                concordant=r.guideline.concordant,
                reason=r.guideline.reason,
            )
            for r in content.recommendations
            if r.guideline is not None
        ],
        trial_ids=content.trial_ids,
        replaces_version=content.amendment.replaces_version if content.amendment else None,
        amendment_reason=content.amendment.reason if content.amendment else None,
        decision=content.decision,
        differing_views=content.differing_views,
    )


async def list_versions(conn: asyncpg.Connection, user: User, case_id: UUID) -> list[CarePlan]:
    """Every version of a case's care plan, oldest first (an empty list before the first draft)."""
    await get_case(conn, user, case_id, action="read_care_plan")
    rows = await fetch_all(queries.care_plans.list_care_plan_versions(conn, case_id=case_id))
    return [summary(document_from_row(row)) for row in rows]


async def load_version(conn: asyncpg.Connection, case_id: UUID, version: int) -> CarePlanDocument | None:
    """One version of a case's care plan, without an access check (callers check first)."""
    if not 1 <= version <= MAX_VERSION:
        return None
    row = await queries.care_plans.get_care_plan_version(conn, case_id=case_id, version=version)
    return document_from_row(row) if row is not None else None


async def get_version(conn: asyncpg.Connection, user: User, case_id: UUID, version: int) -> CarePlanDocument:
    """One version of a case's care plan, for those who may see the case."""
    await get_case(conn, user, case_id, action="read_care_plan")
    document = await load_version(conn, case_id, version)
    if document is None:
        raise NotFound("The care plan has no such version")
    return document


async def get_diff(
    conn: asyncpg.Connection, user: User, case_id: UUID, version: int, from_version: int | None
) -> CarePlanDiff:
    """What changed from `from_version` (by default the one before) to `version`."""
    base = version - 1 if from_version is None else from_version
    if base < 1:
        raise InvalidInput("from", "must name an earlier version (version 1 has none before it)")
    newer = await get_version(conn, user, case_id, version)
    older = await load_version(conn, case_id, base)
    if older is None:
        raise NotFound("The care plan has no such version")
    return diff_documents(older, newer)


async def changes_to_show(conn: asyncpg.Connection, document: CarePlanDocument) -> CarePlanDiff | None:
    """The changes a document prints: an amendment against the version it replaces, a later
    draft against the version before it; a first version or a signed one without amendment, none."""
    content = document.content
    if content.amendment is not None:
        base: int | None = content.amendment.replaces_version
    elif document.status == "draft" and document.version > 1:
        base = document.version - 1
    else:
        base = None
    older = await load_version(conn, content.case_id, base) if base is not None else None
    return diff_documents(older, document) if older is not None else None


def diff_documents(older: CarePlanDocument, newer: CarePlanDocument) -> CarePlanDiff:
    """Field-level changes between two versions of one case's care plan, recommendations by id."""
    before: dict[str, Any] = msgspec.to_builtins(older.content)
    after: dict[str, Any] = msgspec.to_builtins(newer.content)
    trailing = [f.encode_name for f in msgspec.structs.fields(CarePlanContent)]
    fields = [
        *_LEADING_FIELDS,
        *(f for f in trailing if f not in _LEADING_FIELDS and f not in _UNCOMPARED_FIELDS),
    ]
    changes = _field_changes(before, after, fields)
    changes += _field_changes(before["meeting"], after["meeting"], _MEETING_FIELDS, prefix="meeting.")
    return CarePlanDiff(
        case_id=newer.content.case_id,
        from_version=older.version,
        to_version=newer.version,
        changes=changes,
        recommendations=_recommendation_changes(before["recommendations"], after["recommendations"]),
    )


def _field_changes(
    before: dict[str, Any], after: dict[str, Any], fields: Iterable[str], prefix: str = ""
) -> list[FieldChange]:
    return [
        FieldChange(field=prefix + name, before=before.get(name), after=after.get(name))
        for name in fields
        if before.get(name) != after.get(name)
    ]


def _recommendation_changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[RecommendationChange]:
    old = {r["id"]: r for r in before}
    new = {r["id"]: r for r in after}
    changes = []
    for rec_id, rec in new.items():
        if rec_id not in old:
            changes.append(_recommendation_change(rec, "added"))
        elif fields := _field_changes(old[rec_id], rec, _RECOMMENDATION_FIELDS):
            changes.append(_recommendation_change(rec, "changed", fields))
    changes.extend(_recommendation_change(rec, "removed") for rec_id, rec in old.items() if rec_id not in new)
    return changes


def _recommendation_change(
    rec: dict[str, Any],
    change: Literal["added", "removed", "changed"],
    fields: list[FieldChange] | None = None,
) -> RecommendationChange:
    return RecommendationChange(
        recommendation_id=UUID(rec["id"]),
        discipline=rec["discipline"],
        author_name=rec["author_name"],
        change=change,
        fields=fields or [],
    )
