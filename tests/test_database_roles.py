"""The service's database role: it owns nothing, may only append to the audit trail, and is granted
by rule, so tables and audit partitions that later migrations add are covered too."""

from __future__ import annotations

import base64
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.factories import Factory, eventually
from tests.isolated_stack import APP_ROLE
from tumorboard.db_roles import AppRole, RoleError, scram_verifier
from tumorboard.migrate import MIGRATIONS_DIR, load_migrations, migrate


@pytest.fixture
async def as_app(app_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test database as the app role, the way the service connects."""
    conn = await asyncpg.connect(app_database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def fresh_database(service_urls: tuple[str, str], pool: asyncpg.Pool) -> AsyncIterator[str]:
    """An empty database on the test server; the owner's URL."""
    name = f"roles_{uuid.uuid4().hex[:12]}"
    await pool.execute(f'CREATE DATABASE "{name}"')
    yield service_urls[0].rsplit("/", 1)[0] + f"/{name}"
    await pool.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET outcome = 'allowed'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_append_only ON audit_event",
        "DROP TABLE audit_event",
        "CREATE TABLE shadow_audit (id int)",
        "SET ROLE postgres",
    ],
)
async def test_the_app_role_cannot_rewrite_or_unguard_the_audit_trail(
    as_app: asyncpg.Connection, pool: asyncpg.Pool, statement: str
) -> None:
    await pool.execute(
        "INSERT INTO audit_event (action, subject_type, outcome) VALUES ('read', 'case', 'allowed')"
    )
    before = await pool.fetchval("SELECT count(*) FROM audit_event")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM audit_event") == before
    assert (
        await pool.fetchval("SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'audit_event_append_only'")
        == "O"
    )


async def test_the_app_role_appends_to_and_reads_the_audit_trail(as_app: asyncpg.Connection) -> None:
    inserted = await as_app.fetchval(
        "INSERT INTO audit_event (action, subject_type, outcome) VALUES ('read', 'case', 'allowed')"
        " RETURNING id"
    )
    assert await as_app.fetchval("SELECT action FROM audit_event WHERE id = $1", inserted) == "read"
    assert await as_app.fetchval("SELECT current_user") == APP_ROLE.name


async def test_every_table_is_granted_by_rule(pool: asyncpg.Pool) -> None:
    rows = await pool.fetch(
        """SELECT c.relname,
                  pg_get_userbyid(c.relowner) AS owner,
                  has_table_privilege($1, c.oid, 'SELECT') AS can_select,
                  has_table_privilege($1, c.oid, 'INSERT') AS can_insert,
                  has_table_privilege($1, c.oid, 'UPDATE') AS can_update,
                  has_table_privilege($1, c.oid, 'DELETE') AS can_delete,
                  has_table_privilege($1, c.oid, 'TRUNCATE') AS can_truncate
           FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')""",
        APP_ROLE.name,
    )
    assert len(rows) > 10
    read_only = {"case_status_transition", "schema_migration"}
    assert read_only <= {row["relname"] for row in rows}
    for row in rows:
        audit = row["relname"].startswith("audit_")
        written = row["relname"] not in read_only
        assert row["owner"] != APP_ROLE.name, row["relname"]
        assert (row["can_select"], row["can_insert"], row["can_truncate"]) == (True, written, False), row[
            "relname"
        ]
        changed = written and not audit
        assert (row["can_update"], row["can_delete"]) == (changed, changed), row["relname"]


async def test_tables_and_audit_partitions_added_later_are_granted(
    fresh_database: str, tmp_path: Path
) -> None:
    for path in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, tmp_path)
    next_version = len(load_migrations()) + 1
    (tmp_path / f"{next_version:04d}_later.sql").write_text(
        """CREATE TABLE later_note (id int PRIMARY KEY, body text);
           CREATE TABLE audit_later (id int, occurred_on date NOT NULL) PARTITION BY RANGE (occurred_on);
           CREATE TABLE later_2031_01 PARTITION OF audit_later
               FOR VALUES FROM ('2031-01-01') TO ('2031-02-01');"""
    )
    owner = await asyncpg.connect(fresh_database)
    app = None
    try:
        await migrate(owner, tmp_path, app_role=APP_ROLE)
        app = await asyncpg.connect(APP_ROLE.url(fresh_database))
        await app.execute("INSERT INTO later_note VALUES (1, 'a')")
        await app.execute("UPDATE later_note SET body = 'b'")
        await app.execute("INSERT INTO audit_later VALUES (1, '2031-01-05')")
        for statement in (
            "UPDATE audit_later SET id = 2",
            "DELETE FROM later_2031_01",  # a partition reached directly, past its parent's trigger
            "UPDATE later_2031_01 SET id = 2",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(statement)

        # A table the owner creates outside a migration (a partition made at run time): the app may read
        # and append at once; the next migrate run grants the rest.
        await owner.execute("CREATE TABLE runtime_note (id int)")
        await app.execute("INSERT INTO runtime_note VALUES (1)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("UPDATE runtime_note SET id = 2")
        await migrate(owner, tmp_path, app_role=APP_ROLE)
        assert await app.execute("UPDATE runtime_note SET id = 2") == "UPDATE 1"
    finally:
        if app is not None:
            await app.close()
        await owner.close()


@pytest.mark.slow
async def test_the_web_server_and_the_worker_connect_as_the_app_role(
    api: Factory, worker: object, pool: asyncpg.Pool
) -> None:
    coordinator = await api.user("coordinator")
    await api.ok(api.client.get("/me", headers=coordinator.headers), 200)

    async def listeners() -> set[str] | None:
        rows = await pool.fetch(
            "SELECT usename FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        return {row["usename"] for row in rows} or None

    assert await eventually(listeners) == {APP_ROLE.name}  # the worker's
    sessions = await pool.fetch(
        "SELECT DISTINCT usename FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename <> 'postgres'"
    )
    assert [row["usename"] for row in sessions] == [APP_ROLE.name]


async def test_a_role_that_owns_the_tables_is_refused(service_urls: tuple[str, str]) -> None:
    conn = await asyncpg.connect(service_urls[0])
    try:
        with pytest.raises(RoleError, match="must not be"):
            await migrate(conn, app_role=AppRole("postgres", "whatever"))
    finally:
        await conn.close()


async def test_the_password_reaches_the_server_only_as_a_scram_verifier(pool: asyncpg.Pool) -> None:
    stored = await pool.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", APP_ROLE.name)
    method, _, rest = stored.partition("$")
    iterations, _, salt = rest.partition("$")[0].partition(":")
    assert method == "SCRAM-SHA-256"
    # The server's own hashing of a password agrees with ours, given the same salt.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        await conn.execute("CREATE ROLE scram_probe PASSWORD 'probe password'")
        theirs = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'")
        probe_salt = base64.b64decode(theirs.split("$")[1].split(":")[1])
        assert scram_verifier("probe password", probe_salt, int(iterations)) == theirs
        await conn.execute("DROP ROLE scram_probe")
    assert salt
