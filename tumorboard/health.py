"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.datastructures import State


@get("/health/live", operation_id="Live", include_in_schema=False)
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/health/ready", operation_id="Ready", include_in_schema=False)
async def ready(state: State) -> Response[dict[str, str]]:
    """PostgreSQL and Redis both answer (503 naming what does not)."""
    checks = {"database": _check_database(state), "redis": _check_redis(state)}
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    healthy = all(result == "ok" for result in results.values())
    return Response(
        {"status": "ok" if healthy else "unavailable", **results}, status_code=200 if healthy else 503
    )


async def _check_database(state: State) -> str:
    try:
        async with asyncio.timeout(2):
            await state.pool.fetchval("SELECT 1")
    except Exception:
        return "unreachable"
    return "ok"


async def _check_redis(state: State) -> str:
    try:
        async with asyncio.timeout(2):
            await state.redis.ping()
    except Exception:
        return "unreachable"
    return "ok"
