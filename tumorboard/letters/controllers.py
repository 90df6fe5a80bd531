"""Letter endpoints: a case's letters to its referring clinician, and each letter's PDF."""

from __future__ import annotations

import re
from uuid import UUID

import asyncpg
from litestar import Controller, Response, get
from litestar.datastructures import CacheControlHeader

from tumorboard.auth.schemas import User
from tumorboard.errors import NotFound
from tumorboard.letters import service
from tumorboard.letters.schemas import ReferrerLetter

PDF_MEDIA_TYPE = "application/pdf"
_LETTER_PDF = re.compile(r"^(?P<version>[1-9]\d{0,5})\.pdf$")


class LetterController(Controller):
    """The letters that tell the referring clinician the board's signed outcome."""

    path = "/cases/{case_id:uuid}/letters"
    tags = ["letters"]
    cache_control = CacheControlHeader(no_store=True)

    @get(operation_id="ListReferrerLetters")
    async def list_letters(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> list[ReferrerLetter]:
        """One letter per signed version, oldest first, with when each was emailed."""
        return await service.list_letters(conn, user, case_id)

    @get("/{document:str}", operation_id="DownloadReferrerLetter", media_type=PDF_MEDIA_TYPE)
    async def download(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, document: str
    ) -> Response[bytes]:
        """`{version}.pdf`: the letter of that signed version, as a download; every read is audited."""
        match = _LETTER_PDF.match(document)
        if match is None:
            raise NotFound("No such letter")
        version = int(match["version"])
        pdf = await service.get_letter_pdf(conn, user, case_id, version)
        disposition = f'attachment; filename="referrer-letter-{case_id}-v{version}.pdf"'
        return Response(pdf, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": disposition})
