"""Sign-in throttling, kept in PostgreSQL so that it holds across web processes and restarts.

After `ACCOUNT_LIMIT` failed password checks for one account (the email as typed, whether or not
such an account exists) within `WINDOW`, or `ADDRESS_LIMIT` from one client address, sign-in is
refused with 429 for `LOCK` from the failure that completed the count, even with the right password,
and without hashing anything. Attempts during a lock are refused before the password is checked,
so they do not count. A wrong password when signing a care plan or changing one's password counts
too (`service.reauthenticate`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import asyncpg

from tumorboard import audit
from tumorboard.db import queries
from tumorboard.errors import AuditNote, TooManyAttempts

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
TOO_MANY = "Too many failed sign-in attempts; try again later"


def account_key(email: str) -> str:
    """The account a sign-in names, as throttling counts it."""
    return email.strip().lower()[:200]


def _address() -> str | None:
    return audit.current_request().source_address


async def serialize_account(conn: asyncpg.Connection, account: str) -> None:
    """Hold the account's sign-in lock until the transaction ends, so that parallel attempts are
    counted one after the other."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('sign_in:' || $1, 0))", account)


async def refuse_if_locked(conn: asyncpg.Connection, account: str) -> None:
    """TooManyAttempts (audited by the caller's refusal handling) while the account or the client's
    address is locked."""
    locked_until = await queries.auth.get_sign_in_lock(conn, account=account, address=_address())
    if locked_until is not None:
        raise TooManyAttempts(
            TOO_MANY, retry_after=_seconds_until(locked_until), audit=AuditNote("sign_in_throttled", "user")
        )


async def count_failure(conn: asyncpg.Connection, account: str) -> datetime | None:
    """Record one failed password check for the account and the client's address; the end of the
    lock it caused, if it completed a count."""
    return await queries.auth.record_sign_in_failure(
        conn,
        account=account,
        address=_address(),
        window_seconds=WINDOW.total_seconds(),
        lock_seconds=LOCK.total_seconds(),
        account_limit=ACCOUNT_LIMIT,
        address_limit=ADDRESS_LIMIT,
    )


async def forget_failures(conn: asyncpg.Connection, account: str) -> None:
    """A successful sign-in: the account's earlier failures no longer count (the address's do)."""
    await queries.auth.clear_account_failures(conn, account=account)


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - datetime.now(UTC)).total_seconds()))
