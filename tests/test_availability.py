"""When PostgreSQL or Redis is unreachable (docs/security.md): 503 with Retry-After and a JSON body,
quickly, never a 500 or a hang; with Redis down, writes still succeed (the outbox holds the jobs)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.browser.support import page_client
from tests.factories import Factory, case_body
from tests.isolated_stack import isolated_stack
from tests.web_process import web_server
from tumorboard.auth.service import API, issue_token
from tumorboard.db import create_pool
from tumorboard.embedded import EmbeddedPostgres, free_port, start_postgres
from tumorboard.migrate import migrate

# A request may take this long at most: the client gives up after it, and the test fails.
NO_HANG_SECONDS = 10


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL cluster of this test's own, which it may stop."""
    postgres = start_postgres(tmp_path / "postgres")
    yield postgres
    postgres.stop()


@pytest.mark.slow
async def test_with_postgresql_stopped_requests_answer_503_quickly(
    own_postgres: EmbeddedPostgres, service_urls: tuple[str, str], tmp_path: Path
) -> None:
    conn = await asyncpg.connect(own_postgres.url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await create_pool(own_postgres.url, min_size=1, max_size=2)
    try:
        async with httpx.AsyncClient() as unused:
            presenter = await Factory(unused, pool).user("presenter")
        async with pool.acquire() as conn:
            token = (await issue_token(conn, presenter.id, API, timedelta(hours=1))).access_token
    finally:
        await pool.close()
    env = {
        **os.environ,
        "DATABASE_URL": own_postgres.url,
        "REDIS_URL": service_urls[1],
        "TUMORBOARD_LOG_LEVEL": "WARNING",
    }
    headers = {"Authorization": f"Bearer {token}"}
    with web_server(env) as base_url:
        async with page_client(base_url, presenter) as browser:
            async with httpx.AsyncClient(base_url=base_url, timeout=NO_HANG_SECONDS) as client:
                assert (await client.get("/api/v1/cases", headers=headers)).status_code == 200
                own_postgres.stop()
                for method, path, body in (
                    ("GET", "/api/v1/cases", None),
                    ("POST", "/api/v1/cases", case_body()),
                    ("GET", "/api/v1/me", None),
                    ("POST", "/api/v1/auth/token", {"email": presenter.email, "password": "whatever it is"}),
                ):
                    for _ in range(2):  # the pool's old connections, then new ones that cannot connect
                        response = await client.request(method, path, json=body, headers=headers)
                        assert response.status_code == 503, (method, path, response.text)
                        assert response.json() == {
                            "status_code": 503,
                            "detail": "The database is unavailable; try again shortly",
                        }
                        assert int(response.headers["retry-after"]) > 0
                        assert response.headers["cache-control"] == "no-store"
                ready = await client.get("/health/ready")
                assert ready.status_code == 503
                assert ready.json() == {"status": "unavailable", "database": "unreachable", "redis": "ok"}
                assert (await client.get("/health/live")).status_code == 200
            home = await browser.get("/")
            assert home.status_code == 503 and "Temporarily unavailable" in home.text
            assert int(home.headers["retry-after"]) > 0


async def test_with_redis_unreachable_writes_still_succeed(
    service_urls: tuple[str, str], tmp_path: Path
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    async with isolated_stack(service_urls, tmp_path, REDIS_URL=nowhere) as stack:
        presenter = await stack.api.user("presenter")
        case = await stack.api.case(presenter)
        assert case["status"] == "submitted"
        job = await stack.api.pool.fetchrow(
            "SELECT job, done_at FROM outbox WHERE subject_id = $1", uuid.UUID(case["id"])
        )
        assert job is not None and job["done_at"] is None  # waiting for a worker once Redis is back
        site = stack.api.client.base_url.copy_with(path="/")
        async with httpx.AsyncClient(base_url=site, timeout=NO_HANG_SECONDS) as probe:
            ready = await probe.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "ok", "redis": "unreachable"}
