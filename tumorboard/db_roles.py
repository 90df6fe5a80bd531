"""The database role the service connects as: it owns nothing and may only do what the service does.

`tumorboard migrate` runs as the owner of the tables (DATABASE_URL). When an app role is configured
(TUMORBOARD_APP_DATABASE_URL), each run creates or updates that role and grants it, by rule, the rights
the service needs on every table (see `grant_app_privileges` in sql/queries/roles/roles.sql): on the
audit tables only SELECT and INSERT, so the app can neither rewrite the trail nor disable its trigger.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from tumorboard.db import queries

EMBEDDED_APP_ROLE = "tumorboard_app"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SCRAM_ITERATIONS = 4096


class RoleError(Exception):
    """The configured app role is unusable or stronger than the service needs."""


@dataclass(frozen=True, slots=True)
class AppRole:
    """The login role the web and worker processes connect as."""

    name: str
    password: str

    def __post_init__(self) -> None:
        if not _ROLE_NAME.fullmatch(self.name):
            raise RoleError("the app role's name must be lower-case letters, digits and _ (at most 63)")
        if not self.password:
            raise RoleError("the app role needs a password (in TUMORBOARD_APP_DATABASE_URL)")

    @classmethod
    def from_url(cls, url: str) -> AppRole:
        """The role named, with its password, in a postgresql:// URL."""
        parts = urlsplit(url)
        return cls(unquote(parts.username or ""), unquote(parts.password or ""))

    @classmethod
    def generated(cls) -> AppRole:
        """The embedded mode's app role, with a fresh random password."""
        return cls(EMBEDDED_APP_ROLE, secrets.token_urlsafe(24))

    def url(self, owner_url: str) -> str:
        """The owner's URL (same server and database) with this role's credentials."""
        parts = urlsplit(owner_url)
        host = parts.netloc.rpartition("@")[2]
        netloc = f"{quote(self.name, safe='')}:{quote(self.password, safe='')}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = _SCRAM_ITERATIONS) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of a password, so the clear text never reaches the server."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def apply_app_role(conn: asyncpg.Connection, role: AppRole) -> None:
    """Create or update the app role, check it is weak enough, and grant its rights on every table."""
    async with conn.transaction():
        await _ensure_role(conn, role)
        standing = await queries.roles.get_app_role_standing(conn, name=role.name)
        if standing["member_of_owner"]:
            raise RoleError(f"the app role {role.name} must not be (or belong to) the role that migrates")
        if standing["privileged"]:
            raise RoleError(f"the app role {role.name} must not be a superuser nor create roles or databases")
        if standing["owns_relations"]:
            raise RoleError(f"the app role {role.name} owns tables; they must belong to the migrating role")
        await conn.execute("SELECT set_config('tumorboard.app_role', $1, true)", role.name)
        await queries.roles.grant_app_privileges(conn)


async def _ensure_role(conn: asyncpg.Connection, role: AppRole) -> None:
    verifier = scram_verifier(role.password)
    if not await queries.roles.role_exists(conn, name=role.name):
        create = (
            "CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L"
        )
        statement = await queries.roles.role_statement(
            conn, template=create, name=role.name, password=verifier
        )
        try:
            async with conn.transaction():
                await conn.execute(statement)
            return
        except asyncpg.DuplicateObjectError:
            pass  # another database of this cluster created it just now
    update = "ALTER ROLE %I WITH LOGIN PASSWORD %L"
    await conn.execute(
        await queries.roles.role_statement(conn, template=update, name=role.name, password=verifier)
    )
