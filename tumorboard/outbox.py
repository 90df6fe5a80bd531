"""The job outbox: jobs written with the change that causes them, then handed to arq.

A row is inserted in the caller's transaction; a trigger notifies listening workers when
that transaction commits, and they enqueue it. A periodic sweep re-enqueues every row that
is not done and no longer queued (Redis restarted, enqueue failed, job failed), so Redis is
never the only copy of a job.
"""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg
from arq import ArqRedis
from arq.jobs import Job, JobStatus

from tumorboard.db import fetch_all, queries

log = logging.getLogger(__name__)

CHANNEL = "outbox"
MAX_ATTEMPTS = 20
# An enqueued job younger than this is left alone by the sweep.
SETTLE_SECONDS = 10

ASSIGN_CASE = "assign_case"
ASSIGN_WAITING_CASES = "assign_waiting_cases"
CONSOLIDATE_CARE_PLAN = "consolidate_care_plan"
RENDER_CARE_PLAN_PDF = "render_care_plan_pdf"
SEND_AGENDA = "send_agenda"
RENDER_AGENDA_PDF = "render_agenda_pdf"
RENDER_MEETING_PACK = "render_meeting_pack"
SEND_NOTIFICATION_EMAIL = "send_notification_email"

_LIVE = {JobStatus.queued, JobStatus.deferred, JobStatus.in_progress}


async def add_job(conn: asyncpg.Connection, job: str, subject_id: UUID | None = None) -> int:
    """Write a job in the caller's transaction; it runs once that transaction commits."""
    return await queries.outbox.insert_outbox_job(conn, job=job, subject_id=subject_id)


async def mark_done(conn: asyncpg.Connection, outbox_id: int) -> None:
    """Record, in the job's own transaction, that its work is committed."""
    await queries.outbox.mark_outbox_job_done(conn, id=outbox_id)


async def enqueue(pool: asyncpg.Pool, redis: ArqRedis, outbox_id: int, attempts: int) -> bool:
    """Claim a row at its current attempt count and enqueue it; False if another process won."""
    async with pool.acquire() as conn:
        row = await queries.outbox.claim_outbox_job(
            conn, id=outbox_id, attempts=attempts, max_attempts=MAX_ATTEMPTS
        )
    if row is None:
        return False
    subject = str(row["subject_id"]) if row["subject_id"] else None
    try:
        await redis.enqueue_job(row["job"], row["id"], subject, _job_id=row["arq_job_id"])
    except Exception:  # the sweep will try again; the row is safe in PostgreSQL
        log.warning("could not enqueue outbox job %s; the sweep will retry", outbox_id, exc_info=True)
        return False
    if attempts + 1 == MAX_ATTEMPTS:
        log.error("outbox job %s (%s) is on its last attempt", outbox_id, row["job"])
    return True


async def sweep(pool: asyncpg.Pool, redis: ArqRedis, *, settle_seconds: int = SETTLE_SECONDS) -> int:
    """Re-enqueue every job not done and not live in Redis; return how many were enqueued."""
    async with pool.acquire() as conn:
        rows = await fetch_all(
            queries.outbox.list_pending_outbox_jobs(
                conn, max_attempts=MAX_ATTEMPTS, settle_seconds=settle_seconds, limit=1000
            )
        )
    enqueued = 0
    for row in rows:
        if row["arq_job_id"] and await Job(row["arq_job_id"], redis).status() in _LIVE:
            continue
        enqueued += await enqueue(pool, redis, row["id"], row["attempts"])
    if enqueued:
        log.info("outbox sweep enqueued %d job(s)", enqueued)
    return enqueued
