"""The letter to the referring clinician as the API shows it (its document model is in documents.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class LetterRecipient(msgspec.Struct, kw_only=True, frozen=True):
    """Who the letter is written to."""

    name: str
    organisation: str | None
    email: str | None


class ReferrerLetter(msgspec.Struct, kw_only=True, frozen=True):
    """A letter to the referrer as the API lists it: `sent_at` is when it was emailed (null until then,
    and for good when no email address was given or email is not configured)."""

    id: UUID
    case_id: UUID
    version: int
    recipient: LetterRecipient
    created_at: datetime
    sent_at: datetime | None
    download: str
