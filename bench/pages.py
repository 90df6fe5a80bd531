"""What the web pages cost, as ratios to endpoints of the same app measured in the same run.

    .venv/bin/python -m bench.pages              # 2 rounds of 3 s per endpoint, about 40 s in all

Starts embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set), migrates, loads a
board with one meeting of ten cases (two recommendations each), starts `tumorboard serve`, then
measures, in interleaved rounds on the same server, with keep-alive connections to 127.0.0.1:

    bare      GET /health/live              (no database: the ceiling of this app on this machine)
    api_case  GET /api/v1/cases/{id}        (JSON: token, case query, audit row)
    page_case GET /cases/{id}               (HTML: the case with recommendations, history, care plan)
    home      GET /                         (HTML: a chair's and reviewer's home page)
    meeting   GET /meetings/{id}            (HTML: the meeting with its ten-case agenda)

and reports requests/s and each page's ratio to the JSON case read and to the bare endpoint. It also
times the query each open meeting page repeats every two seconds (the live agenda's digest), which
is the database cost one viewer adds. The load comes from wrk when it is on PATH, else from httpx.
Results go to bench/results/pages.json; docs/pages.md shows and explains them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from tumorboard.embedded import free_port

HOST = "127.0.0.1"  # all traffic stays on this machine
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT_ROOT / "bench" / "results" / "pages.json"
CASES = 10
DIGEST_CALLS = 500


@contextmanager
def services() -> Iterator[tuple[str, str]]:
    """The configured PostgreSQL and Redis, or embedded throwaway ones."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    from tumorboard.embedded import embedded_services

    with (
        tempfile.TemporaryDirectory(prefix="tumorboard-bench-") as data_dir,
        embedded_services(Path(data_dir)) as (embedded_db, embedded_redis),
    ):
        yield embedded_db, embedded_redis


async def seed(database_url: str) -> dict[str, str]:
    """A meeting of ten cases with two recommendations each; returns ids and credentials."""
    from tumorboard.auth.schemas import UserCreate
    from tumorboard.auth.service import API, SESSION, create_user, issue_token
    from tumorboard.boards.schemas import BoardCreate
    from tumorboard.boards.service import create_board
    from tumorboard.cases.schemas import CaseCreate, CaseMove, Diagnosis, Patient
    from tumorboard.cases.service import move_case, submit_case
    from tumorboard.db import create_pool
    from tumorboard.enums import Discipline, DiseaseSite, Intent, Modality, ParticipantRole, Role
    from tumorboard.meetings.schemas import MeetingCreate, ParticipantIn, ParticipantsPut
    from tumorboard.meetings.service import create_meeting, replace_participants
    from tumorboard.migrate import migrate
    from tumorboard.recommendations.schemas import RecommendationCreate
    from tumorboard.recommendations.service import add_recommendation

    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        async with pool.acquire() as conn, conn.transaction():
            stamp = f"{time.time_ns()}"

            async def user(name: str, role: Role, discipline: Discipline | None) -> Any:
                data = UserCreate(
                    email=f"{name}-{stamp}@example.org",
                    full_name=f"Dr. {name.title()}",
                    password="bench password 123",  # noqa: S106 (a throwaway local account)
                    roles=[role],
                    discipline=discipline,
                )
                return await create_user(conn, None, data)

            coordinator = await user("coordinator", Role.COORDINATOR, None)
            presenter = await user("presenter", Role.PRESENTER, Discipline.MEDICAL_ONCOLOGY)
            chair = await user("chair", Role.REVIEWER, Discipline.MEDICAL_ONCOLOGY)
            surgeon = await user("surgeon", Role.REVIEWER, Discipline.SURGICAL_ONCOLOGY)
            radiation = await user("radiation", Role.REVIEWER, Discipline.RADIATION_ONCOLOGY)
            sites = [DiseaseSite.BREAST]
            board = await create_board(
                conn, coordinator, BoardCreate(name=f"Bench {stamp}", disease_sites=sites)
            )
            meeting = await create_meeting(
                conn,
                coordinator,
                MeetingCreate(board_id=board.id, starts_at=datetime.now(UTC) + timedelta(days=7)),
            )
            people = [
                (chair, ParticipantRole.CHAIR),
                (surgeon, ParticipantRole.REVIEWER),
                (radiation, ParticipantRole.REVIEWER),
            ]
            listed = [ParticipantIn(user_id=p.id, role=role) for p, role in people]
            await replace_participants(conn, coordinator, meeting.id, ParticipantsPut(participants=listed))
            case_ids = []
            for number in range(CASES):
                patient = Patient(
                    mrn=f"B-{stamp}-{number}", given_name="Ada", family_name=f"Bench{number}",
                    birth_date=date(1960, 1, 1), sex="female",
                )  # fmt: skip
                data = CaseCreate(
                    patient=patient,
                    disease_site=DiseaseSite.BREAST,
                    diagnosis=Diagnosis(
                        code="C50.911", system="ICD-10-CM", display="Malignant neoplasm of breast"
                    ),
                    summary="Palpable mass, biopsy-proven.",
                    question="Neoadjuvant therapy first?",
                )
                case = await submit_case(conn, presenter, data, patient.mrn.encode(), None)
                await move_case(conn, coordinator, case.id, CaseMove(meeting_id=meeting.id))
                for reviewer in (surgeon, radiation):
                    plan = RecommendationCreate(
                        intent=Intent.CURATIVE, modalities=[Modality.SURGERY], summary="Surgery."
                    )
                    await add_recommendation(conn, reviewer, case.id, plan)
                case_ids.append(str(case.id))
            session = await issue_token(conn, chair.id, SESSION, timedelta(hours=2))
            api = await issue_token(conn, chair.id, API, timedelta(hours=2))
        return {"meeting": str(meeting.id), "case": case_ids[0], "session": session.access_token,
                "token": api.access_token}  # fmt: skip
    finally:
        await pool.close()


async def digest_microseconds(database_url: str, meeting_id: str) -> float:
    """Median time of the live agenda's digest query, the cost one open meeting page adds every 2 s."""
    from tumorboard.pages.work import live_agenda_fingerprint

    conn = await asyncpg.connect(database_url)
    try:
        times = []
        for _ in range(DIGEST_CALLS):
            started = time.perf_counter()
            await live_agenda_fingerprint(conn, UUID(meeting_id))
            times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1e6, 1)
    finally:
        await conn.close()


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    """Requests per second from wrk; answers other than 2xx make the run invalid."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"non-2xx answers from {url}:\n{output}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if found is None:
        raise SystemExit(f"wrk printed no rate:\n{output}")
    return float(found.group(1))


async def python_load(url: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    """Requests per second from httpx clients, when wrk is not installed."""
    done = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        async with httpx.AsyncClient(headers=headers, timeout=10) as http:
            while time.monotonic() < deadline:
                response = await http.get(url)
                assert response.status_code == 200, (url, response.status_code)
                done += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    return done / seconds


def measure(base: str, path: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    """Requests per second on one endpoint, from wrk when installed, else from httpx."""
    if shutil.which("wrk"):
        return wrk(base + path, headers, seconds, connections)
    return asyncio.run(python_load(base + path, headers, seconds, connections))


def wait_live(base: str, server: subprocess.Popen[bytes]) -> None:
    """Wait for `tumorboard serve` to answer."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/health/live").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("`tumorboard serve` did not start")


def main(argv: list[str] | None = None) -> None:
    """Seed, serve, measure, and write bench/results/pages.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description="Page cost as ratios.")
    parser.add_argument("--rounds", type=int, default=2, choices=range(1, 6))
    parser.add_argument("--seconds", type=int, default=3, choices=range(1, 31))
    parser.add_argument("--connections", type=int, default=8, choices=range(1, 65))
    args = parser.parse_args(argv)
    with services() as (database_url, redis_url):
        ids = asyncio.run(seed(database_url))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "TUMORBOARD_LOG_LEVEL": "WARNING", "TUMORBOARD_SECRET_KEY": "bench-only-secret"}  # fmt: skip
        command = [sys.executable, "-m", "tumorboard.cli", "serve", "--port", str(port)]
        server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
        try:
            base = f"http://{HOST}:{port}"
            wait_live(base, server)
            cookie = {"Cookie": f"tumorboard_session={ids['session']}"}
            endpoints = {
                "bare": ("/health/live", {}),
                "api_case": (f"/api/v1/cases/{ids['case']}", {"Authorization": f"Bearer {ids['token']}"}),
                "page_case": (f"/cases/{ids['case']}", cookie),
                "home": ("/", cookie),
                "meeting": (f"/meetings/{ids['meeting']}", cookie),
            }
            runs: dict[str, list[float]] = {name: [] for name in endpoints}
            for _ in range(args.rounds):
                for name, (path, headers) in endpoints.items():
                    runs[name].append(measure(base, path, headers, args.seconds, args.connections))
                    print(f"  {name:10} {runs[name][-1]:9.1f} req/s")
        finally:
            server.terminate()
            server.wait(timeout=20)
        rates = {name: round(statistics.median(values), 1) for name, values in runs.items()}
        result = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load": "wrk" if shutil.which("wrk") else "httpx",
            "connections": args.connections,
            "requests_per_second": rates,
            "ratio_to_api_case": {n: round(rates[n] / rates["api_case"], 2) for n in rates},
            "ratio_to_bare": {n: round(rates[n] / rates["bare"], 3) for n in rates},
            "live_digest_query_us": asyncio.run(digest_microseconds(database_url, ids["meeting"])),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
