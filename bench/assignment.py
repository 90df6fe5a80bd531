"""Assign 10,000 waiting cases across 1,000 meetings with 4 racing worker processes.

    .venv/bin/python -m bench.assignment            # about half a minute, most of it set-up

Starts an embedded PostgreSQL (unless DATABASE_URL is set: then it must be an empty, throwaway
database), migrates, and loads, with set-based SQL:

    10 boards covering the 18 disease sites (eight boards cover two sites, two cover one),
    1,000 meetings (100 per board, every 3 days from 3 days ahead; capacity 10, 60 minutes at
    6 minutes per case, so 10,000 seats), each with the three oncology reviewers,
    10,000 waiting cases (one in ten urgent, one in three with a discuss-by date 0-89 days ahead).

Then it runs the assignment twice on the same data:

    serial   1 process calls assign_waiting_cases once (the body of the assign_waiting_cases job)
    racing   4 processes, released together by a barrier, each call assign_waiting_cases on its
             own connection, as 4 workers would on 4 jobs

and reports each wall time (barrier release to the last process done), then proves with queries
that no meeting is overbooked in cases or minutes, that every meeting's case_count matches its
cases, that every waiting case has a note, and that the racing run placed every case exactly where
the serial run did (so priority order held). Results go to bench/results/assignment.json.
Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import asyncpg

from tumorboard import outbox
from tumorboard.embedded import embedded_services
from tumorboard.enums import DiseaseSite
from tumorboard.meetings.assignment import assign_waiting_cases
from tumorboard.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "assignment.json"
CASES = 10_000
BOARDS = 10
MEETINGS_PER_BOARD = 100
TARGET_SECONDS = 2.0
RUN_TIMEOUT = 120.0
MUST_BE_ZERO = (
    "overbooked_meetings",
    "miscounted_meetings",
    "waiting_without_note",
    "placed_differently_from_serial",
)


async def _load(database_url: str) -> None:
    """Migrate and load the boards, meetings, participants and waiting cases."""
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        if await conn.fetchval("SELECT count(*) FROM patient_case"):
            raise SystemExit("the database is not empty: point DATABASE_URL at a throwaway database")
        sites = [str(site) for site in DiseaseSite]
        groups = [sites[2 * i : 2 * i + 2] for i in range(8)] + [[sites[16]], [sites[17]]]
        async with conn.transaction():
            reviewers = []
            for discipline in ("medical_oncology", "surgical_oncology", "radiation_oncology"):
                reviewers.append(
                    await conn.fetchval(
                        "INSERT INTO app_user (email, full_name, password_hash, roles, discipline)"
                        " VALUES ($1, $2, 'x', '{reviewer}', $3) RETURNING id",
                        f"{discipline}@bench.invalid",
                        f"Bench {discipline}",
                        discipline,
                    )
                )
            presenter = await conn.fetchval(
                "INSERT INTO app_user (email, full_name, password_hash, roles)"
                " VALUES ('presenter@bench.invalid', 'Bench presenter', 'x', '{presenter}') RETURNING id"
            )
            for index, covered in enumerate(groups):
                board_id = await conn.fetchval(
                    "INSERT INTO board (name, disease_sites, required_disciplines) VALUES ($1, $2,"
                    " '{medical_oncology,surgical_oncology,radiation_oncology}') RETURNING id",
                    f"Bench board {index}",
                    covered,
                )
                await conn.execute(
                    "INSERT INTO meeting (board_id, starts_at, duration_minutes, capacity,"
                    " submission_deadline, minutes_per_case)"
                    " SELECT $1, now() + make_interval(days => 3 + 3 * k, mins => $2), 60, 10,"
                    "        now() + make_interval(days => 1 + 3 * k, mins => $2), 6"
                    " FROM generate_series(0, $3 - 1) AS k",
                    board_id,
                    index * 30,
                    MEETINGS_PER_BOARD,
                )
            await conn.execute(
                "INSERT INTO meeting_participant (meeting_id, user_id, role)"
                " SELECT m.id, r.user_id, r.role FROM meeting m"
                " CROSS JOIN unnest($1::uuid[], '{chair,reviewer,reviewer}'::text[]) AS r (user_id, role)",
                reviewers,
            )
            await conn.execute(
                "INSERT INTO patient (mrn, given_name, family_name, birth_date, sex)"
                " SELECT 'BENCH-' || i, 'Bench', 'Patient ' || i, date '1960-01-01' + i, 'unknown'"
                " FROM generate_series(1, $1) AS i",
                CASES,
            )
            await conn.execute(
                "INSERT INTO patient_case (patient_id, presenter_id, disease_site, diagnosis, summary,"
                " question, urgency, discuss_by, created_at)"
                " SELECT p.id, $1, ($2::text[])[1 + i % 18],"
                '        \'{"code": "C80.1", "system": "ICD-10-CM", "display": "Bench"}\', \'s\', \'q\','
                "        CASE WHEN i % 10 = 0 THEN 'urgent' ELSE 'routine' END,"
                "        CASE WHEN i % 3 = 0 THEN current_date + i % 90 END,"
                "        now() - make_interval(secs => $3 - i)"
                " FROM generate_series(1, $3) AS i JOIN patient p ON p.mrn = 'BENCH-' || i",
                presenter,
                sites,
                CASES,
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def _worker(database_url: str, barrier: Barrier, results: Any) -> None:
    """One racing worker: connect, wait for the others, run the assignment pass, report."""

    async def run() -> tuple[float, int]:
        conn = await asyncpg.connect(database_url)
        try:
            barrier.wait(timeout=RUN_TIMEOUT)
            started = time.perf_counter()
            placed = await assign_waiting_cases(conn)
            return time.perf_counter() - started, placed
        finally:
            await conn.close()

    results.put(asyncio.run(run()))


def _race(database_url: str, processes: int) -> dict[str, Any]:
    """Run `processes` workers released together; wall time from release to the last one done."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(database_url, barrier, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=RUN_TIMEOUT)
    released = time.perf_counter()
    finished = [results.get(timeout=RUN_TIMEOUT) for _ in workers]
    wall = time.perf_counter() - released
    for worker in workers:
        worker.join(timeout=RUN_TIMEOUT)
    return {
        "processes": processes,
        "wall_seconds": round(wall, 3),
        "per_process_seconds": sorted(round(seconds, 3) for seconds, _ in finished),
        "placed": sum(placed for _, placed in finished),
    }


async def _snapshot(database_url: str) -> dict[str, str | None]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id::text, meeting_id::text FROM patient_case")
        return {row["id"]: row["meeting_id"] for row in rows}
    finally:
        await conn.close()


async def _reset(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE patient_case SET status = 'submitted', meeting_id = NULL, assignment_note = NULL"
            " WHERE status <> 'submitted' OR assignment_note IS NOT NULL"
        )
        await conn.execute("VACUUM ANALYZE meeting")
        await conn.execute("VACUUM ANALYZE patient_case")
    finally:
        await conn.close()


async def _checks(database_url: str) -> dict[str, Any]:
    """Counts that must all be zero, plus what was placed and why the others wait."""
    conn = await asyncpg.connect(database_url)
    try:
        reasons = await conn.fetch(
            "SELECT assignment_note, count(*) FROM patient_case WHERE status = 'submitted'"
            " GROUP BY assignment_note ORDER BY count(*) DESC"
        )
        return {
            "waiting_reasons": {row["assignment_note"]: row["count"] for row in reasons},
            "overbooked_meetings": await conn.fetchval(
                "SELECT count(*) FROM meeting"
                " WHERE case_count > capacity OR booked_minutes > duration_minutes"
            ),
            "miscounted_meetings": await conn.fetchval(
                "SELECT count(*) FROM meeting m WHERE m.case_count <> (SELECT count(*) FROM patient_case c"
                " WHERE c.meeting_id = m.id AND c.status <> 'withdrawn')"
            ),
            "waiting_without_note": await conn.fetchval(
                "SELECT count(*) FROM patient_case WHERE status = 'submitted' AND assignment_note IS NULL"
            ),
            "placed_cases": await conn.fetchval(
                "SELECT count(*) FROM patient_case WHERE status = 'scheduled'"
            ),
            "waiting_cases": await conn.fetchval(
                "SELECT count(*) FROM patient_case WHERE status = 'submitted'"
            ),
            "full_meetings": await conn.fetchval("SELECT count(*) FROM meeting WHERE case_count = capacity"),
        }
    finally:
        await conn.close()


def _via_workers(database_url: str, redis_url: str, workers: int) -> dict[str, Any]:
    """Start `tumorboard worker` processes, then commit one assign_waiting_cases job per worker to
    the outbox at once; wall time from that commit to the last job done."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TUMORBOARD_LOG_LEVEL": "INFO"}
    with tempfile.TemporaryDirectory(prefix="tumorboard-bench-logs-") as log_dir:
        logs = [Path(log_dir) / f"worker-{index}.log" for index in range(workers)]
        processes = []
        for log in logs:
            with log.open("wb") as out:
                command = [sys.executable, "-m", "tumorboard.cli", "worker"]
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
        try:
            deadline = time.monotonic() + RUN_TIMEOUT
            while not all("worker ready" in log.read_text() for log in logs):
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    raise SystemExit("the workers did not start; see their logs")
                time.sleep(0.1)
            wall = asyncio.run(_run_jobs(database_url, workers))
            # arq logs "<wait>s ← <job id>:assign_waiting_cases ● <result>" when a job finishes.
            finished = f":{outbox.ASSIGN_WAITING_CASES} ●"
            done = [log.read_text().count(finished) for log in logs]
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)
    return {"processes": workers, "wall_seconds": round(wall, 3), "jobs_finished_per_worker": done}


async def _run_jobs(database_url: str, jobs: int) -> float:
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        async with conn.transaction():
            ids = [await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES) for _ in range(jobs)]
        pending = "SELECT count(*) FROM outbox WHERE id = ANY ($1::bigint[]) AND done_at IS NULL"
        while await conn.fetchval(pending, ids):
            if time.perf_counter() - started > RUN_TIMEOUT:
                raise SystemExit("the jobs did not finish in time")
            await asyncio.sleep(0.005)
        return time.perf_counter() - started
    finally:
        await conn.close()


@contextlib.contextmanager
def _services() -> Iterator[tuple[str, str]]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    with (
        tempfile.TemporaryDirectory(prefix="tumorboard-bench-") as data_dir,
        embedded_services(Path(data_dir)) as urls,
    ):
        yield urls


def main() -> int:
    """Load, run serial, racing processes and racing arq workers on the same data, check, write figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    runs: dict[str, Any] = {}
    with _services() as (database_url, redis_url):
        asyncio.run(_load(database_url))
        reference: dict[str, str | None] = {}
        for name, run in (
            ("serial", lambda: _race(database_url, 1)),
            ("racing_processes", lambda: _race(database_url, args.processes)),
            ("racing_arq_workers", lambda: _via_workers(database_url, redis_url, args.processes)),
        ):
            asyncio.run(_reset(database_url))
            figures = run()
            checks = asyncio.run(_checks(database_url))
            outcome = asyncio.run(_snapshot(database_url))
            reference = reference or outcome
            checks["placed_differently_from_serial"] = sum(outcome[c] != reference[c] for c in reference)
            runs[name] = {**figures, "checks": checks}
    result = {
        "cases": CASES,
        "meetings": BOARDS * MEETINGS_PER_BOARD,
        "runs": runs,
        "target_seconds": TARGET_SECONDS,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    failed = {
        f"{name}.{check}": run["checks"][check]
        for name, run in runs.items()
        for check in MUST_BE_ZERO
        if run["checks"][check]
    }
    if failed:
        print(f"FAILED checks: {failed}", file=sys.stderr)
        return 1
    for name, run in runs.items():
        verdict = "within" if run["wall_seconds"] < TARGET_SECONDS else "OVER"
        wall, processes = run["wall_seconds"], run["processes"]
        print(f"{name}: {wall} s with {processes} process(es), {verdict} the {TARGET_SECONDS} s target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
