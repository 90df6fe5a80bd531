"""Attachment structs."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

import msgspec

MediaType = Literal["application/pdf", "image/png", "image/jpeg"]


class AttachmentKind(StrEnum):
    """What a document is; pathology and imaging reports can satisfy a board's readiness checklist."""

    PATHOLOGY_REPORT = "pathology_report"
    IMAGING_REPORT = "imaging_report"
    LETTER = "letter"
    OTHER = "other"


class AttachmentUpload(msgspec.Struct, kw_only=True, frozen=True):
    """One uploaded file as the service receives it: the form's fields, checked, and the bytes."""

    kind: AttachmentKind
    filename: str | None
    content: bytes
    document_date: date | None = None


class Attachment(msgspec.Struct, kw_only=True, frozen=True):
    """A document kept with a case; `media_type` is judged from its content, `sha256` in hex."""

    id: UUID
    case_id: UUID
    kind: AttachmentKind
    filename: str
    media_type: MediaType
    size: int
    sha256: str
    document_date: date | None
    uploaded_by: UUID
    uploaded_by_name: str
    uploaded_at: datetime
