"""The connection pools and the named queries (sql/queries/<package>/*.sql, as queries.<package>.<name>)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Generator
from types import TracebackType
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
# Every connection's, in every pool: a server that does not answer is given up quickly (the request
# answers 503), and a statement is cut at 30 s.
CONNECTION_OPTIONS: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": 30}


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
    # Addresses (the audit trail's, a token's) as text both ways, as the API shows them: asyncpg's own
    # codec parses each one with Python's ipaddress (3 % of a case read's web CPU in a profile);
    # PostgreSQL checks it anyway.
    await conn.set_type_codec("inet", encoder=str, decoder=str, format="text", schema="pg_catalog")
    if not _array_types:
        types, _ = await conn._introspect_types(ARRAY_TYPE_OIDS, CONNECT_TIMEOUT_SECONDS)
        _array_types.extend(types)
    conn._protocol.get_settings().register_data_types(_array_types)


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Before a connection goes back to a pool (either): only an unfinished transaction needs undoing.

    (asyncpg's default reset costs a round trip per request; our requests leave no session state.)
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def connect(database_url: str) -> asyncpg.Connection:
    """One connection as every pool's are (CONNECTION_OPTIONS, jsonb decoded to Python values)."""
    conn = await asyncpg.connect(database_url, **CONNECTION_OPTIONS)
    await _init_connection(conn)
    return conn


class WebPool:
    """The web process's connections, lent to one request at a time, the last one returned first.

    asyncpg's pool spends 40 to 70 µs of CPU to lend and take back a connection (a task for its
    timeout, another to shield the return, timers for idle connections), measured alone; without it
    a case read's web CPU fell by a tenth (docs/benchmarks.md). Lending here is taking a permit and
    popping a list. The workers, which take a connection per job, not per request, keep asyncpg's
    pool (`create_pool`).

    A connection comes back to be lent again unless its user was cancelled or lost the connection
    half way (`reusable_after`: a statement may still be running); an open transaction is rolled
    back. Connections idle for longer than IDLE_SECONDS are closed rather than lent, as asyncpg's
    pool does.
    """

    IDLE_SECONDS = 300.0

    def __init__(
        self, database_url: str, *, min_size: int, max_size: int, on_wait: Callable[[], None] | None = None
    ) -> None:
        self.database_url = database_url
        self.min_size = min_size
        self.on_wait = on_wait  # called each time a caller finds every connection lent (a metric)
        self._permits = asyncio.Semaphore(max_size)
        self._idle: list[tuple[asyncpg.Connection, float]] = []  # with when each came back
        self._closed = False

    async def open(self) -> WebPool:
        """Connect `min_size` connections (and fail now when PostgreSQL cannot be reached)."""
        for _ in range(self.min_size):
            self._idle.append((await connect(self.database_url), time.monotonic()))
        return self

    def acquire(self, timeout: float | None = None) -> PoolLease:
        """A connection: `await pool.acquire()` (give it back with `release`), or `async with
        pool.acquire() as conn`. Waits at most `timeout` seconds while every connection is lent."""
        return PoolLease(self, timeout)

    async def _lend(self, wait_seconds: float | None) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the pool is closed")
        if self._permits.locked():
            if self.on_wait is not None:
                self.on_wait()
            async with asyncio.timeout(wait_seconds):
                await self._permits.acquire()
        else:
            await self._permits.acquire()  # free: no wait, no timer
        try:
            oldest = time.monotonic() - self.IDLE_SECONDS
            while self._idle:
                conn, returned = self._idle.pop()
                if conn.is_closed():
                    continue
                if returned < oldest:
                    conn.terminate()
                    continue
                return conn
            return await connect(self.database_url)
        except BaseException:
            self._permits.release()
            raise

    async def release(self, conn: asyncpg.Connection, *, reusable: bool = True) -> None:
        """Take a connection back (closed instead when not `reusable` or when the pool is closed)."""
        try:
            if conn.is_closed():
                return
            if not reusable or self._closed:
                conn.terminate()
                return
            try:
                await _reset_connection(conn)
            except Exception:  # not lent again; PostgreSQL rolls back a closed session
                conn.terminate()
                return
            except BaseException:
                conn.terminate()
                raise
            self._idle.append((conn, time.monotonic()))
        finally:
            self._permits.release()

    async def fetchval(self, query: str, *args: Any) -> Any:
        """One value of one statement, on a connection lent for it."""
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def close(self) -> None:
        """Close the idle connections; those lent are closed when they come back."""
        self._closed = True
        while self._idle:
            conn, _ = self._idle.pop()
            await conn.close()


# Errors after which a connection may be in the middle of a statement, or gone.
_CONNECTION_TROUBLE = (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError, TimeoutError)


def reusable_after(error: BaseException | None) -> bool:
    """Whether a connection may be lent again after its user ended with `error`: yes after a refused
    request, a failed statement or a bug; no after a cancellation (a statement may still be running)
    or trouble with the connection itself."""
    return error is None or (isinstance(error, Exception) and not isinstance(error, _CONNECTION_TROUBLE))


class PoolLease:
    """A connection being lent by a WebPool (see WebPool.acquire)."""

    __slots__ = ("conn", "pool", "timeout")

    def __init__(self, pool: WebPool, timeout: float | None) -> None:
        self.pool = pool
        self.timeout = timeout
        self.conn: asyncpg.Connection | None = None

    def __await__(self) -> Generator[Any, None, asyncpg.Connection]:
        return self.pool._lend(self.timeout).__await__()

    async def __aenter__(self) -> asyncpg.Connection:
        self.conn = await self.pool._lend(self.timeout)
        return self.conn

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self.conn is not None
        await self.pool.release(self.conn, reusable=reusable_after(error))


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool whose connections decode jsonb to Python values (the workers' and tools'; the
    web process lends its own, WebPool)."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_reset_connection,
        **CONNECTION_OPTIONS,
    )
    assert pool is not None
    return pool


async def fetch_all(rows: AsyncIterator[Record]) -> list[Record]:
    """Collect the rows of a named select query."""
    return [row async for row in rows]
