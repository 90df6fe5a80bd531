"""The outbox listener: notified rows are gathered for a moment and claimed and enqueued together.

Each committed outbox row announces its id on the `outbox` channel. One claim statement takes
every id heard in the last LINGER_SECONDS (at most outbox.CLAIM_LIMIT), and rows of a batched
job become one arq job, so a burst of submissions costs one claim, one enqueue and one
assignment pass, not one of each per case. If PostgreSQL drops the listening connection it is
opened again; the sweep covers whatever was missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from arq import ArqRedis

from tumorboard import outbox

log = logging.getLogger("tumorboard.worker")

LINGER_SECONDS = 0.05
LISTENER_CHECK_SECONDS = 5


class Dispatcher:
    """Hears outbox ids and hands them, in batches, to claim_and_enqueue."""

    def __init__(self, pool: asyncpg.Pool, redis: ArqRedis, database_url: str) -> None:
        self.pool = pool
        self.redis = redis
        self.database_url = database_url
        self.heard: list[int] = []
        self.wake = asyncio.Event()
        self.listener: asyncpg.Connection | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listen now (so nothing committed from here on is missed), then keep dispatching."""
        await self._listen()
        self.tasks = [asyncio.create_task(self._dispatch()), asyncio.create_task(self._keep_listening())]

    async def stop(self) -> None:
        """Stop listening and dispatching."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.listener is not None and not self.listener.is_closed():
            await self.listener.close()

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.heard.append(int(payload))
        self.wake.set()

    async def _listen(self) -> None:
        self.listener = await asyncpg.connect(self.database_url)
        await self.listener.add_listener(outbox.CHANNEL, self._heard)
        log.info("listening for outbox jobs")

    async def _keep_listening(self) -> None:
        while True:
            await asyncio.sleep(LISTENER_CHECK_SECONDS)
            if self.listener is None or self.listener.is_closed():
                try:
                    await self._listen()
                except (OSError, asyncpg.PostgresError):
                    log.warning("outbox listener could not connect; retrying (the sweep still runs)")

    async def _dispatch(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(LINGER_SECONDS)  # let a burst gather into one claim
            batch, self.heard = self.heard[: outbox.CLAIM_LIMIT], self.heard[outbox.CLAIM_LIMIT :]
            if not self.heard:
                self.wake.clear()
            try:
                await outbox.claim_and_enqueue(self.pool, self.redis, [(row_id, 0) for row_id in batch])
            except Exception:  # the rows stay in PostgreSQL: the sweep enqueues them
                log.warning(
                    "could not claim outbox jobs; the sweep will", extra={"count": len(batch)}, exc_info=True
                )
