"""What a file is, judged from its first bytes, and how its name travels in HTTP headers."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from tumorboard.attachments.schemas import MediaType

MAX_FILENAME = 200
# Signatures at the very start of the file (ISO 32000 for PDF, the PNG specification, JPEG's SOI
# marker followed by another marker). Anything else is refused, whatever its name or declared type.
_SIGNATURES: tuple[tuple[bytes, MediaType], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS: dict[MediaType, str] = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/]')


def media_type_of(content: bytes) -> MediaType | None:
    """The media type the content's magic bytes announce: PDF, PNG or JPEG; None for anything else."""
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    return None


def clean_filename(raw: str | None) -> str | None:
    """A file name safe to store and to send back: no directories, no control characters, at most
    200 characters (the extension kept); None when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            name = f"{stem[: MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            name = name[:MAX_FILENAME]
    return name or None


def content_disposition(disposition: str, filename: str) -> str:
    """A Content-Disposition header (RFC 6266): an ASCII fallback name and the UTF-8 name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
