"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import binascii

import msgspec

from tumorboard.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(*parts: str) -> str:
    """An opaque cursor holding the sort key of the last item of a page."""
    return base64.urlsafe_b64encode(msgspec.json.encode(parts)).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    """The sort key inside a cursor made by encode_cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = msgspec.json.decode(base64.urlsafe_b64decode(padded), type=list[str])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidInput("cursor", "is not a cursor returned by this list") from None
    if len(parts) != size:
        raise InvalidInput("cursor", "is not a cursor returned by this list")
    return parts


def check_limit(limit: int) -> int:
    """The page size, refused outside 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit
