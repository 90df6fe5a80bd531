"""Structured logs: one JSON object a line, with the request id that follows a change into its jobs.

Only a fixed set of fields is ever written (FIELDS), so what reaches the logs can be listed and
reviewed (docs/operations.md): ids, names, counts, durations and error classes, never patient
data. Exception messages are left out too (a database error may quote a value): a failure is
logged by its class and the code locations of its traceback.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec

# Fields a log call may pass with `extra=` (anything else is dropped by the formatter).
FIELDS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "job",
    "outbox_ids",
    "request_ids",
    "attempts",
    "error",
    "count",
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_job: ContextVar[dict[str, Any] | None] = ContextVar("job", default=None)
_QUIET_LOGGERS = ("asyncio",)


def current_request_id() -> str | None:
    """The id of the request (or of the request behind the job) being handled, if any."""
    return _request_id.get()


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a plain token of up to 64 characters, else a new id."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Tag every log line written inside with this request id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


@contextmanager
def job_context(job: str, outbox_ids: list[int], request_ids: list[str | None]) -> Iterator[None]:
    """Tag every log line written inside with the job, its outbox rows and the requests behind them;
    jobs this one writes carry the first request id on."""
    known = [request_id for request_id in request_ids if request_id]
    job_token = _job.set(
        {"job": job, "outbox_ids": outbox_ids, "request_ids": known} if outbox_ids else {"job": job}
    )
    request_token = _request_id.set(known[0] if known else None)
    try:
        yield
    finally:
        _request_id.reset(request_token)
        _job.reset(job_token)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger, message and the known fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON; exceptions by class and code locations, never by message."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := _request_id.get():
            entry["request_id"] = request_id
        if job := _job.get():
            entry.update(job)
        for name in FIELDS:
            if (value := record.__dict__.get(name)) is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = type(error).__name__
            entry["traceback"] = "".join(traceback.format_tb(error.__traceback__, limit=-12))
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str) -> None:
    """JSON lines on stderr for every process (web, worker, CLI); chatty libraries only warn."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "arq", "arq.worker"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's access lines show paths as requested (ids, search terms): requests are logged by
    # route pattern instead (tumorboard.metrics).
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    access.disabled = True
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
