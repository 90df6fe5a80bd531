"""The asyncpg pool and the named queries (sql/queries/<package>/*.sql, as queries.<package>.<name>)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias, cast

import aiosql
import asyncpg
import msgspec
from aiosql.adapters.asyncpg import AsyncPGAdapter

from tumorboard.settings import SQL_DIR


class _ConnectionAdapter(AsyncPGAdapter):
    """aiosql's asyncpg adapter, for callers that always pass a connection (never a pool).

    aiosql's own checks each call's first argument with `dir()` to decide whether to acquire from a
    pool, which costs about as much as building a request's audit row: every named query of every
    request paid it. A pool passed here fails loudly (it has no `fetchrow` that takes these)."""

    async def select(
        self, conn: Any, query_name: str, sql: str, parameters: Any, record_class: Any = None
    ) -> AsyncIterator[Record]:
        assert record_class is None, "named queries return records"
        for row in await conn.fetch(sql, *self.maybe_order_params(query_name, parameters)):
            yield row

    async def select_one(
        self, conn: Any, query_name: str, sql: str, parameters: Any, record_class: Any = None
    ) -> Any:
        assert record_class is None, "named queries return records"
        return await conn.fetchrow(sql, *self.maybe_order_params(query_name, parameters))

    async def select_value(self, conn: Any, query_name: str, sql: str, parameters: Any) -> Any:
        return await conn.fetchval(sql, *self.maybe_order_params(query_name, parameters))

    async def insert_returning(self, conn: Any, query_name: str, sql: str, parameters: Any) -> Any:
        row = await conn.fetchrow(sql, *self.maybe_order_params(query_name, parameters))
        return (row[0] if len(row) == 1 else row) if row else None

    async def insert_update_delete(self, conn: Any, query_name: str, sql: str, parameters: Any) -> Any:
        return await conn.execute(sql, *self.maybe_order_params(query_name, parameters))


queries: Any = aiosql.from_path(
    SQL_DIR / "queries", cast(Any, _ConnectionAdapter), mandatory_parameters=False
)

Record: TypeAlias = asyncpg.Record
CONNECT_TIMEOUT_SECONDS = 3.0


# Array types our statements pass or return that asyncpg has no built-in codec for (uuid[], bigint[],
# integer[]): it builds their codecs from its type introspection query, on each new connection, the
# first time a statement uses one. That query costs PostgreSQL about 13 ms of planning each time,
# and a burst that grows the pools to ten connections per process paid it some thirty times (half
# of PostgreSQL's CPU while 50 care plans consolidated). Their descriptions never change (built-in
# OIDs): read them once per process and give them to each new connection.
ARRAY_TYPE_OIDS = (1007, 1016, 2951)  # int4[], int8[], uuid[]
_array_types: list[Any] = []


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")
    if not _array_types:
        types, _ = await conn._introspect_types(ARRAY_TYPE_OIDS, CONNECT_TIMEOUT_SECONDS)
        _array_types.extend(types)
    conn._protocol.get_settings().register_data_types(_array_types)


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
