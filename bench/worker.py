"""A worker that keeps up: case submissions at the web process's full rate, one worker process.

    .venv/bin/python -m bench.worker            # about a minute: set-up, 20 s of load, drain, checks
    .venv/bin/python -m bench.worker --check    # exit 1 when the worker falls behind or a check fails

Starts embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set: then an empty,
throwaway database), migrates and loads, with set-based SQL, one breast board with its three
oncology reviewers, --meetings meetings of --capacity seats from three days ahead, and --waiting
cases already waiting (discuss-by tomorrow, before every meeting, so none ever fits), then runs one
full assignment pass over them as the service would have. It starts `tumorboard serve` (one process)
and `tumorboard worker` (one process), POSTs /api/v1/cases for --duration seconds as fast as the web
process answers (wrk when on PATH, else bench.loadgen), samples the outbox every half second, waits
for the worker to drain, and reports in one run:

    submissions/s and jobs/s (outbox rows done while the load ran) and their ratio,
    the age of the oldest pending outbox row when the load stops (target: under 2 s) and at worst,
    CPU per job of the worker, and per submission of the web process and PostgreSQL,
    outbox rows per arq job (the batching), the drain time, and the time of one full pass,

then checks that nothing was lost (every job done, every new case placed or noted), no meeting is
overbooked or miscounted, the meetings filled to capacity, and counts priority inversions (new
cases left waiting while a later one got a seat). Results go to bench/results/worker.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness import BenchError, Children, create_user_with_token, run_command, services
from bench.http_ratios import (
    MRN_PLACEHOLDER,
    CpuMeter,
    Endpoint,
    Load,
    PythonClient,
    WrkClient,
    _machine,
    _start_app,
    case_body,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_OLDEST_SECONDS = 2.0
DRAIN_TIMEOUT = 120.0
SAMPLE_SECONDS = 0.5
BACKLOG = (
    "SELECT count(*) AS pending, coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8"
    " AS oldest FROM outbox WHERE done_at IS NULL"
)
MUST_BE_ZERO = ("jobs_not_done", "new_cases_without_outcome", "overbooked_meetings", "miscounted_meetings")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.worker", description="Outbox backlog under sustained case submissions."
    )
    parser.add_argument("--duration", type=int, default=20, choices=range(5, 121), metavar="5..120")
    parser.add_argument("--connections", type=int, default=16, choices=range(1, 257), metavar="1..256")
    parser.add_argument("--waiting", type=int, default=20_000, help="cases already waiting (default 20000)")
    parser.add_argument("--meetings", type=int, default=40, help="upcoming meetings (default 40)")
    parser.add_argument("--capacity", type=int, default=100, help="seats per meeting (default 100)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "worker.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target or a check is missed")
    return parser


async def _prepare(database_url: str, args: argparse.Namespace, nonce: str) -> tuple[str, float]:
    """Migrate, load the board, meetings and waiting cases, run one full pass; return the presenter's
    token and the seconds that pass took."""
    from argon2 import PasswordHasher

    from tumorboard.meetings.assignment import assign_waiting_cases
    from tumorboard.migrate import migrate

    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        if await conn.fetchval("SELECT count(*) FROM patient_case"):
            raise BenchError("the database is not empty: point DATABASE_URL at a throwaway database")
        async with conn.transaction():
            presenter, token = await create_user_with_token(
                conn, f"presenter-{nonce}@bench.invalid", "Bench presenter",
                PasswordHasher().hash(secrets.token_urlsafe(24)), ["presenter"], "medical_oncology",
            )  # fmt: skip
            reviewers = [
                await conn.fetchval(
                    "INSERT INTO app_user (email, full_name, password_hash, roles, discipline)"
                    " VALUES ($1, $2, 'x', '{reviewer}', $3) RETURNING id",
                    f"{discipline}-{nonce}@bench.invalid",
                    f"Bench {discipline}",
                    discipline,
                )
                for discipline in ("medical_oncology", "surgical_oncology", "radiation_oncology")
            ]
            board = await conn.fetchval(
                "INSERT INTO board (name, disease_sites, required_disciplines) VALUES ('Bench breast board',"
                " '{breast}', '{medical_oncology,surgical_oncology,radiation_oncology}') RETURNING id"
            )
            await conn.execute(
                "INSERT INTO meeting (board_id, starts_at, duration_minutes, capacity, submission_deadline,"
                " minutes_per_case)"
                " SELECT $1, now() + make_interval(days => 3 + k), 600, $3,"
                "        now() + make_interval(days => 2 + k), 6"
                " FROM generate_series(0, $2 - 1) AS k",
                board, args.meetings, args.capacity,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO meeting_participant (meeting_id, user_id, role) SELECT m.id, r.user_id, r.role"
                " FROM meeting m CROSS JOIN unnest($1::uuid[], '{chair,reviewer,reviewer}'::text[])"
                " AS r (user_id, role)",
                reviewers,
            )
            await conn.execute(
                "INSERT INTO patient (mrn, given_name, family_name, birth_date, sex)"
                " SELECT 'WAITING-' || i, 'Bench', 'Waiting ' || i, date '1960-01-01' + i % 9000, 'unknown'"
                " FROM generate_series(1, $1) AS i",
                args.waiting,
            )
            await conn.execute(
                "INSERT INTO patient_case (patient_id, presenter_id, disease_site, diagnosis, summary,"
                " question, discuss_by, created_at)"
                " SELECT p.id, $1, 'breast', '{\"code\": \"C50.9\", \"system\": \"ICD-10-CM\"}', 's', 'q',"
                "        current_date + 1, now() - make_interval(secs => $2 - i)"
                " FROM generate_series(1, $2) AS i JOIN patient p ON p.mrn = 'WAITING-' || i",
                presenter, args.waiting,
            )  # fmt: skip
        await conn.execute("ANALYZE")
        started = time.perf_counter()
        await assign_waiting_cases(conn)
        return token, round(time.perf_counter() - started, 3)
    finally:
        await conn.close()


class Sampler:
    """Reads the outbox backlog every half second in a thread of its own while the load runs."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.samples: list[tuple[float, int, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        started = time.monotonic()
        try:
            while not self.stopping.is_set():
                row = await conn.fetchrow(BACKLOG)
                self.samples.append(
                    (round(time.monotonic() - started, 2), row["pending"], round(row["oldest"], 3))
                )
                await asyncio.sleep(SAMPLE_SECONDS)
        finally:
            await conn.close()

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


async def _query(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchrow(sql, *args)
    finally:
        await conn.close()


def _drain(database_url: str) -> float:
    """Seconds until no outbox row is pending (at most DRAIN_TIMEOUT)."""
    started = time.monotonic()
    while asyncio.run(_query(database_url, BACKLOG))["pending"]:
        if time.monotonic() - started > DRAIN_TIMEOUT:
            break
        time.sleep(0.1)
    return round(time.monotonic() - started, 2)


CHECKS = """
SELECT
  (SELECT count(*) FROM outbox WHERE done_at IS NULL) AS jobs_not_done,
  (SELECT count(*) FROM outbox WHERE job = 'assign_case') AS assignment_jobs,
  (SELECT count(DISTINCT arq_job_id) FROM outbox WHERE job = 'assign_case') AS assignment_arq_jobs,
  (SELECT count(*) FROM patient_case WHERE created_at >= $1) AS new_cases,
  (SELECT count(*) FROM patient_case WHERE discuss_by IS NULL) AS submitted_cases,
  (SELECT count(*) FROM patient_case WHERE discuss_by IS NULL AND status = 'scheduled')
      AS submitted_cases_placed,
  (SELECT count(*) FROM patient_case WHERE status = 'submitted' AND assignment_note IS NULL)
      AS new_cases_without_outcome,
  (SELECT count(*) FROM meeting WHERE case_count > capacity OR booked_minutes > duration_minutes)
      AS overbooked_meetings,
  (SELECT count(*) FROM meeting m WHERE m.case_count <> (SELECT count(*) FROM patient_case c
       WHERE c.meeting_id = m.id AND c.status <> 'withdrawn')) AS miscounted_meetings,
  (SELECT count(*) FROM meeting WHERE case_count = capacity) AS full_meetings,
  (SELECT count(*) FROM patient_case w WHERE w.discuss_by IS NULL AND w.status = 'submitted'
       AND (w.created_at, w.id) < (SELECT c.created_at, c.id FROM patient_case c
                                   WHERE c.discuss_by IS NULL AND c.status = 'scheduled'
                                   ORDER BY c.created_at DESC, c.id DESC LIMIT 1)) AS priority_inversions,
  (SELECT count(*) FROM patient_case WHERE discuss_by IS NOT NULL AND status <> 'submitted')
      AS waiting_cases_moved,
  (SELECT extract(epoch FROM max(started_at) - $1)::float8 FROM assignment_pass)
      AS last_full_pass_seconds_after_load_start
"""


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Set up, load, drain and check; return the results."""
    if args.client == "wrk" and not shutil.which("wrk"):
        raise BenchError("wrk is not on PATH: `apt-get install wrk`, or use --client python")
    nonce, started_at, load_average = (
        secrets.token_hex(4),
        datetime.now(UTC),
        [round(x, 2) for x in os.getloadavg()],
    )
    log_dir = RESULTS_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        work_dir = Path(tempfile.mkdtemp(prefix="tumorboard-bench-worker-"))
        stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        client = WrkClient(work_dir) if args.client != "python" and shutil.which("wrk") else PythonClient()
        database_url, redis_url = stack.enter_context(services(work_dir / "services"))
        token, full_pass_seconds = asyncio.run(_prepare(database_url, args, nonce))
        print(
            f"loaded {args.waiting} waiting cases; one full assignment pass over them: {full_pass_seconds} s"
        )
        children = Children(log_dir, prefix="worker-bench-")
        stack.callback(children.stop_all)
        app_args = argparse.Namespace(workers=1)
        base_url, web, worker = _start_app(app_args, children, database_url, redis_url)
        body = json.dumps(case_body(MRN_PLACEHOLDER), separators=(",", ":"))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        endpoint = Endpoint("write", "POST /api/v1/cases", "POST", "/api/v1/cases", 201, headers, body)
        load = Load(port=int(base_url.rsplit(":", 1)[1]), connections=args.connections, nonce=nonce)
        client.measure(endpoint, load, 2, "warmup")  # warm both processes, then let the worker catch up
        _drain(database_url)
        meter = CpuMeter(web.pid, worker.pid, database_url)
        since = asyncio.run(_query(database_url, "SELECT clock_timestamp() AS now"))["now"]
        cpu_start = meter.sample()
        with Sampler(database_url) as sampler:
            measured = client.measure(endpoint, load, args.duration, "load")
            at_end = asyncio.run(_query(database_url, BACKLOG))
        until = asyncio.run(_query(database_url, "SELECT clock_timestamp() AS now"))["now"]
        cpu_load = meter.sample()
        drain_seconds = _drain(database_url)
        cpu_drained = meter.sample()
        children.check_alive()
        done_in_load = asyncio.run(
            _query(
                database_url,
                "SELECT count(*) AS n FROM outbox WHERE done_at BETWEEN $1 AND $2",
                since,
                until,
            )
        )["n"]
        checks = dict(asyncio.run(_query(database_url, CHECKS, since)))
    cpu = (cpu_start, cpu_load, cpu_drained)
    figures = (measured, at_end, sampler.samples, done_in_load, drain_seconds, cpu, checks, full_pass_seconds)
    return _results(args, client, *figures, started_at, load_average)


def _results(
    args: argparse.Namespace,
    client: WrkClient | PythonClient,
    measured: dict[str, Any],
    at_end: asyncpg.Record,
    samples: list[tuple[float, int, float]],
    done_in_load: int,
    drain_seconds: float,
    cpu: tuple[dict[str, float | None], ...],
    checks: dict[str, Any],
    full_pass_seconds: float,
    started_at: datetime,
    load_average: list[float],
) -> dict[str, Any]:
    seconds = measured["seconds"]
    submissions = measured["requests"] - measured["non_2xx"]
    jobs = checks["new_cases"]  # one assignment job per new case (the warm-up's are done before)

    def per(part: str, count: int, start: int = 0, end: int = 2) -> float | None:
        before, after = cpu[start].get(part), cpu[end].get(part)
        return None if before is None or after is None else round(1e6 * (after - before) / max(1, count))

    oldest_at_end = round(at_end["oldest"], 3)
    verdict = {
        "oldest_pending_under_target": oldest_at_end < TARGET_OLDEST_SECONDS,
        **{f"{name}_is_zero": not checks[name] for name in MUST_BE_ZERO},
        "meetings_filled": checks["full_meetings"] == args.meetings
        or checks["submitted_cases"] < args.meetings * args.capacity,
        "no_waiting_case_moved": not checks["waiting_cases_moved"],
    }  # fmt: skip
    return {
        "benchmark": "worker",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": {"oldest_pending_seconds_at_end_below": TARGET_OLDEST_SECONDS},
        "meets_target": all(verdict.values()),
        "verdict": verdict,
        "submissions_per_second": round(submissions / seconds, 1),
        "jobs_per_second_during_load": round(done_in_load / seconds, 1),
        "jobs_per_submission_ratio": round(done_in_load / max(1, submissions), 3),
        "oldest_pending_seconds_at_end": oldest_at_end,
        "pending_at_end": at_end["pending"],
        "oldest_pending_seconds_worst": max((age for _, _, age in samples), default=0.0),
        "pending_worst": max((pending for _, pending, _ in samples), default=0),
        "pending_median": statistics.median([pending for _, pending, _ in samples]) if samples else 0,
        "drain_seconds_after_load": drain_seconds,
        "cpu_us_per_job": {"worker": per("worker", jobs)},
        "cpu_us_per_submission": {"web": per("web", submissions, end=1), "postgres": per("postgres", jobs)},
        "outbox_rows_per_arq_job": round(
            checks["assignment_jobs"] / max(1, checks["assignment_arq_jobs"]), 1
        ),
        "full_pass_seconds_over_waiting_cases": full_pass_seconds,
        "submission_latency_ms": measured["latency_ms"],
        "checks": checks,
        "backlog_samples": [
            {"t": t, "pending": pending, "oldest_seconds": age} for t, pending, age in samples
        ],
        "settings": {
            "duration_seconds": args.duration,
            "connections": args.connections,
            "waiting_cases": args.waiting,
            "meetings": args.meetings,
            "capacity": args.capacity,
            "web_processes": 1,
            "worker_processes": 1,
            "client": client.name,
            "client_version": client.version,
        },
        "machine": _machine(load_average),
    }


def _print(results: dict[str, Any]) -> None:
    cpu = results["cpu_us_per_job"]["worker"]
    rows = [
        ("submissions/s (one web process)", results["submissions_per_second"]),
        ("jobs/s done during the load", results["jobs_per_second_during_load"]),
        ("jobs per submission (ratio)", results["jobs_per_submission_ratio"]),
        ("oldest pending job at end (s)", f"{results['oldest_pending_seconds_at_end']} (target < 2)"),
        ("oldest pending job, worst (s)", results["oldest_pending_seconds_worst"]),
        ("pending jobs: median / worst", f"{results['pending_median']} / {results['pending_worst']}"),
        ("drain after the load (s)", results["drain_seconds_after_load"]),
        ("worker CPU per job (us)", cpu),
        ("web / PostgreSQL CPU per submission (us)",
         f"{results['cpu_us_per_submission']['web']} / {results['cpu_us_per_submission']['postgres']}"),
        ("outbox rows per arq job", results["outbox_rows_per_arq_job"]),
        ("one full pass over the waiting cases (s)", results["full_pass_seconds_over_waiting_cases"]),
    ]  # fmt: skip
    print()
    for label, value in rows:
        print(f"{label:44} {value}")
    print(
        "\nchecks: "
        + ", ".join(f"{name} {'ok' if ok else 'FAILED'}" for name, ok in results["verdict"].items())
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures and write the JSON results."""
    args = _parser().parse_args(argv)

    def measured() -> dict[str, Any]:
        results = run(args)
        _print(results)
        return results

    return run_command(
        "bench.worker", measured, args.output, lambda results: args.check and not results["meets_target"]
    )


if __name__ == "__main__":
    sys.exit(main())
