"""Who may run a meeting and when: pure answers over the user, the meeting and the user's part in it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from tumorboard.auth.schemas import User
from tumorboard.enums import MeetingStatus, ParticipantRole, Role
from tumorboard.policy import ALLOWED, Verdict, conflict, forbidden

# A meeting may be opened this long before its start time (people gather early).
START_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    """What the meeting rules look at."""

    id: UUID
    status: MeetingStatus
    starts_at: datetime

    @classmethod
    def of(cls, meeting: Any) -> MeetingFacts:
        """The facts of a meeting struct or row (anything with id, status and starts_at)."""
        get = meeting.__getitem__ if hasattr(meeting, "keys") else meeting.__getattribute__
        return cls(id=get("id"), status=MeetingStatus(get("status")), starts_at=get("starts_at"))


def can_chair(roles: Collection[str], discipline: str | None) -> Verdict:
    """Chair a meeting: a reviewer or a coordinator with a discipline, which counts toward quorum.
    A presenter (who brings cases to the board) or an admin does not chair. Only active users are
    ever offered or accepted."""
    if discipline is None:
        return conflict("a chair needs a discipline, which counts toward quorum")
    if Role.REVIEWER not in roles and Role.COORDINATOR not in roles:
        return conflict("a chair holds the reviewer or coordinator role")
    return ALLOWED


def can_review(roles: Collection[str]) -> Verdict:
    """Sit on a meeting as a reviewer: the reviewer role (which always comes with a discipline, a
    CHECK of app_user). Only active users are ever offered or accepted."""
    if Role.REVIEWER not in roles:
        return conflict("this user does not hold the reviewer role")
    return ALLOWED


def runs_meetings(user: User, role: str | None) -> bool:
    """Whether the user runs this meeting: its chair, or a coordinator."""
    return role == ParticipantRole.CHAIR or user.has_role(Role.COORDINATOR)


def _running(user: User, role: str | None) -> Verdict:
    if runs_meetings(user, role):
        return ALLOWED
    return forbidden("Only the meeting's chair and coordinators may do this")


def can_read(user: User, role: str | None) -> Verdict:
    """The meeting, its agenda and its attendance: its participants and coordinators."""
    if role is not None or user.has_role(Role.COORDINATOR):
        return ALLOWED
    return forbidden("Only the meeting's participants and coordinators may see it")


def can_start(user: User, meeting: MeetingFacts, role: str | None, now: datetime) -> Verdict:
    """Open the meeting: its chair or a coordinator, at most an hour before its start."""
    if not (verdict := _running(user, role)):
        return verdict
    if meeting.status != MeetingStatus.SCHEDULED:
        return conflict(f"The meeting is {meeting.status} and cannot start")
    if now < meeting.starts_at - START_WINDOW:
        return conflict("A meeting can start at most one hour before its start time")
    return ALLOWED


def can_close(user: User, meeting: MeetingFacts, role: str | None) -> Verdict:
    """End the meeting: its chair or a coordinator, while it is in progress."""
    if not (verdict := _running(user, role)):
        return verdict
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return conflict(f"The meeting is {meeting.status}; only a meeting in progress can close")
    return ALLOWED


def can_record_attendance(user: User, meeting: MeetingFacts, role: str | None) -> Verdict:
    """Record who attended: its chair or a coordinator, while the meeting is in progress. Once it is
    closed its attendance is the record (quorum, flags, the care plans and reports cite it)."""
    if not (verdict := _running(user, role)):
        return verdict
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return conflict(
            f"The meeting is {meeting.status}; attendance is recorded while the meeting is in progress"
        )
    return ALLOWED


def can_present(user: User, meeting: MeetingFacts, role: str | None) -> Verdict:
    """Choose the case on the meeting's screen (present one, move to the next): its chair or a
    coordinator, while the meeting is in progress."""
    if not (verdict := _running(user, role)):
        return verdict
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return conflict(f"The meeting is {meeting.status}; cases are presented while it is in progress")
    return ALLOWED


def can_read_slots(user: User, role: str | None, presents_a_case: bool) -> Verdict:
    """The agenda's time slots: its participants and coordinators, and the presenters of its cases
    (who see their own cases in full and the others without patient data)."""
    if role is not None or user.has_role(Role.COORDINATOR) or presents_a_case:
        return ALLOWED
    return forbidden(
        "Only the meeting's participants, coordinators and the presenters of its cases may see it"
    )


def can_change_schedule(user: User, meeting: MeetingFacts) -> Verdict:
    """Move, cancel or change the participants of a meeting: coordinators, while it is scheduled."""
    if not user.has_role(Role.COORDINATOR):
        return forbidden("This needs the coordinator role")
    if meeting.status != MeetingStatus.SCHEDULED:
        return conflict(f"The meeting is {meeting.status} and can no longer change")
    return ALLOWED
