"""Attaching documents to cases and reading them back: who may, which files, how much."""

from __future__ import annotations

import hashlib
from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.attachments.content import EXTENSIONS, media_type_of
from tumorboard.attachments.policy import can_attach
from tumorboard.attachments.schemas import Attachment, AttachmentUpload
from tumorboard.auth.schemas import User
from tumorboard.cases.policy import CaseFacts
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import Role
from tumorboard.errors import AccessDenied, InvalidInput, NotFound
from tumorboard.policy import enforce

MiB = 1024 * 1024
MAX_FILE_BYTES = 20 * MiB
MAX_CASE_BYTES = 100 * MiB
_SEE_CASE = "Only the case's presenter, its meeting's participants and coordinators may see it"


class TooLarge(InvalidInput):
    """A file, or a case's files together, over the size limit."""

    status_code = 413


class UnsupportedFile(InvalidInput):
    """A file that is not a PDF, PNG or JPEG by its content."""

    status_code = 415


async def add_attachment(
    conn: asyncpg.Connection, user: User, case_id: UUID, upload: AttachmentUpload
) -> Attachment:
    """Keep a document with a case (its presenter, coordinators) until the case is finalized or withdrawn."""
    case = await queries.attachments.lock_case_for_attachment(conn, case_id=case_id)
    if case is None:
        raise NotFound("No such case")
    enforce(can_attach(user, CaseFacts.of(case)), action="attach", subject_type="case", subject_id=case_id)
    size = len(upload.content)
    if size > MAX_FILE_BYTES:
        raise TooLarge("file", f"must be at most {MAX_FILE_BYTES // MiB} MiB")
    media_type = media_type_of(upload.content)
    if media_type is None:
        raise UnsupportedFile("file", "must be a PDF, PNG or JPEG document (judged by its content)")
    if case["attached_bytes"] + size > MAX_CASE_BYTES:
        raise TooLarge("file", f"would take the case's documents over {MAX_CASE_BYTES // MiB} MiB together")
    digest = hashlib.sha256(upload.content).digest()
    filename = upload.filename or f"{upload.kind}.{EXTENSIONS[media_type]}"
    row = await queries.attachments.insert_attachment(
        conn,
        case_id=case_id,
        kind=upload.kind,
        filename=filename,
        media_type=media_type,
        size=size,
        sha256=digest,
        document_date=upload.document_date,
        content=upload.content,
        uploaded_by=user.id,
    )
    await audit.record(conn, user.id, "attach", "case", case_id)
    return Attachment(
        id=row["id"],
        case_id=case_id,
        kind=upload.kind,
        filename=filename,
        media_type=media_type,
        size=size,
        sha256=digest.hex(),
        document_date=upload.document_date,
        uploaded_by=user.id,
        uploaded_by_name=user.full_name,
        uploaded_at=row["uploaded_at"],
    )


async def list_attachments(conn: asyncpg.Connection, user: User, case_id: UUID) -> list[Attachment]:
    """A case's documents (as GET /cases/{id} allows); the read is audited."""
    rows = await fetch_all(
        queries.attachments.list_case_attachments(
            conn, case_id=case_id, user_id=user.id, sees_all=user.has_role(Role.COORDINATOR)
        )
    )
    if not rows:
        raise NotFound("No such case")
    if not rows[0]["caller_may_view"]:
        raise AccessDenied(_SEE_CASE, action="read_attachments", subject_type="case", subject_id=case_id)
    return [_attachment(row) for row in rows if row["id"] is not None]


async def read_attachment(
    conn: asyncpg.Connection, user: User, attachment_id: UUID
) -> tuple[Attachment, bytes]:
    """A document and its content (as GET /cases/{id} allows); every read is audited."""
    row = await queries.attachments.get_attachment_for_caller(
        conn, id=attachment_id, user_id=user.id, sees_all=user.has_role(Role.COORDINATOR)
    )
    if row is None:
        raise NotFound("No such attachment")
    if not row["caller_may_view"]:
        raise AccessDenied(_SEE_CASE, action="read", subject_type="attachment", subject_id=attachment_id)
    await audit.record(conn, user.id, "read", "attachment", attachment_id)
    return _attachment(row), bytes(row["content"])


def _attachment(row: Record) -> Attachment:
    fields = {name: row[name] for name in Attachment.__struct_fields__}
    return msgspec.convert(fields, Attachment)
