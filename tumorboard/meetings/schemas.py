"""Meeting structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, MeetingStatus, ParticipantRole, Urgency
from tumorboard.validation import Name, safe_message

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
_URL = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^https://[^\s\x00]+$")]
_DEADLINE_AFTER_START = safe_message("submission_deadline must not be after starts_at")


class Quorum(msgspec.Struct, kw_only=True, frozen=True):
    """Disciplines the board requires, those the participants cover, and those missing."""

    required: list[Discipline]
    covered: list[Discipline]
    missing: list[Discipline]


class Participant(msgspec.Struct, kw_only=True, frozen=True):
    """A participant of a meeting."""

    user_id: UUID
    full_name: str
    discipline: Discipline | None
    role: ParticipantRole


class AgendaCase(msgspec.Struct, kw_only=True, frozen=True):
    """A case on a meeting's agenda."""

    id: UUID
    status: CaseStatus
    urgency: Urgency
    disease_site: DiseaseSite
    presenter_id: UUID
    patient_name: str


class MeetingSummary(msgspec.Struct, kw_only=True, frozen=True):
    """A meeting in a list."""

    id: UUID
    board_id: UUID
    board_name: str
    starts_at: datetime
    duration_minutes: int
    location: str | None
    video_url: str | None
    capacity: int
    case_count: int
    submission_deadline: datetime
    status: MeetingStatus
    created_at: datetime


class Meeting(MeetingSummary, kw_only=True, frozen=True):
    """A meeting with its participants, agenda and quorum."""

    participants: list[Participant]
    cases: list[AgendaCase]
    quorum: Quorum


class MeetingPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of meetings."""

    items: list[MeetingSummary]
    next_cursor: str | None


class MeetingCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /meetings; deadline defaults to 48 hours before the start."""

    board_id: UUID
    starts_at: AwareDatetime
    duration_minutes: Annotated[int, msgspec.Meta(ge=5, le=1440)] = 60
    location: Name | None = None
    video_url: _URL | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    submission_deadline: AwareDatetime | None = None

    def __post_init__(self) -> None:
        if self.submission_deadline is not None and self.submission_deadline > self.starts_at:
            raise ValueError(_DEADLINE_AFTER_START)


class ParticipantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One entry of a participant list."""

    user_id: UUID
    role: ParticipantRole


class ParticipantsPut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /meetings/{id}/participants: the whole new list."""

    participants: Annotated[list[ParticipantIn], msgspec.Meta(max_length=100)]
