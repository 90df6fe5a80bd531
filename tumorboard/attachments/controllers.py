"""Attachment endpoints: upload to a case, list a case's documents, download one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from tumorboard.attachments import service
from tumorboard.attachments.content import content_disposition
from tumorboard.attachments.schemas import Attachment, AttachmentKind
from tumorboard.attachments.upload import MAX_UPLOAD_BODY, MULTIPART, read_upload
from tumorboard.auth.schemas import User

NO_STORE = CacheControlHeader(no_store=True)
_UPLOAD_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file", "kind"],
    properties={
        "file": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.BINARY,
            description="A PDF, PNG or JPEG, at most 20 MiB",
        ),
        "kind": Schema(type=OpenAPIType.STRING, enum=[kind.value for kind in AttachmentKind]),
        "document_date": Schema(
            type=OpenAPIType.STRING, format=OpenAPIFormat.DATE, description="The document's date"
        ),
    },
)


@dataclass
class UploadOperation(Operation):
    """The upload's OpenAPI operation: its multipart body is read by hand (read_upload), so described here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={MULTIPART: OpenAPIMediaType(schema=_UPLOAD_FORM)}, required=True
        )


class CaseAttachmentController(Controller):
    """The documents kept with a case."""

    path = "/cases/{case_id:uuid}/attachments"
    tags = ["attachments"]
    cache_control = NO_STORE

    @post(
        operation_id="AttachDocument", request_max_body_size=MAX_UPLOAD_BODY, operation_class=UploadOperation
    )
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

    @get("/{attachment_id:uuid}", operation_id="DownloadAttachment", media_type="application/octet-stream")
    async def download(self, conn: asyncpg.Connection, user: User, attachment_id: UUID) -> Response[bytes]:
        """The document, always as a download; the read is audited."""
        attachment, content = await service.read_attachment(conn, user, attachment_id)
        return Response(
            content,
            media_type=attachment.media_type,
            headers={"Content-Disposition": content_disposition("attachment", attachment.filename)},
        )
