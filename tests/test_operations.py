"""Operations: /metrics, request ids, dead jobs and their retry, and the job registry."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

import asyncpg
import httpx
import pytest
import yaml
from arq import ArqRedis

from tests.browser.support import flash_of, page_client, text_of
from tests.factories import Factory, eventually
from tumorboard import outbox
from tumorboard.settings import PROJECT_ROOT
from workers.settings import WorkerSettings


def samples(text: str, name: str) -> dict[str, float]:
    """The samples of one metric in a Prometheus text page, by their label set."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            labels, _, value = line[len(name) :].rpartition(" ")
            found[labels] = float(value)
    return found


async def test_metrics_are_open_and_label_routes_by_pattern(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case = await api.case(team.presenter)
    async with httpx.AsyncClient(base_url=server, timeout=30) as web:
        assert (await web.get(f"/api/v1/cases/{case['id']}")).status_code == 401
        assert (await web.get(f"/no/such/page/{case['patient']['mrn']}")).status_code == 404
        scraped = await web.get("/metrics")  # no sign-in, like the health probes
    assert scraped.status_code == 200
    assert scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = scraped.text
    requests = samples(text, "tumorboard_http_requests_total")
    assert requests['{method="POST",route="/api/v1/cases",status="201"}'] >= 1
    assert requests['{method="GET",route="/api/v1/cases/{case_id}",status="401"}'] >= 1
    assert requests['{method="GET",route="unmatched",status="404"}'] >= 1
    assert samples(text, "tumorboard_http_request_duration_seconds_count")
    # Ids and anything typed by users stay out of the labels.
    for value in (case["id"], case["patient"]["mrn"], case["patient"]["family_name"]):
        assert value not in text
    pending = await pool.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL")
    assert samples(text, "tumorboard_outbox_pending_jobs") == {'{job="assign_case"}': pending}
    assert samples(text, "tumorboard_outbox_oldest_pending_age_seconds")[""] >= 0
    assert "# TYPE tumorboard_outbox_dead_jobs gauge" in text
    assert "# TYPE tumorboard_live_streams gauge" in text


async def test_requests_that_wait_for_a_database_connection_are_counted(server: str, api: Factory) -> None:
    team = await api.team()
    case = await api.case(team.presenter)
    async with httpx.AsyncClient(base_url=server, timeout=30, limits=httpx.Limits(max_connections=40)) as web:
        before = samples((await web.get("/metrics")).text, "tumorboard_db_pool_waits_total").get("", 0.0)
        # Forty reads at once against a process that lends four connections (the default).
        answers = await asyncio.gather(
            *(web.get(f"/api/v1/cases/{case['id']}", headers=team.presenter.headers) for _ in range(40))
        )
        after = samples((await web.get("/metrics")).text, "tumorboard_db_pool_waits_total")[""]
    assert [answer.status_code for answer in answers] == [200] * 40
    assert after > before


async def test_each_response_carries_a_request_id(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as web:
        given = await web.get("/health/live", headers={"X-Request-ID": "probe-42"})
        made = await web.get("/health/live", headers={"X-Request-ID": "not a token; Ada Lovelace"})
        missing = await web.get("/nowhere")
    assert given.headers["x-request-id"] == "probe-42"
    assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != "not a token"
    assert missing.status_code == 404 and len(missing.headers["x-request-id"]) == 32


async def test_a_misspelt_job_cannot_be_written(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="asign_case"):
            await outbox.add_job(conn, "asign_case")  # type: ignore[arg-type]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


def test_every_job_name_has_exactly_one_function() -> None:
    assert sorted(function.name for function in WorkerSettings.functions) == sorted(outbox.Job)


async def _failing_job(pool: asyncpg.Pool, attempts: int) -> int:
    """A consolidation without its case id (a bug, as a job would meet one): it fails every time."""
    return int(
        await pool.fetchval(
            "INSERT INTO outbox (job, attempts, request_id)"
            " VALUES ('consolidate_care_plan', $1, 'req-dead-1') RETURNING id",
            attempts,
        )
    )


@pytest.mark.slow
async def test_a_job_that_fails_every_attempt_is_dead_until_an_admin_retries_it(
    server: str,
    api: Factory,
    pool: asyncpg.Pool,
    arq_redis: ArqRedis,
    worker: subprocess.Popen[bytes],
) -> None:
    outbox_id = await _failing_job(pool, attempts=outbox.MAX_ATTEMPTS - 1)
    assert await outbox.sweep(pool, arq_redis, settle_seconds=0) == 1  # its last attempt

    async def dead() -> asyncpg.Record | None:
        row = await pool.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id)
        return row if row["failed_at"] else None

    row = await eventually(dead)
    assert (row["attempts"], row["last_error"], row["done_at"]) == (outbox.MAX_ATTEMPTS, "TypeError", None)
    assert await outbox.sweep(pool, arq_redis, settle_seconds=0) == 0  # dead jobs are left alone

    admin, presenter = await api.user("admin"), await api.user("presenter", discipline="medical_oncology")
    refused = await api.client.get("/admin/jobs/dead", headers=presenter.headers)
    assert refused.status_code == 403
    listed = await api.ok(api.client.get("/admin/jobs/dead", headers=admin.headers), 200)
    assert [(j["id"], j["job"], j["last_error"], j["request_id"]) for j in listed["items"]] == [
        (outbox_id, "consolidate_care_plan", "TypeError", "req-dead-1")
    ]
    async with httpx.AsyncClient(base_url=server, timeout=30) as web:
        metrics = (await web.get("/metrics")).text
    assert samples(metrics, "tumorboard_outbox_dead_jobs") == {'{job="consolidate_care_plan"}': 1.0}
    failures = samples(metrics, "tumorboard_job_failures_total")
    assert failures['{error="TypeError",job="consolidate_care_plan"}'] >= 1

    async with page_client(server, admin) as browser:
        shown = await browser.get("/admin/jobs")
        assert shown.status_code == 200 and "TypeError" in text_of(shown) and "req-dead-1" in text_of(shown)
        retried = await browser.post(f"/admin/jobs/{outbox_id}/retry", [])
        assert retried.status_code == 303
        assert flash_of(await browser.get(retried.headers["location"])) == f"Job {outbox_id} will run again."

    async def tried_again() -> asyncpg.Record | None:
        row = await pool.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id)
        return row if row["attempts"] == 1 and row["last_error"] else None

    row = await eventually(tried_again)  # a fresh set of attempts: the first failed, the next wait
    assert row["failed_at"] is None
    again = await api.client.post(f"/admin/jobs/dead/{outbox_id}/retry", headers=admin.headers)
    assert again.status_code == 404  # it is not dead any more
    audit = await pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'retry' AND subject_type = 'job'"
    )
    assert audit >= 1


@pytest.mark.slow
async def test_a_failed_job_is_retried_after_a_delay_and_counted(
    server: str, pool: asyncpg.Pool, arq_redis: ArqRedis, worker: subprocess.Popen[bytes]
) -> None:
    outbox_id = await _failing_job(pool, attempts=0)  # announced to the worker as it commits

    async def failed_once() -> asyncpg.Record | None:
        row = await pool.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id)
        return row if row["last_error"] else None

    row = await eventually(failed_once)
    assert (row["attempts"], row["failed_at"]) == (1, None)
    # Not before its retry delay: a sweep now leaves it alone.
    assert await outbox.sweep(pool, arq_redis) == 0
    await pool.execute(
        "UPDATE outbox SET enqueued_at = now() - interval '11 seconds' WHERE id = $1", outbox_id
    )
    assert await outbox.sweep(pool, arq_redis) == 1
    row = await eventually(
        lambda: pool.fetchrow("SELECT * FROM outbox WHERE id = $1 AND attempts = 2", outbox_id)
    )
    assert row["failed_at"] is None


async def test_open_live_streams_are_counted(server: str, api: Factory) -> None:
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"], team.participants)
    async with (
        page_client(server, team.coordinator) as browser,
        browser.client.stream("GET", f"/meetings/{meeting['id']}/live") as stream,
        httpx.AsyncClient(base_url=server, timeout=30) as web,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        scraped = (await web.get("/metrics")).text
    assert samples(scraped, "tumorboard_live_streams")[""] >= 1


def test_every_compose_service_has_a_health_check() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"][0] == "CMD", f"{name} has no health check"
    environment = compose["services"]["web"]["environment"]
    assert compose["services"]["worker"]["environment"] == environment
    assert "PROMETHEUS_MULTIPROC_DIR" in environment
    if compose_binary := shutil.which("docker-compose"):  # Docker Compose v2 validates without an engine
        checked = subprocess.run(
            [compose_binary, "config", "-q"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "TUMORBOARD_SECRET_KEY": "x"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr
