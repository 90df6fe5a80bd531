"""Users, sign-in and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.passwords import hash_password, needs_rehash, verify_password
from tumorboard.auth.schemas import Token, User, UserCreate, UserPage
from tumorboard.db import fetch_all, queries
from tumorboard.errors import AuditNote, Conflict, NotAuthenticated
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor

SESSION = "session"
API = "api"


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_user(conn: asyncpg.Connection, actor_id: UUID | None, data: UserCreate) -> User:
    """Create a user with a hashed password; 409 when the email is taken."""
    password_hash = await hash_password(data.password)
    try:
        async with conn.transaction():
            row = await queries.auth.insert_user(
                conn,
                email=data.email,
                full_name=data.full_name,
                password_hash=password_hash,
                roles=[str(role) for role in data.roles],
                discipline=data.discipline,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict("A user with this email already exists") from None
    user = msgspec.convert(dict(row), User)
    await audit.record(conn, actor_id, "create", "user", user.id)
    return user


async def list_users(conn: asyncpg.Connection, limit: int, cursor: str | None) -> UserPage:
    """Users by name, one page at a time."""
    after_name, after_id = decode_cursor(cursor, tuple[str, UUID]) if cursor else (None, None)
    rows = await fetch_all(
        queries.auth.list_users(conn, after_name=after_name, after_id=after_id, limit=check_limit(limit) + 1)
    )
    users = [msgspec.convert(dict(row), User) for row in rows[:limit]]
    next_cursor = encode_cursor(users[-1].full_name, users[-1].id) if len(rows) > limit else None
    return UserPage(items=users, next_cursor=next_cursor)


async def authenticate(conn: asyncpg.Connection, email: str, password: str) -> UUID:
    """The id of the user with these credentials; NotAuthenticated otherwise."""
    row = await queries.auth.get_login(conn, email=email.lower())
    if not await verify_password(row["password_hash"] if row else None, password) or row is None:
        denied_for = row["id"] if row else None
        raise NotAuthenticated("Invalid email or password", audit=AuditNote("sign_in", "user", denied_for))
    if needs_rehash(row["password_hash"]):
        await queries.auth.update_password_hash(
            conn, id=row["id"], password_hash=await hash_password(password)
        )
    await audit.record(conn, row["id"], "sign_in", "user", row["id"])
    return row["id"]


async def reauthenticate(conn: asyncpg.Connection, user: User, password: str) -> None:
    """Check a signed-in user's password again (before a signature); a wrong one is refused and
    audited like a failed sign-in."""
    row = await queries.auth.get_login(conn, email=user.email)
    if not await verify_password(row["password_hash"] if row else None, password) or row is None:
        raise NotAuthenticated("The password is not correct", audit=AuditNote("sign_in", "user", user.id))


async def issue_token(conn: asyncpg.Connection, user_id: UUID, kind: str, ttl: timedelta) -> Token:
    """A new opaque token for the user; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl
    await queries.auth.insert_token(
        conn, token_hash=_token_hash(token), user_id=user_id, kind=kind, expires_at=expires_at
    )
    return Token(access_token=token, expires_at=expires_at)


# Tokens just looked up, per process: a repeated request skips the lookup for a few seconds.
# A token revoked or a user deactivated through another process stops working within
# TOKEN_CACHE_SECONDS; expiry is exact (entries never outlive the token).
TOKEN_CACHE_SECONDS = 5.0
_TOKEN_CACHE_SIZE = 10_000
_token_cache: dict[tuple[bytes, str], tuple[datetime, User]] = {}


async def resolve_token(
    conn: asyncpg.Connection, token: str, kind: str, idle_ttl: timedelta | None = None
) -> User:
    """The user behind an unexpired token of this kind; sessions slide their idle expiry."""
    token_hash = _token_hash(token)
    now = datetime.now(UTC)
    cached = _token_cache.get((token_hash, kind))
    if cached is not None and cached[0] > now:
        return cached[1]
    row = await queries.auth.get_token_user(conn, token_hash=token_hash)
    if row is None or row["kind"] != kind:
        _token_cache.pop((token_hash, kind), None)
        raise NotAuthenticated("Missing, invalid or expired credentials")
    expires_at = row["expires_at"]
    if idle_ttl is not None:
        expires_at = now + idle_ttl
        await queries.auth.extend_session(conn, token_hash=token_hash, expires_at=expires_at)
    user = msgspec.convert(dict(row), User)
    if len(_token_cache) >= _TOKEN_CACHE_SIZE:
        _token_cache.clear()
    _token_cache[(token_hash, kind)] = (min(expires_at, now + timedelta(seconds=TOKEN_CACHE_SECONDS)), user)
    return user


async def revoke_token(conn: asyncpg.Connection, token: str) -> None:
    """Forget a token (sign out)."""
    token_hash = _token_hash(token)
    for kind in (API, SESSION):
        _token_cache.pop((token_hash, kind), None)
    await queries.auth.delete_token(conn, token_hash=token_hash)


async def get_user(conn: asyncpg.Connection, user_id: UUID) -> User | None:
    """One user by id."""
    row = await queries.auth.get_user(conn, id=user_id)
    return msgspec.convert(dict(row), User) if row else None
