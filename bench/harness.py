"""What the benchmarks need around the measurement: their child processes and services, a minimal
HTTP/1.1 client for the measured phase, CPU accounting per process from /proc, peak resident memory
sampled while they run, spreads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import asyncpg

HOST = "127.0.0.1"  # all traffic stays on this machine
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A readable reason the benchmark could not run."""


class Children:
    """Processes this run started, each logging to `{log_dir}/{prefix}{name}.log`; stop_all() ends
    each of them (and only them)."""

    def __init__(self, log_dir: Path, prefix: str = "") -> None:
        self.log_dir = log_dir
        self.prefix = prefix
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def log(self, name: str) -> Path:
        """Where a child's output goes."""
        return self.log_dir / f"{self.prefix}{name}.log"

    def log_tail(self, name: str, lines: int = 25) -> str:
        """The last lines of a child's output ("" when it cannot be read)."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log(name).read_text(errors="replace").splitlines()[-lines:])
        return ""

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a child in a session of its own (Ctrl-C reaches only this script, which stops it)."""
        with self.log(name).open("wb") as log:
            process = subprocess.Popen(
                args,
                env=env,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process))
        return process

    def check_alive(self) -> None:
        """Refuse to go on when a child has exited."""
        for name, process in self.started:
            if process.poll() is not None:
                raise BenchError(f"`{name}` exited; see {self.log(name)}")

    def stop_all(self) -> None:
        """SIGTERM each child, then SIGKILL its process group if it does not stop in 20 s."""
        for _, process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process in reversed(self.started):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # its own session: its group is its own
                process.wait(timeout=10)
        self.started.clear()


@contextlib.contextmanager
def services(data_dir: Path) -> Iterator[tuple[str, str]]:
    """The configured PostgreSQL and Redis, or embedded throwaway ones."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    from tumorboard.embedded import EmbeddedError, embedded_services

    try:
        with embedded_services(data_dir) as (embedded_db, embedded_redis):
            yield database_url or embedded_db, redis_url or embedded_redis
    except EmbeddedError as error:
        raise BenchError(str(error)) from None


async def create_user_with_token(
    conn: asyncpg.Connection,
    email: str,
    full_name: str,
    password_hash: str,
    roles: list[str],
    discipline: str | None,
) -> tuple[Any, str]:
    """Insert a user directly in the database and issue it an API bearer token valid for 2 hours;
    returns (user id, access token)."""
    from tumorboard.auth.service import API, issue_token

    user_id = await conn.fetchval(
        "INSERT INTO app_user (email, full_name, password_hash, roles, discipline)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        email,
        full_name,
        password_hash,
        roles,
        discipline,
    )
    token = await issue_token(conn, user_id, API, timedelta(hours=2))
    return user_id, token.access_token


class RawHttp:
    """Just enough HTTP/1.1 for the measured phase: keep-alive connections to 127.0.0.1, requests as
    bytes, Content-Length bodies. An HTTP client library costs several times more CPU per request,
    and on a small machine the benchmark's own CPU would be counted as the service's latency."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """Send one request on an idle connection (or a new one); the status and the body."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        message = head.encode() + b"\r\n" + (body or b"")
        while True:
            reused = bool(self.idle)
            reader, writer = self.idle.pop() if reused else await asyncio.open_connection(HOST, self.port)
            writer.write(message)
            status_line = await reader.readline()
            if status_line or not reused:
                break
            writer.close()  # the server closed this idle connection (keep-alive timeout): use another
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding":
                raise BenchError(f"{path} answered with {name}; this client reads Content-Length bodies only")
        data = await reader.readexactly(length)
        self.idle.append((reader, writer))
        return status, data

    async def close(self) -> None:
        """Close every connection."""
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


class ProcessTimes(NamedTuple):
    """One process as /proc shows it."""

    parent: int
    command: str
    cpu_seconds: float
    started: int  # clock ticks after boot: tells a reused pid apart


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (OSError when there is no such process)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) one process has used so far (OSError when it is not here)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[int, ProcessTimes]:
    """Every process on the machine and the CPU time it has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = _stat_fields(entry.name)
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            seconds = (int(fields[11]) + int(fields[12])) / ticks
            processes[int(entry.name)] = ProcessTimes(int(fields[1]), command, seconds, int(fields[19]))
    return processes


def cpu_used(
    before: dict[int, ProcessTimes], after: dict[int, ProcessTimes], database_url: str
) -> dict[str, float]:
    """CPU seconds each part of the run used between two snapshots; `elsewhere` is everything else
    on the machine (this benchmark shares it with whatever else runs)."""
    port = f"-p {urlsplit(database_url).port} "

    def part(pid: int) -> str:
        # Walk up to this benchmark (web, workers and their rendering processes, Redis) or to its
        # own PostgreSQL server; other users' processes, even of the same programs, are elsewhere.
        name, seen = None, pid
        while seen in after:
            process = after[seen]
            if seen == os.getpid():
                return name or ("benchmark client" if pid == seen else "redis")
            if name is None and "tumorboard.cli serve" in process.command:
                name = "web"
            elif name is None and "tumorboard.cli worker" in process.command:
                name = "workers" if pid == seen else "pdf rendering processes"
            elif process.command.startswith("/usr/lib/postgresql") and port in process.command + " ":
                return "postgresql"
            seen = process.parent
        return "elsewhere"

    used: dict[str, float] = {}
    for pid, process in after.items():
        earlier = before.get(pid)
        spent = process.cpu_seconds - (
            earlier.cpu_seconds if earlier and earlier.started == process.started else 0
        )
        used[part(pid)] = used.get(part(pid), 0.0) + spent
    return {name: round(seconds, 2) for name, seconds in sorted(used.items())}


class RssSampler:
    """The peak resident memory (RSS) of named processes, sampled every `interval` seconds by a
    thread of the benchmark while it runs (`with RssSampler({"web": pid, ...}) as rss: ...`). A
    process that has exited keeps the peak it reached. `peaks_mb()` gives each name's peak in MB,
    with the kernel's own high-water mark (VmHWM) of the processes still running beside it: the
    sampler can miss a spike shorter than its interval, VmHWM cannot."""

    def __init__(self, processes: dict[str, int], interval: float = 0.1) -> None:
        self.processes = dict(processes)
        self.interval = interval
        self.peak_bytes: dict[str, int] = dict.fromkeys(self.processes, 0)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def add(self, name: str, pid: int) -> None:
        """Sample one more process from now on."""
        self.processes[name] = pid
        self.peak_bytes.setdefault(name, 0)

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            for name, pid in list(self.processes.items()):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
                    self.peak_bytes[name] = max(self.peak_bytes.get(name, 0), resident)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop sampling (the peaks stay)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def peaks_mb(self) -> dict[str, dict[str, float | None]]:
        """Per name, in MB: the sampled peak RSS, the kernel's VmHWM (None once the process is gone),
        and `peak_mb`, the larger of the two: what a target on peak memory is checked against."""
        peaks: dict[str, dict[str, float | None]] = {}
        for name, pid in self.processes.items():
            sampled = round(self.peak_bytes.get(name, 0) / 2**20, 1) or None
            kernel = high_water_mark_mb(pid)
            peaks[name] = {
                "peak_rss_mb": sampled,
                "vmhwm_mb": kernel,
                "peak_mb": max((x for x in (sampled, kernel) if x is not None), default=None),
            }
        return peaks


def high_water_mark_mb(pid: int) -> float | None:
    """The peak resident memory of a running process so far, as the kernel counts it (VmHWM), in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def percentile(values: list[float], percent: int) -> float:
    """The nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def spread(values: list[float]) -> dict[str, float | None]:
    """Count, median, 95th percentile and maximum, rounded (None for an empty list)."""
    if not values:
        return {"n": 0, "median": None, "p95": None, "max": None}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 3),
        "p95": round(percentile(values, 95), 3),
        "max": round(max(values), 3),
    }


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_command(
    name: str, run: Callable[[], dict[str, Any]], output: Path, failed: Callable[[dict[str, Any]], bool]
) -> int:
    """A benchmark's command around `run`: Ctrl-C and `kill` end in run()'s cleanup (SIGINT too when
    started with it ignored, e.g. with `&`); writes the results as JSON to `output`. Exit 2 when it
    cannot run, 130 when interrupted, 1 when `failed(results)` (a missed target, invalid figures)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        results = run()
    except BenchError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; everything started was stopped", file=sys.stderr)
        return 130
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {output}")
    return 1 if failed(results) else 0
