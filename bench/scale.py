"""Scale: the hot reads, the case search and the worker's passes at 10,000 and at 1,000,000 cases.

    .venv/bin/python -m bench.scale            # about 15 minutes on 2 cores, most of it generating data
    .venv/bin/python -m bench.scale --check    # the same; exit 1 when a target is missed

Starts an embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set: then they must be
throwaway ones; a second database is created beside the first), migrates two databases and generates
in SQL the same regional network in both (bench/scale_data.py: 40 boards, 3,000 users, and per case
0.3 patients, 0.05 meetings, ~2 recommendations, ~1 care plan version, 20 audit events): the last
five weeks in one (10,000 cases), ten years in the other (1,000,000 cases). It starts a
`tumorboard serve` and a `tumorboard worker` on each, then measures every operation of
bench/scale_workload.py one request at a time, alternating between the two services request by
request, so that both sizes share whatever else the machine is doing; a list asks both for the
page the small one fills (the newest cases are the same in both). Targets: every p50 and p99
at 1M within 1.5x of its figure at 10k, every list and search p50 under 10 ms, and the web process
and the worker of the large service each under 300 MB peak RSS. Also writes the plans of the case
list queries at 1M. Results: bench/results/scale.json; docs/benchmarks.md explains them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
from arq import create_pool
from arq.connections import RedisSettings

from bench import scale_data
from bench.harness import BenchError, Children, RawHttp, RssSampler, high_water_mark_mb, percentile, services
from bench.scale_plans import plans
from bench.scale_workload import OPERATIONS, Operation, Workload
from tumorboard import outbox
from tumorboard.db import create_pool as create_db_pool
from tumorboard.db_roles import AppRole
from tumorboard.embedded import free_port
from tumorboard.meetings.assignment import assign_waiting_cases
from tumorboard.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
SIZES = (10_000, 1_000_000)
MAX_GROWTH = 1.5  # a figure at the large size may be at most this multiple of its figure at the small one
MAX_LIST_P50_MS = 10.0
MAX_RSS_MB = 300
START_TIMEOUT = 60.0
WARMUP = 20  # requests per operation and size not counted


@dataclass
class Service:
    """One database with its web process and worker (which connect as the app role, as in production)."""

    cases: int
    database_url: str
    redis_url: str
    app_role: AppRole
    web_pid: int = 0
    worker_pid: int = 0
    port: int = 0


# --- measuring ---------------------------------------------------------------------------------------


async def measure(small: Service, large: Service, workload: Workload) -> dict[int, dict[str, Any]]:
    """p50 and p99 (ms) of every operation at both sizes, measured alternately."""
    figures: dict[int, dict[str, Any]] = {small.cases: {}, large.cases: {}}
    async with _Clients(small) as at_small, _Clients(large) as at_large:
        for operation in OPERATIONS:
            timings = await _measure_one(operation, workload, at_small, at_large)
            for size, values in zip((small.cases, large.cases), timings, strict=True):
                figures[size][operation.key] = _spread(values) if values else None
            shown = {size: figures[size][operation.key] for size in figures}
            print(f"    {operation.key}: {shown}", flush=True)
    return figures


class _Clients:
    """A service's connections: one for the workload and the direct calls, a pool and Redis for the
    sweep, and a keep-alive HTTP client."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def __aenter__(self) -> _Clients:
        self.conn = await asyncpg.connect(self.service.database_url)
        self.pool = await create_db_pool(self.service.database_url, min_size=1, max_size=2)
        self.redis = await create_pool(RedisSettings.from_dsn(self.service.redis_url))
        self.http = RawHttp(self.service.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.close()
        await self.redis.aclose()
        await self.pool.close()
        await self.conn.close()

    async def get(self, path: str, token: str) -> float:
        """One request's latency in ms; a BenchError unless it answers 200."""
        started = time.perf_counter()
        status, body = await self.http.request("GET", path, {"Authorization": f"Bearer {token}"})
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise BenchError(f"GET {path.split('?')[0]} answered {status}: {body[:300]!r}")
        return elapsed

    def direct(self, key: str) -> Callable[[], Awaitable[Any]]:
        """The service call a direct operation times."""
        if key == "assignment_pass":
            return lambda: _assignment_pass(self.conn)
        return lambda: outbox.sweep(self.pool, self.redis)


async def _measure_one(
    operation: Operation, workload: Workload, small: _Clients, large: _Clients
) -> tuple[list[float], list[float]]:
    """The timings of one operation at each size, taken in turns (small, large, small, ...)."""
    if operation.direct:
        repetitions = max(10, workload.requests // 25) if operation.key == "assignment_pass" else 100
        return await _turns(
            repetitions,
            2,
            [[clients.direct(operation.key)] * (repetitions + 2) for clients in (small, large)],
        )
    requests = []
    for clients in (small, large):
        found = await workload.requests_for(clients.conn, operation.key, clients.service.cases)
        if found is None:
            return [], []
        requests.append(found)
    if operation.is_list:
        requests = await _same_pages(small, requests)
    sequences = [
        [_bound(clients, path, token) for path, token in requests_at[:WARMUP] + requests_at]
        for clients, requests_at in zip((small, large), requests, strict=True)
    ]
    return await _turns(len(requests[0]), WARMUP, sequences)


async def _same_pages(small: _Clients, requests: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Each list request asks both sizes for as many cases as the small database holds for it (up to
    its limit): the newest cases are the same in both databases, so both answer the same page and
    the figures compare the cost of the history behind it, not of a longer page."""
    pages: dict[tuple[str, str], int] = {}
    for path, token in requests[0]:
        if (path, token) not in pages:
            status, body = await small.http.request("GET", path, {"Authorization": f"Bearer {token}"})
            if status != 200:
                raise BenchError(f"GET {path.split('?')[0]} answered {status}: {body[:300]!r}")
            pages[path, token] = max(1, len(msgspec.json.decode(body)["items"]))
    sized = []
    for position in range(len(requests[0])):
        limit = pages[requests[0][position]]
        sized.append([_with_limit(at_size[position], limit) for at_size in requests])
    return [[pair[0] for pair in sized], [pair[1] for pair in sized]]


def _with_limit(request: tuple[str, str], limit: int) -> tuple[str, str]:
    path, token = request
    return path.replace("limit=50", f"limit={limit}", 1), token


def _bound(clients: _Clients, path: str, token: str) -> Callable[[], Awaitable[Any]]:
    return lambda: clients.get(path, token)


async def _turns(
    counted: int, warmup: int, calls: list[list[Callable[[], Awaitable[Any]]]]
) -> tuple[list[float], list[float]]:
    """Run call i of each size in turn; the wall time of each in ms, without the warm-up ones."""
    timings: tuple[list[float], list[float]] = ([], [])
    for index in range(warmup + counted):
        for size, sequence in enumerate(calls):
            started = time.perf_counter()
            await sequence[index]()
            if index >= warmup:
                timings[size].append((time.perf_counter() - started) * 1000)
    return timings


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 99), 2),
    }


async def _assignment_pass(conn: asyncpg.Connection) -> None:
    """One assignment pass over the waiting cases, undone afterwards so that each pass does the same."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await assign_waiting_cases(conn)
    finally:
        await transaction.rollback()


# --- the report -----------------------------------------------------------------------------------------


def verdicts(figures: dict[int, dict[str, Any]], small: int, large: int) -> list[str]:
    """Every missed figure target, in words."""
    missed = []
    for operation in OPERATIONS:
        at_small, at_large = figures[small].get(operation.key), figures[large].get(operation.key)
        if at_small is None or at_large is None:
            continue
        for key in ("p50_ms", "p99_ms"):
            growth = at_large[key] / at_small[key]
            if growth > MAX_GROWTH:
                missed.append(f"{operation.key} {key[:3]} grew {growth:.2f}x from {small:,} to {large:,}")
        for size in (small, large):
            p50 = figures[size][operation.key]["p50_ms"]
            if operation.is_list and p50 >= MAX_LIST_P50_MS:
                missed.append(f"{operation.key} p50 is {p50} ms at {size:,}")
    return missed


def table(figures: dict[int, dict[str, Any]], small: int, large: int) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"| operation | p50 at {small:,} | p50 at {large:,} | growth | p99 at {small:,} "
        f"| p99 at {large:,} | growth |",
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


def _memory(service: Service, rss: RssSampler, name: str) -> dict[str, Any]:
    """Peak RSS of the service's web process and worker: sampled every 0.1 s through the measurement
    (bench.harness.RssSampler) and the kernel's high-water marks (which include start-up); `web` and
    `worker` are the larger of the two."""
    try:
        children = Path(f"/proc/{service.worker_pid}/task/{service.worker_pid}/children").read_text().split()
    except OSError:
        children = []
    peaks = rss.peaks_mb()
    return {
        "web": peaks[f"{name}-web"]["peak_mb"],
        "worker": peaks[f"{name}-worker"]["peak_mb"],
        "web_sampled": peaks[f"{name}-web"]["peak_rss_mb"],
        "worker_sampled": peaks[f"{name}-worker"]["peak_rss_mb"],
        "web_vmhwm": peaks[f"{name}-web"]["vmhwm_mb"],
        "worker_vmhwm": peaks[f"{name}-worker"]["vmhwm_mb"],
        "worker_children": [high_water_mark_mb(int(pid)) for pid in children],
        "samples": rss.samples,
    }


# --- setting up -------------------------------------------------------------------------------------------


async def _generate(service: Service, clock: datetime) -> dict[str, Any]:
    """Migrate an empty database and generate the network with `service.cases` cases."""
    conn = await asyncpg.connect(service.database_url)
    try:
        await migrate(conn, app_role=service.app_role)
        if await conn.fetchval("SELECT count(*) FROM patient_case"):
            raise BenchError("the database is not empty: point DATABASE_URL at a throwaway database")
        await conn.execute("SET maintenance_work_mem = '512MB'; SET work_mem = '64MB'")
        started = time.perf_counter()
        await scale_data.create_present(conn, clock, "not-a-password-hash")
        steps = await scale_data.grow(conn, clock, service.cases)
        seconds = round(time.perf_counter() - started, 1)
        names = ["patient_case", "case_participant", "patient", "meeting", "meeting_participant", "board"]
        names += ["app_user", "recommendation", "care_plan", "audit_event", "outbox"]
        rows = {name: await conn.fetchval(f"SELECT count(*) FROM {name}") for name in names}  # noqa: S608
        checks = await scale_data.consistency(conn)
        if any(checks.values()):
            raise BenchError(f"the generated data is not what the triggers would keep: {checks}")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        tables = await conn.fetch(
            "SELECT relname, pg_size_pretty(pg_table_size(oid)) AS data,"
            " pg_size_pretty(pg_indexes_size(oid)) AS indexes FROM pg_class"
            " WHERE relname = ANY ($1::text[]) ORDER BY relname",
            names,
        )
        return {
            "seconds": seconds,
            "steps": steps,
            "rows": rows,
            "database_size": size,
            "table_sizes": {
                row["relname"]: {"data": row["data"], "indexes": row["indexes"]} for row in tables
            },
            "checks": checks,
        }
    finally:
        await conn.close()


async def _second_database(database_url: str, name: str) -> str:
    """A new database beside the given one (dropped first if a previous run left it); its URL."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _start(children: Children, service: Service, name: str) -> None:
    """`tumorboard serve` and `tumorboard worker` on the service's database; returns once both are ready."""
    env = {
        **os.environ,
        "DATABASE_URL": service.app_role.url(service.database_url),
        "REDIS_URL": service.redis_url,
    }
    env.pop("TUMORBOARD_APP_DATABASE_URL", None)
    cli = [sys.executable, "-m", "tumorboard.cli"]
    service.port = free_port()
    quiet = {**env, "TUMORBOARD_LOG_LEVEL": "WARNING"}
    service.web_pid = children.start(f"{name}-web", [*cli, "serve", "--port", str(service.port)], quiet).pid
    service.worker_pid = children.start(
        f"{name}-worker", [*cli, "worker"], {**env, "TUMORBOARD_LOG_LEVEL": "INFO"}
    ).pid
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        children.check_alive()
        if asyncio.run(_answers(service.port)) and "worker ready" in children.log_tail(f"{name}-worker", 200):
            return
        time.sleep(0.2)
    raise BenchError(f"the {name} web process or worker did not start in time; see their logs")


async def _answers(port: int) -> bool:
    client = RawHttp(port)
    try:
        return (await client.request("GET", "/health/ready"))[0] == 200
    except OSError:
        return False
    finally:
        await client.close()


async def _worker_pass(service: Service) -> float:
    """Seconds from committing one assign_waiting_cases job to the worker finishing it."""
    conn = await asyncpg.connect(service.database_url)
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


async def _settings(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        names = ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "random_page_cost")
        return {name: await conn.fetchval(f"SHOW {name}") for name in names}
    finally:
        await conn.close()


# --- the run ----------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    description = (__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=description)
    parser.add_argument("--small", type=int, default=SIZES[0], help="cases in the small database (10,000)")
    parser.add_argument("--large", type=int, default=SIZES[1], help="cases in the large one (1,000,000)")
    # A p99 of 800 requests was their eighth slowest, which a moment of another process's work could
    # move by half (docs/benchmarks.md); of 1,600, the sixteenth, for about a minute more.
    parser.add_argument("--requests", type=int, default=1600, help="requests per operation and size (1,600)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Generate both databases, start their services, measure, and gather what the report needs."""
    clock = datetime.now(UTC).replace(microsecond=0)
    result: dict[str, Any] = {"data": {}}
    children = Children(folder)
    try:
        with services(folder) as (database_url, redis_url):
            small_url = asyncio.run(_second_database(database_url, "tumorboard_scale_small"))
            role = AppRole.generated()
            small = Service(args.small, small_url, redis_url.rsplit("/", 1)[0] + "/1", role)
            large = Service(args.large, database_url, redis_url, role)
            for service in (small, large):
                print(f"generating {service.cases:,} cases", flush=True)
                result["data"][service.cases] = asyncio.run(_generate(service, clock))
            _start(children, small, "small")
            _start(children, large, "large")
            rss = RssSampler({name: process.pid for name, process in children.started})
            with rss:
                print("measuring both sizes, request by request in turns", flush=True)
                result["figures"] = asyncio.run(measure(small, large, Workload(args.requests)))
                result["plans"] = asyncio.run(plans(large.database_url, large.cases))
                result["worker_assignment_job_seconds"] = asyncio.run(_worker_pass(large))
                result["memory_peak_rss_mb"] = {
                    size.cases: _memory(size, rss, name)
                    for size, name in ((small, "small"), (large, "large"))
                }
            result["postgres_settings"] = asyncio.run(_settings(large.database_url))
    except BenchError:
        for name in ("large-web", "large-worker", "small-web", "small-worker"):
            if tail := children.log_tail(name):
                print(f"--- last lines of the {name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        children.stop_all()
    return result


def main() -> int:
    """Generate, measure both sizes, report; exit 1 when --check and a target is missed, 2 when the
    benchmark cannot run."""
    args = _parser().parse_args()
    if not 10_000 <= args.small < args.large:
        print("--small must be at least 10,000 and below --large", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.scale", *sys.argv[1:]]),
        "sizes": [args.small, args.large],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
    }
    try:
        with tempfile.TemporaryDirectory(prefix="tumorboard-scale-") as folder:
            result |= run(args, Path(folder))
    except BenchError as error:
        print(f"bench.scale could not run: {error}", file=sys.stderr)
        return 2
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    memory = result["memory_peak_rss_mb"][args.large]
    result["missed"] = verdicts(result["figures"], args.small, args.large) + [
        f"{name} peak RSS {memory[name]} MB" for name in ("web", "worker") if (memory[name] or 0) > MAX_RSS_MB
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result["figures"], args.small, args.large))
    print(
        f"peak RSS at {args.large:,}: web {memory['web']} MB, worker {memory['worker']} MB"
        f" (sampled every 0.1 s: {memory['web_sampled']} and {memory['worker_sampled']} MB;"
        f" kernel high-water marks {memory['web_vmhwm']} and {memory['worker_vmhwm']} MB)"
    )
    print(f"whole run {result['seconds']} s; figures, plans and data sizes in {args.output}")
    for line in result["missed"]:
        print(f"MISSED: {line}")
    return 1 if args.check and result["missed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
