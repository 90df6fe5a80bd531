"""Attachment endpoints: upload to a case, list a case's documents, download one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader

from tumorboard.attachments import service
from tumorboard.attachments.content import content_disposition
from tumorboard.attachments.schemas import Attachment
from tumorboard.attachments.upload import MAX_UPLOAD_BODY, read_upload
from tumorboard.auth.schemas import User

NO_STORE = CacheControlHeader(no_store=True)


class CaseAttachmentController(Controller):
    """The documents kept with a case."""

    path = "/cases/{case_id:uuid}/attachments"
    tags = ["attachments"]
    cache_control = NO_STORE

    @post(operation_id="AttachDocument", request_max_body_size=MAX_UPLOAD_BODY)
    async def attach(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Attachment:
        """Attach a PDF, PNG or JPEG (multipart: `file`, `kind`, optional `document_date`) to a case."""
        return await service.add_attachment(conn, user, case_id, await read_upload(request))

    @get(operation_id="ListAttachments")
    async def list_attachments(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> list[Attachment]:
        """The case's documents, without their content."""
        return await service.list_attachments(conn, user, case_id)


class AttachmentController(Controller):
    """One document."""

    path = "/attachments"
    tags = ["attachments"]
    cache_control = NO_STORE

    @get("/{attachment_id:uuid}", operation_id="DownloadAttachment")
    async def download(self, conn: asyncpg.Connection, user: User, attachment_id: UUID) -> Response[bytes]:
        """The document, always as a download; the read is audited."""
        attachment, content = await service.read_attachment(conn, user, attachment_id)
        return Response(
            content,
            media_type=attachment.media_type,
            headers={"Content-Disposition": content_disposition("attachment", attachment.filename)},
        )
