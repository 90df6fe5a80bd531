"""The meeting pack's content: what the pack says, independent of how it is worded and laid out.

`tumorboard/meetings/pack_document.py` words it as the pack's document model, which
`templates/meeting_pack.html` (HTML) and `templates/documents/meeting_pack.typ` (PDF) lay out. It holds
no clock reading, so the same content always renders the same document and its fingerprint only
changes when what it shows does.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from tumorboard.cases.schemas import CaseClinical
from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, Intent, Modality, Urgency
from tumorboard.meetings.schemas import Participant
from tumorboard.recommendations.schemas import Guideline, Trial


class PackRecommendation(msgspec.Struct, kw_only=True, frozen=True):
    """One reviewer's recommendation as it stands, attributed, with the proposal it belongs to."""

    proposal: str
    discipline: Discipline
    author_name: str
    version: int
    intent: Intent
    modalities: list[Modality]
    summary: str
    rationale: str | None
    guideline: Guideline | None
    trial: Trial | None


class PackProposal(msgspec.Struct, kw_only=True, frozen=True):
    """A distinct plan the recommendations propose and the disciplines behind it."""

    letter: str
    intent: Intent
    modalities: list[Modality]
    disciplines: list[Discipline]


class PackCase(msgspec.Struct, kw_only=True, frozen=True):
    """One case of the pack, in agenda order, with its time slot."""

    id: UUID
    position: int
    slot_starts_at: datetime | None
    slot_ends_at: datetime | None
    status: CaseStatus
    urgency: Urgency
    patient_name: str
    mrn: str
    birth_date: date
    age: int | None
    sex: str
    disease_site: DiseaseSite
    presenter_name: str
    clinical: CaseClinical
    summary: str
    question: str
    recommendations: list[PackRecommendation]
    proposals: list[PackProposal]
    agreed: bool
    missing_disciplines: list[Discipline]


class MeetingPack(msgspec.Struct, kw_only=True, frozen=True):
    """Everything a participant reads before the meeting: the meeting, then each case on its agenda."""

    meeting_id: UUID
    board_name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    location: str | None
    minutes_per_case: int
    agenda_locked_at: datetime | None
    required_disciplines: list[Discipline]
    participants: list[Participant]
    cases: list[PackCase]
