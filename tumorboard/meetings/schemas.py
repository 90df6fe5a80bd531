"""Meeting structs: meetings, agendas, attendance, series, readiness and calendar feeds."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tumorboard.boards.schemas import ChecklistItemKind, MinutesPerCase, TimeZoneName, known_time_zone
from tumorboard.cases.clinical import biomarker_errors, latest_today, stage_errors
from tumorboard.cases.schemas import Biomarker, CaseClinical, Stage
from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, MeetingStatus, ParticipantRole, Urgency
from tumorboard.validation import InvalidBody, Name, safe_message

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
_URL = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^https://[^\s\x00]+\Z")]
Duration = Annotated[int, msgspec.Meta(ge=5, le=1440)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=200)]
_DEADLINE_AFTER_START = safe_message("submission_deadline must not be after starts_at")
_UNKNOWN_TIME_ZONE = safe_message("time_zone is not a known IANA time zone (e.g. Europe/Berlin)")
AttendanceStatus = Literal["present", "absent", "excused"]


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


class Attendance(msgspec.Struct, kw_only=True, frozen=True):
    """Whether a participant attended; flagged when absent without excuse or never recorded."""

    user_id: UUID
    full_name: str
    discipline: Discipline | None
    role: ParticipantRole
    status: AttendanceStatus | Literal["unrecorded"]
    flagged: bool
    recorded_at: datetime | None


class AgendaCase(msgspec.Struct, kw_only=True, frozen=True):
    """A case on a meeting's agenda, with its time slot and readiness."""

    id: UUID
    status: CaseStatus
    urgency: Urgency
    disease_site: DiseaseSite
    presenter_id: UUID
    patient_name: str
    presenter_name: str = ""
    position: int = 0
    slot_starts_at: datetime | None = None
    slot_ends_at: datetime | None = None
    ready: bool = True
    missing_items: list[ChecklistItemKind] = []
    late_addition: bool = False
    clinical: CaseClinical | None = None


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
    time_zone: str = "UTC"
    minutes_per_case: int = 6
    booked_minutes: int = 0
    series_id: UUID | None = None
    occurrence_on: date | None = None
    agenda_locks_at: datetime | None = None
    agenda_locked_at: datetime | None = None


class Meeting(MeetingSummary, kw_only=True, frozen=True):
    """A meeting with its participants, agenda, quorum and attendance.

    Quorum counts the participants before the meeting starts and those present once it has.
    """

    participants: list[Participant]
    cases: list[AgendaCase]
    quorum: Quorum
    quorum_basis: Literal["participants", "attendance"] = "participants"
    attendance: list[Attendance] = []
    agenda_sent_at: datetime | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    sequence: int = 0
    current_case_id: UUID | None = None
    current_case_since: datetime | None = None


class CurrentCasePut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /meetings/{id}/current-case: the case to put on the meeting's screen (null clears it)."""

    case_id: UUID | None


class AgendaSlot(msgspec.Struct, kw_only=True, frozen=True):
    """A slot of the running order: the case in full when the caller may see it, else only its time
    and whether the board has dealt with it."""

    position: int
    slot_starts_at: datetime | None
    slot_ends_at: datetime | None
    status: CaseStatus
    on_screen: bool
    case: AgendaCase | None = None


class AgendaSlots(msgspec.Struct, kw_only=True, frozen=True):
    """A meeting's running order as the caller may see it."""

    meeting: MeetingSummary
    slots: list[AgendaSlot]


class MeetingPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of meetings."""

    items: list[MeetingSummary]
    next_cursor: str | None


class MeetingCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /meetings; deadline defaults to 48 hours before the start, minutes per case
    to the board's."""

    board_id: UUID
    starts_at: AwareDatetime
    duration_minutes: Duration = 60
    location: Name | None = None
    video_url: _URL | None = None
    capacity: Capacity = 10
    submission_deadline: AwareDatetime | None = None
    minutes_per_case: MinutesPerCase | None = None

    def __post_init__(self) -> None:
        if self.submission_deadline is not None and self.submission_deadline > self.starts_at:
            raise ValueError(_DEADLINE_AFTER_START)


class MeetingUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PATCH /meetings/{id}: move or reshape one meeting (one occurrence of a series).

    Absent fields stay; moving the start moves the submission deadline with it unless given.
    """

    starts_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    duration_minutes: Duration | msgspec.UnsetType = msgspec.UNSET
    location: Name | msgspec.UnsetType | None = msgspec.UNSET
    video_url: _URL | msgspec.UnsetType | None = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType = msgspec.UNSET
    minutes_per_case: MinutesPerCase | msgspec.UnsetType = msgspec.UNSET
    submission_deadline: AwareDatetime | msgspec.UnsetType = msgspec.UNSET


class ParticipantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One entry of a participant list."""

    user_id: UUID
    role: ParticipantRole


class ParticipantsPut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /meetings/{id}/participants: the whole new list."""

    participants: Annotated[list[ParticipantIn], msgspec.Meta(max_length=100)]


class AttendanceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One participant's attendance."""

    user_id: UUID
    status: AttendanceStatus


class AttendancePut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /meetings/{id}/attendance: every participant recorded so far."""

    attendance: Annotated[list[AttendanceIn], msgspec.Meta(max_length=100)]


class Agenda(msgspec.Struct, kw_only=True, frozen=True):
    """The ordered agenda of a meeting with a time slot per case, as sent to its participants."""

    meeting: MeetingSummary
    participants: list[Participant]
    quorum: Quorum
    items: list[AgendaCase]
    ready_count: int
    unready_count: int
    ends_at: datetime
    agenda_sent_at: datetime | None


# ---------------------------------------------------------------------------------------------------------
# Series

# A wall-clock time such as 07:30 (seconds optional).
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?\Z")]
RecurrenceRule = Annotated[
    str, msgspec.Meta(min_length=6, max_length=500, pattern=r"^(RRULE:)?[A-Z0-9=;,+\-]+\Z")
]


class SeriesCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /boards/{id}/series: a recurring meeting in the board's time zone.

    `recurrence_rule` is an RFC 5545 RRULE such as `FREQ=WEEKLY;BYDAY=TU`; the first occurrence
    is on or after `starts_on`, each at `start_time` local time.
    """

    recurrence_rule: RecurrenceRule
    starts_on: date
    start_time: LocalTime
    time_zone: TimeZoneName | None = None
    duration_minutes: Duration = 60
    location: Name | None = None
    video_url: _URL | None = None
    capacity: Capacity = 10
    minutes_per_case: MinutesPerCase | None = None
    deadline_hours: Annotated[int, msgspec.Meta(ge=0, le=720)] = 48
    horizon_days: Annotated[int, msgspec.Meta(ge=7, le=366)] = 56
    participants: Annotated[list[ParticipantIn], msgspec.Meta(max_length=100)] = []

    def __post_init__(self) -> None:
        if self.time_zone is not None and not known_time_zone(self.time_zone):
            raise ValueError(_UNKNOWN_TIME_ZONE)

    @property
    def local_start_time(self) -> time:
        """The start time as a time of day."""
        return time.fromisoformat(self.start_time)


class Series(msgspec.Struct, kw_only=True, frozen=True):
    """A board's recurring meeting and its upcoming occurrences."""

    id: UUID
    board_id: UUID
    recurrence_rule: str
    starts_on: date
    start_time: time
    time_zone: str
    duration_minutes: int
    location: str | None
    video_url: str | None
    capacity: int
    minutes_per_case: int
    deadline_hours: int
    horizon_days: int
    generated_until: datetime | None
    ended_at: datetime | None
    created_at: datetime
    participants: list[Participant]
    occurrences: list[MeetingSummary]


# ---------------------------------------------------------------------------------------------------------
# Readiness


class ReadinessCheck(msgspec.Struct, kw_only=True, frozen=True):
    """One checklist item of a case: met or not, and what is missing, in words."""

    item: ChecklistItemKind
    satisfied: bool
    detail: str


class CaseReadiness(msgspec.Struct, kw_only=True, frozen=True):
    """Whether a case is ready for its board, item by item."""

    case_id: UUID
    meeting_id: UUID | None
    ready: bool
    checks: list[ReadinessCheck]
    missing_items: list[ChecklistItemKind]
    checked_for: date
    pathology_report_on: date | None
    imaging_on: date | None


class ReadinessUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PATCH /cases/{id}/readiness: the missing data the presenter supplies."""

    stage: Stage | msgspec.UnsetType = msgspec.UNSET
    histology: Name | msgspec.UnsetType = msgspec.UNSET
    ecog: Annotated[int, msgspec.Meta(ge=0, le=4)] | msgspec.UnsetType = msgspec.UNSET
    biomarkers: Annotated[list[Biomarker], msgspec.Meta(min_length=1, max_length=50)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    pathology_report_on: date | msgspec.UnsetType | None = msgspec.UNSET
    imaging_on: date | msgspec.UnsetType | None = msgspec.UNSET

    def __post_init__(self) -> None:
        stage = self.stage if isinstance(self.stage, Stage) else None
        biomarkers = self.biomarkers if isinstance(self.biomarkers, list) else []
        errors = [*stage_errors(stage), *biomarker_errors(biomarkers, latest_today())]
        if errors:
            raise InvalidBody(errors)


# ---------------------------------------------------------------------------------------------------------
# Calendar


class CalendarFeed(msgspec.Struct, kw_only=True, frozen=True):
    """A personal calendar subscription URL; keep it secret, anyone holding it can read the feed."""

    url: str
    created_at: datetime
