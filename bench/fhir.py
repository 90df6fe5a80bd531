"""Server time of the FHIR export and import of a full case, as ratios to the plain case read, in one run.

    .venv/bin/python -m bench.fhir            # 5 rounds of 40 requests per endpoint, about a minute
    .venv/bin/python -m bench.fhir --check    # exit 1 when export or import misses 50 ms

Starts embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set), migrates, makes a
board's team with bearer tokens, starts `tumorboard serve` and `tumorboard worker`, then takes one case
with 20 biomarkers (LOINC codes, units, dates, methods), a pathological stage, prior treatments,
comorbidities, a referrer and 5 attached reports (PDF, 200 KiB each) through its meeting to a signed
care plan. It measures, one request at a time on one keep-alive connection (so the time is the
server's, with no queueing), in interleaved rounds:

    read    GET  /api/v1/cases/{id}                   the plain case read (token, case, access, audit)
    export  GET  /api/v1/cases/{id}/care-plan.fhir.json  the signed version as a FHIR document
    import  POST /api/v1/cases (application/fhir+json)   that document, read back into a new case

and reports per endpoint the median and 95th percentile in milliseconds, the web process's CPU
milliseconds per request, and the ratios export/read and import/read of the medians. Target: export
and import each under 50 ms (median). Results: bench/results/fhir.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.harness import (
    HOST,
    BenchError,
    Children,
    RawHttp,
    cpu_seconds,
    create_user_with_token,
    run_command,
    services,
)
from tumorboard.embedded import free_port

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_MS = 50.0
START_TIMEOUT = 60.0
DRAIN_SECONDS = 60.0
FHIR = "application/fhir+json"
CHAIR_PASSWORD = secrets.token_urlsafe(18)
ATTACHMENT_BYTES = 200 * 1024


def full_case(nonce: str) -> dict[str, Any]:
    """The measured case: every structured field, 20 biomarkers, a referrer."""
    markers = [
        {
            "name": f"Marker {i}",
            "value": f"{i}.5",
            "unit": "ng/mL",
            "loinc": "2857-1",
            "tested_on": "2026-01-09",
            "method": "Immunoassay",
        }
        for i in range(18)
    ]
    markers += [
        {
            "name": "HER2",
            "value": "positive (3+)",
            "loinc": "85319-2",
            "tested_on": "2026-01-10",
            "method": "IHC",
        },
        {"name": "Ki-67", "value": "30", "unit": "%", "method": "IHC"},
    ]
    return {
        "patient": {
            "mrn": f"BENCH-FHIR-{nonce}",
            "given_name": "Ada",
            "family_name": "Benchpatient",
            "birth_date": "1961-05-17",
            "sex": "female",
        },
        "disease_site": "breast",
        "diagnosis": {
            "code": "C50.412",
            "system": "ICD-10-CM",
            "display": "Malignant neoplasm of upper-outer quadrant of left female breast",
            "diagnosed_on": "2026-01-12",
            "laterality": "left",
            "topography": {"code": "C50.4", "display": "Upper-outer quadrant of breast"},
            "morphology": {"code": "8500/3", "display": "Infiltrating duct carcinoma, NOS"},
        },
        "histology": "Invasive ductal carcinoma, grade 2",
        "stage": {
            "system": "AJCC",
            "edition": 8,
            "type": "pathological",
            "t": "pT2",
            "n": "pN1a",
            "m": "cM0",
            "group": "IIB",
        },
        "ecog": 1,
        "biomarkers": markers,
        "prior_treatments": [
            {
                "modality": "surgery",
                "description": "Lumpectomy",
                "started_on": "2026-01-20",
                "ended_on": "2026-01-20",
            },
            {"modality": "systemic_therapy", "started_on": "2026-02-01"},
        ],
        "comorbidities": [{"name": "Type 2 diabetes mellitus", "code": "E11.9"}],
        "treatment_started": True,
        "summary": "Palpable left breast mass; core biopsy: invasive ductal carcinoma. " * 10,
        "question": "Adjuvant therapy after lumpectomy?",
        "referrer": {
            "name": "Dr. Rita Moreau",
            "organisation": "Clinique du Parc",
            "email": "rita@parc.example",
        },
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.fhir", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 21), metavar="1..20")
    parser.add_argument(
        "--requests",
        type=int,
        default=40,
        choices=range(5, 1001),
        metavar="5..1000",
        help="requests per endpoint and round (default 40)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "fhir.json")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 when the median of export or import is not under {TARGET_MS} ms",
    )
    return parser


async def _team(database_url: str, nonce: str) -> dict[str, tuple[str, str]]:
    """Migrate; the board's people with bearer tokens: name -> (user id, token)."""
    from argon2 import PasswordHasher

    from tumorboard.migrate import migrate

    hasher = PasswordHasher()
    people = {
        "coordinator": (["coordinator"], None),
        "presenter": (["presenter"], "medical_oncology"),
        "chair": (["reviewer"], "medical_oncology"),
        "surgeon": (["reviewer"], "surgical_oncology"),
        "radiation": (["reviewer"], "radiation_oncology"),
    }
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        team = {}
        async with conn.transaction():
            for name, (roles, discipline) in people.items():
                password = CHAIR_PASSWORD if name == "chair" else secrets.token_urlsafe(18)
                user_id, token = await create_user_with_token(
                    conn,
                    f"bench-{name}-{nonce}@example.org",
                    f"Dr. Bench {name.title()}",
                    hasher.hash(password),
                    roles,
                    discipline,
                )
                team[name] = (str(user_id), token)
        return team
    finally:
        await conn.close()


async def _signed_case(base_url: str, team: dict[str, tuple[str, str]], nonce: str) -> tuple[str, bytes]:
    """The full case taken to a signed care plan; its id and its FHIR document."""

    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {team[name][1]}"}

    async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60) as client:

        async def call(method: str, path: str, who: str, expect: int, **kwargs: Any) -> Any:
            response = await client.request(method, path, headers=auth(who), **kwargs)
            if response.status_code != expect:
                raise BenchError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
            return (
                response.json() if response.content and "json" in response.headers["content-type"] else None
            )

        board = await call(
            "POST",
            "/boards",
            "coordinator",
            201,
            json={"name": f"Bench board {nonce}", "disease_sites": ["breast"], "agenda_lock_hours": 0},
        )
        now = datetime.now(UTC)
        meeting = await call(
            "POST",
            "/meetings",
            "coordinator",
            201,
            json={
                "board_id": board["id"],
                "starts_at": (now + timedelta(minutes=30)).isoformat(),
                "submission_deadline": (now + timedelta(minutes=5)).isoformat(),
            },
        )
        listed = [
            {"user_id": team[n][0], "role": "chair" if n == "chair" else "reviewer"}
            for n in ("chair", "surgeon", "radiation")
        ]
        await call(
            "PUT",
            f"/meetings/{meeting['id']}/participants",
            "coordinator",
            200,
            json={"participants": listed},
        )
        case = await call("POST", "/cases", "presenter", 201, json=full_case(nonce))
        report = b"%PDF-1.4\n" + secrets.token_bytes(ATTACHMENT_BYTES)
        for number in range(5):
            kind = "pathology_report" if number % 2 == 0 else "imaging_report"
            await call(
                "POST",
                f"/cases/{case['id']}/attachments",
                "presenter",
                201,
                files={"file": (f"report-{number}.pdf", report, "application/pdf")},
                data={"kind": kind, "document_date": "2026-01-15"},
            )
        await call(
            "PUT", f"/cases/{case['id']}/meeting", "coordinator", 200, json={"meeting_id": meeting["id"]}
        )
        plan = ["systemic_therapy", "surgery", "radiation"]
        for reviewer in ("chair", "surgeon", "radiation"):
            await call(
                "POST",
                f"/cases/{case['id']}/recommendations",
                reviewer,
                201,
                json={
                    "intent": "curative",
                    "modalities": plan,
                    "summary": "Chemotherapy, surgery, radiotherapy.",
                },
            )
        await call("POST", f"/meetings/{meeting['id']}/start", "chair", 200)
        present = [{"user_id": team[n][0], "status": "present"} for n in ("chair", "surgeon", "radiation")]
        await call("PUT", f"/meetings/{meeting['id']}/attendance", "chair", 200, json={"attendance": present})
        await call(
            "POST",
            f"/cases/{case['id']}/decision",
            "chair",
            200,
            json={
                "outcome": "plan",
                "intent": "curative",
                "modalities": plan,
                "summary": "Chemotherapy, surgery, radiotherapy.",
                "trial": {"status": "eligible", "id": "NCT04567890"},
            },
        )
        deadline = time.monotonic() + START_TIMEOUT
        while (
            await client.get(f"/cases/{case['id']}/care-plan", headers=auth("presenter"))
        ).status_code != 200:
            if time.monotonic() > deadline:
                raise BenchError(
                    "the worker did not draft the care plan; see bench/results/logs/fhir-worker.log"
                )
            await asyncio.sleep(0.2)
        await call(
            "POST", f"/cases/{case['id']}/care-plan/sign", "chair", 200, json={"password": CHAIR_PASSWORD}
        )
        document = await client.get(f"/cases/{case['id']}/care-plan.fhir.json", headers=auth("presenter"))
        return case["id"], document.content


async def _pending_outbox(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        pending: int = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL"
        )
        return pending
    finally:
        await conn.close()


async def _drain(database_url: str) -> int:
    """Wait until the worker has done every job (the imports' assignments), so rounds start quiet."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        pending = await _pending_outbox(database_url)
        if not pending or time.monotonic() > deadline:
            return pending
        await asyncio.sleep(0.2)


def _web_cpu(web_pid: int) -> float:
    table = cpu_seconds()
    total, todo = 0.0, [web_pid]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid].cpu_seconds
        todo += [child for child, process in table.items() if process.parent == pid]
    return total


Endpoints = dict[str, tuple[str, str, bytes | None, int]]  # key -> method, path, body, expected status


async def _measure(
    base_url: str,
    web_pid: int,
    database_url: str,
    token: str,
    endpoints: Endpoints,
    rounds: int,
    requests: int,
) -> dict[str, dict[str, list[float]]]:
    """Latency of each request (ms) and web CPU per request (ms), per endpoint, rounds interleaved."""
    http = RawHttp(int(base_url.rsplit(":", 1)[1]))
    found: dict[str, dict[str, list[float]]] = {key: {"ms": [], "cpu_ms": []} for key in endpoints}
    keys = list(endpoints)
    try:
        for number in range(rounds + 1):  # round 0 warms up and is not counted
            for key in keys[number % len(keys) :] + keys[: number % len(keys)]:
                method, path, body, expect = endpoints[key]
                headers = {"Authorization": f"Bearer {token}"}
                cpu_before, times = _web_cpu(web_pid), []
                for _ in range(requests):
                    started = time.perf_counter()
                    status, answer = await http.request(method, path, headers, body, content_type=FHIR)
                    times.append((time.perf_counter() - started) * 1000)
                    if status != expect:
                        raise BenchError(f"{key} answered {status}: {answer[:300]!r}")
                cpu_ms = (_web_cpu(web_pid) - cpu_before) * 1000 / requests
                if number:
                    found[key]["ms"] += times
                    found[key]["cpu_ms"].append(cpu_ms)
                if body is not None:
                    await _drain(database_url)
            if number:
                medians = {k: statistics.median(found[k]["ms"][-requests:]) for k in keys}
                print(f"  round {number}: " + "  ".join(f"{k} {v:.1f} ms" for k, v in medians.items()))
    finally:
        await http.close()
    return found


def _summary(found: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    figures = {}
    for key, values in found.items():
        ordered = sorted(values["ms"])
        figures[key] = {
            "requests": len(ordered),
            "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max_ms": round(ordered[-1], 2),
            "web_cpu_ms_per_request": round(statistics.median(values["cpu_ms"]), 2),
        }
    read = figures["read"]["median_ms"]
    ratios = {key: round(figures[key]["median_ms"] / read, 2) for key in ("export", "import")}
    meets = {key: figures[key]["median_ms"] < TARGET_MS for key in ("export", "import")}
    return {"figures": figures, "ratios_to_read": ratios, "target_ms": TARGET_MS, "meets_target": meets}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, prepare the case, measure, stop everything; return the results."""
    nonce = secrets.token_hex(4)
    started_at = datetime.now(UTC)
    load_average = [round(x, 2) for x in os.getloadavg()]
    log_dir = RESULTS_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        work_dir = Path(tempfile.mkdtemp(prefix="tumorboard-bench-fhir-"))
        stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        database_url, redis_url = stack.enter_context(services(work_dir / "services"))
        try:
            team = asyncio.run(_team(database_url, nonce))
        except (OSError, asyncpg.PostgresError) as error:
            raise BenchError(f"could not prepare the database: {type(error).__name__}: {error}") from None
        children = Children(log_dir, prefix="fhir-")
        stack.callback(children.stop_all)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TUMORBOARD_LOG_LEVEL": "WARNING",
        }
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        cli = [sys.executable, "-m", "tumorboard.cli"]
        web = children.start("web", [*cli, "serve", "--host", HOST, "--port", str(port)], env)
        children.start("worker", [*cli, "worker"], env)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            children.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError("`tumorboard serve` did not become ready")
            time.sleep(0.2)
        case_id, document = asyncio.run(_signed_case(base_url, team, nonce))
        asyncio.run(_drain(database_url))
        endpoints = {
            "read": ("GET", f"/api/v1/cases/{case_id}", None, 200),
            "export": ("GET", f"/api/v1/cases/{case_id}/care-plan.fhir.json", None, 200),
            "import": ("POST", "/api/v1/cases", document, 201),
        }
        entries = len(json.loads(document)["entry"])
        print(f"case {case_id}: FHIR document of {entries} entries, {len(document)} bytes")
        token = team["presenter"][1]
        found = asyncio.run(
            _measure(base_url, web.pid, database_url, token, endpoints, args.rounds, args.requests)
        )
    summary = _summary(found)
    print(f"\n{'':8}{'median ms':>11}{'p95 ms':>9}{'web CPU ms':>12}{'ratio to read':>15}")
    for key, figure in summary["figures"].items():
        ratio = summary["ratios_to_read"].get(key, 1.0)
        verdict = "" if key == "read" else ("  ok" if summary["meets_target"][key] else "  MISSED")
        print(
            f"{key:8}{figure['median_ms']:>11.2f}{figure['p95_ms']:>9.2f}{figure['web_cpu_ms_per_request']:>12.2f}"
            f"{ratio:>15.2f}{verdict}"
        )
    return {
        "benchmark": "fhir",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **summary,
        "settings": {
            "rounds": args.rounds,
            "requests_per_round": args.requests,
            "biomarkers": 20,
            "attachments": 5,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": load_average,
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON results."""
    args = _parser().parse_args(argv)
    return run_command(
        "bench.fhir",
        lambda: run(args),
        args.output,
        lambda results: args.check and not all(results["meets_target"].values()),
    )


if __name__ == "__main__":
    sys.exit(main())
