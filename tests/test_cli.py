"""The `tumorboard` command line."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.factories import Factory


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
