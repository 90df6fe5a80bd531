"""Job functions: ids in, state re-read, result written once; each marks its outbox rows done.

Every job may run more than once; each domain service it calls is idempotent. Each registers under
its outbox name (workers/registry.py); the periodic ones are scheduled in workers/settings.py.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from tumorboard import audit, outbox
from tumorboard.care_plans.consolidation import consolidate_care_plan as consolidate
from tumorboard.care_plans.service import render_care_plan_pdf as render_pdf
from tumorboard.db import queries
from tumorboard.letters.service import send_letter, write_letter
from tumorboard.meetings.agenda import lock_due_agendas as lock_agendas
from tumorboard.meetings.agenda import remind_presenters, store_agenda_pdf
from tumorboard.meetings.agenda import send_agenda as send_frozen_agenda
from tumorboard.meetings.assignment import assign_cases as assign_new
from tumorboard.meetings.assignment import assign_waiting_cases as assign_all
from tumorboard.meetings.pack import store_pack
from tumorboard.meetings.series import generate_all_occurrences
from tumorboard.notifications.email import send_notification_email as send_email
from tumorboard.settings import Settings
from workers.registry import job


@job(outbox.ASSIGN_CASE)
async def assign_case(ctx: dict[str, Any], outbox_ids: list[int], case_ids: list[str]) -> None:
    """Place a batch of newly submitted cases on the earliest fitting meetings, in one pass."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn, conn.transaction():
        await assign_new(conn, [UUID(case_id) for case_id in case_ids])
        await outbox.mark_done(conn, outbox_ids)


@job(outbox.ASSIGN_WAITING_CASES)
async def assign_waiting_cases(ctx: dict[str, Any], outbox_id: int, meeting_id: str | None) -> None:
    """Offer the waiting cases to the meetings after meetings changed (those competing for the
    changed meeting's seats, or every one when no meeting is named)."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        await assign_all(conn, UUID(meeting_id) if meeting_id else None)
        await outbox.mark_done(conn, outbox_id)


@job(outbox.CONSOLIDATE_CARE_PLAN)
async def consolidate_care_plan(ctx: dict[str, Any], outbox_ids: list[int], case_ids: list[str]) -> None:
    """Build the next care plan version of each discussed case of a batch, if anything changed.

    One connection for the batch, one transaction per case: each draft is readable as soon as it is
    built, and a case that fails leaves the others done (its row is retried by the sweep)."""
    pool: asyncpg.Pool = ctx["pool"]
    failure: Exception | None = None
    async with pool.acquire() as conn:
        for outbox_id, case_id in zip(outbox_ids, case_ids, strict=True):
            try:
                async with conn.transaction():
                    await consolidate(conn, UUID(case_id))
                    await outbox.mark_done(conn, outbox_id)
            except Exception as error:
                failure = failure or error
    if failure is not None:
        raise failure  # recorded on the rows not done


@job(outbox.RENDER_CARE_PLAN_PDF)
async def render_care_plan_pdf(ctx: dict[str, Any], outbox_id: int, care_plan_id: str) -> None:
    """Render a care plan version's PDF once, off the event loop."""
    pool: asyncpg.Pool = ctx["pool"]
    await render_pdf(pool, UUID(care_plan_id))
    async with pool.acquire() as conn:
        await outbox.mark_done(conn, outbox_id)


@job(outbox.SEND_NOTIFICATION_EMAIL)
async def send_notification_email(ctx: dict[str, Any], outbox_id: int, notification_id: str) -> None:
    """Email a notification once, when SMTP is configured (the inbox has it either way)."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    async with pool.acquire() as conn, conn.transaction():
        await send_email(conn, UUID(notification_id), settings)
        await outbox.mark_done(conn, outbox_id)


@job(outbox.SEND_REFERRER_LETTER)
async def send_referrer_letter(ctx: dict[str, Any], outbox_id: int, care_plan_id: str) -> None:
    """Write the letter of a signed version to the referring clinician once, and email them when
    SMTP is configured (the letter is kept and downloadable either way)."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    async with pool.acquire() as conn:
        letter_id = await write_letter(conn, UUID(care_plan_id))
        async with conn.transaction():
            if letter_id is not None:
                await send_letter(conn, letter_id, settings)
            await outbox.mark_done(conn, outbox_id)


async def clean_up(ctx: dict[str, Any]) -> None:
    """Housekeeping: drop expired tokens, old sign-in failures, and outbox rows done over a week ago;
    give the audit trail its coming months' partitions."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        await queries.auth.delete_expired_tokens(conn)
        await queries.auth.delete_old_sign_in_failures(conn)
        await queries.outbox.delete_old_outbox_jobs(conn, keep_days=7)
        await audit.add_coming_partitions(conn)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Re-enqueue every job that is not done and no longer queued."""
    return await outbox.sweep(ctx["pool"], ctx["redis"])


@job(outbox.SEND_AGENDA)
async def send_agenda(ctx: dict[str, Any], outbox_id: int, meeting_id: str) -> None:
    """Send a frozen agenda once: its PDF and the meeting pack stored, then each participant and
    presenter told."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        await send_frozen_agenda(conn, UUID(meeting_id))
        await outbox.mark_done(conn, outbox_id)


@job(outbox.RENDER_AGENDA_PDF)
async def render_agenda_pdf(ctx: dict[str, Any], outbox_id: int, meeting_id: str) -> None:
    """Render the PDF of an agenda as it stands, once, off the event loop."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        await store_agenda_pdf(conn, UUID(meeting_id))
        await outbox.mark_done(conn, outbox_id)


@job(outbox.RENDER_MEETING_PACK)
async def render_meeting_pack(ctx: dict[str, Any], outbox_id: int, meeting_id: str) -> None:
    """Render the meeting pack as it stands, once, off the event loop."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        await store_pack(conn, UUID(meeting_id))
        await outbox.mark_done(conn, outbox_id)


async def lock_due_agendas(ctx: dict[str, Any]) -> int:
    """Remind presenters of unready cases a day ahead, then freeze the agendas whose lock time has come."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        await remind_presenters(conn)
        return await lock_agendas(conn)


async def generate_meeting_occurrences(ctx: dict[str, Any]) -> int:
    """Keep every meeting series generated ahead over its horizon."""
    pool: asyncpg.Pool = ctx["pool"]
    async with pool.acquire() as conn:
        return await generate_all_occurrences(conn)
