"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import binascii
from typing import TypeVar

import msgspec

from tumorboard.errors import InvalidInput

K = TypeVar("K")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(*parts: object) -> str:
    """An opaque cursor holding the sort key of the last item of a page."""
    return base64.urlsafe_b64encode(msgspec.json.encode(parts)).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: type[K]) -> K:
    """The sort key inside a cursor made by encode_cursor, as the typed tuple the list expects."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return msgspec.json.decode(base64.urlsafe_b64decode(padded), type=key_type)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidInput("cursor", "is not a cursor returned by this list") from None


def check_limit(limit: int) -> int:
    """The page size, refused outside 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit
