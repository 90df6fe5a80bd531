"""An upload form (multipart/form-data: `file`, `kind`, optional `document_date`) read into an
AttachmentUpload, naming every bad field; shared by the API and the case page."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from tumorboard.attachments.content import clean_filename
from tumorboard.attachments.schemas import AttachmentKind, AttachmentUpload
from tumorboard.attachments.service import MAX_FILE_BYTES, MiB
from tumorboard.cases.clinical import latest_today
from tumorboard.validation import FieldError, InvalidBody, UnsupportedMediaType

MULTIPART = "multipart/form-data"
FIELDS = ("file", "kind", "document_date")
# The whole request may be a little larger than the largest file: the other fields and the framing.
MAX_UPLOAD_BODY = MAX_FILE_BYTES + MiB
_KINDS = ", ".join(kind.value for kind in AttachmentKind)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FIELD_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


async def read_upload(
    request: Request[Any, Any, Any], *, also_allowed: Iterable[str] = ()
) -> AttachmentUpload:
    """The upload in a multipart request (415 for any other body, 400 naming each bad field)."""
    if request.content_type[0] != MULTIPART:
        raise UnsupportedMediaType("Request body must be multipart/form-data")
    try:
        form = await request.form()
    except UnicodeDecodeError:  # a binary part sent without a file name is not a file
        raise InvalidBody([FieldError("file", "must be sent as a file part with a file name")]) from None
    known = {*FIELDS, *also_allowed}
    errors = [
        FieldError(key if _FIELD_NAME.fullmatch(key) else "body", "is not a known field")
        for key in form
        if key not in known
    ]
    files = form.getall("file", [])
    content = await _content(files, errors)
    kind = _single(form.getall("kind", []), "kind", errors)
    if kind == "":
        errors.append(FieldError("kind", "is required"))
    elif kind is not None and kind not in AttachmentKind.__members__.values():
        errors.append(FieldError("kind", f"must be one of {_KINDS}"))
    document_date = _document_date(_single(form.getall("document_date", []), "document_date", errors), errors)
    if errors or kind is None:
        raise InvalidBody(errors)
    return AttachmentUpload(
        kind=AttachmentKind(kind),
        filename=clean_filename(files[0].filename),
        content=content,
        document_date=document_date,
    )


async def _content(files: list[Any], errors: list[FieldError]) -> bytes:
    """The one uploaded file's bytes (every upload is closed); an error when missing, several or empty."""
    content = b""
    if not files or files == [""]:
        errors.append(FieldError("file", "is required"))
    elif len(files) > 1 or not isinstance(files[0], UploadFile):
        errors.append(FieldError("file", "must be exactly one file"))
    else:
        content = await files[0].read()
        if not content:
            errors.append(FieldError("file", "must not be empty"))
    for upload in files:
        if isinstance(upload, UploadFile):
            await upload.close()
    return content


def _single(values: list[Any], name: str, errors: list[FieldError]) -> str | None:
    """A field's one text value, trimmed ("" when absent); None, with an error, when repeated or a file."""
    if not values:
        return ""
    if len(values) > 1 or not isinstance(values[0], str):
        errors.append(FieldError(name, "must be given once, as text"))
        return None
    return str(values[0]).strip()


def _document_date(value: str | None, errors: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        errors.append(FieldError("document_date", "must be a date (YYYY-MM-DD)"))
    elif parsed > latest_today():
        errors.append(FieldError("document_date", "must not be in the future"))
        return None
    return parsed
