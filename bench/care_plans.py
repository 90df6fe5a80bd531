"""Care plans under a burst: from the board's decision to HTML ready and to PDF ready.

    .venv/bin/python -m bench.care_plans            # 50 cases, 2 workers; about a minute

Starts embedded PostgreSQL and Redis (unless DATABASE_URL and REDIS_URL are set), migrates, makes
a board's people with bearer tokens, starts `tumorboard serve` and `--workers` `tumorboard worker`
processes, then over HTTP on 127.0.0.1:

1. puts `--cases` cases on one meeting starting within the hour, each with its three required
   recommendations, then starts the meeting and records everyone present;
2. measures GET /health/live latency on the idle service (sequential requests);
3. posts the chair's decision on every case at once, so all of them consolidate together, and
   for each case takes the time from that POST's response until
   - HTML ready: its draft is committed and GET .../care-plan.html has answered 200,
   - PDF ready: a worker has stored its PDF and GET .../care-plan.pdf has answered 200,
   while measuring GET /health/live latency again: while the burst is consolidated (the web is
   busy with the burst's own requests) and after that, while only the PDFs render in the workers;
4. reports median and 95th percentile of both, and the ratio of the probe latency while PDFs
   render to the idle one (a PDF render must not stall other requests); and the CPU seconds each
   part used, to show where the time went on this machine;
5. renders some of the burst's versions again in this process, one after the other, to report what
   one PDF costs in CPU seconds (Typst, as the workers run it).

Results go to bench/results/care_plans.json; docs/care_plans.md records figures and how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.harness import (
    HOST,
    BenchError,
    Children,
    RawHttp,
    RssSampler,
    cpu_seconds,
    cpu_used,
    create_user_with_token,
    percentile,
    services,
    spread,
)
from bench.http_ratios import case_body
from tumorboard.embedded import free_port

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGETS_SECONDS = {"html_median": 0.3, "pdf_median": 1.5}
MAX_RSS_MB = 300  # each web process and each worker, at its peak during the run
SERVICE_PARTS = ("web", "workers", "postgresql", "redis")
START_TIMEOUT = 60.0
BURST_TIMEOUT = 300.0
POLL_SECONDS = 0.02
PROBE_GAP_SECONDS = 0.02
PASSWORD_HASH_PLACEHOLDER = "bench-users-cannot-sign-in"  # noqa: S105 (not a hash: sign-in is impossible)


# --- options ------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.care_plans",
        description="Latency from the board's decision to the care plan's HTML and PDF, under a burst.",
    )
    parser.add_argument("--cases", type=int, default=50, choices=range(1, 201), metavar="1..200")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        choices=range(1, 9),
        metavar="1..8",
        help="`tumorboard worker` processes (default 2)",
    )
    parser.add_argument(
        "--probes",
        type=int,
        default=200,
        choices=range(20, 5001),
        metavar="20..5000",
        help="GET /health/live requests on the idle service (default 200)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "care_plans.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses its target")
    return parser


# --- preparation --------------------------------------------------------------------------------


async def _prepare(database_url: str) -> dict[str, tuple[str, str]]:
    """Migrate, then make the board's people; returns {role: (user id, bearer token)}."""
    import asyncpg

    from tumorboard.migrate import migrate

    people = {
        "coordinator": (["coordinator"], None),
        "presenter": (["presenter"], "medical_oncology"),
        "chair": (["reviewer"], "medical_oncology"),
        "surgeon": (["reviewer"], "surgical_oncology"),
        "radiation": (["reviewer"], "radiation_oncology"),
    }
    nonce = os.urandom(4).hex()
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        made = {}
        async with conn.transaction():
            for name, (roles, discipline) in people.items():
                user_id, token = await create_user_with_token(
                    conn,
                    f"bench-{name}-{nonce}@example.org",
                    f"Dr. Bench {name.title()}",
                    PASSWORD_HASH_PLACEHOLDER,
                    roles,
                    discipline,
                )
                made[name] = (str(user_id), token)
        return made
    finally:
        await conn.close()


def _start(
    args: argparse.Namespace, children: Children, database_url: str, redis_url: str, rss: RssSampler
) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TUMORBOARD_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    cli = [sys.executable, "-m", "tumorboard.cli"]
    rss.add("web", children.start("web", [*cli, "serve", "--host", HOST, "--port", str(port)], env).pid)
    for number in range(args.workers):
        rss.add(f"worker-{number}", children.start(f"worker-{number}", [*cli, "worker"], env).pid)
    base_url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        children.check_alive()
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return base_url
        time.sleep(0.2)
    raise BenchError(f"`tumorboard serve` did not become ready in {START_TIMEOUT:.0f} s")


# --- the measurement ----------------------------------------------------------------------------


def _recommendation(modalities: list[str]) -> dict[str, Any]:
    return {
        "intent": "curative",
        "modalities": modalities,
        "summary": "Neoadjuvant systemic therapy, then surgery, then radiotherapy.",
        "guideline": {"name": "NCCN Breast", "version": "2026.1", "concordant": True},
        "trial": {"id": "NCT01234567"},
    }


async def _ok(response: Any, status: int) -> Any:
    answer = await response
    if answer.status_code != status:
        request = answer.request
        raise BenchError(
            f"{request.method} {request.url.path} answered {answer.status_code}: {answer.text[:300]}"
        )
    return answer.json()


def _decision() -> dict[str, Any]:
    return {
        "outcome": "plan",
        "intent": "curative",
        "modalities": ["systemic_therapy", "surgery", "radiation"],
        "summary": "Neoadjuvant systemic therapy, then surgery, then radiotherapy.",
        "trial": {"status": "eligible", "id": "NCT01234567"},
        "stage_discussed": True,
    }


async def _arrange(client: httpx.AsyncClient, people: dict[str, tuple[str, str]], cases: int) -> list[str]:
    """A meeting under way (starting within the hour, everyone present) with `cases` cases, each with
    its three required recommendations: all that is left is the board's decision."""
    auth = {name: {"Authorization": f"Bearer {token}"} for name, (_, token) in people.items()}
    board = await _ok(
        client.post(
            "/boards",
            json={"name": "Bench board", "disease_sites": ["breast"], "agenda_lock_hours": 0},
            headers=auth["coordinator"],
        ),
        201,
    )
    now = datetime.now(UTC)
    meeting = await _ok(
        client.post(
            "/meetings",
            json={
                "board_id": board["id"],
                "starts_at": (now + timedelta(minutes=30)).isoformat(),
                "submission_deadline": (now + timedelta(minutes=10)).isoformat(),
                "capacity": 200,
                "duration_minutes": 1440,
            },
            headers=auth["coordinator"],
        ),
        201,
    )
    participants = [
        {"user_id": people[name][0], "role": "chair" if name == "chair" else "reviewer"}
        for name in ("chair", "surgeon", "radiation")
    ]
    await _ok(
        client.put(
            f"/meetings/{meeting['id']}/participants",
            json={"participants": participants},
            headers=auth["coordinator"],
        ),
        200,
    )
    case_ids = []
    for number in range(cases):
        body = case_body(f"BENCH-CP-{os.getpid()}-{number:04d}")
        case = await _ok(client.post("/cases", json=body, headers=auth["presenter"]), 201)
        move = client.put(
            f"/cases/{case['id']}/meeting", json={"meeting_id": meeting["id"]}, headers=auth["coordinator"]
        )
        await _ok(move, 200)
        for name in ("chair", "surgeon", "radiation"):
            plan = ["systemic_therapy", "surgery", "radiation"]
            await _ok(
                client.post(
                    f"/cases/{case['id']}/recommendations", json=_recommendation(plan), headers=auth[name]
                ),
                201,
            )
        case_ids.append(case["id"])
    await _ok(client.post(f"/meetings/{meeting['id']}/start", headers=auth["chair"]), 200)
    present = [
        {"user_id": people[name][0], "status": "present"} for name in ("chair", "surgeon", "radiation")
    ]
    attendance = {"attendance": present}
    await _ok(
        client.put(f"/meetings/{meeting['id']}/attendance", json=attendance, headers=auth["chair"]), 200
    )
    return case_ids


async def _warm_up(
    client: httpx.AsyncClient, database_url: str, people: dict[str, tuple[str, str]], case_ids: list[str]
) -> None:
    """Take a few cases (one per worker) all the way to their PDF before measuring, so that template
    compilation and font loading in the web and the workers are not counted as latency."""
    import asyncpg

    chair = {"Authorization": f"Bearer {people['chair'][1]}"}
    presenter = {"Authorization": f"Bearer {people['presenter'][1]}"}
    for case_id in case_ids:
        await _ok(client.post(f"/cases/{case_id}/decision", json=_decision(), headers=chair), 200)
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 120
        query = (
            "SELECT count(*) FROM care_plan_pdf p JOIN care_plan cp ON cp.id = p.care_plan_id"
            " WHERE cp.case_id = ANY($1::uuid[])"
        )
        while await conn.fetchval(query, case_ids) < len(case_ids):
            if time.monotonic() > deadline:
                raise BenchError("the warm-up cases got no PDF in 120 s")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    for case_id in case_ids:
        for document in ("html", "pdf"):
            response = await client.get(f"/cases/{case_id}/care-plan.{document}", headers=presenter)
            if response.status_code != 200:
                raise BenchError(f"warm-up GET care-plan.{document} answered {response.status_code}")


async def _wait_quiet(database_url: str) -> None:
    """Until every outbox job is done (assignment jobs of the arrangement), so the burst starts idle."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 120
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL"):
            if time.monotonic() > deadline:
                raise BenchError("the workers did not finish the arrangement's jobs in 120 s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def _probe(http: RawHttp, stop: asyncio.Event | None, count: int) -> list[tuple[float, float]]:
    """(sent at, latency) of GET /health/live, one request every PROBE_GAP_SECONDS: `count` of them,
    or until `stop` is set."""
    probes: list[tuple[float, float]] = []
    while (stop is None and len(probes) < count) or (stop is not None and not stop.is_set()):
        started = time.perf_counter()
        status, _ = await http.request("GET", "/health/live")
        probes.append((started, time.perf_counter() - started))
        if status != 200:
            raise BenchError(f"/health/live answered {status}")
        await asyncio.sleep(PROBE_GAP_SECONDS)  # a steady trickle, not a flood
    return probes


async def _watch(
    database_url: str, http: RawHttp, token: str, sent: dict[str, float], done: asyncio.Event
) -> tuple[dict[str, float], dict[str, float], dict[int, Any]]:
    """Poll the database; fetch each document over HTTP as soon as it exists; time its 200. Also
    returns the machine's CPU times when the last HTML page was ready."""
    import asyncpg

    headers = {"Authorization": f"Bearer {token}"}
    html_ready: dict[str, float] = {}
    pdf_ready: dict[str, float] = {}
    fetching: set[asyncio.Task[None]] = set()

    async def fetch(case_id: str, kind: str, into: dict[str, float]) -> None:
        status, _ = await http.request("GET", f"/api/v1/cases/{case_id}/care-plan.{kind}", headers)
        if status != 200:
            raise BenchError(f"GET care-plan.{kind} answered {status} once the row existed")
        into[case_id] = time.perf_counter()

    conn = await asyncpg.connect(database_url)
    ids = list(sent)
    seen_html: set[str] = set()
    seen_pdf: set[str] = set()
    deadline = time.monotonic() + BURST_TIMEOUT
    html_cpu: dict[int, Any] = {}
    try:
        while len(seen_pdf) < len(ids):
            if not html_cpu and len(html_ready) == len(ids):
                html_cpu = cpu_seconds()
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(seen_pdf)} of {len(ids)} PDFs in {BURST_TIMEOUT:.0f} s")
            rows = await conn.fetch(
                "SELECT cp.case_id::text AS case_id, p.care_plan_id IS NOT NULL AS has_pdf"
                " FROM care_plan cp LEFT JOIN care_plan_pdf p ON p.care_plan_id = cp.id"
                " WHERE cp.case_id = ANY($1::uuid[])",
                ids,
            )
            for row in rows:
                case_id = row["case_id"]
                for flag, seen, kind, into in (
                    (True, seen_html, "html", html_ready),
                    (row["has_pdf"], seen_pdf, "pdf", pdf_ready),
                ):
                    if flag and case_id not in seen:
                        seen.add(case_id)
                        task = asyncio.create_task(fetch(case_id, kind, into))
                        fetching.add(task)
            await asyncio.sleep(POLL_SECONDS)
        await asyncio.gather(*fetching)
    finally:
        done.set()
        await conn.close()
    return html_ready, pdf_ready, html_cpu or cpu_seconds()


async def _burst(
    port: int, database_url: str, people: dict[str, tuple[str, str]], case_ids: list[str], probes: int
) -> dict[str, Any]:
    api, prober = RawHttp(port), RawHttp(port)
    try:
        await _probe(prober, None, 20)  # warm the connection
        idle = await _probe(prober, None, probes)
        chair = {"Authorization": f"Bearer {people['chair'][1]}"}
        body = json.dumps(_decision()).encode()
        sent: dict[str, float] = {}

        async def decision(case_id: str) -> None:
            status, answer = await api.request("POST", f"/api/v1/cases/{case_id}/decision", chair, body)
            if status != 200:
                raise BenchError(f"POST decision answered {status}: {answer[:300]!r}")
            sent[case_id] = time.perf_counter()

        finished = asyncio.Event()
        probing = asyncio.create_task(_probe(prober, finished, 0))
        cpu_before = cpu_seconds()
        burst_started = time.perf_counter()
        await asyncio.gather(*(decision(case_id) for case_id in case_ids))
        posted = time.perf_counter() - burst_started
        html_ready, pdf_ready, html_cpu = await _watch(
            database_url, api, people["presenter"][1], sent, finished
        )
        cpu_spent = cpu_used(cpu_before, cpu_seconds(), database_url)
        cpu_for_html = cpu_used(cpu_before, html_cpu, database_url)
        loaded = await probing
    finally:
        await api.close()
        await prober.close()
    stages = await _stages(database_url, case_ids)
    html = [html_ready[c] - sent[c] for c in case_ids]
    pdf = [pdf_ready[c] - sent[c] for c in case_ids]
    quiet = [latency for _, latency in idle]
    # After the last HTML is ready, the web has nothing of the burst left to do: only PDFs render.
    rendering = [latency for sent_at, latency in loaded if sent_at > max(html_ready.values())]
    busy = [latency for sent_at, latency in loaded if sent_at <= max(html_ready.values())]
    return {
        "posting_all_decisions_s": round(posted, 3),
        "html_ready_s": spread(html),
        "pdf_ready_s": spread(pdf),
        "all_pdfs_ready_after_s": round(max(pdf_ready.values()) - burst_started, 3),
        **stages,
        "all_html_ready_after_s": round(max(html_ready.values()) - burst_started, 3),
        "cpu_seconds_until_all_html_ready": cpu_for_html,
        "cpu_seconds_until_all_pdfs_ready": cpu_spent,
        "probe_idle_ms": spread([x * 1000 for x in quiet]),
        "probe_while_consolidating_ms": spread([x * 1000 for x in busy]),
        "probe_while_pdfs_render_ms": spread([x * 1000 for x in rendering]),
        "probe_ratio_median": round(statistics.median(rendering) / statistics.median(quiet), 2)
        if rendering
        else None,
        "probe_ratio_p95": round(percentile(rendering, 95) / percentile(quiet, 95), 2) if rendering else None,
    }


async def _stages(database_url: str, case_ids: list[str]) -> dict[str, Any]:
    """Where the time goes, on the database's clock, from the decision's transaction: its
    consolidation job handed to arq, that job started, and then the draft's PDF stored."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM o.enqueued_at - d.decided_at)::float8 AS enqueued,"
            "       extract(epoch FROM cp.generated_at - d.decided_at)::float8 AS job_started,"
            "       extract(epoch FROM p.rendered_at - cp.generated_at)::float8 AS pdf_stored"
            " FROM care_plan cp"
            " JOIN board_decision d ON d.id = cp.decision_id"
            " JOIN care_plan_pdf p ON p.care_plan_id = cp.id"
            " JOIN outbox o ON o.subject_id = cp.case_id AND o.job = 'consolidate_care_plan'"
            " WHERE cp.case_id = ANY($1::uuid[])",
            case_ids,
        )
    finally:
        await conn.close()
    return {
        "consolidation_job_enqueued_after_s": spread([row["enqueued"] for row in rows]),
        "consolidation_job_started_after_s": spread([row["job_started"] for row in rows]),
        "pdf_stored_after_draft_s": spread([row["pdf_stored"] for row in rows]),
    }


def _render_cost(database_url: str, case_ids: list[str], count: int = 20) -> dict[str, Any]:
    """CPU seconds per PDF: `count` of the burst's versions rendered again here, one at a time, after
    one render that loads the fonts and templates (as a worker's first PDF does)."""
    import asyncpg

    from tumorboard.care_plans.documents import render_pdf
    from tumorboard.care_plans.versions import document_from_row

    async def load() -> list[Any]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT id, version, status, generated_at, content FROM care_plan"
                " WHERE case_id = ANY($1::uuid[]) ORDER BY case_id LIMIT $2",
                case_ids,
                count + 1,
            )
        finally:
            await conn.close()
        return [document_from_row({**row, "content": json.loads(row["content"])}) for row in rows]

    first, *documents = asyncio.run(load())
    render_pdf(first)
    costs, pages = [], []
    for document in documents:
        started = time.process_time()
        pdf = render_pdf(document)
        costs.append(time.process_time() - started)
        pages.append(len(re.findall(rb"/Type\s*/Page(?!s)", pdf)))
    return {"cpu_s_per_pdf": spread(costs), "pages": sorted(set(pages)), "engine": "typst (in process)"}


# --- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, arrange, measure the burst, stop everything; return the results."""
    log_dir = RESULTS_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    load_average = [round(x, 2) for x in os.getloadavg()]
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tumorboard-bench-")))
        database_url, redis_url = stack.enter_context(services(data_dir))
        people = asyncio.run(_prepare(database_url))
        children = Children(log_dir, prefix="care_plans-")
        stack.callback(children.stop_all)
        rss = stack.enter_context(RssSampler({}))
        base_url = _start(args, children, database_url, redis_url, rss)

        async def measure() -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60) as client:
                case_ids = await _arrange(client, people, args.workers + args.cases)
                await _warm_up(client, database_url, people, case_ids[: args.workers])
            await _wait_quiet(database_url)
            port = urlsplit(base_url).port or 80
            burst = case_ids[args.workers :]
            return {**await _burst(port, database_url, people, burst, args.probes), "case_ids": burst}

        figures = asyncio.run(measure())
        children.check_alive()
        figures["pdf_render"] = _render_cost(database_url, figures.pop("case_ids"))
        figures["memory"] = rss.peaks_mb()  # arrangement, warm-up and burst, while all still run
    peak = max(part["peak_mb"] or 0.0 for part in figures["memory"].values())
    return {
        "command": "python -m bench.care_plans " + " ".join(sys.argv[1:]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": args.cases,
        "worker_processes": args.workers,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": load_average,
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        **figures,
        "targets_s": TARGETS_SECONDS,
        "max_rss_mb": MAX_RSS_MB,
        "meets_targets": {
            "html_median": figures["html_ready_s"]["median"] <= TARGETS_SECONDS["html_median"],
            "pdf_median": figures["pdf_ready_s"]["median"] <= TARGETS_SECONDS["pdf_median"],
            "peak_rss": peak < MAX_RSS_MB,
        },
    }


def _print(results: dict[str, Any]) -> None:
    print(
        f"\n{results['cases']} cases consolidating at once, {results['worker_processes']} worker process(es),"
        f" {results['machine']['cpus']} CPUs"
    )
    for key, label in (
        ("html_ready_s", "decision -> HTML ready"),
        ("pdf_ready_s", "decision -> PDF ready"),
    ):
        spread = results[key]
        print(
            f"  {label:36} median {spread['median']:.3f} s  p95 {spread['p95']:.3f} s"
            f"  max {spread['max']:.3f} s"
        )
    idle, busy = results["probe_idle_ms"], results["probe_while_pdfs_render_ms"]
    consolidating = results["probe_while_consolidating_ms"]
    for label, spread in (
        ("idle", idle),
        ("while consolidating", consolidating),
        ("while PDFs render", busy),
    ):
        if spread["n"]:
            print(
                f"  GET /health/live {label:19} median {spread['median']:.2f} ms  p95 {spread['p95']:.2f} ms"
            )
    print(
        f"  probe latency while PDFs render / idle: {results['probe_ratio_median']} (median),"
        f" {results['probe_ratio_p95']} (p95)"
    )
    render = results["pdf_render"]
    print(
        f"  one PDF ({render['engine']}, {'/'.join(map(str, render['pages']))} pages):"
        f" median {render['cpu_s_per_pdf']['median']:.3f} CPU-s, max {render['cpu_s_per_pdf']['max']:.3f}"
    )
    cpus = results["machine"]["cpus"] or 1
    for stage in ("html", "pdfs"):
        capacity = results[f"all_{stage}_ready_after_s"] * cpus
        used = results[f"cpu_seconds_until_all_{stage}_ready"]
        service = sum(used.get(part, 0.0) for part in SERVICE_PARTS)
        print(f"  CPU seconds used until every {stage.rstrip('s').upper()} was ready (of {capacity:.1f}):")
        print("    " + ", ".join(f"{k} {v}" for k, v in used.items()))
        print(
            f"    the service's share: {service:.2f} CPU-s, {service / cpus:.2f} s of {cpus} CPUs"
            f" had it had them alone ({service / max(capacity, 1e-9):.0%} of what the machine gave)"
        )
    print(
        "  peak RSS (sampled every 0.1 s from start; kernel high-water mark): "
        + ", ".join(
            f"{name} {part['peak_rss_mb']} MB ({part['vmhwm_mb']} MB)"
            for name, part in results["memory"].items()
        )
        + f"; target < {MAX_RSS_MB} MB each"
    )
    print(f"  targets: {results['targets_s']}  met: {results['meets_targets']}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run, print, write the JSON results."""
    args = _parser().parse_args(argv)
    try:
        results = run(args)
    except BenchError as error:
        print(f"bench.care_plans: {error}", file=sys.stderr)
        return 2
    _print(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"  written to {args.output}")
    return 1 if args.check and not all(results["meets_targets"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
