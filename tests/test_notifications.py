"""Notifications: the inbox tells presenters (and chairs) a care plan is ready; emails carry no
patient data and go out once, through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.care_plan_helpers import consolidate, discussed_case, revise, sign
from tests.factories import Actor, Factory, eventually
from tests.isolated_stack import isolated_stack
from tumorboard.embedded import free_port
from tumorboard.notifications.email import send_notification_email
from tumorboard.settings import Settings


class Mailbox(Message):
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        super().__init__(message_class=EmailMessage)
        self.messages: list[EmailMessage] = []

    def handle_message(self, message: EmailMessage) -> None:  # type: ignore[override]
        self.messages.append(message_from_bytes(message.as_bytes(), policy=policy.default))  # type: ignore[arg-type]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A local SMTP server; yields its mailbox and port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def _smtp_settings(port: int) -> Settings:
    return replace(
        Settings(),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from="tumorboard@hospital.example",
        public_url="https://tumorboard.hospital.example",
    )


async def _inbox(api: Factory, actor: object, query: str = "") -> dict:
    return await api.ok(api.client.get(f"/me/notifications{query}", headers=actor.headers), 200)  # type: ignore[attr-defined]


async def test_presenter_and_chair_hear_of_a_draft_and_presenter_of_the_signed_plan(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case, recommendations = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    await consolidate(pool, case["id"])  # a repeated job adds nothing

    inbox = await _inbox(api, team.presenter)
    (draft,) = inbox["items"]
    assert inbox["unread_count"] == 1 and inbox["next_cursor"] is None
    assert (draft["kind"], draft["case_id"], draft["version"], draft["read_at"]) == (
        "care_plan_draft",
        case["id"],
        1,
        None,
    )
    assert draft["title"] == "Care plan draft ready (version 1)"
    assert draft["link"] == f"/api/v1/cases/{case['id']}/care-plans/1.html"
    assert case["patient"]["family_name"] not in str(draft)
    assert [n["kind"] for n in (await _inbox(api, team.chair))["items"]] == ["care_plan_draft"]
    assert (await _inbox(api, team.surgeon))["items"] == []

    await revise(api, team.surgeon, recommendations[1]["id"], 1, modalities=["surgery"])
    await consolidate(pool, case["id"])
    await sign(api, team.chair, case["id"])
    kinds = [(n["kind"], n["version"]) for n in (await _inbox(api, team.presenter))["items"]]
    assert kinds == [("care_plan_final", 2), ("care_plan_draft", 2), ("care_plan_draft", 1)]
    assert [n["kind"] for n in (await _inbox(api, team.chair))["items"]] == ["care_plan_draft"] * 2
    # Without TUMORBOARD_SMTP_HOST (as in these processes) no email job is written.
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE job = 'send_notification_email'") == 0


async def test_notifications_are_marked_read_by_their_owner_only(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    (mine,) = (await _inbox(api, team.presenter))["items"]

    other = await api.client.post(f"/me/notifications/{mine['id']}/read", headers=team.chair.headers)
    assert other.status_code == 404
    read = await api.ok(
        api.client.post(f"/me/notifications/{mine['id']}/read", headers=team.presenter.headers), 200
    )
    assert read["read_at"] is not None
    again = await api.ok(
        api.client.post(f"/me/notifications/{mine['id']}/read", headers=team.presenter.headers), 200
    )
    assert again["read_at"] == read["read_at"]
    assert (await _inbox(api, team.presenter, "?unread=true"))["items"] == []
    assert (await _inbox(api, team.presenter))["unread_count"] == 0

    marked = await api.ok(api.client.post("/me/notifications/read-all", headers=team.chair.headers), 200)
    assert marked == {"marked": 1}
    assert (await _inbox(api, team.chair))["unread_count"] == 0
    assert (await api.client.get("/me/notifications")).status_code == 401


async def test_inbox_pages_newest_first(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    for _ in range(3):
        case, _ = await discussed_case(api, team)
        await consolidate(pool, case["id"])
    first = await _inbox(api, team.presenter, "?limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await _inbox(api, team.presenter, f"?limit=2&cursor={first['next_cursor']}")
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    stamps = [n["created_at"] for n in first["items"] + rest["items"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_email_carries_a_link_and_no_patient_data_and_goes_once(
    api: Factory, pool: asyncpg.Pool, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    notification_id = await pool.fetchval("SELECT id FROM notification WHERE user_id = $1", team.presenter.id)
    settings = _smtp_settings(port)

    async with pool.acquire() as conn, conn.transaction():
        assert await send_notification_email(conn, notification_id, settings)
    async with pool.acquire() as conn, conn.transaction():
        assert not await send_notification_email(conn, notification_id, settings)

    (message,) = mailbox.messages
    assert message["To"] == team.presenter.email
    assert message["From"] == "tumorboard@hospital.example"
    assert message["Subject"] == f"Care plan draft ready (version 1): case {case['id'][:8]}"
    assert message["Message-ID"].strip() == f"<notification-{notification_id}@hospital.example>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://tumorboard.hospital.example/api/v1/cases/{case['id']}/care-plans/1.html"
    assert link in text and link in html
    patient = case["patient"]
    for identifier in (patient["mrn"], patient["family_name"], patient["birth_date"], "breast", "C50"):
        for part in (text, html, message["Subject"]):
            assert identifier.lower() not in part.lower()
    assert await pool.fetchval(
        "SELECT emailed_at IS NOT NULL FROM notification WHERE id = $1", notification_id
    )


async def test_no_email_without_smtp(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])
    notification_id = await pool.fetchval("SELECT id FROM notification WHERE user_id = $1", team.presenter.id)
    async with pool.acquire() as conn, conn.transaction():
        assert not await send_notification_email(conn, notification_id, Settings())
    assert await pool.fetchval("SELECT emailed_at IS NULL FROM notification WHERE id = $1", notification_id)


@pytest.mark.slow
async def test_workers_email_the_draft_and_the_signed_plan(
    service_urls: tuple[str, str], tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    smtp = {
        "TUMORBOARD_SMTP_HOST": "127.0.0.1",
        "TUMORBOARD_SMTP_PORT": str(port),
        "TUMORBOARD_SMTP_STARTTLS": "0",
        "TUMORBOARD_SMTP_FROM": "tumorboard@hospital.example",
        "TUMORBOARD_PUBLIC_URL": "https://tumorboard.hospital.example/",
    }
    async with isolated_stack(service_urls, tmp_path, **smtp) as stack:
        stack.start_worker(**smtp)
        api = stack.api
        team = await api.team()
        case, _ = await discussed_case(api, team)

        async def delivered_to(actor: Actor, count: int) -> list[EmailMessage] | None:
            received = [m for m in mailbox.messages if m["To"] == actor.email]
            return received if len(received) == count else None

        (draft,) = await eventually(lambda: delivered_to(team.presenter, 1))
        assert draft["Subject"].startswith("Care plan draft ready (version 1)")
        link = f"https://tumorboard.hospital.example/api/v1/cases/{case['id']}/care-plans/1.html"
        assert link in draft.get_body(("plain",)).get_content()
        assert case["patient"]["mrn"] not in draft.as_string()
        await eventually(lambda: delivered_to(team.chair, 1))

        await sign(api, team.chair, case["id"])
        final = (await eventually(lambda: delivered_to(team.presenter, 2)))[1]
        assert final["Subject"].startswith("Signed care plan ready (version 1)")

        async def emailed() -> int | None:
            # The job records emailed_at when its transaction commits, just after the SMTP hand-off.
            count: int = await api.pool.fetchval(
                "SELECT count(*) FROM notification n JOIN care_plan cp ON cp.id = n.care_plan_id"
                " WHERE cp.case_id = $1 AND n.emailed_at IS NOT NULL",
                case["id"],
            )
            return count if count == 3 else None

        assert await eventually(emailed) == 3 and len(mailbox.messages) == 3  # presenter twice, chair once
