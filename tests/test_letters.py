"""The letter to the referring clinician: one per signed version, kept in PostgreSQL, downloadable
by those who may see the case (audited), emailed once as a link without patient data; the referrer
named on the submission form and shown on the case page with when the letter went out."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pypdf import PdfReader

from tests.browser.support import field_error, page_client, text_of
from tests.care_plan_helpers import consolidate, discussed_case
from tests.factories import Factory, eventually
from tests.isolated_stack import isolated_stack
from tests.test_fhir_import import full_body, signed_case
from tests.test_notifications import Mailbox, _smtp_settings, smtp_server  # noqa: F401 (fixture)
from tests.test_pages_cases import case_form
from tumorboard.letters.service import send_letter, write_letter
from tumorboard.settings import Settings

REFERRER = {
    "name": "Dr. Rita Moreau",
    "organisation": "Clinique du Parc",
    "email": "rita.moreau@parc.example",
}


async def care_plan_id(pool: asyncpg.Pool, case_id: str) -> Any:
    return await pool.fetchval("SELECT id FROM care_plan WHERE case_id = $1 AND status = 'final'", case_id)


async def written(pool: asyncpg.Pool, case_id: str) -> Any:
    async with pool.acquire() as conn:
        return await write_letter(conn, await care_plan_id(pool, case_id))


def pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


async def test_a_signed_version_gets_one_letter_with_the_decision_and_next_steps(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team, full_body())
    letter_id = await written(pool, case["id"])
    assert letter_id is not None and await written(pool, case["id"]) == letter_id  # a second run adds nothing
    row = await pool.fetchrow("SELECT * FROM referrer_letter WHERE case_id = $1", case["id"])
    assert row["id"] == letter_id and row["version"] == 1 and row["sent_at"] is None
    assert (row["recipient_name"], row["recipient_organisation"], row["recipient_email"]) == tuple(
        REFERRER.values()
    )
    text = pdf_text(row["pdf"])
    for expected in (
        "Dr. Rita Moreau",
        "Clinique du Parc",
        "Dear Dr. Rita Moreau",
        f"Ada {case['patient']['family_name']}",
        "Neoadjuvant therapy before surgery?",
        "Curative intent. Neoadjuvant chemotherapy, then surgery, then radiotherapy.",
        "Systemic therapy",
        "Radiotherapy",
        "Clinical trial: eligible (NCT04567890).",
        f"{team.presenter.full_name}, who presented your patient",
        team.chair.full_name,
    ):
        assert expected in text, expected
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'write_letter' AND subject_id = $1", case["id"]
        )
        == 1
    )


async def test_the_email_is_a_link_without_patient_data_and_goes_once(
    api: Factory,
    pool: asyncpg.Pool,
    smtp_server: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp_server
    team = await api.team()
    case = await signed_case(api, pool, team, full_body())
    letter_id = await written(pool, case["id"])
    settings = _smtp_settings(port)
    async with pool.acquire() as conn, conn.transaction():
        assert await send_letter(conn, letter_id, settings)
    async with pool.acquire() as conn, conn.transaction():
        assert not await send_letter(conn, letter_id, settings)
    (message,) = mailbox.messages
    assert message["To"] == REFERRER["email"]
    assert message["Subject"] == f"Tumor board outcome ready: case {case['id'][:8]}"
    assert message["Message-ID"].strip() == f"<referrer-letter-{letter_id}@hospital.example>"
    link = f"https://tumorboard.hospital.example/api/v1/cases/{case['id']}/letters/1.pdf"
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert link in text and link in html
    assert list(message.iter_attachments()) == []  # the letter itself stays behind sign-in
    patient = case["patient"]
    for identifier in (
        patient["mrn"],
        patient["family_name"],
        patient["given_name"],
        patient["birth_date"],
        "C50",
        "breast",
    ):
        for part in (text, html, message["Subject"]):
            # Ids are hex: a random one may hold a name's letters ("ada"), so they are left out.
            assert identifier.lower() not in _without_ids(part).lower(), identifier
    assert await pool.fetchval("SELECT sent_at IS NOT NULL FROM referrer_letter WHERE id = $1", letter_id)


async def test_no_letter_without_a_referrer_and_no_email_without_an_address_or_smtp(
    api: Factory,
    pool: asyncpg.Pool,
    smtp_server: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp_server
    team = await api.team()
    anonymous = await signed_case(api, pool, team, full_body(referrer=None))
    assert await written(pool, anonymous["id"]) is None
    assert await pool.fetchval("SELECT count(*) FROM referrer_letter") == 0

    no_address = await signed_case(api, pool, team, full_body(referrer={"name": "Dr. Paul Petit"}))
    letter_id = await written(pool, no_address["id"])
    async with pool.acquire() as conn, conn.transaction():
        assert not await send_letter(conn, letter_id, _smtp_settings(port))
        assert not await send_letter(conn, letter_id, Settings())
    assert mailbox.messages == []
    assert await pool.fetchval("SELECT sent_at FROM referrer_letter WHERE id = $1", letter_id) is None


async def test_letters_are_listed_and_downloaded_by_those_who_see_the_case(
    api: Factory, pool: asyncpg.Pool
) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team, full_body())
    letter_id = await written(pool, case["id"])
    (letter,) = await api.ok(
        api.client.get(f"/cases/{case['id']}/letters", headers=team.presenter.headers), 200
    )
    assert letter["id"] == str(letter_id) and letter["version"] == 1 and letter["sent_at"] is None
    assert (
        letter["recipient"] == REFERRER and letter["download"] == f"/api/v1/cases/{case['id']}/letters/1.pdf"
    )

    for reader in (team.presenter, team.chair, team.coordinator):
        response = await api.client.get(f"/cases/{case['id']}/letters/1.pdf", headers=reader.headers)
        assert response.status_code == 200 and response.content.startswith(b"%PDF-")
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["cache-control"] == "no-store"
    reads = await pool.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE action = 'read' AND subject_type = 'referrer_letter' AND subject_id = $1",
        letter_id,
    )
    assert reads == 3

    stranger = await api.user("presenter", discipline="medical_oncology")
    for path in ("letters", "letters/1.pdf"):
        refused = await api.client.get(f"/cases/{case['id']}/{path}", headers=stranger.headers)
        assert refused.status_code == 403 and "Moreau" not in refused.text
    for path in ("letters/2.pdf", "letters/1.html", "letters/0.pdf"):
        missing = await api.client.get(f"/cases/{case['id']}/{path}", headers=team.presenter.headers)
        assert missing.status_code == 404


async def test_the_database_keeps_a_letter_as_written(api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team, full_body())
    letter_id = await written(pool, case["id"])
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute(
            "UPDATE referrer_letter SET recipient_name = 'Someone else' WHERE id = $1", letter_id
        )
    await pool.execute("UPDATE referrer_letter SET sent_at = now() WHERE id = $1", letter_id)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute(
            "UPDATE referrer_letter SET sent_at = now() + interval '1 day' WHERE id = $1", letter_id
        )
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await pool.execute("DELETE FROM referrer_letter WHERE id = $1", letter_id)
    copy_of = (
        "INSERT INTO referrer_letter (care_plan_id, case_id, version, recipient_name, pdf)"
        " SELECT $2, case_id, version, recipient_name, pdf FROM referrer_letter WHERE id = $1"
    )
    with pytest.raises(asyncpg.UniqueViolationError):  # one letter per signed version
        await pool.execute(copy_of, letter_id, await care_plan_id(pool, case["id"]))
    discussed, _ = await discussed_case(api, team)
    await consolidate(pool, discussed["id"])
    draft = await pool.fetchval("SELECT id FROM care_plan WHERE case_id = $1", discussed["id"])
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):  # a draft has no letter
        await pool.execute(copy_of, letter_id, draft)


async def test_the_form_names_the_referrer_and_the_case_page_shows_the_letter(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology")
    async with page_client(server, presenter) as browser:
        refused = await browser.post(
            "/cases/new", case_form(**{"referrer.name": "", "referrer.email": "rita@parc"})
        )
        assert refused.status_code == 400
        assert field_error(refused, "referrer.name") and field_error(refused, "referrer.email")
        assert 'value="rita@parc"' in refused.text
        form = case_form(**{f"referrer.{k}": v for k, v in REFERRER.items()}, idempotency_key="referrer-form")
        created = await browser.post("/cases/new", form)
        assert created.status_code == 303, text_of(created)
        shown = await browser.get(created.headers["location"])
    text = text_of(shown)
    assert (
        "Referring clinician Name Dr. Rita Moreau Organisation Clinique du Parc"
        " Email rita.moreau@parc.example" in text
    )
    assert "A letter with the board's decision is written to them once the care plan is signed." in text
    stored = await pool.fetchval("SELECT referrer FROM patient_case ORDER BY created_at DESC LIMIT 1")
    assert stored == REFERRER


@pytest.mark.slow
async def test_on_signing_a_worker_writes_the_letter_and_emails_the_referrer(
    service_urls: tuple[str, str],
    tmp_path: Path,
    smtp_server: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp_server
    smtp = {
        "TUMORBOARD_SMTP_HOST": "127.0.0.1",
        "TUMORBOARD_SMTP_PORT": str(port),
        "TUMORBOARD_SMTP_STARTTLS": "0",
        "TUMORBOARD_SMTP_FROM": "tumorboard@hospital.example",
        "TUMORBOARD_PUBLIC_URL": "https://tumorboard.hospital.example/",
    }
    web = {k: v for k, v in smtp.items() if k != "TUMORBOARD_PUBLIC_URL"}  # https would make cookies Secure
    async with isolated_stack(service_urls, tmp_path, **web) as stack:
        stack.start_worker(**smtp)
        api = stack.api
        team = await api.team()
        case = await signed_case(api, api.pool, team, full_body())

        async def emailed() -> Any:
            received = [m for m in mailbox.messages if m["To"] == REFERRER["email"]]
            sent = await api.pool.fetchval(
                "SELECT sent_at FROM referrer_letter WHERE case_id = $1", case["id"]
            )
            return received if received and sent else None

        (message,) = await eventually(emailed, within=60)
        assert f"/api/v1/cases/{case['id']}/letters/1.pdf" in message.get_body(("plain",)).get_content()
        (letter,) = await api.ok(
            api.client.get(f"/cases/{case['id']}/letters", headers=team.presenter.headers), 200
        )
        assert letter["sent_at"] is not None
        server = str(api.client.base_url).rstrip("/").removesuffix("/api/v1")
        async with page_client(server, team.presenter) as browser:
            shown = await browser.get(f"/cases/{case['id']}")
            assert shown.status_code == 200, (shown.status_code, shown.headers.get("location"))
            page = text_of(shown)
        assert (
            "Letter for version 1, written" in page
            and "emailed" in page
            and "Download the letter (PDF)" in page
        )
        assert "Letter to the referring clinician emailed" in page


def _without_ids(text: str) -> str:
    """The text with its UUIDs and their 8-digit prefixes taken out."""
    return re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|\b[0-9a-f]{8}\b", "", text)
