"""Tokens and sessions just looked up, per web process, dropped the moment they are revoked anywhere.

A request's token costs a database round trip; the hottest reads are one round trip in all. So each
web process keeps the tokens it resolved for up to `TTL_SECONDS` (never past their expiry), and
LISTENs on PostgreSQL's `access_revoked` channel, which triggers of migration 0007 notify whenever a
token is deleted (sign-out, password change, reset, deactivation, housekeeping) or an account
changes (roles, name, active flag, password). A notification drops the token, or every token of the
user, before the next request is served.

The cache is used only while the listening connection is known to be alive (checked every few
seconds): when it is lost the cache is emptied and bypassed until a new connection listens again,
so a notification missed while disconnected can never leave a revoked token working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from tumorboard.auth.schemas import Credential

log = logging.getLogger(__name__)

CHANNEL = "access_revoked"
TTL_SECONDS = 30.0
MAX_ENTRIES = 10_000
PING_SECONDS = 3.0
PING_TIMEOUT = 2.0
RECONNECT_SECONDS = 1.0


class TokenCache:
    """Resolved credentials by (token hash, kind), valid only while revocations are being heard."""

    def __init__(self) -> None:
        self._entries: dict[tuple[bytes, str], tuple[datetime, Credential]] = {}
        self.listening = False

    def get(self, token_hash: bytes, kind: str, now: datetime) -> Credential | None:
        """The cached credential, if revocations are being heard and it has not expired."""
        if not self.listening:
            return None
        entry = self._entries.get((token_hash, kind))
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def put(self, token_hash: bytes, credential: Credential, expires_at: datetime, now: datetime) -> None:
        """Remember a credential until it expires, for at most TTL_SECONDS."""
        if not self.listening:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        until = min(expires_at, now + timedelta(seconds=TTL_SECONDS))
        self._entries[(token_hash, credential.kind)] = (until, credential)

    def drop_token(self, token_hash: bytes) -> None:
        """Forget a token of any kind."""
        for kind in ("api", "session"):
            self._entries.pop((token_hash, kind), None)

    def drop_user(self, user_id: UUID) -> None:
        """Forget every token of a user."""
        for key in [key for key, (_, credential) in self._entries.items() if credential.user.id == user_id]:
            del self._entries[key]

    def on_notification(self, payload: str) -> None:
        """Apply one `access_revoked` notification: `token:<sha256 hex>` or `user:<uuid>`."""
        kind, _, value = payload.partition(":")
        try:
            if kind == "token":
                self.drop_token(bytes.fromhex(value))
            elif kind == "user":
                self.drop_user(UUID(value))
            else:
                self._stop_trusting()
        except ValueError:
            self._stop_trusting()

    def _stop_trusting(self) -> None:
        self.listening = False
        self._entries.clear()

    async def listen(self, database_url: str) -> None:
        """Listen for revocations for as long as the process runs, reconnecting when the connection
        is lost; the cache is off whenever nobody listens."""
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(database_url, timeout=5)
                await conn.add_listener(CHANNEL, self._on_message)
                self._entries.clear()  # anything could have changed while nobody listened
                self.listening = True
                while True:
                    await asyncio.sleep(PING_SECONDS)
                    await conn.fetchval("SELECT 1", timeout=PING_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is unreachable or restarting: try again
                if self.listening:
                    log.warning(
                        "token revocations are not being heard (%s); token cache off", type(error).__name__
                    )
            finally:
                self._stop_trusting()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=1)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _on_message(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        self.on_notification(str(payload))


token_cache = TokenCache()
