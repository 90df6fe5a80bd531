"""Notification emails: a link and the case's reference, never patient data; sent over SMTP.

An email is sent at most once per notification under normal operation: the job locks the
notification row, sends, and records `emailed_at` in the same transaction. If a worker dies
between the SMTP hand-off and the commit, the job runs again and the email goes out twice with
the same Message-ID, which mail clients use to drop the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from uuid import UUID

import asyncpg
import jinja2

from tumorboard.db import Record, queries
from tumorboard.notifications.schemas import MEETING_NOTICES, NotificationKind
from tumorboard.notifications.service import link, title
from tumorboard.settings import TEMPLATES_DIR, Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20
CARE_PLAN_TEMPLATE = "email_care_plan_ready"
MEETING_NOTICE_TEMPLATE = "email_meeting_notice"

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def case_reference(case_id: UUID) -> str:
    """The short case reference shown in subjects (the first block of its id)."""
    return str(case_id).split("-", 1)[0]


def compose(row: Record, settings: Settings) -> EmailMessage:
    """The email for one notification row (recipient, kind, case or meeting, version)."""
    kind = NotificationKind(row["kind"])
    case_id = row["case_id"]
    context = {
        "recipient_name": row["full_name"],
        "headline": title(kind, row["version"], row["meeting_on"]),
        "is_final": kind == NotificationKind.CARE_PLAN_FINAL,
        "version": row["version"],
        "case_id": str(case_id) if case_id else None,
        "link": settings.public_url + link(kind, case_id, row["version"], row["meeting_id"]),
    }
    stem = MEETING_NOTICE_TEMPLATE if kind in MEETING_NOTICES else CARE_PLAN_TEMPLATE
    message = EmailMessage()
    subject = context["headline"]
    message["Subject"] = f"{subject}: case {case_reference(case_id)}" if case_id else subject
    message["From"] = settings.smtp_from
    message["To"] = row["email"]
    domain = settings.smtp_from.rpartition("@")[2] or "tumorboard"
    message["Message-ID"] = f"<notification-{row['id']}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_ENV.get_template(f"{stem}.txt").render(context))
    message.add_alternative(_ENV.get_template(f"{stem}.html").render(context), subtype="html")
    return message


def tls_context(settings: Settings) -> ssl.SSLContext:
    """TLS for STARTTLS: the system's trusted CAs (or TUMORBOARD_SMTP_CA_FILE), host name checked."""
    context = ssl.create_default_context(cafile=settings.smtp_ca_file)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def deliver(message: EmailMessage, settings: Settings) -> None:
    """Hand a message to the configured SMTP server (blocking: call it in a thread)."""
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            # Verifies the server's certificate chain and that it names smtp_host (a bare starttls()
            # would encrypt to whoever answers).
            smtp.starttls(context=tls_context(settings))
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


async def send_notification_email(
    conn: asyncpg.Connection, notification_id: UUID, settings: Settings
) -> bool:
    """Email one notification if SMTP is configured and it was not emailed yet; True when sent."""
    if not settings.smtp_host:
        return False
    row = await queries.notifications.lock_notification_for_email(conn, id=notification_id)
    if row is None or row["emailed_at"] is not None or not row["is_active"]:
        return False
    try:
        await asyncio.to_thread(deliver, compose(row, settings), settings)
    except smtplib.SMTPRecipientsRefused:
        # A permanent refusal of this address: retrying cannot help, the inbox still has it.
        log.warning("the SMTP server refused the recipient of notification %s", notification_id)
        return False
    await queries.notifications.mark_notification_emailed(conn, id=notification_id)
    return True
