"""Throughput of a case read and a case submission as ratios to GET /health/live, in one run.

    .venv/bin/python -m bench.http_ratios            # 3 rounds of 5 s per endpoint, ~1.5 minutes

Starts embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set), migrates, makes a
presenter with a bearer token, starts `tumorboard serve` and `tumorboard worker` as child processes,
then measures, in interleaved rounds on the same server:

    bare   GET  /health/live          (no database, no auth: the ceiling of this app on this machine)
    read   GET  /api/v1/cases/{id}    (token, then case, access check and audit row in one statement)
    write  POST /api/v1/cases         (token, then patient, case, audit and outbox rows in one transaction)

and reports the median requests/s of each and the ratios read/bare and write/bare, which are what
the benchmarks track (docs/benchmarks.md: absolute figures depend on the machine; the ratios much less).
The load comes from wrk when it is on PATH (`apt-get install wrk`), else from bench.loadgen.
Results go to bench/results/http_ratios.json; docs/benchmarks.md explains how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.harness import (
    HOST,
    PROJECT_ROOT,
    BenchError,
    Children,
    ProcessTimes,
    cpu_seconds,
    create_user_with_token,
    run_command,
    services,
)
from tumorboard.embedded import free_port

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGETS = {"read": 0.35, "write": 0.15}
MRN_PLACEHOLDER = "@@MRN@@"
MAX_ERROR_SHARE = 0.01  # a measurement with more failed requests than this is not valid
START_TIMEOUT = 60.0
DRAIN_TIMEOUT = 120.0
DRAIN_STALL = 10.0  # seconds without a job done: the worker is failing or gone

# wrk calls done() once at the end; it prints the figures as one JSON line for this script to read.
LUA_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end"""


@dataclass(frozen=True)
class Endpoint:
    """One measured request."""

    key: str
    label: str
    method: str
    path: str
    expect: int
    headers: dict[str, str] = field(default_factory=dict)
    body_template: str | None = None  # JSON; MRN_PLACEHOLDER, if present, becomes a fresh MRN per request


def case_body(mrn: str) -> dict[str, Any]:
    """A valid POST /api/v1/cases body (the same shape as tests/factories.py's case_body)."""
    return {
        "patient": {
            "mrn": mrn,
            "given_name": "Ada",
            "family_name": "Benchpatient",
            "birth_date": "1961-05-17",
            "sex": "female",
        },
        "disease_site": "breast",
        "diagnosis": {"code": "C50.911", "system": "ICD-10-CM", "display": "Malignant neoplasm of breast"},
        "histology": "Invasive ductal carcinoma",
        "stage": {"system": "AJCC8", "t": "cT2", "n": "cN1", "m": "cM0", "group": "IIB"},
        "ecog": 1,
        "biomarkers": [{"name": "HER2", "value": "positive"}],
        "summary": "Palpable mass, biopsy-proven.",
        "question": "Neoadjuvant therapy before surgery?",
    }


# --- options ------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http_ratios",
        description="Case read and case submission throughput as ratios to GET /health/live.",
    )
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 11), metavar="1..10")
    parser.add_argument("--duration", type=int, default=5, choices=range(1, 61), metavar="1..60",
                        help="seconds measured per endpoint and round (default 5)")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=1, choices=range(0, 31), metavar="0..30",
                        help="seconds of unmeasured load before each measurement (default 1)")  # fmt: skip
    parser.add_argument("--connections", type=int, default=16, choices=range(1, 257), metavar="1..256",
                        help="concurrent keep-alive connections (default 16)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, choices=range(1, 9), metavar="1..8",
                        help="web processes of `tumorboard serve` (default 1)")  # fmt: skip
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn",
                        help="ASGI server of the web process: `tumorboard serve` (uvicorn, default) or"
                             " granian (`pip install granian`; not a dependency of the app)")  # fmt: skip
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk if on PATH (auto), or bench.loadgen (python)")  # fmt: skip
    parser.add_argument("--same-patient", action="store_true",
                        help="every POST names one patient (default: a new MRN per request)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "http_ratios.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio misses its target")
    return parser


# --- child processes ----------------------------------------------------------------------------


def _http(method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, bytes]:
    assert url.startswith(f"http://{HOST}:")
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], children: Children) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"`tumorboard serve` exited with {process.returncode}:\n{children.log_tail('web')}"
            )
        with contextlib.suppress(OSError):
            if _http("GET", f"{base_url}/health/ready", {})[0] == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"`tumorboard serve` did not become ready in {START_TIMEOUT:.0f} s")


# --- CPU used per request (robust to a busy machine, unlike requests/s) ---------------------------


def _tree_cpu(table: dict[int, ProcessTimes], root: int | None) -> float | None:
    """CPU seconds of a process and all its descendants (None when there is no such process)."""
    if root is None or root not in table:
        return None
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table[pid].cpu_seconds
        todo += [child for child, process in table.items() if process.parent == pid]
    return total


def _postmaster(table: dict[int, ProcessTimes], database_url: str) -> int | None:
    """The PostgreSQL server process listening on the database URL's port, when it runs here."""
    port = database_url.rsplit("@", 1)[-1].split("/")[0].rpartition(":")[2]
    for pid, process in table.items():
        command = process.command
        if command.split(" ")[0].endswith("/postgres") and f"-p {port} " in command + " ":
            return pid
    return None


def _redis_server(table: dict[int, ProcessTimes], redis_url: str) -> int | None:
    """The redis-server process serving the Redis URL's port, when it runs here."""
    port = urlsplit(redis_url).port or 6379
    for pid, process in table.items():
        if "redis-server" in process.command and f":{port}" in process.command:
            return pid
    return None


def _machine_cpu_seconds() -> float:
    """CPU seconds every process of the machine has used since boot (all CPUs, idle excluded)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent during a measurement by the web process(es), the worker, PostgreSQL, Redis,
    the load generator (wrk or bench.loadgen: this script's finished children), and everything else
    on the machine (`elsewhere`: other users' work on a shared machine)."""

    PARTS = ("web", "worker", "postgres", "redis", "client", "elsewhere")

    def __init__(self, web: int, worker: int, database_url: str, redis_url: str | None = None) -> None:
        table = cpu_seconds()
        self.roots = {
            "web": web,
            "worker": worker,
            "postgres": _postmaster(table, database_url),
            "redis": _redis_server(table, redis_url) if redis_url else None,
        }

    def sample(self) -> dict[str, float | None]:
        table = cpu_seconds()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            **{name: _tree_cpu(table, pid) for name, pid in self.roots.items()},
            "client": children.ru_utime + children.ru_stime,
            "machine": _machine_cpu_seconds(),
        }

    @staticmethod
    def per_request(before: dict[str, float | None], after: dict[str, float | None], requests: int) -> dict:
        """Microseconds of CPU per request for each part (None where it could not be read)."""
        spent: dict[str, float | None] = {}
        for name, start in before.items():
            end = after.get(name)
            spent[name] = None if start is None or end is None else end - start
        machine = spent.pop("machine")
        known = sum(value for value in spent.values() if value is not None)
        spent["elsewhere"] = None if machine is None else max(0.0, machine - known)
        return {
            name: None if value is None else round(1e6 * value / max(1, requests))
            for name, value in spent.items()
        }


# --- database -----------------------------------------------------------------------------------


async def _prepare_database(database_url: str, nonce: str) -> str:
    """Migrate, then make a presenter with a bearer token; returns the token."""
    from argon2 import PasswordHasher

    from tumorboard.migrate import migrate

    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        async with conn.transaction():
            _, token = await create_user_with_token(
                conn,
                f"bench-presenter-{nonce}@example.org",
                "Dr. Bench Presenter",
                PasswordHasher().hash(secrets.token_urlsafe(24)),
                ["presenter"],
                "medical_oncology",
            )
        return token
    finally:
        await conn.close()


async def _pending_outbox(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL"))
    finally:
        await conn.close()


def _wait_drained(database_url: str, worker: subprocess.Popen[bytes]) -> tuple[int, float, int]:
    """Wait until the worker has done every outbox job, or stops making progress.

    Returns (jobs pending at first, seconds waited, jobs still pending).
    """
    started = time.monotonic()
    first = pending = asyncio.run(_pending_outbox(database_url))
    progress_at, lowest = started, pending
    while pending and worker.poll() is None:
        now = time.monotonic()
        if now - started > DRAIN_TIMEOUT or now - progress_at > DRAIN_STALL:
            break
        time.sleep(0.25)
        pending = asyncio.run(_pending_outbox(database_url))
        if pending < lowest:
            progress_at, lowest = time.monotonic(), pending
    if pending:
        print(
            f"  warning: the worker left {pending} outbox job(s) undone; measuring on"
            f" (see {RESULTS_DIR / 'logs' / 'worker.log'})",
            file=sys.stderr,
        )
    return first, round(time.monotonic() - started, 2), pending


# --- load generators ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """How hard and how long to push."""

    port: int
    connections: int
    nonce: str


class WrkClient:
    """wrk with a generated Lua script per endpoint; done() prints the figures as one JSON line."""

    name = "wrk"

    def __init__(self, script_dir: Path) -> None:
        self.script_dir = script_dir
        self.executable = shutil.which("wrk") or "wrk"
        done = subprocess.run([self.executable, "-v"], capture_output=True, text=True, check=False)
        output = (done.stdout or done.stderr).strip()
        self.version = output.splitlines()[0].split(" Copyright")[0] if output else ""

    def _script(self, endpoint: Endpoint) -> Path:
        path = self.script_dir / f"{endpoint.key}.lua"
        lines = [f'wrk.method = "{endpoint.method}"']
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in endpoint.headers.items()]
        template = endpoint.body_template
        if template and MRN_PLACEHOLDER in template:
            head, tail = template.split(MRN_PLACEHOLDER, 1)
            lines += [
                f"local body_head = [==[{head}]==]",
                f"local body_tail = [==[{tail}]==]",
                "local threads, counter, prefix = 0, 0, 'x'",
                "function setup(thread) threads = threads + 1; thread:set('thread_number', threads) end",
                "function init(args) prefix = (args[1] or 'x') .. '-' .. tostring(thread_number) .. '-' end",
                "function request()",
                "  counter = counter + 1",
                "  return wrk.format(nil, nil, nil, body_head .. prefix .. counter .. body_tail)",
                "end",
            ]
        elif template:
            lines.append(f"wrk.body = [==[{template}]==]")
        lines.append(LUA_DONE)
        path.write_text("\n".join(lines) + "\n")
        return path

    def _run(self, endpoint: Endpoint, load: Load, seconds: int, tag: str) -> dict[str, Any]:
        command = [
            self.executable, "-t1", f"-c{load.connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(self._script(endpoint)), f"http://{HOST}:{load.port}{endpoint.path}",
            "--", f"{load.nonce}-{tag}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
        if done.returncode != 0 or line is None:
            raise BenchError(
                f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
            )
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
        return {
            "requests": raw["requests"],
            "non_2xx": raw["status"],  # wrk counts statuses of 400 and above
            "socket_errors": errors,
            "seconds": raw["duration_us"] / 1e6,
            "latency_ms": {p: raw[f"{p}_us"] / 1000 for p in ("p50", "p90", "p99")},
        }

    def measure(self, endpoint: Endpoint, load: Load, seconds: int, tag: str) -> dict[str, Any]:
        return self._run(endpoint, load, seconds, tag)


class PythonClient:
    """bench.loadgen in a process of its own (the fallback when wrk is not installed)."""

    name = "bench.loadgen (asyncio, closed loop)"
    version = ""

    def measure(self, endpoint: Endpoint, load: Load, seconds: int, tag: str) -> dict[str, Any]:
        spec = {
            "port": load.port,
            "method": endpoint.method,
            "path": endpoint.path,
            "headers": {
                **endpoint.headers,
                **({"Content-Type": "application/json"} if endpoint.body_template else {}),
            },
            "body_template": endpoint.body_template,
            "mrn_placeholder": MRN_PLACEHOLDER,
            "nonce": f"{load.nonce}-{tag}",
            "connections": load.connections,
            "warmup": 0,
            "duration": seconds,
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.loadgen"], input=json.dumps(spec), capture_output=True,
            text=True, timeout=seconds + 60, check=False, cwd=PROJECT_ROOT,
        )  # fmt: skip
        if done.returncode != 0:
            raise BenchError(f"bench.loadgen failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout)
        result.pop("ok", None)
        return result


# --- the run ------------------------------------------------------------------------------------


def _endpoints(token: str, case_id: str, same_patient: bool) -> list[Endpoint]:
    auth = {"Authorization": f"Bearer {token}"}
    mrn = "BENCH-SAME-PATIENT" if same_patient else MRN_PLACEHOLDER
    body = json.dumps(case_body(mrn), separators=(",", ":"))
    return [
        Endpoint("bare", "GET /health/live", "GET", "/health/live", 200),
        Endpoint("read", "GET /api/v1/cases/{id}", "GET", f"/api/v1/cases/{case_id}", 200, auth),
        Endpoint(
            "write", "POST /api/v1/cases", "POST", "/api/v1/cases", 201,
            {**auth, "Content-Type": "application/json"}, body,
        ),
    ]  # fmt: skip


def _preflight(base_url: str, endpoints: list[Endpoint]) -> None:
    """Each request answers as expected once before anything is measured."""
    for endpoint in endpoints:
        body = (
            endpoint.body_template.replace(MRN_PLACEHOLDER, "BENCH-PREFLIGHT")
            if endpoint.body_template
            else None
        )
        status, answer = _http(
            endpoint.method, base_url + endpoint.path, endpoint.headers, body.encode() if body else None
        )
        if status != endpoint.expect:
            raise BenchError(
                f"{endpoint.label} answered {status}, expected {endpoint.expect}: {answer[:300]!r}"
            )


def _machine(load_average_at_start: list[float]) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average_at_start,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "note": "shared machine: compare the ratios, not the absolute requests/s",
    }


def _summary(endpoints: list[Endpoint], rounds: list[dict[str, Any]]) -> dict[str, Any]:
    rps = {e.key: [r[e.key]["requests_per_second"] for r in rounds] for e in endpoints}
    medians = {key: statistics.median(values) for key, values in rps.items()}
    ratios = {key: medians[key] / medians["bare"] for key in TARGETS}
    per_round = {key: [round(x / bare, 4) for x, bare in zip(rps[key], rps["bare"], strict=True)]
                 for key in TARGETS}  # fmt: skip
    cpu: dict[str, dict[str, float | None]] = {}
    for endpoint in endpoints:
        samples = [r[endpoint.key]["cpu_us_per_request"] for r in rounds]
        cpu[endpoint.key] = {
            part: (
                statistics.median(values)
                if (values := [x[part] for x in samples if x[part] is not None])
                else None
            )
            for part in samples[0]
        }
    return {
        "median_requests_per_second": {key: round(value, 1) for key, value in medians.items()},
        "median_cpu_us_per_request": cpu,
        "ratios": {key: round(value, 4) for key, value in ratios.items()},
        "cpu_ceilings": {key: _cpu_ceiling(cpu["bare"], cpu[key]) for key in TARGETS},
        "ratios_per_round": per_round,
        "targets": TARGETS,
        "meets_targets": {key: ratios[key] >= TARGETS[key] for key in TARGETS},
    }


def _cpu_ceiling(bare: dict[str, float | None], measured: dict[str, float | None]) -> float | None:
    """The ratio a request could reach from its CPU alone, with no waiting: the bare request keeps its
    web process's core busy, and a request is served no faster than its own web process can (one
    core) nor than the machine's cores can do all its work (web, worker, PostgreSQL, Redis, client)."""
    if not bare["web"] or not measured["web"]:
        return None
    total = sum(v for part, v in measured.items() if part != "elsewhere" and v is not None)
    return round(bare["web"] / max(measured["web"], total / (os.cpu_count() or 1)), 4)


def _print_table(endpoints: list[Endpoint], rounds: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    columns = [f"round {i + 1}" for i in range(len(rounds))] + ["median", "ratio", "target"]
    print("\n" + f"{'requests/s':24}" + "".join(f"{c:>10}" for c in columns))
    for endpoint in endpoints:
        cells = [f"{r[endpoint.key]['requests_per_second']:.0f}" for r in rounds]
        cells.append(f"{summary['median_requests_per_second'][endpoint.key]:.0f}")
        if endpoint.key in TARGETS:
            cells += [f"{summary['ratios'][endpoint.key]:.3f}", f">= {TARGETS[endpoint.key]}"]
            verdict = "  ok" if summary["meets_targets"][endpoint.key] else "  MISSED"
        else:
            cells += ["1", ""]
            verdict = ""
        print(f"{endpoint.label:24}" + "".join(f"{c:>10}" for c in cells) + verdict)
    print(f"\n{'CPU us/request (median)':24}" + "".join(f"{part:>10}" for part in CpuMeter.PARTS))
    for endpoint in endpoints:
        parts = summary["median_cpu_us_per_request"][endpoint.key]
        print(
            f"{endpoint.label:24}"
            + "".join(f"{'-' if (v := parts.get(p)) is None else f'{v:.0f}':>10}" for p in CpuMeter.PARTS)
        )
    ceilings = ", ".join(
        f"{key} {'-' if value is None else f'{value:.3f}'}" for key, value in summary["cpu_ceilings"].items()
    )
    print(f"\nratio the CPU alone allows (no waiting): {ceilings}")


def _start_app(
    args: argparse.Namespace, children: Children, database_url: str, redis_url: str
) -> tuple[str, subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """`tumorboard serve` and `tumorboard worker` as children; returns the base URL once ready."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TUMORBOARD_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    cli = [sys.executable, "-m", "tumorboard.cli"]
    serve = [*cli, "serve", "--host", HOST, "--port", str(port), "--workers", str(args.workers)]
    if getattr(args, "server", "uvicorn") == "granian":  # bench.worker starts the app with its own options
        if importlib.util.find_spec("granian") is None:
            raise BenchError(
                "granian is not installed: `.venv/bin/pip install granian`, or use --server uvicorn"
            )
        serve = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--loop", "uvloop",
            "--host", HOST, "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
            "--no-ws", "tumorboard.app:create_app_from_env",
        ]  # fmt: skip
    web = children.start("web", serve, env)
    worker = children.start("worker", [*cli, "worker"], env)
    _wait_ready(base_url, web, children)
    return base_url, web, worker


def _measure_rounds(
    args: argparse.Namespace,
    client: WrkClient | PythonClient,
    children: Children,
    endpoints: list[Endpoint],
    load: Load,
    database_url: str,
    worker: subprocess.Popen[bytes],
    meter: CpuMeter,
) -> list[dict[str, Any]]:
    """Each endpoint once per round, the order rotating, the outbox drained after each write."""
    rounds: list[dict[str, Any]] = []
    for number in range(args.rounds):
        shift = number % len(endpoints)  # so that no endpoint always comes right after the writes
        results: dict[str, Any] = {"order": []}
        for endpoint in endpoints[shift:] + endpoints[:shift]:
            tag = f"r{number}{endpoint.key}"
            if args.warmup:
                client.measure(endpoint, load, args.warmup, f"{tag}w")
            before = meter.sample()
            result = client.measure(endpoint, load, args.duration, tag)
            result["cpu_us_per_request"] = meter.per_request(before, meter.sample(), result["requests"])
            failed = result["non_2xx"] + result["socket_errors"]
            result["requests_per_second"] = round(
                (result["requests"] - result["non_2xx"]) / result["seconds"], 1
            )
            result["valid"] = failed <= MAX_ERROR_SHARE * max(1, result["requests"])
            if endpoint.key == "write":  # let the worker catch up, so the next measurement starts quiet
                backlog, waited, undone = _wait_drained(database_url, worker)
                result.update(outbox_backlog_after=backlog, outbox_drain_seconds=waited, outbox_undone=undone)
            results[endpoint.key] = result
            results["order"].append(endpoint.key)
            print(
                f"  round {number + 1}  {endpoint.label:24} {result['requests_per_second']:>9.1f} req/s"
                f"  p50 {result['latency_ms']['p50']} ms  failed {failed}"
            )
        rounds.append(results)
        for name, process in children.started:
            if process.poll() is not None:
                raise BenchError(f"`tumorboard {name}` exited:\n{children.log_tail(name)}")
    return rounds


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, measure in interleaved rounds, stop everything; return the results."""
    if args.client == "wrk" and not shutil.which("wrk"):
        raise BenchError("wrk is not on PATH: `apt-get install wrk`, or use --client python")
    nonce = secrets.token_hex(4)
    started_at = datetime.now(UTC)
    load_average = [round(x, 2) for x in os.getloadavg()]
    log_dir = RESULTS_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    # Unwound in reverse: the app's processes stop first, then PostgreSQL and Redis, then the files go.
    with contextlib.ExitStack() as stack:
        work_dir = Path(tempfile.mkdtemp(prefix="tumorboard-bench-"))
        stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        use_wrk = args.client != "python" and shutil.which("wrk")
        client: WrkClient | PythonClient = WrkClient(work_dir) if use_wrk else PythonClient()
        external = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
        where = "external (DATABASE_URL, REDIS_URL)" if external else "embedded, throwaway"
        database_url, redis_url = stack.enter_context(services(work_dir / "services"))
        print(f"services: {where}")
        try:
            token = asyncio.run(_prepare_database(database_url, nonce))
        except (OSError, asyncpg.PostgresError) as error:
            raise BenchError(f"could not prepare the database: {type(error).__name__}: {error}") from None
        children = Children(log_dir)
        stack.callback(children.stop_all)
        base_url, web, worker = _start_app(args, children, database_url, redis_url)
        auth = {"Authorization": f"Bearer {token}"}
        status, answer = _http(
            "POST", f"{base_url}/api/v1/cases", {**auth, "Content-Type": "application/json"},
            json.dumps(case_body(f"BENCH-READ-{nonce}")).encode(),
        )  # fmt: skip
        if status != 201:
            raise BenchError(f"could not create the case to read: {status} {answer[:300]!r}")
        endpoints = _endpoints(token, json.loads(answer)["id"], args.same_patient)
        _preflight(base_url, endpoints)
        _wait_drained(database_url, worker)
        print(
            f"server: {args.server}; load: {client.name}, {args.connections} connections;"
            f" {args.rounds} round(s) of "
            f"{args.warmup} s warm-up + {args.duration} s per endpoint; {args.workers} web process(es)"
        )
        load = Load(port=int(base_url.rsplit(":", 1)[1]), connections=args.connections, nonce=nonce)
        meter = CpuMeter(web.pid, worker.pid, database_url, redis_url)
        rounds = _measure_rounds(args, client, children, endpoints, load, database_url, worker, meter)

    summary = _summary(endpoints, rounds)
    _print_table(endpoints, rounds, summary)
    valid = all(r[e.key]["valid"] for r in rounds for e in endpoints)
    if not valid:
        print(
            f"\nwarning: some measurements had more than {MAX_ERROR_SHARE:.0%} failed requests",
            file=sys.stderr,
        )
    drained = all(not r["write"]["outbox_undone"] for r in rounds)
    if not drained:
        print("\nwarning: the worker did not drain the outbox: not production conditions", file=sys.stderr)
    return {
        "benchmark": "http_ratios",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "valid": valid,
        "outbox_drained": drained,
        **summary,
        "endpoints": {e.key: e.label for e in endpoints},
        "settings": {
            "rounds": args.rounds,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "connections": args.connections,
            "web_processes": args.workers,
            "server": f"{args.server} {importlib.metadata.version(args.server)}",
            "background_workers": 1,
            "same_patient": args.same_patient,
            "client": client.name,
            "client_version": client.version,
            "services": where,
        },
        "machine": _machine(load_average),
        "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON results."""
    args = _parser().parse_args(argv)
    return run_command(
        "bench.http_ratios",
        lambda: run(args),
        args.output,
        lambda results: not results["valid"] or (args.check and not all(results["meets_targets"].values())),
    )


if __name__ == "__main__":
    sys.exit(main())
