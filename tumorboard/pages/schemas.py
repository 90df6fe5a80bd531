"""Read-only views the pages show beyond the domain structs: each user's work, timelines, progress."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, MeetingStatus, ParticipantRole, Urgency
from tumorboard.meetings.schemas import Quorum


class AgendaCaseForParticipant(msgspec.Struct, kw_only=True, frozen=True):
    """A case on an open meeting the user takes part in, with the user's own recommendation."""

    id: UUID
    status: CaseStatus
    urgency: Urgency
    disease_site: DiseaseSite
    created_at: datetime
    mrn: str
    given_name: str
    family_name: str
    meeting_id: UUID
    starts_at: datetime
    meeting_status: MeetingStatus
    board_name: str
    participant_role: ParticipantRole
    recommendation_id: UUID | None
    recommendation_version: int | None
    awaits_recommendation: bool = False
    may_revise: bool = False


class ParticipantMeeting(msgspec.Struct, kw_only=True, frozen=True):
    """An open meeting the user takes part in, with how far its cases have got."""

    id: UUID
    board_id: UUID
    board_name: str
    starts_at: datetime
    duration_minutes: int
    location: str | None
    status: MeetingStatus
    capacity: int
    case_count: int
    participant_role: ParticipantRole
    open_cases: int
    discussed_cases: int
    finalized_cases: int


class DraftAwaitingChair(msgspec.Struct, kw_only=True, frozen=True):
    """A care plan draft the chair of its meeting may sign."""

    case_id: UUID
    given_name: str
    family_name: str
    mrn: str
    disease_site: DiseaseSite
    meeting_id: UUID
    starts_at: datetime
    board_name: str
    version: int
    generated_at: datetime


class MeetingFill(msgspec.Struct, kw_only=True, frozen=True):
    """An open meeting as a coordinator plans it: agenda fill and quorum."""

    id: UUID
    board_id: UUID
    board_name: str
    starts_at: datetime
    duration_minutes: int
    location: str | None
    status: MeetingStatus
    capacity: int
    case_count: int
    submission_deadline: datetime
    participant_count: int
    has_chair: bool
    quorum: Quorum


class MeetingBrief(msgspec.Struct, kw_only=True, frozen=True):
    """When and where a meeting is, and what its board requires."""

    id: UUID
    board_id: UUID
    board_name: str
    required_disciplines: list[Discipline]
    starts_at: datetime
    duration_minutes: int
    location: str | None
    status: MeetingStatus


class TimelineEvent(msgspec.Struct, kw_only=True, frozen=True):
    """One dated step in a case's history."""

    occurred_at: datetime
    action: str
    subject_type: str
    actor_name: str | None
    actor_discipline: Discipline | None
    version: int | None
    detail: str | None = None


class CarePlanBrief(msgspec.Struct, kw_only=True, frozen=True):
    """The latest care plan version of a case, without its content."""

    version: int
    status: str
    generated_at: datetime
    signed_at: datetime | None


class AgendaProgress(msgspec.Struct, kw_only=True, frozen=True):
    """How far one agenda case has got: who recommended, the viewer's own part, the care plan."""

    case_id: UUID
    recommended: list[Discipline]
    own_recommendation_id: UUID | None
    care_plan_status: str | None


class AgendaActions(msgspec.Struct, kw_only=True, frozen=True):
    """What the viewer may do with one agenda case (the policies' answers)."""

    recommend: bool
    decide: bool
