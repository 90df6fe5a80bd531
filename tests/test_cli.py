"""The `tumorboard` command line."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import Factory, case_body, eventually
from tumorboard.demo import DEMO_PASSWORD
from tumorboard.embedded import free_port

_SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")


def _cli(env: dict[str, str], *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = {"TUMORBOARD_PASSWORD": password} if password else {}
    return subprocess.run(
        [sys.executable, "-m", "tumorboard.cli", *args],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_create_user_then_sign_in(service_env: dict[str, str], api: Factory) -> None:
    result = _cli(
        service_env,
        *("create-user", "--email", "Chair@Hospital.org", "--full-name", "Dr. Ines Chair"),
        *("--role", "reviewer", "--role", "coordinator", "--discipline", "radiation_oncology"),
        password="a long enough password",
    )
    assert result.returncode == 0, result.stderr
    assert "created user chair@hospital.org" in result.stdout
    token = await api.ok(
        api.client.post(
            "/auth/token", json={"email": "chair@hospital.org", "password": "a long enough password"}
        ),
        200,
    )
    me = await api.ok(
        api.client.get("/me", headers={"Authorization": f"Bearer {token['access_token']}"}), 200
    )
    assert me["full_name"] == "Dr. Ines Chair"
    assert sorted(me["roles"]) == ["coordinator", "reviewer"]
    assert me["discipline"] == "radiation_oncology"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "reviewer"), "discipline: discipline is required for reviewers"),
        (("--role", "surgeon"), "roles"),
    ],
)
async def test_create_user_explains_bad_input(
    service_env: dict[str, str], api: Factory, args: tuple[str, ...], message: str
) -> None:
    result = _cli(
        service_env,
        *("create-user", "--email", "x@hospital.org", "--full-name", "X"),
        *args,
        password="a long enough password",
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_create_user_refuses_a_common_password(service_env: dict[str, str], api: Factory) -> None:
    result = _cli(
        service_env,
        *("create-user", "--email", "y@hospital.org", "--full-name", "Y", "--role", "admin"),
        password="Password12345!",
    )
    assert result.returncode == 2
    assert "too common" in result.stderr and "Traceback" not in result.stderr
    assert await api.pool.fetchval("SELECT count(*) FROM app_user WHERE email = 'y@hospital.org'") == 0


async def test_migrate_reports_an_up_to_date_database(
    service_env: dict[str, str], service_urls: tuple[str, str]
) -> None:
    app_url = service_env["DATABASE_URL"]
    owner_env = {**service_env, "DATABASE_URL": service_urls[0], "TUMORBOARD_APP_DATABASE_URL": app_url}
    result = _cli(owner_env, "migrate")
    assert result.returncode == 0
    assert result.stdout.strip() == "database is up to date"


def test_serve_without_urls_says_what_to_set() -> None:
    result = _cli({"PATH": "/usr/bin:/bin"}, "serve")
    assert result.returncode == 2
    assert "set DATABASE_URL and REDIS_URL" in result.stderr


async def test_ready_probe_answers(server: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server}/health/ready")
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_dev_help_describes_every_option() -> None:
    result = _cli({"PATH": "/usr/bin:/bin"}, "dev", "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for option in ("--host", "--port", "-h, --help"):
        line = next(line for line in lines if line.strip().startswith(option))
        described = line.split(option, 1)[1].split()
        assert len(described) > 2, f"{option} has no description"
    assert "postgres user owns" in result.stdout


def _start_dev(data_dir: Path, port: int, output: Path) -> subprocess.Popen[bytes]:
    """`tumorboard dev` as from a terminal: its own process group, which Ctrl-C signals whole."""
    env = {name: value for name, value in os.environ.items() if name not in _SERVICE_VARIABLES}
    env.update(TUMORBOARD_DATA_DIR=str(data_dir), TUMORBOARD_LOG_LEVEL="WARNING")
    return subprocess.Popen(
        [sys.executable, "-m", "tumorboard.cli", "dev", "--port", str(port)],
        env=env,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _ready(base_url: str, process: subprocess.Popen[bytes], output: Path) -> str:
    """Wait for the web service; return the presenter's API token."""
    deadline = time.monotonic() + 120
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                break
        assert process.poll() is None and time.monotonic() < deadline, output.read_text()
        time.sleep(0.2)
    signed_in = httpx.post(
        f"{base_url}/api/v1/auth/token",
        json={"email": "presenter@example.org", "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200
    return str(signed_in.json()["access_token"])


def _ctrl_c(process: subprocess.Popen[bytes]) -> int:
    """What Ctrl-C in a terminal does: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)
    # dev allows each child 15 s, PostgreSQL 30 s and Redis 10 s to stop: on a loaded machine the sum
    # of those bounds, not a typical stop, is what the test must wait for before calling it a hang.
    return process.wait(timeout=90)


@pytest.mark.slow
def test_dev_keeps_its_data_across_restarts_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # under pytest's 0700 folder: run as root, postgres cannot enter it
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    first_output, second_output = tmp_path / "first.log", tmp_path / "second.log"
    kept = None
    try:
        first = _start_dev(data_dir, port, first_output)
        token = _ready(base_url, first, first_output)
        created = httpx.post(
            f"{base_url}/api/v1/cases",
            json=case_body(),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert created.status_code == 201
        assert _ctrl_c(first) in (0, 130)
        said = first_output.read_text()
        kept = Path(re.search(r"Its data stays between runs in (\S+?)[.,]", said)[1])  # type: ignore[index]
        if os.geteuid() == 0:
            assert not kept.is_relative_to(data_dir) and "owned by the postgres user" in said
            assert kept.stat().st_uid == pwd.getpwnam("postgres").pw_uid

        second = _start_dev(data_dir, port, second_output)
        token = _ready(base_url, second, second_output)
        found = httpx.get(
            f"{base_url}/api/v1/cases/{created.json()['id']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert found.status_code == 200
        assert found.json()["patient"]["mrn"] == created.json()["patient"]["mrn"]
        assert _ctrl_c(second) in (0, 130)
        for output in (first_output, second_output):
            assert "Traceback" not in output.read_text(), output.read_text()
    finally:
        for output in (first_output, second_output):
            with contextlib.suppress(OSError):
                print(output.read_text()[-3000:])
        if kept is not None and not kept.is_relative_to(tmp_path):
            shutil.rmtree(kept, ignore_errors=True)


@pytest.mark.slow
async def test_worker_check_reports_a_live_worker(
    service_env: dict[str, str], worker: subprocess.Popen[bytes]
) -> None:
    async def healthy() -> bool:
        return _cli(service_env, "worker", "--check").returncode == 0

    assert await eventually(healthy, within=30)
    elsewhere = {**service_env, "REDIS_URL": service_env["REDIS_URL"].rsplit("/", 1)[0] + "/15"}
    assert _cli(elsewhere, "worker", "--check").returncode == 1
