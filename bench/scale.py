"""Scale: the hot reads, the case search and the worker's passes at 10,000 and at 1,000,000 cases.

    .venv/bin/python -m bench.scale            # about 15 minutes on 2 cores, most of it generating data
    .venv/bin/python -m bench.scale --check    # the same; exit 1 when a target is missed

Starts embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set: then they must be
throwaway ones), migrates, generates a regional network in SQL (bench/scale_data.py: 40 boards,
3,000 users, and per case 0.3 patients, 0.05 meetings, ~2 recommendations, ~1 care plan version and
20 audit events), starts `tumorboard serve` and `tumorboard worker`, and measures, one request at a
time, the latency of each operation below at 10,000 cases; then grows the same data to 1,000,000
cases (older history behind the same present) and measures again. Targets: every p50 and p99 at
1M within 1.5x of its figure at 10k, and every list and search p50 under 10 ms. Also reports the
peak RSS of the web process and of the worker, and the plans of the case list queries at 1M.
Results go to bench/results/scale.json; docs/benchmarks.md has the figures and how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from arq import create_pool
from arq.connections import RedisSettings

from bench import scale_data
from bench.harness import BenchError, Children, RawHttp, percentile, services
from tumorboard import outbox
from tumorboard.auth.service import API, issue_token
from tumorboard.db import create_pool as create_db_pool
from tumorboard.db import queries
from tumorboard.embedded import free_port
from tumorboard.meetings.assignment import assign_waiting_cases
from tumorboard.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
SIZES = (10_000, 1_000_000)
MAX_GROWTH = 1.5  # a figure at the large size may be at most this multiple of its figure at the small one
MAX_LIST_P50_MS = 10.0
MAX_RSS_MB = 300
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Operation:
    """One measured operation; `list` ones (lists and searches) also have the p50 target."""

    key: str
    label: str
    is_list: bool = False
    direct: bool = False  # measured by calling the service in this process, not over HTTP


OPERATIONS = (
    Operation("case_read", "GET /cases/{id} (its meeting's chair)"),
    Operation("list_presenter", "GET /cases, a presenter", is_list=True),
    Operation("list_reviewer", "GET /cases, a reviewer", is_list=True),
    Operation("list_coordinator", "GET /cases, a coordinator", is_list=True),
    Operation("search", "GET /cases?q=given family, a coordinator", is_list=True),
    Operation("search_mrn", "GET /cases?q=MRN, a coordinator", is_list=True),
    Operation("search_filters", "GET /cases?disease_site&status&from&to, a coordinator", is_list=True),
    Operation("search_presenter", "GET /cases?q=family name, a presenter", is_list=True),
    Operation("meeting_agenda", "GET /meetings/{id}/agenda (a booked coming meeting)"),
    Operation("assignment_pass", "assign_waiting_cases (200 waiting cases; rolled back)", direct=True),
    Operation("outbox_sweep", "outbox.sweep (a week of finished jobs)", direct=True),
    # The board quality report (GET /reports/quality) is not built yet: when it is, add its
    # operation here and its requests in `Run.requests`; until then the table shows this slot empty.
    Operation("quality_report", "GET /reports/quality (not built yet)"),
)


def md5_uuid(text: str) -> UUID:
    """The id the generator gives a row (md5 of its ordinal, as in bench/scale_data.py)."""
    return UUID(hashlib.md5(text.encode()).hexdigest())  # noqa: S324 - an id, not a secret


def user(ordinal: int) -> UUID:
    """A generated user's id."""
    return md5_uuid(f"u{ordinal}")


def chair_of_case(case: int) -> UUID:
    """The chair of the meeting a generated case is on."""
    meeting = scale_data.FIRST_BOOKED_MEETING + case // scale_data.CASES_PER_MEETING
    board, turn = meeting % scale_data.BOARDS, meeting // scale_data.BOARDS
    return user(board * scale_data.POOL + turn % 6)


COORDINATOR = user(scale_data.REVIEWERS + scale_data.PRESENTERS)


@dataclass
class Run:
    """The service under measurement, and who asks what: the same users, patients and meetings at
    both sizes (all from the present and the newest ten thousand cases); only the cases read differ."""

    database_url: str
    port: int
    requests: int
    rng: random.Random = field(default_factory=lambda: random.Random(20_261_130))
    tokens: dict[UUID, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = self.rng
        self.presenters = [
            user(scale_data.REVIEWERS + i) for i in rng.sample(range(scale_data.PRESENTERS), 40)
        ]
        self.reviewers = [user(i) for i in rng.sample(range(scale_data.REVIEWERS), 40)]
        self.patients = [md5_uuid(f"p{p}") for p in rng.sample(range(3000), 200)]
        booked = range(scale_data.FIRST_BOOKED_MEETING, scale_data.FIRST_BOOKED_MEETING + 130)
        self.meetings = [md5_uuid(f"m{j}") for j in rng.sample(booked, 100)]

    async def token(self, conn: asyncpg.Connection, user_id: UUID) -> str:
        """A bearer token for a generated user (issued once)."""
        if user_id not in self.tokens:
            self.tokens[user_id] = (await issue_token(conn, user_id, API, timedelta(hours=3))).access_token
        return self.tokens[user_id]

    async def requests_for(
        self, conn: asyncpg.Connection, key: str, cases: int
    ) -> list[tuple[str, str]] | None:
        """(path, token) of each request of an HTTP operation at this size; None for an empty slot."""
        n = self.requests
        if key == "case_read":
            ordinals = [self.rng.randrange(scale_data.WAITING_CASES, cases) for _ in range(n)]
            reads = [(md5_uuid(f"c{k}"), chair_of_case(k)) for k in ordinals]
            return [(f"/api/v1/cases/{case}", await self.token(conn, chair)) for case, chair in reads]
        if key == "meeting_agenda":
            paths = [f"/api/v1/meetings/{meeting}/agenda" for meeting in self.meetings]
            return await self._spread(conn, paths, [COORDINATOR])
        if key in ("list_presenter", "list_reviewer", "list_coordinator"):
            users = {"list_presenter": self.presenters, "list_reviewer": self.reviewers}.get(
                key, [COORDINATOR]
            )
            return await self._spread(conn, ["/api/v1/cases?limit=50"], users)
        if key in ("search", "search_mrn"):
            rows = await conn.fetch(
                "SELECT mrn, given_name, family_name FROM patient WHERE id = ANY ($1::uuid[])", self.patients
            )
            terms = [
                r["mrn"] if key == "search_mrn" else f"{r['given_name']} {r['family_name']}" for r in rows
            ]
            return await self._spread(conn, [_cases_path(q=term) for term in terms], [COORDINATOR])
        if key == "search_filters":
            today = datetime.now(UTC).date()
            window = {"from": str(today - timedelta(days=21)), "to": str(today - timedelta(days=7))}
            paths = [
                _cases_path(disease_site=site, status="finalized", **window) for site in scale_data.CODES
            ]
            return await self._spread(conn, paths, [COORDINATOR])
        if key == "search_presenter":
            requests = []
            for presenter in self.presenters:
                family = await conn.fetchval(
                    "SELECT p.family_name FROM patient_case c JOIN patient p ON p.id = c.patient_id"
                    " WHERE c.presenter_id = $1 ORDER BY c.created_at DESC LIMIT 1",
                    presenter,
                )
                requests.append((_cases_path(q=family or "Ada"), await self.token(conn, presenter)))
            return [requests[i % len(requests)] for i in range(n)]
        return None

    async def _spread(
        self, conn: asyncpg.Connection, paths: list[str], users: list[UUID]
    ) -> list[tuple[str, str]]:
        """`requests` requests going round the paths and, independently, round the users."""
        tokens = [await self.token(conn, user_id) for user_id in users]
        return [(paths[i % len(paths)], tokens[i % len(tokens)]) for i in range(self.requests)]


def _cases_path(**parameters: str) -> str:
    return "/api/v1/cases?limit=50&" + urllib.parse.urlencode(parameters)


async def _time_http(run: Run, requests: list[tuple[str, str]]) -> list[float]:
    """Latency in ms of each request, sent one at a time after a short warm-up."""
    client = RawHttp(run.port)
    try:
        timings = []
        for index, (path, token) in enumerate(requests[:20] + requests):
            started = time.perf_counter()
            status, body = await client.request("GET", path, {"Authorization": f"Bearer {token}"})
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise BenchError(f"GET {path.split('?')[0]} answered {status}: {body[:300]!r}")
            if index >= 20:
                timings.append(elapsed)
        return timings
    finally:
        await client.close()


async def _time_direct(repetitions: int, action: Callable[[], Awaitable[Any]]) -> list[float]:
    timings = []
    for index in range(repetitions + 2):
        started = time.perf_counter()
        await action()
        if index >= 2:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


async def measure(run: Run, redis_url: str, cases: int) -> dict[str, dict[str, Any] | None]:
    """p50 and p99 (ms) of every operation at this size."""
    figures: dict[str, dict[str, Any] | None] = {}
    conn = await asyncpg.connect(run.database_url)
    pool = await create_db_pool(run.database_url, min_size=1, max_size=2)
    redis = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        for operation in OPERATIONS:
            if operation.key == "assignment_pass":
                timings = await _time_direct(max(10, run.requests // 25), lambda: _assignment_pass(conn))
            elif operation.key == "outbox_sweep":
                timings = await _time_direct(max(50, run.requests // 5), lambda: outbox.sweep(pool, redis))
            else:
                requests = await run.requests_for(conn, operation.key, cases)
                if requests is None:
                    figures[operation.key] = None
                    continue
                timings = await _time_http(run, requests)
            figures[operation.key] = {
                "n": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p99_ms": round(percentile(timings, 99), 2),
            }
            print(f"    {operation.key}: {figures[operation.key]}", flush=True)
    finally:
        await redis.aclose()
        await pool.close()
        await conn.close()
    return figures


async def _assignment_pass(conn: asyncpg.Connection) -> None:
    """One assignment pass over the waiting cases, undone afterwards so that each pass does the same."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await assign_waiting_cases(conn)
    finally:
        await transaction.rollback()


# --- plans, memory, the report --------------------------------------------------------------------


async def plans(database_url: str, cases: int) -> dict[str, str]:
    """EXPLAIN ANALYZE of the case list (each caller, a search) and of the case read, as run."""
    conn = await asyncpg.connect(database_url)
    presenter, reviewer, coordinator = user(scale_data.REVIEWERS), user(7), COORDINATOR
    family, given = await conn.fetchrow(
        "SELECT family_name, given_name FROM patient WHERE id = $1", md5_uuid("p1234")
    )
    names = ("status", "meeting_id", "disease_site", "board_id", "submitted_from", "submitted_before")
    plain: dict[str, Any] = dict.fromkeys((*names, "before_created_at", "before_id"))
    plain |= dict.fromkeys(f"word_{n}" for n in range(1, 6)) | {"mine": False, "limit": 51}
    lists = {
        "list_cases, a presenter": {**plain, "user_id": presenter, "sees_all": False},
        "list_cases, a reviewer": {**plain, "user_id": reviewer, "sees_all": False},
        "list_cases, a coordinator": {**plain, "user_id": coordinator, "sees_all": True},
        "list_cases, a coordinator searching a name": {
            **plain, "user_id": coordinator, "sees_all": True, "word_1": family, "word_2": given,
        },
        "list_cases, a presenter searching a name": {
            **plain, "user_id": presenter, "sees_all": False, "word_1": family,
        },
    }  # fmt: skip
    found: dict[str, str] = {}
    try:
        await conn.execute("SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0")
        for name, parameters in lists.items():
            found[name] = await _explain(conn, "cases.list_cases", parameters)
        async with conn.transaction():  # the read writes its audit row: undone here
            found["read_case_for_caller, its meeting's chair"] = await _explain(
                conn,
                "cases.read_case_for_caller",
                {"id": md5_uuid(f"c{cases // 2}"), "user_id": chair_of_case(cases // 2), "sees_all": False,
                 "action": "read"},
            )  # fmt: skip
            raise _Undo
    except _Undo:
        pass
    finally:
        await conn.close()
    return found


class _Undo(Exception):
    """Roll the surrounding transaction back."""


async def _explain(conn: asyncpg.Connection, name: str, parameters: dict[str, Any]) -> str:
    package, query = name.split(".")
    sql = getattr(getattr(queries, package), query).sql
    order = queries.driver_adapter.var_sorted[name]
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *[parameters[key] for key in order])
    return "\n".join(row[0] for row in rows)


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory of a process so far (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _children_of(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def verdicts(figures: dict[int, dict[str, Any]], small: int, large: int) -> list[str]:
    """Every missed target, in words."""
    missed = []
    for operation in OPERATIONS:
        at_small, at_large = figures[small].get(operation.key), figures[large].get(operation.key)
        if at_small is None or at_large is None:
            continue
        for key in ("p50_ms", "p99_ms"):
            growth = at_large[key] / at_small[key]
            if growth > MAX_GROWTH:
                missed.append(
                    f"{operation.key} {key[:3]} grew {growth:.2f}x from {small:,} to {large:,} cases"
                )
        if operation.is_list:
            for size in (small, large):
                if figures[size][operation.key]["p50_ms"] >= MAX_LIST_P50_MS:
                    missed.append(
                        f"{operation.key} p50 is {figures[size][operation.key]['p50_ms']} ms at {size:,}"
                    )
    return missed


def table(figures: dict[int, dict[str, Any]], small: int, large: int) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"| operation | p50 at {small:,} | p50 at {large:,} | growth "
        f"| p99 at {small:,} | p99 at {large:,} | growth |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for operation in OPERATIONS:
        at_small, at_large = figures[small].get(operation.key), figures[large].get(operation.key)
        if at_small is None or at_large is None:
            lines.append(f"| {operation.label} |" + " n/a |" * 6)
            continue
        cells = []
        for key in ("p50_ms", "p99_ms"):
            cells += [f"{at_small[key]} ms", f"{at_large[key]} ms", f"{at_large[key] / at_small[key]:.2f}x"]
        lines.append(f"| {operation.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------------


async def _prepare(database_url: str, clock: datetime) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        if await conn.fetchval("SELECT count(*) FROM patient_case"):
            raise BenchError("the database is not empty: point DATABASE_URL at a throwaway database")
        await scale_data.create_present(conn, clock, "not-a-password-hash")
    finally:
        await conn.close()


async def _grow(database_url: str, clock: datetime, cases: int) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET work_mem = '64MB'")
        started = time.perf_counter()
        steps = await scale_data.grow(conn, clock, cases)
        seconds = round(time.perf_counter() - started, 1)
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            for table in ("patient_case", "patient", "meeting", "board", "app_user", "recommendation",
                          "care_plan", "audit_event", "outbox")
        }  # fmt: skip
        checks = await scale_data.consistency(conn)
        if any(checks.values()):
            raise BenchError(f"the generated data is not what the triggers would keep: {checks}")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return {"seconds": seconds, "steps": steps, "rows": counts, "database_size": size, "checks": checks}
    finally:
        await conn.close()


async def _worker_pass(database_url: str) -> float:
    """Seconds from committing one assign_waiting_cases job to the worker finishing it."""
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        job = await outbox.add_job(conn, outbox.ASSIGN_WAITING_CASES)
        while await conn.fetchval("SELECT done_at IS NULL FROM outbox WHERE id = $1", job):
            if time.perf_counter() - started > 120:
                raise BenchError("the worker did not run its assignment job within 2 minutes")
            await asyncio.sleep(0.02)
        return round(time.perf_counter() - started, 3)
    finally:
        await conn.close()


def _start_service(children: Children, database_url: str, redis_url: str) -> tuple[int, int, int]:
    """`tumorboard serve` and `tumorboard worker`; their pids and the web port, once both are ready."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TUMORBOARD_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    web = children.start("web", [sys.executable, "-m", "tumorboard.cli", "serve", "--port", str(port)], env)
    worker = children.start(
        "worker", [sys.executable, "-m", "tumorboard.cli", "worker"], {**env, "TUMORBOARD_LOG_LEVEL": "INFO"}
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        children.check_alive()
        ready = asyncio.run(_answers(port)) and "worker ready" in children.log_tail("worker", 200)
        if ready:
            return web.pid, worker.pid, port
        time.sleep(0.2)
    raise BenchError("the web process or the worker did not start in time; see their logs")


async def _answers(port: int) -> bool:
    client = RawHttp(port)
    try:
        return (await client.request("GET", "/health/ready"))[0] == 200
    except OSError:
        return False
    finally:
        await client.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--small", type=int, default=SIZES[0], help="cases at the first measurement (10,000)")
    parser.add_argument("--large", type=int, default=SIZES[1], help="cases at the second (1,000,000)")
    parser.add_argument("--requests", type=int, default=400, help="requests per operation and size (400)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser


def main() -> int:
    """Generate, measure at both sizes, report; exit 1 when --check and a target is missed, 2 when the
    benchmark cannot run."""
    args = _parser().parse_args()
    if not 10_000 <= args.small < args.large:
        print("--small must be at least 10,000 and below --large", file=sys.stderr)
        return 2
    started = time.perf_counter()
    clock = datetime.now(UTC).replace(microsecond=0)
    result: dict[str, Any] = {
        "date": clock.isoformat(),
        "command": " ".join(["python -m bench.scale", *sys.argv[1:]]),
        "sizes": [args.small, args.large],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "data": {},
        "figures": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="tumorboard-scale-") as folder:
            children = Children(Path(folder))
            try:
                with services(Path(folder)) as (database_url, redis_url):
                    asyncio.run(_prepare(database_url, clock))
                    print(f"generating {args.small:,} cases", flush=True)
                    result["data"][args.small] = asyncio.run(_grow(database_url, clock, args.small))
                    web, worker, port = _start_service(children, database_url, redis_url)
                    run = Run(database_url, port, args.requests)
                    for size in (args.small, args.large):
                        if size == args.large:
                            print(f"growing to {size:,} cases", flush=True)
                            result["data"][size] = asyncio.run(_grow(database_url, clock, size))
                        print(f"measuring at {size:,} cases", flush=True)
                        result["figures"][size] = asyncio.run(measure(run, redis_url, size))
                    result["plans"] = asyncio.run(plans(database_url, args.large))
                    result["worker_assignment_job_seconds"] = asyncio.run(_worker_pass(database_url))
                    result["memory_peak_rss_mb"] = {
                        "web": peak_rss_mb(web),
                        "worker": peak_rss_mb(worker),
                        "worker_children": [peak_rss_mb(pid) for pid in _children_of(worker)],
                    }
                    result["postgres_settings"] = asyncio.run(_settings(database_url))
            except BenchError:
                for name in ("web", "worker"):
                    if tail := children.log_tail(name):
                        print(f"--- last lines of the {name} log ---\n{tail}", file=sys.stderr)
                raise
            finally:
                children.stop_all()
    except BenchError as error:
        print(f"bench.scale could not run: {error}", file=sys.stderr)
        return 2
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["missed"] = verdicts(result["figures"], args.small, args.large)
    memory = result["memory_peak_rss_mb"]
    result["missed"] += [
        f"{name} peak RSS {memory[name]} MB" for name in ("web", "worker") if (memory[name] or 0) > MAX_RSS_MB
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result["figures"], args.small, args.large))
    print(f"peak RSS: web {memory['web']} MB, worker {memory['worker']} MB; whole run {result['seconds']} s")
    print(f"figures, plans and data sizes: {args.output}")
    for line in result["missed"]:
        print(f"MISSED: {line}")
    return 1 if args.check and result["missed"] else 0


async def _settings(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        names = ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "random_page_cost")
        return {name: await conn.fetchval(f"SHOW {name}") for name in names}
    finally:
        await conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
