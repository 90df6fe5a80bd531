"""An audit trail one can investigate with: where each request came from, what was served, the refusals
(403, 409, CSRF, sign-in), and GET /audit for admins (paginated, CSV, itself audited)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from tests.browser.support import page_client
from tests.factories import Actor, Factory, eventually
from tests.isolated_stack import isolated_stack

AGENT = "AuditTest/1.0 (investigation)"


async def events(pool: asyncpg.Pool, **where: Any) -> list[asyncpg.Record]:
    """Audit rows matching column = value filters, oldest first."""
    clauses = " AND ".join(f"{column} = ${index}" for index, column in enumerate(where, start=1))
    return await pool.fetch(
        f"SELECT *, host(source_address) AS address FROM audit_event WHERE {clauses} ORDER BY id",  # noqa: S608
        *where.values(),
    )


async def token_id(pool: asyncpg.Pool, actor: Actor) -> uuid.UUID:
    return await pool.fetchval("SELECT id FROM access_token WHERE user_id = $1", actor.id)


async def test_each_row_says_where_the_request_came_from_and_what_was_served(
    server: str, api: Factory
) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    headers = {**presenter.headers, "User-Agent": AGENT}
    assert (await api.client.get(f"/cases/{case['id']}", headers=headers)).status_code == 200
    [read] = await events(api.pool, actor_id=presenter.id, action="read", subject_id=uuid.UUID(case["id"]))
    assert read["address"] == "127.0.0.1" and read["user_agent"] == AGENT
    assert read["credential_id"] == await token_id(api.pool, presenter)
    assert read["format"] == "json"
    [created] = await events(
        api.pool, actor_id=presenter.id, action="create", subject_id=uuid.UUID(case["id"])
    )
    assert created["address"] == "127.0.0.1" and created["credential_id"] is not None
    async with page_client(server, presenter) as browser:
        assert (await browser.get(f"/cases/{case['id']}", headers={"User-Agent": AGENT})).status_code == 200
    page_reads = await events(
        api.pool, actor_id=presenter.id, action="read", subject_id=uuid.UUID(case["id"]), format="html"
    )
    assert page_reads and page_reads[-1]["user_agent"] == AGENT
    session = await api.pool.fetchval(
        "SELECT id FROM access_token WHERE user_id = $1 AND kind = 'session'", presenter.id
    )
    assert page_reads[-1]["credential_id"] == session


async def test_sign_in_and_sign_out_name_the_session(server: str, api: Factory) -> None:
    user = await api.user("coordinator")
    async with page_client(server, user) as browser:
        session = await api.pool.fetchval(
            "SELECT id FROM access_token WHERE user_id = $1 AND kind = 'session'", user.id
        )
        assert (await browser.post("/logout")).status_code == 303
    signed_in = await events(api.pool, actor_id=user.id, action="sign_in")
    signed_out = await events(api.pool, actor_id=user.id, action="sign_out")
    assert signed_in[-1]["credential_id"] == session and signed_in[-1]["outcome"] == "allowed"
    assert signed_out[-1]["credential_id"] == session and signed_out[-1]["format"] == "html"


async def test_conflicts_and_forbidden_requests_are_recorded(api: Factory) -> None:
    presenter, stranger = await api.user("presenter"), await api.user("presenter")
    case = await api.case(presenter)
    path = f"/cases/{case['id']}/withdraw"
    assert (await api.client.post(path, headers=presenter.headers)).status_code == 200
    assert (await api.client.post(path, headers=presenter.headers)).status_code == 409
    [conflict] = await events(api.pool, actor_id=presenter.id, outcome="denied", status_code=409)
    assert conflict["subject_id"] == uuid.UUID(case["id"]) and conflict["action"] == "WithdrawCase"
    assert conflict["address"] == "127.0.0.1"
    assert (await api.client.get(f"/cases/{case['id']}", headers=stranger.headers)).status_code == 403
    [denied] = await events(api.pool, actor_id=stranger.id, outcome="denied")
    assert denied["status_code"] == 403 and denied["subject_id"] == uuid.UUID(case["id"])


async def test_a_form_without_its_csrf_token_is_recorded(server: str, api: Factory) -> None:
    coordinator = await api.user("coordinator")
    before = await api.pool.fetchval("SELECT coalesce(max(id), 0) FROM audit_event")
    async with page_client(server, coordinator) as browser:
        refused = await browser.post("/boards", {"name": "Sneaky board"}, csrf=False)
        assert refused.status_code == 403

    async def recorded() -> asyncpg.Record | None:  # written just after the answer was sent
        return await api.pool.fetchrow(
            "SELECT action, outcome, status_code, host(source_address) AS address FROM audit_event"
            " WHERE id > $1 AND action = 'csrf_check'",
            before,
        )

    row = await eventually(recorded, within=5)
    assert row["outcome"] == "denied" and row["status_code"] == 403
    assert row["address"] == "127.0.0.1"


async def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(
    api: Factory, service_urls: tuple[str, str], tmp_path: Path
) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    forwarded = {**presenter.headers, "X-Forwarded-For": "203.0.113.7"}
    await api.client.get(f"/cases/{case['id']}", headers=forwarded)
    [untrusted] = await events(api.pool, actor_id=presenter.id, action="read")
    assert untrusted["address"] == "127.0.0.1"  # anyone can send the header: ignored by default
    trusted = {"TUMORBOARD_TRUST_PROXY_HEADERS": "1", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    async with isolated_stack(service_urls, tmp_path, **trusted) as stack:
        behind = await stack.api.user("presenter")
        their_case = await stack.api.case(behind)
        await stack.api.client.get(
            f"/cases/{their_case['id']}", headers={**behind.headers, "X-Forwarded-For": "203.0.113.7"}
        )
        [read] = await events(stack.api.pool, actor_id=behind.id, action="read")
        assert read["address"] == "203.0.113.7"


async def audit(api: Factory, admin: Actor, **params: Any) -> Any:
    return await api.ok(api.client.get("/audit", params=params, headers=admin.headers), 200)


async def test_admins_search_the_trail_by_actor_subject_and_time(api: Factory) -> None:
    admin, presenter = await api.user("admin"), await api.user("presenter")
    case = await api.case(presenter)
    for _ in range(3):
        await api.client.get(f"/cases/{case['id']}", headers=presenter.headers)
    by_subject = await audit(api, admin, subject=case["id"])
    assert [e["action"] for e in by_subject["items"]] == ["read", "read", "read", "create"]  # newest first
    first = by_subject["items"][0]
    assert first["actor_id"] == str(presenter.id) and first["actor_email"] == presenter.email
    assert first["source_address"] == "127.0.0.1" and first["format"] == "json" and first["credential_id"]
    by_actor = await audit(api, admin, actor=str(presenter.id), limit=2)
    assert len(by_actor["items"]) == 2 and by_actor["next_cursor"]
    rest = await audit(api, admin, actor=str(presenter.id), limit=2, cursor=by_actor["next_cursor"])
    seen = [e["id"] for e in by_actor["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) and seen == sorted(seen, reverse=True)
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert (await audit(api, admin, subject=case["id"], **{"from": later}))["items"] == []
    # Each search is itself in the trail, under the record searched for: who looked at this case's trail.
    until_later = await audit(api, admin, subject=case["id"], to=later)
    assert [e["action"] for e in until_later["items"]] == [
        "search",
        "search",
        "read",
        "read",
        "read",
        "create",
    ]
    searches = await events(api.pool, actor_id=admin.id, action="search", subject_type="audit")
    assert len(searches) == 5 and searches[0]["subject_id"] == uuid.UUID(case["id"])


async def test_the_trail_exports_as_csv(api: Factory) -> None:
    admin, presenter = await api.user("admin"), await api.user("presenter")
    case = await api.case(presenter)
    response = await api.client.get(
        "/audit", params={"subject": case["id"]}, headers={**admin.headers, "Accept": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["action"] for row in rows] == ["create"]
    assert rows[0]["actor_email"] == presenter.email and rows[0]["source_address"] == "127.0.0.1"
    [search] = await events(api.pool, actor_id=admin.id, action="search")
    assert search["format"] == "csv"


async def test_only_admins_read_the_trail(api: Factory) -> None:
    for roles in (("coordinator",), ("presenter",), ("reviewer",)):
        actor = await api.user(*roles, discipline="pathology" if "reviewer" in roles else None)
        response = await api.client.get("/audit", headers=actor.headers)
        assert response.status_code == 403
        [denied] = await events(api.pool, actor_id=actor.id, action="search")
        assert denied["outcome"] == "denied"
    assert (await api.client.get("/audit")).status_code == 401
