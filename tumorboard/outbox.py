"""The job outbox: jobs written with the change that causes them, then handed to arq.

A row is inserted in the caller's transaction; a trigger notifies listening workers when that
transaction commits, and they claim and enqueue it (many rows per claim). A periodic sweep
re-enqueues every row that is not done and no longer queued (Redis restarted, enqueue failed, job
failed or lost with its worker), so Redis is never the only copy of a job.

The retry policy lives here and only here: arq runs each enqueued job once; a job that fails or is
lost is enqueued again by the sweep, after a delay that doubles with each attempt, until it has
made MAX_ATTEMPTS attempts. Then it is dead: kept with `failed_at` and the class of its last
error until an admin retries it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum
from uuid import UUID

import asyncpg
from arq import ArqRedis
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus

from tumorboard.db import Record, fetch_all, queries
from tumorboard.logs import current_request_id

log = logging.getLogger(__name__)


class Job(StrEnum):
    """Every job the outbox can hold; the worker registers exactly one function per name."""

    ASSIGN_CASE = "assign_case"
    ASSIGN_WAITING_CASES = "assign_waiting_cases"
    CONSOLIDATE_CARE_PLAN = "consolidate_care_plan"
    RENDER_CARE_PLAN_PDF = "render_care_plan_pdf"
    SEND_AGENDA = "send_agenda"
    RENDER_AGENDA_PDF = "render_agenda_pdf"
    RENDER_MEETING_PACK = "render_meeting_pack"
    SEND_NOTIFICATION_EMAIL = "send_notification_email"
    SEND_REFERRER_LETTER = "send_referrer_letter"


ASSIGN_CASE = Job.ASSIGN_CASE
ASSIGN_WAITING_CASES = Job.ASSIGN_WAITING_CASES
CONSOLIDATE_CARE_PLAN = Job.CONSOLIDATE_CARE_PLAN
RENDER_CARE_PLAN_PDF = Job.RENDER_CARE_PLAN_PDF
SEND_AGENDA = Job.SEND_AGENDA
RENDER_AGENDA_PDF = Job.RENDER_AGENDA_PDF
RENDER_MEETING_PACK = Job.RENDER_MEETING_PACK
SEND_NOTIFICATION_EMAIL = Job.SEND_NOTIFICATION_EMAIL
SEND_REFERRER_LETTER = Job.SEND_REFERRER_LETTER

# Jobs whose rows run many at a time: one arq job per claim (one assignment pass for the new cases;
# the consolidations of a board's decisions one after the other on one connection).
BATCHED = frozenset({Job.ASSIGN_CASE, Job.CONSOLIDATE_CARE_PLAN})
# Rows taken per claim (and so at most per batch).
CLAIM_LIMIT = 500

CHANNEL = "outbox"
MAX_ATTEMPTS = 8
# The sweep leaves an enqueued job alone this long after its first attempt, twice as long after
# the second, and so on up to MAX_RETRY_DELAY: 10, 20, 40 ... 600 s, about 21 minutes in all.
SETTLE_SECONDS = 10
MAX_RETRY_DELAY = 600
# Recorded when a job was lost (its worker died on the last attempt) rather than failed.
LOST = "JobLost"

_LIVE = {JobStatus.queued, JobStatus.deferred, JobStatus.in_progress}


async def add_job(conn: asyncpg.Connection, job: Job, subject_id: UUID | None = None) -> int:
    """Write a job in the caller's transaction; it runs once that transaction commits."""
    return await queries.outbox.insert_outbox_job(
        conn, job=Job(job), subject_id=subject_id, request_id=current_request_id()
    )


async def mark_done(conn: asyncpg.Connection, outbox_ids: int | list[int]) -> None:
    """Record, in the job's own transaction, that its work is committed."""
    ids = [outbox_ids] if isinstance(outbox_ids, int) else outbox_ids
    await queries.outbox.mark_outbox_jobs_done(conn, ids=ids)


async def claim_and_enqueue(pool: asyncpg.Pool, redis: ArqRedis, seen: Iterable[tuple[int, int]]) -> int:
    """Claim rows at the attempt counts seen and enqueue them (one arq job per batch of a batched
    job, one per row otherwise); rows another process took are skipped. Returns the rows enqueued."""
    seen = list(seen)
    enqueued = 0
    for start in range(0, len(seen), CLAIM_LIMIT):
        chunk = seen[start : start + CLAIM_LIMIT]
        async with pool.acquire() as conn:
            rows = await fetch_all(
                queries.outbox.claim_outbox_jobs(
                    conn,
                    ids=[row_id for row_id, _ in chunk],
                    attempts=[attempts for _, attempts in chunk],
                    max_attempts=MAX_ATTEMPTS,
                    batched=list(BATCHED),
                )
            )
        enqueued += await _enqueue(redis, rows)
    return enqueued


async def _enqueue(redis: ArqRedis, rows: list[Record]) -> int:
    """Enqueue claimed rows, those sharing an arq job id as one job carrying all their ids."""
    jobs: dict[str, list[Record]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: row["id"]):
        jobs[row["arq_job_id"]].append(row)
    enqueued = 0
    for arq_job_id, batch in jobs.items():
        try:
            await redis.enqueue_job(
                batch[0]["job"],
                [row["id"] for row in batch],
                [str(row["subject_id"]) if row["subject_id"] else None for row in batch],
                request_ids=[row["request_id"] for row in batch],
                _job_id=arq_job_id,
            )
        except Exception:  # the sweep will try again; the rows are safe in PostgreSQL
            log.warning(
                "could not enqueue a job; the sweep will retry",
                extra={"job": batch[0]["job"], "outbox_ids": [row["id"] for row in batch]},
                exc_info=True,
            )
            continue
        enqueued += len(batch)
    return enqueued


async def sweep(pool: asyncpg.Pool, redis: ArqRedis, *, settle_seconds: int = SETTLE_SECONDS) -> int:
    """Re-enqueue every job neither done, dead nor live in Redis whose retry delay has passed, and
    declare dead those lost on their last attempt; return how many rows were enqueued."""
    async with pool.acquire() as conn:
        rows = await fetch_all(
            queries.outbox.list_pending_outbox_jobs(
                conn, settle_seconds=settle_seconds, max_delay=MAX_RETRY_DELAY, limit=5 * CLAIM_LIMIT
            )
        )
    status: dict[str, JobStatus] = {}
    retry, lost = [], []
    for row in rows:
        if (arq_job_id := row["arq_job_id"]) is not None:
            if arq_job_id not in status:
                status[arq_job_id] = await ArqJob(arq_job_id, redis).status()
            if status[arq_job_id] in _LIVE:
                continue
        if row["attempts"] >= MAX_ATTEMPTS:
            lost.append(row["id"])
        else:
            retry.append((row["id"], row["attempts"]))
    if lost:
        await record_failure(pool, lost, LOST)
    enqueued = await claim_and_enqueue(pool, redis, retry)
    if enqueued:
        log.info("outbox sweep enqueued jobs", extra={"count": enqueued})
    return enqueued


async def record_failure(pool: asyncpg.Pool, outbox_ids: list[int], error: str) -> list[int]:
    """Remember why jobs failed (the error's class only); return the ids that are now dead."""
    async with pool.acquire() as conn:
        rows = await fetch_all(
            queries.outbox.record_outbox_failure(conn, ids=outbox_ids, error=error, max_attempts=MAX_ATTEMPTS)
        )
    dead = [row["id"] for row in rows if row["dead"]]
    if dead:
        log.error(
            "jobs are dead after their last attempt; an admin can retry them",
            extra={"job": rows[0]["job"], "outbox_ids": dead, "error": error, "attempts": MAX_ATTEMPTS},
        )
    return dead


async def list_dead_jobs(conn: asyncpg.Connection, limit: int = 200) -> list[Record]:
    """Dead jobs, the most recently failed first."""
    return await fetch_all(queries.outbox.list_dead_outbox_jobs(conn, limit=limit))


async def retry_dead_job(conn: asyncpg.Connection, outbox_id: int) -> Record | None:
    """Give a dead job a fresh set of attempts (workers hear of it when the caller commits);
    None when there is no such dead job."""
    row: Record | None = await queries.outbox.retry_dead_outbox_job(conn, id=outbox_id)
    return row


async def backlog(conn: asyncpg.Connection) -> list[Record]:
    """Per job name: pending and dead rows, and the age of the oldest pending one."""
    return await fetch_all(queries.outbox.get_outbox_backlog(conn))
