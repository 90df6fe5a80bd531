"""The arq worker: the registered jobs, the outbox listener and sweep, and the periodic jobs.

Time limits are short on purpose: arq re-runs the job of a worker that died only after the
largest timeout plus 10 s, so short limits keep recovery near a minute.
"""

from __future__ import annotations

import logging
import socket
from typing import Any, ClassVar

import msgspec
from arq.connections import RedisSettings

from tumorboard import metrics, outbox
from tumorboard.db import create_pool
from tumorboard.documents.pdf import start_rendering
from tumorboard.logs import configure_logging
from tumorboard.settings import Settings, current_settings
from workers import jobs
from workers.dispatch import Dispatcher
from workers.registry import arq_functions, cron_job

log = logging.getLogger("tumorboard.worker")


def redis_settings(settings: Settings) -> RedisSettings:
    """arq's Redis settings from our REDIS_URL."""
    return RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    """Open the pool, start listening for new jobs, and sweep what is pending."""
    settings = current_settings()
    configure_logging(settings.log_level)
    ctx["settings"] = settings
    ctx["pool"] = await create_pool(settings.database_url or "", min_size=1, max_size=settings.db_pool_max)
    ctx["dispatcher"] = Dispatcher(ctx["pool"], ctx["redis"], settings.database_url or "")
    await ctx["dispatcher"].start()
    await outbox.sweep(ctx["pool"], ctx["redis"], settle_seconds=0)
    await start_rendering()
    log.info("worker ready")


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop listening and close the pool."""
    if dispatcher := ctx.get("dispatcher"):
        await dispatcher.stop()
    if pool := ctx.get("pool"):
        await pool.close()
    metrics.process_exited()


class WorkerSettings:
    """arq worker configuration (run with `tumorboard worker`)."""

    functions: ClassVar = arq_functions()
    cron_jobs: ClassVar = [
        cron_job(jobs.sweep_outbox, second={0, 15, 30, 45}),
        cron_job(jobs.clean_up, minute=17, second=0),
        cron_job(jobs.lock_due_agendas, second={5, 20, 35, 50}),
        cron_job(jobs.generate_meeting_occurrences, minute={7, 37}, second=0),
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
    # A heartbeat per host in Redis, for `tumorboard worker --check` (a container's health check).
    health_check_interval = 10
    health_check_key = f"arq:health-check:{socket.gethostname()}"
