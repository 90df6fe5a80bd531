"""One registry from the outbox's job names to the functions that run them.

`outbox.Job` names every job the outbox can hold (so a misspelt name cannot be written); each job
function registers under one of those names with `@job(...)`, and `arq_functions()` refuses to
start a worker unless every name has exactly one function. Each run is wrapped the same way: its
log lines carry the job, its outbox rows and the request that caused them; it is counted and timed;
and a failure is recorded on its outbox rows by error class, for the outbox's retry policy (arq
itself runs each enqueued job once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from arq import cron, func
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function

from tumorboard import metrics, outbox
from tumorboard.logs import job_context

log = logging.getLogger("tumorboard.worker")

JOB_TIMEOUT = 60
CRON_TIMEOUT = 30

JobFunction = Callable[..., Awaitable[None]]
_registry: dict[outbox.Job, JobFunction] = {}


class JobFailed(Exception):
    """A job's failure as arq logs it: the error's class, never its message (it may hold data)."""


def job(name: outbox.Job) -> Callable[[JobFunction], JobFunction]:
    """Register a job function under an outbox job name: `(ctx, outbox_id, subject_id)`, or
    `(ctx, outbox_ids, subject_ids)` for the names in outbox.BATCHED."""

    def register(function: JobFunction) -> JobFunction:
        if name in _registry:
            raise RuntimeError(f"job {name} is registered twice")
        _registry[outbox.Job(name)] = function
        return function

    return register


def arq_functions() -> list[Function]:
    """The arq functions of every registered job (arq runs each once: the outbox retries)."""
    missing = sorted(set(outbox.Job) - set(_registry))
    if missing:
        raise RuntimeError(f"no function registered for job(s): {', '.join(missing)}")
    return [
        func(cast(WorkerCoroutine, _wrap(name, function)), name=str(name), timeout=JOB_TIMEOUT, max_tries=1)
        for name, function in sorted(_registry.items())
    ]


def _wrap(name: outbox.Job, function: JobFunction) -> Callable[..., Awaitable[None]]:
    batched = name in outbox.BATCHED

    async def run(
        ctx: dict[str, Any],
        outbox_ids: list[int],
        subject_ids: list[str | None],
        request_ids: list[str | None] | None = None,
    ) -> None:
        with job_context(str(name), outbox_ids, request_ids or []):
            started = time.perf_counter()
            error = None
            try:
                if batched:
                    await function(ctx, outbox_ids, subject_ids)
                else:
                    await function(ctx, outbox_ids[0], subject_ids[0])
            except asyncio.CancelledError:  # a timeout, or the worker stopping: the sweep re-runs it
                error = "JobInterrupted"
                raise
            except Exception as failure:
                error = type(failure).__name__
                log.warning("job failed", exc_info=True)
                await outbox.record_failure(ctx["pool"], outbox_ids, error)
                raise JobFailed(error) from None
            finally:
                seconds = time.perf_counter() - started
                metrics.observe_job(str(name), len(outbox_ids), seconds, error)
            log.info("job done", extra={"duration_ms": round(seconds * 1000, 2), "count": len(outbox_ids)})

    run.__qualname__ = str(name)
    return run


def cron_job(function: Callable[[dict[str, Any]], Awaitable[Any]], **when: Any) -> CronJob:
    """A periodic job, counted, timed and logged like the outbox's jobs."""
    name = function.__name__

    async def run(ctx: dict[str, Any]) -> Any:
        with job_context(name, [], []):
            started, error = time.perf_counter(), None
            try:
                return await function(ctx)
            except Exception as failure:
                error = type(failure).__name__
                log.warning("job failed", exc_info=True)
                raise JobFailed(error) from None
            finally:
                metrics.observe_job(name, 0, time.perf_counter() - started, error)

    return cron(run, name=name, timeout=CRON_TIMEOUT, **when)
