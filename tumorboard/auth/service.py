"""Users and their accounts, sign-in, and bearer tokens and sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth import throttle
from tumorboard.auth.access import require_role
from tumorboard.auth.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from tumorboard.auth.schemas import (
    AccessTokenInfo,
    Credential,
    PasswordChange,
    PasswordReset,
    Token,
    User,
    UserCreate,
    UserPage,
    UserUpdate,
)
from tumorboard.db import fetch_all, queries
from tumorboard.enums import Role
from tumorboard.errors import (
    AuditNote,
    Conflict,
    FailedPassword,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from tumorboard.pagination import check_limit, decode_cursor, encode_cursor

SESSION = "session"
API = "api"
INVALID_CREDENTIALS = "Invalid email or password"
NO_LIVE_CREDENTIAL = "Missing, invalid or expired credentials"


def token_hash_of(token: str) -> bytes:
    """What is stored of a token or session secret: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


# ---------------------------------------------------------------------------------------------------------
# Users


async def create_user(conn: asyncpg.Connection, actor_id: UUID | None, data: UserCreate) -> User:
    """Create a user with a hashed password; 409 when the email is taken."""
    check_password_policy(data.password, field="password", email=data.email, full_name=data.full_name)
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


async def get_user(conn: asyncpg.Connection, user_id: UUID) -> User | None:
    """One user by id."""
    row = await queries.auth.get_user(conn, id=user_id)
    return msgspec.convert(dict(row), User) if row else None


async def update_user(conn: asyncpg.Connection, admin: User, user_id: UUID, data: UserUpdate) -> User:
    """An admin changes a user's name, roles, discipline or active flag; deactivating ends the
    user's tokens and sessions at once."""
    locked = await queries.auth.lock_user(conn, id=user_id)
    if locked is None:
        raise NotFound("No such user")
    if user_id == admin.id and (
        data.active is False or (data.roles is not msgspec.UNSET and Role.ADMIN not in data.roles)
    ):
        raise Conflict("You cannot deactivate yourself or give up your own admin role")
    try:
        async with conn.transaction():
            row = await queries.auth.update_user(
                conn,
                id=user_id,
                full_name=None if data.full_name is msgspec.UNSET else data.full_name,
                roles=None if data.roles is msgspec.UNSET else [str(role) for role in data.roles],
                discipline=data.discipline or None,
                clear_discipline=data.discipline is None,
                active=None if data.active is msgspec.UNSET else data.active,
            )
    except asyncpg.CheckViolationError:
        raise InvalidInput("discipline", "is required for reviewers") from None
    if data.active is False:
        await queries.auth.delete_user_tokens(conn, user_id=user_id, keep_id=None)
    await audit.record(conn, admin.id, "deactivate" if data.active is False else "update", "user", user_id)
    return msgspec.convert(dict(row), User)


async def reset_password(conn: asyncpg.Connection, admin: User, user_id: UUID, data: PasswordReset) -> None:
    """An admin sets a temporary password: the user's tokens and sessions end, and the user must
    change it at next sign-in."""
    locked = await queries.auth.lock_user(conn, id=user_id)
    if locked is None:
        raise NotFound("No such user")
    check_password_policy(
        data.temporary_password,
        field="temporary_password",
        email=locked["email"],
        full_name=locked["full_name"],
    )
    password_hash = await hash_password(data.temporary_password)
    await queries.auth.set_password(conn, id=user_id, password_hash=password_hash, required_change=True)
    await queries.auth.delete_user_tokens(conn, user_id=user_id, keep_id=None)
    await audit.record(conn, admin.id, "reset_password", "user", user_id)


async def change_password(conn: asyncpg.Connection, credential: Credential, data: PasswordChange) -> None:
    """The caller changes their own password: the current one is checked (a wrong one counts toward
    sign-in throttling), and every other token and session of theirs ends."""
    user = credential.user
    await reauthenticate(conn, user, data.current_password)
    check_password_policy(data.new_password, field="new_password", email=user.email, full_name=user.full_name)
    if secrets.compare_digest(data.new_password.encode(), data.current_password.encode()):
        raise InvalidInput("new_password", "must differ from the current password")
    password_hash = await hash_password(data.new_password)
    await queries.auth.set_password(conn, id=user.id, password_hash=password_hash, required_change=False)
    await queries.auth.delete_user_tokens(conn, user_id=user.id, keep_id=credential.id)
    await audit.record(conn, user.id, "change_password", "user", user.id)


# ---------------------------------------------------------------------------------------------------------
# Signing in


async def sign_in(
    conn: asyncpg.Connection, email: str, password: str, kind: str, ttl: timedelta, lifetime: timedelta
) -> Token:
    """A new token or session for valid credentials (`ttl` until it expires unless used, for a
    session; never past `lifetime`).

    Refusals (NotAuthenticated, TooManyAttempts) are counted and audited in `conn`'s transaction
    before they are raised: the caller answers with them and lets the transaction commit, so that
    the count holds and parallel attempts on one account are counted one after the other.
    """
    account = throttle.account_key(email)
    await throttle.serialize_account(conn, account)
    try:
        await throttle.refuse_if_locked(conn, account)
    except TooManyAttempts as refused:
        assert refused.audit is not None
        await audit.record_refusal(conn, None, refused.audit, refused.status_code)
        raise
    row = await queries.auth.get_login(conn, email=account)
    if not await verify_password(row["password_hash"] if row else None, password) or row is None:
        # An unknown, deactivated or wrong account answers the same; only the audit row knows.
        locked_until = await throttle.count_failure(conn, account)
        await audit.record(
            conn, None, "sign_in", "user", row["id"] if row else None, outcome="denied", status_code=401
        )
        if locked_until is not None:
            await audit.record(
                conn, None, "sign_in_locked", "user", row["id"] if row else None, outcome="denied"
            )
        raise NotAuthenticated(INVALID_CREDENTIALS)
    await throttle.forget_failures(conn, account)
    if needs_rehash(row["password_hash"]):
        await queries.auth.update_password_hash(
            conn, id=row["id"], password_hash=await hash_password(password)
        )
    token, token_id = await _insert_token(conn, row["id"], kind, ttl, lifetime)
    audit.current_request().credential_id = token_id
    await audit.record(conn, row["id"], "sign_in", "user", row["id"])
    return msgspec.structs.replace(token, password_change_required=row["password_change_required"])


async def reauthenticate(conn: asyncpg.Connection, user: User, password: str) -> None:
    """Check the signed-in user's password again (signing a care plan, changing the password).

    While the account is locked it answers 429 without checking; a wrong password raises
    NotAuthenticated, which the request's refusal handling audits and counts toward throttling
    once the transaction has rolled back.
    """
    account = throttle.account_key(user.email)
    await throttle.refuse_if_locked(conn, account)
    row = await queries.auth.get_login(conn, email=account)
    if row is None or row["id"] != user.id or not await verify_password(row["password_hash"], password):
        raise NotAuthenticated(
            "The password is not correct",
            audit=AuditNote("sign_in", "user", user.id),
            failed=FailedPassword(account),
        )


# ---------------------------------------------------------------------------------------------------------
# Tokens and sessions


async def _insert_token(
    conn: asyncpg.Connection, user_id: UUID, kind: str, ttl: timedelta, lifetime: timedelta
) -> tuple[Token, UUID]:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    ends_at = now + max(lifetime, ttl) if kind == API else now + lifetime
    expires_at = min(now + ttl, ends_at)
    context = audit.current_request()
    token_id = await queries.auth.insert_token(
        conn,
        token_hash=token_hash_of(token),
        user_id=user_id,
        kind=kind,
        expires_at=expires_at,
        ends_at=ends_at,
        source_address=context.source_address,
        user_agent=context.user_agent,
    )
    return Token(access_token=token, expires_at=expires_at), token_id


async def issue_token(
    conn: asyncpg.Connection, user_id: UUID, kind: str, ttl: timedelta, lifetime: timedelta | None = None
) -> Token:
    """A new opaque token for the user; only its hash is stored."""
    token, _ = await _insert_token(conn, user_id, kind, ttl, lifetime or ttl)
    return token


async def resolve_token(
    conn: asyncpg.Connection, token: str, kind: str, idle_ttl: timedelta | None = None
) -> Credential:
    """The credential behind an unexpired token of this kind, read from the database on every request
    (so a revocation anywhere takes effect at once); a session slides its idle expiry, never past its
    absolute end, in the same statement."""
    idle_expires_at = datetime.now(UTC) + idle_ttl if idle_ttl is not None else None
    row = await queries.auth.resolve_token(
        conn, token_hash=token_hash_of(token), idle_expires_at=idle_expires_at, slide_step=SLIDE_STEP_SECONDS
    )
    if row is None or row["kind"] != kind:
        raise NotAuthenticated(NO_LIVE_CREDENTIAL)
    fields = dict(row)
    return Credential(
        user=msgspec.convert({name: fields[name] for name in _USER_FIELDS}, User),
        id=row["token_id"],
        kind=row["kind"],
        ends_at=row["ends_at"],
    )


# A session's expiry is written again only when it would move by more than this: at most one write
# per session every half minute, however many pages it opens.
SLIDE_STEP_SECONDS = 30
_USER_FIELDS = tuple(field.name for field in msgspec.structs.fields(User))


async def revoke_token(conn: asyncpg.Connection, token: str) -> None:
    """Forget a token (a sign-in replacing the browser's session)."""
    await queries.auth.delete_token(conn, token_hash=token_hash_of(token))


async def sign_out(conn: asyncpg.Connection, token: str) -> None:
    """End a token or session (every process reads it from the database); audited when it existed."""
    ended = await queries.auth.delete_token(conn, token_hash=token_hash_of(token))
    if ended is not None:
        audit.current_request().credential_id = ended["id"]
        await audit.record(conn, ended["user_id"], "sign_out", "user", ended["user_id"])


async def end_sessions(conn: asyncpg.Connection, actor: User, user_id: UUID) -> None:
    """Sign a user out everywhere: all their tokens and sessions end (the user themselves, or an admin)."""
    if actor.id != user_id:
        require_role(actor, Role.ADMIN, action="sign_out_everywhere", subject_type="user", subject_id=user_id)
    await queries.auth.delete_user_tokens(conn, user_id=user_id, keep_id=None)
    await audit.record(conn, actor.id, "sign_out_everywhere", "user", user_id)


async def list_sessions(conn: asyncpg.Connection, user_id: UUID) -> list[AccessTokenInfo]:
    """A user's active tokens and sessions, newest first."""
    rows = await fetch_all(queries.auth.list_user_tokens(conn, user_id=user_id))
    return [msgspec.convert(dict(row), AccessTokenInfo) for row in rows]
