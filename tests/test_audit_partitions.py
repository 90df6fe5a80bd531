"""The audit trail partitioned by month: rebuilt with every row, column, index and trigger, still
append-only in every partition, and given its coming months ahead of time."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tumorboard import audit
from tumorboard.migrate import MIGRATIONS_DIR, load_migrations, migrate

APPEND_ONLY = "the audit trail is append-only"


def _partitioning_migration() -> Path:
    return next(MIGRATIONS_DIR.glob("*_scale.sql"))


@pytest.fixture
async def fresh_database(service_urls: tuple[str, str], pool: asyncpg.Pool) -> AsyncIterator[str]:
    """An empty database on the test server; its URL."""
    name = f"audit_{uuid.uuid4().hex[:12]}"
    await pool.execute(f'CREATE DATABASE "{name}"')
    yield service_urls[0].rsplit("/", 1)[0] + f"/{name}"
    await pool.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def test_partitioning_keeps_every_row_column_index_and_the_append_only_rule(
    fresh_database: str, tmp_path: Path
) -> None:
    target = _partitioning_migration()
    before = [path for path in sorted(MIGRATIONS_DIR.glob("*.sql")) if path.name < target.name]
    for path in before:
        shutil.copy(path, tmp_path / path.name)
    conn = await asyncpg.connect(fresh_database)
    try:
        await migrate(conn, tmp_path)
        # What a later migration may have added by then: a column and an index.
        await conn.execute("ALTER TABLE audit_event ADD COLUMN IF NOT EXISTS source_note text")
        await conn.execute("CREATE INDEX audit_event_note_idx ON audit_event (source_note)")
        rows = [
            (datetime(2019, 3, 9, 12, tzinfo=UTC), "read", "note a"),
            (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "create", "note b"),
            (datetime.now(UTC), "sign", None),
        ]
        for occurred_at, action, note in rows:
            await conn.execute(
                "INSERT INTO audit_event (occurred_at, actor_id, action, subject_type, subject_id, outcome,"
                " source_note) VALUES ($1, $2, $3, 'case', $4, 'allowed', $5)",
                occurred_at,
                uuid.uuid4(),
                action,
                uuid.uuid4(),
                note,
            )
        kept = await conn.fetch("SELECT * FROM audit_event ORDER BY id")

        shutil.copy(target, tmp_path / target.name)
        assert await migrate(conn, tmp_path) == [load_migrations(tmp_path)[-1].version]

        kind = await conn.fetchval("SELECT relkind::text FROM pg_class WHERE oid = 'audit_event'::regclass")
        assert kind == "p"
        assert [dict(row) for row in await conn.fetch("SELECT * FROM audit_event ORDER BY id")] == [
            dict(row) for row in kept
        ]
        where = await conn.fetch("SELECT tableoid::regclass::text AS part FROM audit_event ORDER BY id")
        assert [row["part"] for row in where][:2] == ["audit_event_2019_03", "audit_event_2024_12"]
        indexes = {
            row["indexname"]
            for row in await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_event'")
        }
        assert {
            "audit_event_pkey",
            "audit_event_subject_idx",
            "audit_event_actor_idx",
            "audit_event_changes_idx",
            "audit_event_note_idx",
        } <= indexes
        # New events keep counting from the last id.
        await audit.record(conn, None, "sign_in", "user")
        assert await conn.fetchval("SELECT max(id) FROM audit_event") == kept[-1]["id"] + 1

        for statement in (
            "UPDATE audit_event SET action = 'x'",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
            "UPDATE audit_event_2019_03 SET action = 'x'",
            "DELETE FROM audit_event_2019_03",
            "TRUNCATE audit_event_2019_03",
            "DELETE FROM audit_event_default",
            "TRUNCATE audit_event_default",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match=APPEND_ONLY):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM audit_event") == len(kept) + 1
    finally:
        await conn.close()


async def test_coming_months_get_their_partitions_and_each_is_append_only(pool: asyncpg.Pool) -> None:
    adding = "SELECT audit_event_add_partitions('2099-01-01', '2099-03-15')"
    assert await pool.fetchval(adding) == 3
    assert await pool.fetchval(adding) == 0
    event_id = await pool.fetchval(
        "INSERT INTO audit_event (occurred_at, action, subject_type, outcome)"
        " VALUES ('2099-02-01 00:00+00', 'read', 'case', 'allowed') RETURNING id"
    )
    partition = await pool.fetchval(
        "SELECT tableoid::regclass::text FROM audit_event WHERE id = $1", event_id
    )
    assert partition == "audit_event_2099_02"
    for statement in ("DELETE FROM audit_event_2099_02", "TRUNCATE audit_event_2099_02"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=APPEND_ONLY):
            await pool.execute(statement)


async def test_the_default_partition_keeps_what_arrives_for_a_month_without_one(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO audit_event (occurred_at, action, subject_type, outcome)"
        " VALUES ('2140-06-01 00:00+00', 'read', 'case', 'allowed')"
    )
    # That month cannot get its own partition now: it is left out, with a warning, and nothing is lost.
    assert await pool.fetchval("SELECT audit_event_add_partitions('2140-05-01', '2140-07-01')") == 2
    assert await pool.fetchval("SELECT to_regclass('audit_event_2140_06')") is None
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_event_default WHERE occurred_at >= '2140-06-01 00:00+00'"
        )
        == 1
    )


async def test_the_worker_adds_the_coming_months(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await audit.add_coming_partitions(conn)
        now = datetime.now(UTC)
        months = [
            (now.year + (now.month - 1 + ahead) // 12, (now.month - 1 + ahead) % 12 + 1) for ahead in range(4)
        ]
        for year, month in months:
            assert await conn.fetchval(
                "SELECT to_regclass($1) IS NOT NULL", f"audit_event_{year}_{month:02d}"
            )


async def test_the_service_role_adds_partitions_it_may_then_only_append_to(app_database_url: str) -> None:
    conn = await asyncpg.connect(app_database_url)
    try:
        assert await conn.fetchval("SELECT audit_event_add_partitions('2097-01-01', '2097-01-31')") == 1
        await conn.execute(
            "INSERT INTO audit_event (occurred_at, action, subject_type, outcome)"
            " VALUES ('2097-01-15 00:00+00', 'read', 'case', 'allowed')"
        )
        assert await conn.fetchval("SELECT count(*) FROM audit_event_2097_01") == 1
        for statement in ("DELETE FROM audit_event_2097_01", "TRUNCATE audit_event_2097_01"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE audit_event_2096_01 PARTITION OF audit_event DEFAULT")
    finally:
        await conn.close()
