"""PostgreSQL's CPU for a case submission's statement and a case read's, without HTTP around them.

    .venv/bin/python -m bench.statements            # 20 chunks of 500 of each, about 30 s

The HTTP ratios (bench.http_ratios) move by a fifth from one minute to the next on a shared machine;
what the database does for each request is steadier measured alone. This starts an embedded
PostgreSQL (unless DATABASE_URL is set: it must then run on this machine, whose /proc is read),
migrates, makes a presenter with a bearer token, and runs the service functions the API runs
(`tumorboard.cases.service.submit_case` and `get_case`, each one statement that checks the token,
does the work and writes the audit row) on one connection, alternately in chunks. Before and after
each chunk it reads the CPU time of the connection's backend process from /proc, and this
process's own (asyncpg and the service code: the client's share). Prints the median microseconds
per statement over the chunks, with the quartiles, and writes bench/results/statements.json.

Compare commits by running it on each, one after the other (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from bench.harness import BenchError, create_user_with_token, process_cpu_seconds, run_command, services
from bench.http_ratios import case_body

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WARMUP = 200
NOT_LOCAL = "PostgreSQL must run on this machine: its backend's CPU is read from /proc"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.statements",
        description="PostgreSQL's CPU per case submission and case read statement, without HTTP.",
    )
    parser.add_argument("--chunks", type=int, default=20, choices=range(3, 101), metavar="3..100")
    parser.add_argument("--chunk-size", type=int, default=500, choices=range(50, 5001), metavar="50..5000")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "statements.json")
    return parser


def _backend_cpu_seconds(pid: int) -> float:
    try:
        return process_cpu_seconds(pid)
    except OSError:
        raise BenchError(NOT_LOCAL) from None


def _figures(samples: list[float]) -> dict[str, float]:
    quartiles = statistics.quantiles(samples, n=4)
    return {"median": round(statistics.median(samples)), "q1": round(quartiles[0]), "q3": round(quartiles[2])}


async def _measure(database_url: str, chunks: int, chunk_size: int) -> dict[str, Any]:
    from tumorboard import audit
    from tumorboard.auth.caller import Caller
    from tumorboard.cases import service
    from tumorboard.cases.schemas import CaseCreate
    from tumorboard.db import create_pool
    from tumorboard.migrate import migrate

    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        email = f"statements-{secrets.token_hex(4)}@example.org"
        _, token = await create_user_with_token(conn, email, "Dr. Bench", "not-a-hash", ["presenter"], None)
    finally:
        await conn.close()
    audit.begin_request(audit.RequestContext(source_address="127.0.0.1", user_agent="bench", format="json"))
    caller = Caller(token=token)
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")

            async def submit() -> Any:
                body = msgspec.json.encode(case_body(f"ST-{secrets.token_hex(6)}"))
                data = msgspec.json.decode(body, type=CaseCreate)
                return await service.submit_case(conn, caller, data, body, None)

            case_id = (await submit()).id

            async def read() -> Any:
                return await service.get_case(conn, caller, case_id)

            statements = {"submission": submit, "read": read}
            for run in statements.values():
                for _ in range(WARMUP):
                    await run()
            samples: dict[str, dict[str, list[float]]] = {
                name: {"postgres": [], "client": []} for name in statements
            }
            for _ in range(chunks):
                for name, run in statements.items():
                    backend_before, client_before = _backend_cpu_seconds(backend), time.process_time()
                    for _ in range(chunk_size):
                        await run()
                    samples[name]["postgres"].append(
                        1e6 * (_backend_cpu_seconds(backend) - backend_before) / chunk_size
                    )
                    samples[name]["client"].append(1e6 * (time.process_time() - client_before) / chunk_size)
    finally:
        await pool.close()
    return {
        name: {process: _figures(values) for process, values in by_process.items()}
        for name, by_process in samples.items()
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure; print the table; the results as JSON."""
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="tumorboard-bench-") as work_dir:
        print(f"{args.chunks} chunks of {args.chunk_size} of each statement, alternately", flush=True)
        with services(Path(work_dir)) as (database_url, _):
            figures = asyncio.run(_measure(database_url, args.chunks, args.chunk_size))
    print(f"\n{'CPU us per statement':24} {'PostgreSQL (q1-q3)':>22} {'client (q1-q3)':>22}")
    for name, by_process in figures.items():
        cells = [f"{f['median']} ({f['q1']}-{f['q3']})" for f in by_process.values()]
        print(f"{name:24} {cells[0]:>22} {cells[1]:>22}")
    return {
        "benchmark": "statements",
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "cpu_us_per_statement": figures,
        "settings": {"chunks": args.chunks, "chunk_size": args.chunk_size},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON results."""
    args = _parser().parse_args(argv)
    return run_command("bench.statements", lambda: run(args), args.output, lambda results: False)


if __name__ == "__main__":
    sys.exit(main())
