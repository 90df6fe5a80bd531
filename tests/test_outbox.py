"""The outbox: jobs survive a wiped Redis, are claimed once, and carry ids only."""

from __future__ import annotations

import asyncio
import subprocess

import asyncpg
import msgspec
import pytest
from arq import ArqRedis

from tests.factories import Factory, eventually
from tumorboard import outbox


async def _waiting_case_with_lost_job(api: Factory, pool: asyncpg.Pool) -> tuple[dict, int]:
    """A waiting case whose assignment job was enqueued once and then lost with Redis."""
    team = await api.team()
    board = await api.board(team.coordinator)
    meeting = await api.meeting(team.coordinator, board["id"])
    case = await api.case(team.presenter)
    # Participants added behind the service's back, so no job announces the change.
    for actor, role in team.participants:
        await pool.execute(
            "INSERT INTO meeting_participant (meeting_id, user_id, role) VALUES ($1, $2, $3)",
            meeting["id"],
            actor.id,
            role,
        )
    outbox_id = await pool.fetchval(
        "INSERT INTO outbox (job, subject_id, attempts, arq_job_id, enqueued_at)"
        " VALUES ('assign_case', $1, 1, 'lost-job', now() - interval '1 minute') RETURNING id",
        case["id"],
    )
    return {**case, "meeting_id_expected": meeting["id"], "team": team}, outbox_id


@pytest.mark.slow
async def test_a_job_lost_with_redis_is_swept_back_and_runs(
    api: Factory, pool: asyncpg.Pool, arq_redis: ArqRedis, worker: subprocess.Popen[bytes]
) -> None:
    case, outbox_id = await _waiting_case_with_lost_job(api, pool)
    await arq_redis.flushall()

    assert await outbox.sweep(pool, arq_redis) >= 1

    async def done() -> asyncpg.Record | None:
        row = await pool.fetchrow("SELECT attempts, done_at FROM outbox WHERE id = $1", outbox_id)
        return row if row["done_at"] else None

    assert (await eventually(done))["attempts"] == 2
    current = await api.ok(
        api.client.get(f"/cases/{case['id']}", headers=case["team"].presenter.headers), 200
    )
    assert (current["status"], current["meeting_id"]) == ("scheduled", case["meeting_id_expected"])


async def test_concurrent_sweeps_enqueue_a_job_once(
    api: Factory, pool: asyncpg.Pool, arq_redis: ArqRedis
) -> None:
    _, outbox_id = await _waiting_case_with_lost_job(api, pool)
    await asyncio.gather(*(outbox.sweep(pool, arq_redis) for _ in range(4)))
    row = await pool.fetchrow("SELECT attempts, arq_job_id FROM outbox WHERE id = $1", outbox_id)
    assert row["attempts"] == 2
    # One arq job carries it (with the case's own submission job: assignments run in batches).
    job = msgspec.msgpack.decode(await arq_redis.get(f"arq:job:{row['arq_job_id']}"))
    assert job["f"] == "assign_case"
    assert job["a"][0].count(outbox_id) == 1


async def test_a_job_carries_ids_only(api: Factory, pool: asyncpg.Pool, arq_redis: ArqRedis) -> None:
    case, outbox_id = await _waiting_case_with_lost_job(api, pool)
    await pool.execute("UPDATE outbox SET done_at = now() WHERE id <> $1", outbox_id)
    await outbox.sweep(pool, arq_redis)
    stored = await arq_redis.get(f"arq:job:outbox:{outbox_id}:2") or await arq_redis.get(
        f"arq:result:outbox:{outbox_id}:2"
    )
    assert stored is not None
    job = msgspec.msgpack.decode(stored)
    assert job["f"] == "assign_case"
    assert job["a"] == [[outbox_id], [case["id"]]]
    for value in (case["patient"]["mrn"], case["patient"]["family_name"]):
        assert value.encode() not in stored
