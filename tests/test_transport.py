"""Transport and caching: no-store on every API response, HSTS and Secure cookies when published over
HTTPS, STARTTLS that verifies the mail server, links from TUMORBOARD_PUBLIC_URL (never the Host header),
and validation that refuses a trailing newline."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.browser.support import page_client
from tests.factories import Factory
from tests.isolated_stack import isolated_stack
from tumorboard.embedded import free_port
from tumorboard.notifications.email import deliver
from tumorboard.settings import Settings


async def test_every_api_response_is_no_store(api: Factory) -> None:
    presenter = await api.user("presenter")
    case = await api.case(presenter)
    for response in (
        await api.client.get(f"/cases/{case['id']}", headers=presenter.headers),
        await api.client.get("/cases", headers=presenter.headers),
        await api.client.get("/cases/00000000-0000-0000-0000-000000000000", headers=presenter.headers),
        await api.client.get("/cases"),
        await api.client.post("/cases", json={"patient": {}}, headers=presenter.headers),
        await api.client.get("/no-such-route"),
        await api.client.get("/schema/openapi.json"),
    ):
        assert response.headers["cache-control"] == "no-store", (response.request.url, response.status_code)
    assert "strict-transport-security" not in response.headers  # plain HTTP here: no HSTS


async def test_published_over_https_cookies_are_secure_and_hsts_is_sent(
    service_urls: tuple[str, str], tmp_path: Path
) -> None:
    async with isolated_stack(
        service_urls, tmp_path, TUMORBOARD_PUBLIC_URL="https://tumorboard.hospital.example"
    ) as stack:
        user = await stack.api.user("presenter")
        site = str(stack.api.client.base_url.copy_with(path="/")).rstrip("/")
        async with page_client(site) as browser:
            response = await browser.sign_in(user)
            assert response.status_code == 303
            cookies = response.headers.get_list("set-cookie")
            session = [c for c in cookies if c.startswith("__Host-tumorboard_session=")]
            assert session and "Secure" in session[0] and "HttpOnly" in session[0]
            assert "Path=/" in session[0] and "Domain" not in session[0]
            assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        async with httpx.AsyncClient(base_url=site) as fresh:
            login = await fresh.get("/")
            assert "Secure" in login.headers["set-cookie"]  # the CSRF cookie too
            assert login.headers["strict-transport-security"]


async def test_calendar_feed_links_come_from_the_public_url_not_the_host_header(
    service_urls: tuple[str, str], tmp_path: Path
) -> None:
    public = "https://tumorboard.hospital.example"
    async with isolated_stack(service_urls, tmp_path, TUMORBOARD_PUBLIC_URL=public) as stack:
        user = await stack.api.user("reviewer", discipline="pathology")
        response = await stack.api.client.post(
            "/me/calendar-feed",
            headers={**user.headers, "Host": "attacker.example", "X-Forwarded-Host": "x.example"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["url"].startswith(f"{public}/api/v1/calendar/")


async def test_a_trailing_newline_is_refused(api: Factory) -> None:
    """`$` also matches before a final newline; the patterns end in \\Z, so "x\\n" is refused."""
    admin, coordinator = await api.user("admin"), await api.user("coordinator")
    user = {
        "email": "someone@example.org\n",
        "full_name": "Dr. Newline",
        "password": "a long enough password",
    }
    response = await api.client.post("/users", json={**user, "roles": ["presenter"]}, headers=admin.headers)
    assert response.status_code == 400 and response.json()["extra"][0]["key"] == "email"
    board = await api.board(coordinator)
    meeting = {
        "board_id": board["id"],
        "starts_at": "2099-01-01T08:00:00Z",
        "video_url": "https://meet.example/x\n",
    }
    response = await api.client.post("/meetings", json=meeting, headers=coordinator.headers)
    assert response.status_code == 400 and response.json()["extra"][0]["key"] == "video_url"


# ---------------------------------------------------------------------------------------------------------
# STARTTLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` (and only that name), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Mailbox(Message):
    """Keeps what arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def handle_message(self, message: object) -> None:
        self.messages.append(message)


@pytest.fixture
def tls_smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 that requires STARTTLS with the certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    yield mailbox, port
    controller.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = (
        "Care plan ready",
        "tb@hospital.example",
        "dr@hospital.example",
    )
    message.set_content("A care plan is ready.")
    return message


async def test_starttls_verifies_the_certificate_and_the_host_name(
    tls_smtp: tuple[Mailbox, int], certificate: tuple[Path, Path]
) -> None:
    mailbox, port = tls_smtp
    settings = replace(Settings(), smtp_port=port, smtp_starttls=True, smtp_from="tb@hospital.example")
    trusted = replace(settings, smtp_host="localhost", smtp_ca_file=str(certificate[0]))
    await asyncio.to_thread(deliver, _message(), trusted)
    assert len(mailbox.messages) == 1
    # A certificate nobody vouches for, or one for another name, stops the message before it is sent.
    for refused in (
        replace(settings, smtp_host="localhost"),
        replace(settings, smtp_host="127.0.0.1", smtp_ca_file=str(certificate[0])),
    ):
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.to_thread(deliver, _message(), refused)
    assert len(mailbox.messages) == 1
