"""The letter to the referring clinician: its content as a document model, and the API view."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from tumorboard.care_plans.schemas import PlanReferrer


class LetterStep(msgspec.Struct, kw_only=True, frozen=True):
    """One step of the plan, in the order the board decided."""

    number: int
    modality: str
    words: str


class LetterDocument(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the letter says, built from a signed care plan version; the template only lays it
    out, so another renderer (Typst) can print the same model."""

    case_id: UUID
    reference: str
    version: int
    written_on: date
    recipient: PlanReferrer
    board_name: str
    meeting_on: date
    patient_name: str
    patient_birth_date: date
    patient_mrn: str
    diagnosis: str
    stage: str | None
    question: str
    intent: str
    steps: list[LetterStep]
    summary: str
    rationale: str | None
    trial: str | None
    consensus: bool
    contact_name: str
    signed_by_name: str
    signed_at: datetime
    amends_version: int | None = None
    amendment_reason: str | None = None


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
