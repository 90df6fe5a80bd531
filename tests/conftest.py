"""Shared fixtures: embedded PostgreSQL and Redis, a real web server and real worker processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import httpx
import msgspec
import pytest
from arq import ArqRedis
from arq import create_pool as create_arq_pool
from arq.connections import RedisSettings

from tests.factories import Factory
from tests.isolated_stack import APP_ROLE
from tumorboard.db import create_pool
from tumorboard.embedded import embedded_services, free_port
from tumorboard.migrate import migrate

# Fixtures of single sign-on: a real OpenID Connect provider and a web server that signs in through it.
pytest_plugins = ["tests.sso_support"]

# Tables emptied before each test; the audit trail is append-only and only grows.
_TABLES = (
    "care_plan_pdf, care_plan, board_decision, recommendation, case_attachment, patient_case, "
    "case_participant, patient, meeting_participant, meeting_pack, meeting, board, access_token, "
    "user_identity, app_user, outbox, assignment_pass, sign_in_failure, sign_in_lock, live_stream, "
    "referrer_letter"
)


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL and Redis for the whole run, migrated; the URL is the tables' owner's."""
    with embedded_services(tmp_path_factory.mktemp("services")) as (database_url, redis_url):

        async def apply() -> None:
            conn = await asyncpg.connect(database_url)
            try:
                await migrate(conn, app_role=APP_ROLE)
            finally:
                await conn.close()

        asyncio.run(apply())
        yield database_url, redis_url


@pytest.fixture(scope="session")
def app_database_url(service_urls: tuple[str, str]) -> str:
    """The URL the service connects with: the app role, which owns nothing."""
    return APP_ROLE.url(service_urls[0])


@pytest.fixture(scope="session")
def service_env(
    service_urls: tuple[str, str], app_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment for child processes of the service: web servers and workers run as the app role
    and share their metrics."""
    _, redis_url = service_urls
    return {
        **os.environ,
        "DATABASE_URL": app_database_url,
        "REDIS_URL": redis_url,
        "TUMORBOARD_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
    }


@pytest.fixture(scope="session")
async def pool(service_urls: tuple[str, str]) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool for tests that call services or check rows."""
    pool = await create_pool(service_urls[0], min_size=1, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def server(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tumorboard serve` in a child process; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("logs") / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tumorboard.cli", "serve", "--port", str(port)],
        env={**service_env, "TUMORBOARD_PUBLIC_URL": base_url},  # links in feeds point here
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start; see web.log")
        time.sleep(0.1)
    yield base_url
    process.terminate()
    process.wait(timeout=10)


WorkerStarter = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture(scope="session")
def start_worker(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerStarter]:
    """Start `tumorboard worker` processes on demand; all are stopped at the end of the run."""
    processes: list[subprocess.Popen[bytes]] = []
    logs = tmp_path_factory.mktemp("worker-logs")

    def start() -> subprocess.Popen[bytes]:
        log = (logs / f"worker-{len(processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tumorboard.cli", "worker"],
            env=service_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def worker(start_worker: WorkerStarter) -> subprocess.Popen[bytes]:
    """One background worker shared by the tests that need jobs to run."""
    return start_worker()


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest) -> None:
    """Each test starts from empty tables (tests that use the database only)."""
    if "pool" not in request.fixturenames:
        return
    pool: asyncpg.Pool = request.getfixturevalue("pool")
    await pool.execute(f"TRUNCATE {_TABLES} CASCADE")


@pytest.fixture
async def arq_redis(service_urls: tuple[str, str]) -> AsyncIterator[ArqRedis]:
    """An arq connection to the session's Redis, as the workers use it."""
    redis = await create_arq_pool(
        RedisSettings.from_dsn(service_urls[1]),
        job_serializer=msgspec.msgpack.encode,
        job_deserializer=msgspec.msgpack.decode,
    )
    yield redis
    await redis.aclose()


@pytest.fixture
async def api(server: str, pool: asyncpg.Pool) -> AsyncIterator[Factory]:
    """An HTTP client on the live server plus factories for users, boards, meetings and cases."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=30) as client:
        yield Factory(client, pool)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser and worker tests go last, so quick failures show first."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
