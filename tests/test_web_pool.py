"""The web process's connection pool (tumorboard.db.WebPool), against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tumorboard.db import WebPool


@pytest.fixture
async def web_pool(service_urls: tuple[str, str]) -> AsyncIterator[WebPool]:
    pool = await WebPool(service_urls[0], min_size=1, max_size=2).open()
    yield pool
    await pool.close()


async def _backend(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT pg_backend_pid()"))


async def test_a_returned_connection_is_lent_again_and_decodes_jsonb(web_pool: WebPool) -> None:
    async with web_pool.acquire() as conn:
        first = await _backend(conn)
        assert await conn.fetchval("""SELECT '{"a": [1, 2]}'::jsonb""") == {"a": [1, 2]}
    conn = await web_pool.acquire()
    try:
        assert await _backend(conn) == first
    finally:
        await web_pool.release(conn)
    assert await web_pool.fetchval("SELECT 41 + 1") == 42


async def test_with_every_connection_lent_a_caller_waits_until_its_timeout(web_pool: WebPool) -> None:
    lent = [await web_pool.acquire(), await web_pool.acquire()]
    with pytest.raises(TimeoutError):
        await web_pool.acquire(timeout=0.2)
    waiting = asyncio.ensure_future(web_pool.acquire(timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await web_pool.release(lent.pop())
    lent.append(await asyncio.wait_for(waiting, 5))
    for conn in lent:
        await web_pool.release(conn)


async def test_each_caller_that_waits_for_a_connection_is_reported(service_urls: tuple[str, str]) -> None:
    waits: list[None] = []
    pool = await WebPool(service_urls[0], min_size=1, max_size=2, on_wait=lambda: waits.append(None)).open()
    try:
        lent = [await pool.acquire(), await pool.acquire()]
        assert waits == []  # a free connection is lent without waiting
        waiting = [asyncio.ensure_future(pool.acquire(timeout=5)) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert len(waits) == 3
        for conn in lent:
            await pool.release(conn)
        first = await asyncio.wait_for(waiting[0], 5)
        second = await asyncio.wait_for(waiting[1], 5)
        await pool.release(first)
        await pool.release(await asyncio.wait_for(waiting[2], 5))
        await pool.release(second)
        assert len(waits) == 3
    finally:
        await pool.close()


async def test_an_unfinished_transaction_is_rolled_back_when_the_connection_returns(
    web_pool: WebPool,
) -> None:
    async with web_pool.acquire() as conn:
        await conn.execute("CREATE TEMPORARY TABLE kept (n integer)")
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO kept VALUES (1)")
    async with web_pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM kept") == 0


async def test_a_connection_is_lent_again_after_an_error_and_closed_after_a_cancellation(
    web_pool: WebPool,
) -> None:
    with pytest.raises(RuntimeError):
        async with web_pool.acquire() as conn:
            kept = await _backend(conn)
            raise RuntimeError("the request failed half way, between statements")
    async with web_pool.acquire() as conn:
        assert await _backend(conn) == kept

    async def cancelled_mid_statement() -> None:
        async with web_pool.acquire() as conn:
            await conn.execute("SELECT pg_sleep(10)")

    task = asyncio.ensure_future(cancelled_mid_statement())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with web_pool.acquire() as conn:
        assert await _backend(conn) != kept
        assert await conn.fetchval("SELECT 1") == 1


async def test_connections_the_server_closed_or_idle_too_long_are_replaced(
    web_pool: WebPool, service_urls: tuple[str, str]
) -> None:
    async with web_pool.acquire() as conn:
        ended = await _backend(conn)
    admin = await asyncpg.connect(service_urls[0])
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", ended)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)
    async with web_pool.acquire() as conn:
        fresh = await _backend(conn)
        assert fresh != ended
    web_pool.IDLE_SECONDS = 0.0
    async with web_pool.acquire() as conn:
        assert await _backend(conn) != fresh


async def test_a_closed_pool_lends_nothing_and_closes_what_comes_back(web_pool: WebPool) -> None:
    conn = await web_pool.acquire()
    await web_pool.close()
    with pytest.raises(asyncpg.InterfaceError):
        await web_pool.acquire()
    await web_pool.release(conn)
    assert conn.is_closed()
