"""A web server and workers of their own, on a separate database and Redis database of the
test cluster, for tests that must know which worker runs a job (the session's shared workers
never see these jobs), and that give workers settings of their own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from tests.factories import Factory
from tumorboard.db import create_pool
from tumorboard.db_roles import EMBEDDED_APP_ROLE, AppRole
from tumorboard.embedded import free_port
from tumorboard.migrate import migrate

# The role every test web server and worker connects as (roles belong to the whole cluster).
APP_ROLE = AppRole(EMBEDDED_APP_ROLE, secrets.token_urlsafe(16))
# The session uses Redis database 0; each isolated stack takes the next free one.
_REDIS_DATABASES = iter(range(1, 16))


@dataclass
class IsolatedStack:
    """A server on its own database, and the workers started for it."""

    api: Factory
    database_url: str
    redis_url: str
    logs: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, **settings: str) -> subprocess.Popen[bytes]:
        """A `tumorboard worker` on this stack, with extra environment settings."""
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        env = {**_env(self.database_url, self.redis_url), **settings}
        worker = subprocess.Popen(
            [sys.executable, "-m", "tumorboard.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.workers.append(worker)
        return worker


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TUMORBOARD_LOG_LEVEL": "INFO",
    }


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def _start_web(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tumorboard.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.asynccontextmanager
async def isolated_stack(
    service_urls: tuple[str, str], logs: Path, **web_settings: str
) -> AsyncIterator[IsolatedStack]:
    """A fresh database in the test cluster, a Redis database of its own, and a web server on them
    (with extra environment settings)."""
    cluster_url, session_redis = service_urls
    name = f"isolated_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(cluster_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    owner_url = _with_path(cluster_url, f"/{name}")
    database_url = APP_ROLE.url(owner_url)
    redis_url = _with_path(session_redis, f"/{next(_REDIS_DATABASES)}")
    conn = await asyncpg.connect(owner_url)
    await migrate(conn, app_role=APP_ROLE)
    await conn.close()

    port = free_port()
    web = _start_web(port, {**_env(database_url, redis_url), **web_settings}, logs / "web.log")
    pool = await create_pool(owner_url, min_size=1, max_size=3)
    stack: IsolatedStack | None = None
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=30) as probe:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(f"{base_url}/health/live")).status_code == 200:
                        break
                if web.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the isolated web server did not start; see its web.log")
                await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=30) as client:
            stack = IsolatedStack(Factory(client, pool), database_url, redis_url, logs)
            yield stack
    finally:
        for process in [*(stack.workers if stack else []), web]:
            _stop(process)
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
