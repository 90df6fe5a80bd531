"""Documents on the case page: the list with the readiness they satisfy, the upload form, and a viewer
that shows a PDF or image only inside a sandboxed frame of its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.attachments import service
from tumorboard.attachments.content import content_disposition
from tumorboard.attachments.policy import can_attach
from tumorboard.attachments.schemas import Attachment, AttachmentKind
from tumorboard.attachments.upload import MAX_UPLOAD_BODY, read_upload
from tumorboard.auth.schemas import User
from tumorboard.cases.policy import CaseFacts, can_complete_readiness
from tumorboard.cases.schemas import Case
from tumorboard.errors import DomainError, InvalidInput, NotFound
from tumorboard.labels import label
from tumorboard.meetings.readiness import get_case_readiness
from tumorboard.pages.common import NO_STORE, attempt, done, page
from tumorboard.pages.security import CSRF_FIELD
from tumorboard.validation import InvalidBody

# The framed document is a sandbox of its own: no scripts, no forms, no same-origin access, nothing
# fetched, and only our pages may frame it.
FRAME_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


async def documents_context(conn: asyncpg.Connection, user: User, case: Case) -> dict[str, Any]:
    """What the case page's documents section shows: the documents, readiness, whether one may attach."""
    return {
        "attachments": await service.list_attachments(conn, user, case.id),
        "readiness": await get_case_readiness(conn, user, case.id),
        "may_attach": bool(can_attach(user, CaseFacts.of(case))),
        "may_complete_readiness": bool(can_complete_readiness(user, CaseFacts.of(case))),
        "attachment_kinds": [(kind.value, label(kind.value)) for kind in AttachmentKind],
    }


def _refusal(refused: DomainError) -> str:
    """Why an upload was refused, in one sentence naming the fields."""
    if isinstance(refused, InvalidBody):
        problems = "; ".join(f"{label(error.key)} {error.message}" for error in refused.errors)
    elif isinstance(refused, InvalidInput):
        problems = f"{label(refused.field)} {refused.message}"
    else:
        problems = refused.detail
    return f"The document was not attached: {problems}."


class AttachmentPages(Controller):
    """Attaching and viewing a case's documents."""

    include_in_schema = False

    @post("/cases/{case_id:uuid}/attachments", request_max_body_size=MAX_UPLOAD_BODY)
    async def upload(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """Attach the chosen file to the case and go back to its documents."""

        async def attach() -> Attachment:
            upload = await read_upload(request, also_allowed=(CSRF_FIELD,))
            return await service.add_attachment(conn, user, case_id, upload)

        result = await attempt(conn, attach)
        back = f"/cases/{case_id}#documents"
        if isinstance(result, DomainError):
            return done(request, back, _refusal(result), "error")
        return done(request, back, f"{label(result.kind.value)} “{result.filename}” attached.")

    @get("/cases/{case_id:uuid}/attachments/{attachment_id:uuid}")
    async def view(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        case_id: UUID,
        attachment_id: UUID,
    ) -> Template:
        """A document's details, with the document itself in a sandboxed frame."""
        attachments = await service.list_attachments(conn, user, case_id)
        attachment = next((a for a in attachments if a.id == attachment_id), None)
        if attachment is None:
            raise NotFound("No such document on this case")
        return page(request, "pages/attachment.html", user=user, case_id=case_id, attachment=attachment)

    @get("/attachments/{attachment_id:uuid}/inline")
    async def inline(self, conn: asyncpg.Connection, user: User, attachment_id: UUID) -> Response[bytes]:
        """The document for the viewer's frame: shown inline, sandboxed by its own policy."""
        attachment, content = await service.read_attachment(conn, user, attachment_id)
        return Response(
            content,
            media_type=attachment.media_type,
            headers={
                **NO_STORE,
                "Content-Disposition": content_disposition("inline", attachment.filename),
                "Content-Security-Policy": FRAME_POLICY,
                "X-Frame-Options": "SAMEORIGIN",
            },
        )
