"""The assignment rule as pure functions: which meeting fits a case, and why none does.

A meeting fits a case when (1) its board covers the case's disease site, (2) it is scheduled
and starts in the future, (3) it takes place (in the board's time zone) on or before the case's
discuss-by date, (4) it has room: fewer cases than its capacity and enough discussion time left
for one more case, (5) for a routine case, its submission deadline has not passed and its agenda
is not locked (urgent cases may join until the start), and (6) its participants cover every
discipline the board requires. Among the meetings that fit, the earliest wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from tumorboard.boards.schemas import describe_items
from tumorboard.enums import MeetingStatus, Urgency

NO_BOARD = "No board covers this disease site yet."
NO_MEETING = "No upcoming meeting is scheduled for a board covering this disease site."
AFTER_DISCUSS_BY = "No upcoming meeting takes place on or before the requested discuss-by date."
DEADLINE_PASSED = (
    "The submission deadline has passed or the agenda is locked for every meeting in time; "
    "the case waits for a later meeting (urgent cases may join until the start)."
)
FULL = "Every meeting in time is full."
NO_TIME_LEFT = "Every meeting in time is full or has no discussion time left."


def discipline_names(disciplines: Sequence[str]) -> str:
    """Disciplines as people read them: ``radiation oncology, pathology``."""
    return ", ".join(str(d).replace("_", " ") for d in disciplines)


def local_day(moment: datetime, time_zone: str) -> date:
    """The calendar date of a moment in a time zone."""
    return moment.astimezone(ZoneInfo(time_zone)).date()


def deadline_passed(deadline: datetime, now: datetime) -> bool:
    """Whether a meeting's submission deadline has passed: from then on only urgent cases may join it."""
    return deadline <= now


@dataclass(slots=True)
class Slot:
    """A meeting as the assignment rule sees it; `take` books one case on it."""

    id: UUID
    sites: frozenset[str]
    starts_at: datetime
    local_date: date
    deadline: datetime
    agenda_locked: bool
    cases_left: int
    minutes_left: int
    minutes_per_case: int
    missing: list[str]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Slot:
        """A slot from a lock_upcoming_meetings or lock_meeting_for_move row."""
        covered = set(row["covered_disciplines"])
        return cls(
            id=row["id"],
            sites=frozenset(row["disease_sites"]),
            starts_at=row["starts_at"],
            local_date=local_day(row["starts_at"], row["time_zone"]),
            deadline=row["submission_deadline"],
            agenda_locked=row["agenda_locked"],
            cases_left=row["capacity"] - row["case_count"],
            minutes_left=row["duration_minutes"] - row["booked_minutes"],
            minutes_per_case=row["minutes_per_case"],
            missing=[d for d in row["required_disciplines"] if d not in covered],
        )

    def has_room(self) -> bool:
        """Rule 4: a case slot and the discussion time for one more case."""
        return self.cases_left > 0 and self.minutes_left >= self.minutes_per_case

    def open_to(self, urgency: str, now: datetime) -> bool:
        """Rule 5: routine cases only before the submission deadline and the agenda lock."""
        return urgency == Urgency.URGENT or (
            not deadline_passed(self.deadline, now) and not self.agenda_locked
        )

    def in_time(self, discuss_by: date | None) -> bool:
        """Rule 3: on or before the discuss-by date, in the board's time zone."""
        return discuss_by is None or self.local_date <= discuss_by

    def take(self) -> None:
        """Book one case."""
        self.cases_left -= 1
        self.minutes_left -= self.minutes_per_case


@dataclass(frozen=True, slots=True)
class WaitingCase:
    """A case waiting for a meeting, as the rule sees it."""

    id: UUID
    disease_site: str
    urgency: str
    discuss_by: date | None


def explain(case: WaitingCase, slots: list[Slot], has_board: bool, now: datetime) -> str:
    """Why no meeting fits: the first rule, in the rule's order, that every meeting fails."""
    if not has_board:
        return NO_BOARD
    upcoming = [s for s in slots if case.disease_site in s.sites]
    if not upcoming:
        return NO_MEETING
    in_time = [s for s in upcoming if s.in_time(case.discuss_by)]
    if not in_time:
        return AFTER_DISCUSS_BY
    open_ = [s for s in in_time if s.open_to(case.urgency, now)]
    if not open_:
        return DEADLINE_PASSED
    with_room = [s for s in open_ if s.has_room()]
    if not with_room:
        return FULL if all(s.cases_left <= 0 for s in open_) else NO_TIME_LEFT
    earliest = min(with_room, key=lambda s: (s.starts_at, s.id))
    return (
        "No meeting in time has participants covering every discipline the board requires "
        f"(the earliest lacks {discipline_names(earliest.missing)})."
    )


def refusals(case: WaitingCase, meeting: Mapping[str, Any], now: datetime) -> tuple[list[str], list[str]]:
    """For a move by hand: what forbids the meeting, and what only deserves a warning.

    Rules 1 to 5 forbid the move; rule 6 (participants) only warns, because a coordinator may
    place cases before the participant list is complete.
    """
    slot = Slot.from_row(meeting)
    hard = []
    if case.disease_site not in slot.sites:
        hard.append("the meeting's board does not cover the case's disease site")
    if meeting["status"] != MeetingStatus.SCHEDULED:
        hard.append(f"the meeting is not scheduled (it is {meeting['status']})")
    elif slot.starts_at <= now:
        hard.append("the meeting is not scheduled in the future")
    if not slot.in_time(case.discuss_by):
        hard.append("the meeting is after the case's discuss-by date")
    if slot.cases_left <= 0:
        hard.append("the meeting is full")
    elif slot.minutes_left < slot.minutes_per_case:
        hard.append(
            f"the meeting has no discussion time left ({meeting['booked_minutes']} of "
            f"{meeting['duration_minutes']} minutes booked)"
        )
    if case.urgency != Urgency.URGENT:
        if deadline_passed(slot.deadline, now):
            hard.append("the submission deadline has passed (only urgent cases may still join)")
        elif slot.agenda_locked:
            hard.append("the agenda is locked (only urgent cases may still join)")
    soft = []
    if slot.missing:
        soft.append(
            "Placed by hand on a meeting whose participants do not yet cover "
            f"{discipline_names(slot.missing)}."
        )
    return hard, soft


@dataclass(frozen=True, slots=True)
class Deferral:
    """A routine case that left a meeting because it was not ready at the agenda lock."""

    missing_items: list[str]
    from_starts_at: datetime
    time_zone: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Deferral | None:
        """The unsettled deferral joined to a case row, if any."""
        if row["deferred_missing"] is None:
            return None
        return cls(row["deferred_missing"], row["deferred_from_starts_at"], row["deferred_from_time_zone"])

    @property
    def day(self) -> str:
        """The date of the meeting it left, as people read it."""
        return local_day(self.from_starts_at, self.time_zone).strftime("%d %b %Y")

    def placed_note(self) -> str:
        """The note of a deferred case once it is on its next meeting."""
        return (
            f"Moved from the meeting on {self.day}: not ready at its agenda lock "
            f"(missing: {describe_items(self.missing_items)})."
        )

    def waiting_note(self, reason: str) -> str:
        """The note of a deferred case still waiting for its next meeting."""
        return (
            f"Not ready at the agenda lock of the meeting on {self.day} "
            f"(missing: {describe_items(self.missing_items)}). {reason}"
        )
