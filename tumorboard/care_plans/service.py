"""Reading, signing and rendering care plans."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.schemas import User
from tumorboard.care_plans.consolidation import current_sources
from tumorboard.care_plans.documents import render_pdf
from tumorboard.care_plans.schemas import CarePlan, CarePlanContent, CarePlanDocument, CarePlanSignature
from tumorboard.cases.service import get_case, require_chair
from tumorboard.db import Record, queries
from tumorboard.enums import CaseStatus
from tumorboard.errors import Conflict, NotFound, NotReady


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


def content_hash(case_id: UUID, version: int, content: object) -> str:
    """SHA-256 of a version's canonical content, printed on the signed document."""
    canonical = msgspec.json.encode(
        {"case_id": str(case_id), "version": version, "content": content}, order="sorted"
    )
    return hashlib.sha256(canonical).hexdigest()


async def get_document(conn: asyncpg.Connection, user: User, case_id: UUID) -> CarePlanDocument:
    """The latest care plan version of a case the caller may see; 404 before the first draft."""
    await get_case(conn, user, case_id, action="read_care_plan")
    row = await queries.get_latest_care_plan(conn, case_id=case_id)
    if row is None:
        raise NotFound("The care plan has no draft yet")
    return document_from_row(row)


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
    )


async def sign(conn: asyncpg.Connection, user: User, case_id: UUID) -> CarePlanDocument:
    """The chair signs the latest draft: it becomes final and the case finalized."""
    case = await queries.lock_case(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    await require_chair(conn, user, case["meeting_id"], action="sign_care_plan", case_id=case_id)
    if case["status"] == CaseStatus.FINALIZED:
        raise Conflict("The care plan is already signed; later changes need a new version")
    latest = await queries.get_latest_care_plan(conn, case_id=case_id)
    if case["status"] != CaseStatus.DISCUSSED or latest is None:
        raise Conflict("There is no care plan draft to sign yet")
    _, _, fingerprint = await current_sources(conn, case_id, case["meeting_id"])
    if latest["source_fingerprint"] != fingerprint:
        raise Conflict("A recommendation changed; the new draft is being prepared, sign it in a moment")
    signed_at = datetime.now(UTC)
    await queries.sign_care_plan(
        conn,
        id=latest["id"],
        signed_by=user.id,
        signed_at=signed_at,
        content_hash=content_hash(case_id, latest["version"], latest["content"]),
    )
    await queries.mark_case_finalized(conn, id=case_id)
    await audit.record(conn, user.id, "sign", "care_plan", latest["id"])
    await outbox.add_job(conn, outbox.RENDER_CARE_PLAN_PDF, latest["id"])
    return document_from_row(await queries.get_care_plan(conn, id=latest["id"]))


async def get_pdf(conn: asyncpg.Connection, user: User, case_id: UUID) -> tuple[CarePlanDocument, bytes]:
    """The rendered PDF of the latest version; NotReady while a worker renders it."""
    document = await get_document(conn, user, case_id)
    pdf = await queries.get_care_plan_pdf(conn, care_plan_id=document.id, status=document.status)
    if pdf is None:
        raise NotReady("The PDF is being prepared; retry in a few seconds")
    return document, pdf


async def render_care_plan_pdf(conn: asyncpg.Connection, care_plan_id: UUID) -> bool:
    """Render and store a version's PDF in its current status, once; off the event loop."""
    row = await queries.get_care_plan(conn, id=care_plan_id)
    if row is None:
        return False
    if await queries.get_care_plan_pdf(conn, care_plan_id=care_plan_id, status=row["status"]) is not None:
        return False
    pdf = await asyncio.to_thread(render_pdf, document_from_row(row))
    await queries.insert_care_plan_pdf(conn, care_plan_id=care_plan_id, status=row["status"], pdf=pdf)
    return True
