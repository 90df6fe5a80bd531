"""The `tumorboard` command: dev, serve, worker, migrate, create-user."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import asyncpg

from tumorboard.auth.schemas import User, UserCreate
from tumorboard.db_roles import AppRole, RoleError
from tumorboard.logs import configure_logging
from tumorboard.settings import METRICS_DIR_VARIABLE, Settings, current_settings, share_metrics_dir

log = logging.getLogger("tumorboard")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tumorboard` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    settings = current_settings()
    configure_logging(settings.log_level)
    try:
        return int(args.run(settings, args) or 0)
    except CommandError as error:
        print(f"tumorboard: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


class CommandError(Exception):
    """A readable reason a command cannot run."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tumorboard", description="Multidisciplinary tumor board service.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser(
        "dev",
        help="embedded PostgreSQL and Redis, migrations, demo data, web and worker",
        description=(
            "Run everything on this machine: PostgreSQL (its data kept between runs, under "
            "TUMORBOARD_DATA_DIR, or, run as root, in a folder the postgres user owns) and Redis, "
            "the migrations, the demo data, one web process and one worker. Ctrl-C stops it all. "
            "With DATABASE_URL and REDIS_URL set, those servers are used instead."
        ),
    )
    dev.add_argument(
        "--host", default="127.0.0.1", help="address the web service listens on (default 127.0.0.1)"
    )
    dev.add_argument("--port", type=int, default=8000, help="port of the web service (default 8000)")
    dev.set_defaults(run=_dev)

    serve = commands.add_parser("serve", help="the web service (needs DATABASE_URL and REDIS_URL)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="web processes")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="a background worker (needs DATABASE_URL and REDIS_URL)")
    worker.add_argument(
        "--check",
        action="store_true",
        help="exit 0 when a worker of this host recorded its heartbeat in Redis in the last 11 s, else 1",
    )
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(run=_migrate)

    create_user = commands.add_parser(
        "create-user", help="create a user (password from TUMORBOARD_PASSWORD or a prompt)"
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--full-name", required=True)
    create_user.add_argument("--role", action="append", required=True, dest="roles")
    create_user.add_argument("--discipline")
    create_user.set_defaults(run=_create_user)
    return parser


def _require_urls(settings: Settings) -> tuple[str, str]:
    if not settings.database_url or not settings.redis_url:
        raise CommandError("set DATABASE_URL and REDIS_URL, or run `tumorboard dev` for embedded services")
    return settings.database_url, settings.redis_url


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from tumorboard.auth.oidc import OidcConfig, OidcConfigError

    _require_urls(settings)
    try:
        OidcConfig.from_settings(settings)
    except OidcConfigError as error:
        raise CommandError(str(error)) from None
    with contextlib.ExitStack() as stack:
        if settings.metrics_dir is None and args.workers > 1:  # one /metrics for all the processes
            share_metrics_dir(
                Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tumorboard-metrics-")))
            )
        uvicorn.run(
            "tumorboard.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=False,  # the app logs each request itself, by route pattern (tumorboard.metrics)
            proxy_headers=settings.trust_proxy_headers,
            log_level=settings.log_level.lower(),
            log_config=None,  # our JSON lines (tumorboard.logs), not uvicorn's format
        )


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import uvloop
    from arq.worker import check_health, run_worker

    from tumorboard.documents.pdf import stop_rendering
    from workers.settings import WorkerSettings, redis_settings

    _require_urls(settings)
    if args.check:
        return check_health(WorkerSettings)  # type: ignore[arg-type]
    uvloop.install()  # the same event loop as the web processes (uvicorn picks uvloop itself)
    try:
        run_worker(WorkerSettings, redis_settings=redis_settings(settings))  # type: ignore[arg-type]
    except asyncio.CancelledError:
        # Stopped while a job ran: arq cancels it on the way out; its outbox row runs it again later.
        log.info("worker stopped while a job was running; it will run again")
    finally:
        # Here, not in the worker's on_shutdown (which arq skips when it cancelled a running job), and
        # while the event loop still catches SIGINT and SIGTERM.
        stop_rendering()
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> None:
    if not settings.owner_database_url:
        raise CommandError("set DATABASE_URL to the owner of the tables (migrations run as that role)")
    app_role = None
    if settings.app_database_url:
        try:
            app_role = AppRole.from_url(settings.app_database_url)
        except RoleError as error:
            raise CommandError(f"TUMORBOARD_APP_DATABASE_URL: {error}") from None
    else:
        log.warning(
            "TUMORBOARD_APP_DATABASE_URL is not set: the service will connect as the owner of the tables"
        )
    applied = asyncio.run(_apply_migrations(settings.owner_database_url, app_role))
    print(f"applied {len(applied)} migration(s)" if applied else "database is up to date")


async def _apply_migrations(database_url: str, app_role: AppRole | None) -> list[int]:
    from tumorboard.migrate import MigrationError, migrate

    conn = await asyncpg.connect(database_url)
    try:
        return await migrate(conn, app_role=app_role)
    except (MigrationError, RoleError) as error:
        raise CommandError(str(error)) from None
    finally:
        await conn.close()


def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from tumorboard.validation import InvalidBody, collect_errors

    database_url, _ = _require_urls(settings)
    password = settings.password or getpass.getpass("Password (12 to 128 characters, not a common one): ")
    raw = {
        "email": args.email,
        "full_name": args.full_name,
        "password": password,
        "roles": args.roles,
        "discipline": args.discipline,
    }
    try:
        data = msgspec.convert(raw, UserCreate)
    except msgspec.ValidationError:
        errors = InvalidBody(collect_errors(raw, UserCreate)).errors
        raise CommandError("; ".join(f"{e.key}: {e.message}" for e in errors)) from None
    user = asyncio.run(_insert_user(database_url, data))
    print(f"created user {user.email} ({', '.join(user.roles)}) with id {user.id}")


async def _insert_user(database_url: str, data: UserCreate) -> User:
    from tumorboard.auth.service import create_user
    from tumorboard.db import create_pool
    from tumorboard.errors import DomainError

    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            return await create_user(conn, None, data)
    except DomainError as error:  # a taken email, a password the policy refuses
        raise CommandError(error.detail) from None
    finally:
        await pool.close()


def _dev(settings: Settings, args: argparse.Namespace) -> None:
    from tumorboard.demo import load_demo_data

    # Ctrl-C stops it even when started by a script or service manager that ignores SIGINT (Python then
    # leaves it ignored, and so would every child).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    with _services(settings) as (owner_url, redis_url, data_folder), _metrics_dir(settings) as metrics:
        # The web and worker connect as the app role, which owns nothing; migrations run as the owner.
        if settings.app_database_url:
            app_role, database_url = AppRole.from_url(settings.app_database_url), settings.app_database_url
        else:
            app_role = AppRole.generated()
            database_url = app_role.url(owner_url)
        asyncio.run(_apply_migrations(owner_url, app_role))
        logins = asyncio.run(load_demo_data(database_url))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            METRICS_DIR_VARIABLE: metrics,
        }
        env.pop("TUMORBOARD_APP_DATABASE_URL", None)
        command = [sys.executable, "-m", "tumorboard.cli"]
        # Sessions of their own: Ctrl-C reaches only this process, which then stops each child once,
        # in order (a second signal would cut their shutdown short).
        processes = [
            subprocess.Popen([*command, "worker"], env=env, start_new_session=True),  # noqa: S603
            subprocess.Popen(  # noqa: S603
                [*command, "serve", "--host", args.host, "--port", str(args.port)],
                env=env,
                start_new_session=True,
            ),
        ]
        print(f"\nTumorboard is running at http://{args.host}:{args.port}/  (Ctrl-C stops it)")
        if data_folder is not None:
            owner = "" if data_folder.is_relative_to(settings.data_dir) else ", owned by the postgres user"
            print(f"Its data stays between runs in {data_folder}{owner}.")
        print("Demo sign-ins (password for all: " + logins.password + "):")
        for email, description in logins.users:
            print(f"  {email:32} {description}")
        try:
            while all(process.poll() is None for process in processes):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    processes[0].wait(timeout=1)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM and SIGHUP (the terminal closed) into the same orderly stop as Ctrl-C."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def _services(settings: Settings) -> Iterator[tuple[str, str, Path | None]]:
    """The configured PostgreSQL (as the owner) and Redis, or embedded ones when the URLs are unset
    (with the folder that keeps the embedded PostgreSQL's data)."""
    if settings.owner_database_url and settings.redis_url:
        yield settings.owner_database_url, settings.redis_url, None
        return
    from tumorboard.embedded import EmbeddedError, start_postgres, start_redis

    try:
        with contextlib.ExitStack() as stack:
            redis = start_redis(settings.data_dir)
            stack.callback(redis.stop)
            postgres = start_postgres(settings.data_dir, durable=True)
            stack.callback(postgres.stop)
            yield (
                settings.owner_database_url or postgres.url,
                settings.redis_url or redis.url,
                postgres.folder,
            )
    except EmbeddedError as error:
        raise CommandError(str(error)) from None


@contextlib.contextmanager
def _metrics_dir(settings: Settings) -> Iterator[str]:
    """The folder the web and worker processes share their metrics in: the configured one, or a
    fresh one for this run."""
    if settings.metrics_dir is not None:
        yield str(settings.metrics_dir)
        return
    with tempfile.TemporaryDirectory(prefix="tumorboard-metrics-") as folder:
        yield folder


if __name__ == "__main__":
    sys.exit(main())
