"""Letters to the referring clinician: written once per signed version, kept, listed, downloaded, emailed.

A worker writes the letter when a version is signed (job `send_referrer_letter`): it typesets the PDF
with Typst in its rendering thread (docs/documents.md) and keeps it in PostgreSQL (one row per care
plan version, so a second run adds nothing), then emails the referrer a link when SMTP is configured
and an address was given. The email carries no patient data (see docs/interoperability.md); `sent_at`
records when it went out, which the board's quality report uses to count the days from decision to
letter.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from uuid import UUID

import asyncpg
import jinja2
import msgspec

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.care_plans.schemas import PlanReferrer
from tumorboard.care_plans.versions import document_from_row
from tumorboard.cases.service import get_case
from tumorboard.db import Record, fetch_all, queries
from tumorboard.documents.pdf import render_pdf_off_loop
from tumorboard.errors import NotFound
from tumorboard.letters.documents import PDF_TEMPLATE, letter_model
from tumorboard.letters.schemas import LetterRecipient, ReferrerLetter
from tumorboard.notifications.email import case_reference, deliver
from tumorboard.settings import TEMPLATES_DIR, Settings

log = logging.getLogger(__name__)

EMAIL_TEMPLATE = "email_referrer_letter"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def letter_link(case_id: UUID, version: int) -> str:
    """Path of a letter's PDF (works with the browser session)."""
    return f"/api/v1/cases/{case_id}/letters/{version}.pdf"


async def write_letter(conn: asyncpg.Connection, care_plan_id: UUID) -> UUID | None:
    """Write and keep the letter of a signed version, once; its id (None when there is no referrer
    to write to, or the version is not signed)."""
    row = await queries.letters.get_letter_sources(conn, care_plan_id=care_plan_id)
    if row is None or row["status"] != "final" or row["referrer"] is None:
        return None
    if row["letter_id"] is not None:
        return UUID(str(row["letter_id"]))
    referrer = msgspec.convert(row["referrer"], PlanReferrer)
    letter = letter_model(document_from_row(row), referrer, row["presenter_name"])
    # Dated when the version was signed: a second run renders the same bytes.
    pdf = await render_pdf_off_loop(PDF_TEMPLATE, letter, created_at=row["signed_at"])
    async with conn.transaction():
        letter_id = await queries.letters.insert_referrer_letter(
            conn,
            care_plan_id=care_plan_id,
            case_id=row["case_id"],
            version=row["version"],
            recipient_name=referrer.name,
            recipient_organisation=referrer.organisation,
            recipient_email=referrer.email,
            pdf=pdf,
        )
        if letter_id is None:  # another run kept it first
            return UUID(str(await queries.letters.get_letter_of_care_plan(conn, care_plan_id=care_plan_id)))
        await audit.record(conn, None, "write_letter", "case", row["case_id"])
    return UUID(str(letter_id))


def compose(row: Record, settings: Settings) -> EmailMessage:
    """The email telling the referrer their letter is ready: a link and the case reference only."""
    context = {
        "recipient_name": row["recipient_name"],
        "version": row["version"],
        "reference": case_reference(row["case_id"]),
        "link": settings.public_url + letter_link(row["case_id"], row["version"]),
    }
    message = EmailMessage()
    message["Subject"] = f"Tumor board outcome ready: case {context['reference']}"
    message["From"] = settings.smtp_from
    message["To"] = row["recipient_email"]
    domain = settings.smtp_from.rpartition("@")[2] or "tumorboard"
    message["Message-ID"] = f"<referrer-letter-{row['id']}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_ENV.get_template(f"{EMAIL_TEMPLATE}.txt").render(context))
    message.add_alternative(_ENV.get_template(f"{EMAIL_TEMPLATE}.html").render(context), subtype="html")
    return message


async def send_letter(conn: asyncpg.Connection, letter_id: UUID, settings: Settings) -> bool:
    """Email the referrer that their letter is ready, once, when SMTP is configured and they gave an
    address (call it in a transaction: the row stays locked while the message goes out)."""
    if not settings.smtp_host:
        return False
    row = await queries.letters.lock_letter_for_sending(conn, id=letter_id)
    if row is None or row["sent_at"] is not None or row["recipient_email"] is None:
        return False
    try:
        await asyncio.to_thread(deliver, compose(row, settings), settings)
    except smtplib.SMTPRecipientsRefused:
        # A permanent refusal of this address: retrying cannot help; the letter stays downloadable.
        log.warning("the SMTP server refused the recipient of referrer letter %s", letter_id)
        return False
    await queries.letters.mark_letter_sent(conn, id=letter_id)
    await audit.record(conn, None, "send_letter", "case", row["case_id"])
    return True


def _letter(row: Record) -> ReferrerLetter:
    return ReferrerLetter(
        id=row["id"],
        case_id=row["case_id"],
        version=row["version"],
        recipient=LetterRecipient(
            name=row["recipient_name"],
            organisation=row["recipient_organisation"],
            email=row["recipient_email"],
        ),
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        download=letter_link(row["case_id"], row["version"]),
    )


async def letters_of(conn: asyncpg.Connection, case_id: UUID) -> list[ReferrerLetter]:
    """A case's letters to its referrer, oldest first, without an access check (callers check first)."""
    return [_letter(row) for row in await fetch_all(queries.letters.list_case_letters(conn, case_id=case_id))]


async def list_letters(conn: asyncpg.Connection, user: User, case_id: UUID) -> list[ReferrerLetter]:
    """A case's letters to its referrer, for those who may see the case (the read is audited)."""
    await get_case(conn, user, case_id, action="read_letters")
    return await letters_of(conn, case_id)


async def get_letter_pdf(conn: asyncpg.Connection, user: User, case_id: UUID, version: int) -> bytes:
    """One letter's PDF, for those who may see the case; every download is audited."""
    await get_case(conn, user, case_id, action="read_letter")
    row = await queries.letters.get_case_letter(conn, case_id=case_id, version=version)
    if row is None:
        raise NotFound("No letter for this version: letters are written when a version is signed")
    await audit.record(conn, user.id, "read", "referrer_letter", row["id"])
    pdf: bytes = row["pdf"]
    return pdf
