"""A small closed-loop HTTP/1.1 load generator: the fallback of bench.http_ratios when wrk is absent.

Run as a separate process (`python -m bench.loadgen`, a JSON spec on standard input, a JSON result
on standard output) so the load it makes and the server it measures do not share an event loop.
It holds `connections` keep-alive connections to 127.0.0.1, each sending its next request as soon
as the previous answer is read, first for `warmup` seconds (not counted), then for `duration`.
It speaks just enough HTTP/1.1 for the app under test (Content-Length bodies) and uses pre-built
request bytes, so it costs far less per request than an HTTP client library would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"
MAX_CONNECTIONS = 256
MAX_SECONDS = 120.0


@dataclass
class _Tally:
    """What the connections of one run saw while it counted."""

    counting: bool = False
    ok: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    latencies: list[float] = field(default_factory=list)


class _Requests:
    """Request bytes: fixed, or with a fresh MRN spliced into the body each time."""

    def __init__(self, spec: dict[str, Any], connection: int) -> None:
        self.head = f"{spec['method']} {spec['path']} HTTP/1.1\r\nHost: {HOST}:{spec['port']}\r\n"
        for name, value in spec.get("headers", {}).items():
            self.head += f"{name}: {value}\r\n"
        template: str | None = spec.get("body_template")
        self.parts = template.split(spec["mrn_placeholder"], 1) if template else None
        self.prefix = f"{spec.get('nonce', 'x')}-{connection}-"
        self.count = 0
        self.fixed = None if self.parts and len(self.parts) == 2 else self._build((template or "").encode())

    def _build(self, body: bytes) -> bytes:
        length = f"Content-Length: {len(body)}\r\n" if body else ""
        return (self.head + length + "\r\n").encode() + body

    def next(self) -> bytes:
        if self.fixed is not None:
            return self.fixed
        assert self.parts is not None
        self.count += 1
        return self._build(f"{self.parts[0]}{self.prefix}{self.count}{self.parts[1]}".encode())


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status code and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep_alive = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
        elif name == "transfer-encoding":
            raise ValueError("chunked responses are not supported by this load generator")
    if length:
        await reader.readexactly(length)
    return status, keep_alive


async def _connection(spec: dict[str, Any], index: int, tally: _Tally, stop_at: float) -> None:
    requests = _Requests(spec, index)
    writer: asyncio.StreamWriter | None = None
    while time.perf_counter() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, spec["port"])
            started = time.perf_counter()
            writer.write(requests.next())
            status, keep_alive = await asyncio.wait_for(_read_response(reader), timeout=10)
            finished = time.perf_counter()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            if tally.counting:
                tally.socket_errors += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
            continue
        if tally.counting and finished <= stop_at:
            if 200 <= status < 300:
                tally.ok += 1
            else:
                tally.non_2xx += 1
            tally.latencies.append(finished - started)
        if not keep_alive:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then count completed requests for spec['duration'] seconds."""
    connections = max(1, min(int(spec["connections"]), MAX_CONNECTIONS))
    warmup = max(0.0, min(float(spec.get("warmup", 0.0)), MAX_SECONDS))
    duration = max(0.1, min(float(spec["duration"]), MAX_SECONDS))
    tally = _Tally()
    begin = time.perf_counter()
    stop_at = begin + warmup + duration
    tasks = [asyncio.create_task(_connection(spec, i, tally, stop_at)) for i in range(connections)]
    await asyncio.sleep(warmup)
    tally.counting = True
    counted_from = time.perf_counter()
    await asyncio.gather(*tasks)
    seconds = stop_at - counted_from  # responses finishing later are not counted
    latencies = sorted(tally.latencies)

    def percentile(p: float) -> float | None:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 3)
            if latencies
            else None
        )

    return {
        "requests": tally.ok + tally.non_2xx,
        "ok": tally.ok,
        "non_2xx": tally.non_2xx,
        "socket_errors": tally.socket_errors,
        "seconds": round(seconds, 4),
        "latency_ms": {"p50": percentile(0.50), "p90": percentile(0.90), "p99": percentile(0.99)},
    }


def main() -> int:
    """Read the spec from standard input, print the result as JSON."""
    spec = json.load(sys.stdin)
    try:
        import uvloop  # a faster event loop, when installed

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(run(spec))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
