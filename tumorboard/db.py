"""The asyncpg pool and the named queries (sql/queries/<package>/*.sql, as queries.<package>.<name>)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import aiosql
import asyncpg
import msgspec

from tumorboard.settings import SQL_DIR

queries: Any = aiosql.from_path(SQL_DIR / "queries", "asyncpg", mandatory_parameters=False)

Record: TypeAlias = asyncpg.Record
CONNECT_TIMEOUT_SECONDS = 3.0


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Before a connection goes back to the pool: only an unfinished transaction needs undoing.

    (asyncpg's default reset costs a round trip per request; our requests leave no session state.)
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool whose connections decode jsonb to Python values."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_reset_connection,
        command_timeout=30,
        # A new connection to an unreachable server gives up quickly: the request answers 503.
        timeout=CONNECT_TIMEOUT_SECONDS,
    )
    assert pool is not None
    return pool


async def fetch_all(rows: AsyncIterator[Record]) -> list[Record]:
    """Collect the rows of a named select query."""
    return [row async for row in rows]
