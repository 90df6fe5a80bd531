"""The migration runner: applies once, races safely, refuses gaps and edited files."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tumorboard.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate


@pytest.fixture
async def fresh_database(service_urls: tuple[str, str], pool: asyncpg.Pool) -> AsyncIterator[str]:
    """An empty database on the test server; its URL."""
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    await pool.execute(f'CREATE DATABASE "{name}"')
    yield service_urls[0].rsplit("/", 1)[0] + f"/{name}"
    await pool.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def _migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return await migrate(conn, directory)
    finally:
        await conn.close()


async def test_two_processes_migrating_at_once_apply_each_file_once(fresh_database: str) -> None:
    results = await asyncio.gather(_migrate(fresh_database), _migrate(fresh_database))
    expected = [m.version for m in load_migrations()]
    assert sorted(results, key=len) == [[], expected]
    assert await _migrate(fresh_database) == []


async def test_an_edited_migration_is_refused(fresh_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE thing (id int);")
    assert await _migrate(fresh_database, tmp_path) == [1]
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE thing (id bigint);")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await _migrate(fresh_database, tmp_path)


async def test_a_gap_in_the_numbering_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    (tmp_path / "0003_third.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="0002 is missing"):
        load_migrations(tmp_path)


async def test_a_failing_migration_leaves_no_trace(fresh_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE thing (id int); SELECT no_such_function();")
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await _migrate(fresh_database, tmp_path)
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('thing')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migration") == 0
    finally:
        await conn.close()
