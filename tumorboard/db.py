"""The asyncpg pool, named queries, and the one-transaction-per-request dependency."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import aiosql
import asyncpg

from tumorboard.settings import SQL_DIR

queries: Any = aiosql.from_path(SQL_DIR / "queries", "asyncpg", mandatory_parameters=False)

Record: TypeAlias = asyncpg.Record


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool whose connections decode jsonb to Python values."""
    pool = await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=30
    )
    assert pool is not None
    return pool


async def fetch_all(rows: AsyncIterator[Record]) -> list[Record]:
    """Collect the rows of a named select query."""
    return [row async for row in rows]
