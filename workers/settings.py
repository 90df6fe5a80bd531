"""The arq worker: job functions, the outbox listener and sweep, and their time limits.

Time limits are short on purpose: arq re-runs the job of a worker that died only after the
largest timeout plus 10 s, so short limits keep recovery near a minute.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import asyncpg
import msgspec
from arq import cron, func
from arq.connections import RedisSettings

from tumorboard import outbox
from tumorboard.care_plans.rendering import pdf_renderer
from tumorboard.db import create_pool
from tumorboard.settings import Settings, configure_logging, current_settings
from workers import jobs

log = logging.getLogger("tumorboard.worker")

JOB_TIMEOUT = 60
CRON_TIMEOUT = 30


def redis_settings(settings: Settings) -> RedisSettings:
    """arq's Redis settings from our REDIS_URL."""
    return RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379/0")


LISTENER_CHECK_SECONDS = 5


async def _listen(ctx: dict[str, Any], database_url: str) -> asyncpg.Connection:
    """Enqueue each outbox row as soon as the transaction that wrote it commits."""
    pool: asyncpg.Pool = ctx["pool"]
    tasks: set[asyncio.Task[bool]] = ctx.setdefault("enqueue_tasks", set())

    def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        task = asyncio.create_task(outbox.enqueue(pool, ctx["redis"], int(payload), attempts=0))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    listener: asyncpg.Connection = await asyncpg.connect(database_url)
    await listener.add_listener(outbox.CHANNEL, on_notify)
    return listener


async def _keep_listening(ctx: dict[str, Any], database_url: str) -> None:
    """Re-open the listener whenever PostgreSQL drops it (the sweep covers the gap)."""
    while True:
        listener: asyncpg.Connection | None = ctx.get("listener")
        if listener is None or listener.is_closed():
            try:
                ctx["listener"] = await _listen(ctx, database_url)
                log.info("listening for outbox jobs")
            except (OSError, asyncpg.PostgresError):
                log.warning("outbox listener could not connect; retrying (the sweep still runs)")
        await asyncio.sleep(LISTENER_CHECK_SECONDS)


async def startup(ctx: dict[str, Any]) -> None:
    """Open the pool, start listening for new jobs, and sweep what is pending."""
    settings = current_settings()
    configure_logging(settings.log_level)
    ctx["settings"] = settings
    ctx["pool"] = await create_pool(settings.database_url or "", min_size=1, max_size=settings.db_pool_max)
    ctx["listener"] = await _listen(ctx, settings.database_url or "")
    ctx["watchdog"] = asyncio.create_task(_keep_listening(ctx, settings.database_url or ""))
    await outbox.sweep(ctx["pool"], ctx["redis"], settle_seconds=0)
    await pdf_renderer.start()
    log.info("worker ready")


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop listening and close the pool."""
    if watchdog := ctx.get("watchdog"):
        watchdog.cancel()
    if listener := ctx.get("listener"):
        await listener.close()
    if pool := ctx.get("pool"):
        await pool.close()
    pdf_renderer.stop()


class WorkerSettings:
    """arq worker configuration (run with `tumorboard worker`)."""

    functions: ClassVar = [
        func(jobs.assign_case, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.assign_waiting_cases, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.consolidate_care_plan, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.render_care_plan_pdf, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.send_agenda, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.render_agenda_pdf, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.render_meeting_pack, timeout=JOB_TIMEOUT, max_tries=5),
        func(jobs.send_notification_email, timeout=JOB_TIMEOUT, max_tries=5),
    ]
    cron_jobs: ClassVar = [
        cron(jobs.sweep_outbox, second={0, 15, 30, 45}, timeout=CRON_TIMEOUT),
        cron(jobs.clean_up, minute=17, second=0, timeout=CRON_TIMEOUT),
        cron(jobs.lock_due_agendas, second={5, 20, 35, 50}, timeout=CRON_TIMEOUT),
        cron(jobs.generate_meeting_occurrences, minute={7, 37}, second=0, timeout=CRON_TIMEOUT),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(current_settings())
    job_serializer = msgspec.msgpack.encode
    job_deserializer = msgspec.msgpack.decode
    poll_delay = 0.1
    max_jobs = 10
    keep_result = 60
    handle_signals = True
