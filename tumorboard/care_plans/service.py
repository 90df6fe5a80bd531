"""Reading, signing, amending and rendering care plans."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit, outbox
from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.auth.service import reauthenticate
from tumorboard.care_plans.consolidation import current_sources
from tumorboard.care_plans.documents import render_html, render_pdf_off_loop
from tumorboard.care_plans.fhir import build_fhir_bundle
from tumorboard.care_plans.schemas import Amendment, AmendmentCreate, CarePlanDocument
from tumorboard.care_plans.versions import changes_to_show, document_from_row, get_version
from tumorboard.cases.lifecycle import CaseEvent
from tumorboard.cases.policy import CaseFacts, can_amend, can_sign
from tumorboard.cases.service import change_status, get_case
from tumorboard.db import queries
from tumorboard.errors import Conflict, NotFound, NotReady
from tumorboard.notifications.schemas import NotificationKind
from tumorboard.notifications.service import notify_care_plan_ready
from tumorboard.policy import enforce


def content_hash(case_id: UUID, version: int, content: object) -> str:
    """SHA-256 of a version's canonical content, printed on the signed document."""
    canonical = msgspec.json.encode(
        {"case_id": str(case_id), "version": version, "content": content}, order="sorted"
    )
    return hashlib.sha256(canonical).hexdigest()


async def get_document(conn: asyncpg.Connection, user: User, case_id: UUID) -> CarePlanDocument:
    """The latest care plan version of a case the caller may see; 404 until the decision is consolidated."""
    await get_case(conn, user, case_id, action="read_care_plan")
    row = await queries.care_plans.get_latest_care_plan(conn, case_id=case_id)
    if row is None:
        raise NotFound("There is no care plan yet: it is drafted once the board has decided the case")
    return document_from_row(row)


async def get_any_version(
    conn: asyncpg.Connection, user: User, case_id: UUID, version: int | None
) -> CarePlanDocument:
    """A version of a case's care plan by number, or the latest when `version` is None."""
    if version is None:
        return await get_document(conn, user, case_id)
    return await get_version(conn, user, case_id, version)


async def get_html(conn: asyncpg.Connection, user: User, case_id: UUID, version: int | None = None) -> str:
    """A version (the latest by default) as an HTML page, with what changed since the one it follows."""
    document = await get_any_version(conn, user, case_id, version)
    return render_html(document, await changes_to_show(conn, document))


async def get_fhir(
    conn: asyncpg.Connection, user: User, case_id: UUID, version: int | None = None
) -> dict[str, Any]:
    """A version (the latest by default) as a FHIR R4 Bundle."""
    return build_fhir_bundle(await get_any_version(conn, user, case_id, version))


async def sign(
    conn: asyncpg.Connection, user: User, case_id: UUID, password: str, version: int | None = None
) -> CarePlanDocument:
    """The chair signs the latest draft (the `version` they read, when given), re-authenticating with
    their password: it becomes final, the case finalized, an amendment closed.

    A caller who is not the chair is refused (403) before a wrong password (401, audited as a failed
    sign-in), before a case or plan in the wrong state (409).
    """
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    latest = await queries.care_plans.get_latest_care_plan(conn, case_id=case_id)
    role = await participant_role(conn, case["meeting_id"], user.id)
    verdict = can_sign(user, CaseFacts.of(case), role, latest["status"] if latest else None)
    if verdict.forbidden:
        enforce(verdict, action="sign_care_plan", subject_type="case", subject_id=case_id)
    await reauthenticate(conn, user, password)
    enforce(verdict, action="sign_care_plan", subject_type="case", subject_id=case_id)
    if version is not None and version != latest["version"]:
        raise Conflict(f"A newer draft (version {latest['version']}) has arrived; read it before signing")
    _, _, fingerprint = await current_sources(conn, case_id, case["meeting_id"])
    if latest["source_fingerprint"] != fingerprint:
        raise Conflict(
            "The decision or a recommendation changed; the new draft is being prepared, sign it then"
        )
    await queries.care_plans.sign_care_plan(
        conn,
        id=latest["id"],
        signed_by=user.id,
        signed_at=datetime.now(UTC),
        content_hash=content_hash(case_id, latest["version"], latest["content"]),
    )
    await queries.care_plans.close_care_plan_amendment(conn, case_id=case_id, signed_id=latest["id"])
    await change_status(conn, case_id, case["status"], CaseEvent.SIGN)
    await audit.record(conn, user.id, "sign", "care_plan", latest["id"])
    await outbox.add_job(conn, outbox.RENDER_CARE_PLAN_PDF, latest["id"])
    await outbox.add_job(conn, outbox.SEND_REFERRER_LETTER, latest["id"])
    await notify_care_plan_ready(conn, NotificationKind.CARE_PLAN_FINAL, case_id, latest["id"])
    return document_from_row(await queries.care_plans.get_care_plan(conn, id=latest["id"]))


async def amend(conn: asyncpg.Connection, user: User, case_id: UUID, data: AmendmentCreate) -> Amendment:
    """The chair reopens the signed plan: recommendations may change, and the next version,
    once signed, replaces the amended one (which stays final and readable)."""
    case = await queries.cases.lock_case(conn, id=case_id)
    if case is None:
        raise NotFound("No such case")
    role = await participant_role(conn, case["meeting_id"], user.id)
    enforce(
        can_amend(user, CaseFacts.of(case), role),
        action="amend_care_plan",
        subject_type="case",
        subject_id=case_id,
    )
    latest = await queries.care_plans.get_latest_care_plan_state(conn, case_id=case_id)
    row = await queries.care_plans.insert_care_plan_amendment(
        conn, case_id=case_id, amends_id=latest["id"], reason=data.reason, requested_by=user.id
    )
    await change_status(conn, case_id, case["status"], CaseEvent.AMEND)
    await audit.record(conn, user.id, "amend", "care_plan", latest["id"])
    await outbox.add_job(conn, outbox.CONSOLIDATE_CARE_PLAN, case_id)
    return Amendment(
        id=row["id"],
        case_id=case_id,
        amends_version=latest["version"],
        reason=data.reason,
        requested_by=user.id,
        requested_at=row["requested_at"],
    )


async def get_pdf(
    conn: asyncpg.Connection, user: User, case_id: UUID, version: int | None = None
) -> tuple[CarePlanDocument, bytes]:
    """The rendered PDF of a version (the latest by default); NotReady while a worker renders it."""
    document = await get_any_version(conn, user, case_id, version)
    pdf = await queries.care_plans.get_care_plan_pdf(conn, care_plan_id=document.id, status=document.status)
    if pdf is None:
        raise NotReady("The PDF is being prepared; retry in a few seconds")
    return document, pdf


async def render_care_plan_pdf(pool: asyncpg.Pool, care_plan_id: UUID) -> bool:
    """Render and store a version's PDF in its current status, once, off the event loop.

    A connection is held only to read the version and to store the PDF, not while the PDF waits for
    and takes the process's rendering thread: a burst of renders would otherwise grow the pool to
    its maximum of fresh connections, each planning every statement anew."""
    async with pool.acquire() as conn:
        row = await queries.care_plans.get_care_plan(conn, id=care_plan_id)
        if row is None:
            return False
        if (
            await queries.care_plans.get_care_plan_pdf(conn, care_plan_id=care_plan_id, status=row["status"])
            is not None
        ):
            return False
        document = document_from_row(row)
        changes = await changes_to_show(conn, document)
    pdf = await render_pdf_off_loop(document, changes)
    async with pool.acquire() as conn:
        await queries.care_plans.insert_care_plan_pdf(
            conn, care_plan_id=care_plan_id, status=row["status"], pdf=pdf
        )
    return True
