"""Prometheus metrics: requests and live streams (web), job runs (worker), and the outbox (PostgreSQL).

Counters and histograms live in each process; with PROMETHEUS_MULTIPROC_DIR set, every web and
worker process of a host writes them to files in that folder and `GET /metrics` on any web
process adds them all up. The outbox figures (backlog, age of the oldest pending job, dead jobs)
are read from PostgreSQL at scrape time, so they are right whatever the number of processes and
hosts. Labels are route patterns, methods, statuses, job names and error classes: never an id,
a path as requested or anything typed by a user.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Iterator
from typing import Any, cast

import asyncpg
from litestar import Response, get
from litestar.datastructures import State
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from tumorboard import outbox
from tumorboard.logs import request_context, request_id_from
from tumorboard.settings import current_settings

log = logging.getLogger(__name__)


def _process_identifier() -> str:
    """Host and process id: processes of several containers may share one folder and one pid."""
    return f"{socket.gethostname()}-{os.getpid()}".replace("_", "-")


_METRICS_DIR = current_settings().metrics_dir
if _METRICS_DIR is not None:  # chosen before the first metric is made, as prometheus-client requires
    _METRICS_DIR.mkdir(parents=True, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(_process_identifier)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
SCRAPE_TIMEOUT = 2.0
# The classic text format every Prometheus reads (the charset is added by Litestar).
MEDIA_TYPE = "text/plain; version=0.0.4"
JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter(
    "tumorboard_http_requests",
    "HTTP requests answered, by route pattern and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "tumorboard_http_request_duration_seconds",
    "Time from request to the end of the response, by route pattern (live streams excluded)",
    ["method", "route"],
)
LIVE_STREAMS = Gauge(
    "tumorboard_live_streams", "Live (server-sent event) streams open now", multiprocess_mode="livesum"
)
DB_POOL_WAITS = Counter(
    "tumorboard_db_pool_waits",
    "Web requests that found every PostgreSQL connection of their process lent and waited for one",
)
JOB_RUNS = Counter("tumorboard_job_runs", "Job runs finished, failed or not, by job", ["job"])
JOB_FAILURES = Counter(
    "tumorboard_job_failures", "Job runs that failed, by job and error class", ["job", "error"]
)
JOB_ROWS = Counter(
    "tumorboard_job_outbox_rows", "Outbox rows handled by job runs (a batch counts each)", ["job"]
)
JOB_SECONDS = Histogram(
    "tumorboard_job_duration_seconds", "Job run time, by job", ["job"], buckets=JOB_BUCKETS
)


class RequestObserver:
    """ASGI wrapper outside the router (so 404 and 405 count too): gives each request an id (the
    caller's X-Request-ID or a new one, echoed in the response), counts and times it by route
    pattern, tracks open live streams, and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Observe one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        request_id = request_id_from(header.decode("latin-1") if header else None)
        started = time.perf_counter()
        status, streaming = 500, False

        async def observed_send(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
                streaming = any(
                    name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                    for name, value in headers
                )
                if streaming:
                    LIVE_STREAMS.inc()
            await send(message)

        with request_context(request_id):
            try:
                await self.app(scope, receive, observed_send)
            finally:
                if streaming:
                    LIVE_STREAMS.dec()
                self._record(cast(HTTPScope, scope), status, streaming, time.perf_counter() - started)

    @staticmethod
    def _record(scope: HTTPScope, status: int, streaming: bool, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = scope.get("path_template") or UNMATCHED
        REQUESTS.labels(method, route, str(status)).inc()
        if not streaming:
            REQUEST_SECONDS.labels(method, route).observe(seconds)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )


def observe_job(job: str, rows: int, seconds: float, error: str | None) -> None:
    """Count and time one job run (error: the class of its failure, if it failed)."""
    JOB_RUNS.labels(job).inc()
    JOB_ROWS.labels(job).inc(rows)
    JOB_SECONDS.labels(job).observe(seconds)
    if error is not None:
        JOB_FAILURES.labels(job, error).inc()


def process_exited() -> None:
    """Forget this process's live gauges (call when it stops)."""
    if _METRICS_DIR is not None:
        multiprocess.mark_process_dead(_process_identifier(), str(_METRICS_DIR))


class _OutboxCollector:
    """The outbox as read from PostgreSQL at scrape time."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self.rows = rows

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "tumorboard_outbox_pending_jobs", "Outbox jobs neither done nor dead, by job", labels=["job"]
        )
        dead = GaugeMetricFamily(
            "tumorboard_outbox_dead_jobs", "Jobs that used every attempt and failed, by job", labels=["job"]
        )
        for row in self.rows:
            pending.add_metric([row["job"]], row["pending"])
            dead.add_metric([row["job"]], row["dead"])
        ages = [row["oldest_age"] for row in self.rows if row["oldest_age"] is not None]
        yield pending
        yield dead
        yield GaugeMetricFamily(
            "tumorboard_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox job neither done nor dead (0 when none waits)",
            value=max(ages, default=0.0),
        )


@get("/metrics", operation_id="Metrics", include_in_schema=False, media_type=MEDIA_TYPE)
async def metrics(state: State) -> Response[Any]:
    """Every metric in the Prometheus text format (open like the health probes; no patient data)."""
    if _METRICS_DIR is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(_METRICS_DIR))
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT), state.pool.acquire() as conn:
            rows = await outbox.backlog(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError):
        log.warning("metrics: the outbox could not be read")
    else:
        database = CollectorRegistry()
        database.register(_OutboxCollector(rows))
        body += generate_latest(database)
    return Response(body, media_type=MEDIA_TYPE)
