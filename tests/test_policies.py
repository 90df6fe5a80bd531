"""The policies: who may do what to a case, a meeting and a recommendation, and when (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from tumorboard.auth.schemas import User
from tumorboard.cases.policy import (
    CaseFacts,
    can_amend,
    can_decide,
    can_move,
    can_sign,
    can_withdraw,
)
from tumorboard.enums import CaseStatus as S
from tumorboard.enums import MeetingStatus as M
from tumorboard.enums import Role
from tumorboard.meetings.policy import (
    MeetingFacts,
    can_change_schedule,
    can_close,
    can_read,
    can_record_attendance,
    can_start,
)
from tumorboard.policy import Verdict
from tumorboard.recommendations.policy import can_recommend, can_revise

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MEETING_ID = uuid4()


def user(*roles: Role) -> User:
    return User(id=uuid4(), email="u@example.org", full_name="U", roles=list(roles), created_at=NOW)


PRESENTER = user(Role.PRESENTER)
COORDINATOR = user(Role.COORDINATOR)
REVIEWER = user(Role.REVIEWER)


def case(status: S, *, presenter: User = PRESENTER, on_meeting: bool = True) -> CaseFacts:
    return CaseFacts(
        id=uuid4(), status=status, presenter_id=presenter.id, meeting_id=MEETING_ID if on_meeting else None
    )


def meeting(
    status: M, *, starts_in: timedelta = timedelta(minutes=30), meeting_id: UUID = MEETING_ID
) -> MeetingFacts:
    return MeetingFacts(id=meeting_id, status=status, starts_at=NOW + starts_in)


def outcome(verdict: Verdict) -> str:
    return verdict.refusal or "allowed"


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        (PRESENTER, S.SUBMITTED, "allowed"),
        (PRESENTER, S.SCHEDULED, "allowed"),
        (PRESENTER, S.DISCUSSED, "allowed"),
        (PRESENTER, S.FINALIZED, "conflict"),
        (PRESENTER, S.WITHDRAWN, "conflict"),
        (COORDINATOR, S.SCHEDULED, "forbidden"),
        (REVIEWER, S.FINALIZED, "forbidden"),  # not theirs: forbidden before any state is looked at
    ],
)
def test_can_withdraw(who: User, status: S, expected: str) -> None:
    assert outcome(can_withdraw(who, case(status))) == expected


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        (COORDINATOR, S.SUBMITTED, "allowed"),
        (COORDINATOR, S.SCHEDULED, "allowed"),
        (COORDINATOR, S.DISCUSSED, "conflict"),
        (COORDINATOR, S.WITHDRAWN, "conflict"),
        (PRESENTER, S.SUBMITTED, "forbidden"),
    ],
)
def test_can_move(who: User, status: S, expected: str) -> None:
    assert outcome(can_move(who, case(status))) == expected


@pytest.mark.parametrize(
    ("role", "status", "meeting_status", "decision", "on_meeting", "expected"),
    [
        ("chair", S.SCHEDULED, M.IN_PROGRESS, "plan", True, "allowed"),
        ("chair", S.SCHEDULED, M.IN_PROGRESS, "defer", True, "allowed"),
        ("chair", S.DISCUSSED, M.IN_PROGRESS, "plan", True, "allowed"),  # a correction
        ("chair", S.DISCUSSED, M.IN_PROGRESS, "defer", True, "conflict"),
        ("chair", S.SCHEDULED, M.SCHEDULED, "plan", True, "conflict"),  # not started
        ("chair", S.SCHEDULED, M.CLOSED, "plan", True, "conflict"),
        ("chair", S.DISCUSSED, M.CLOSED, "plan", True, "conflict"),  # no correction after the meeting
        ("chair", S.FINALIZED, M.IN_PROGRESS, "plan", True, "conflict"),
        ("chair", S.WITHDRAWN, M.IN_PROGRESS, "plan", True, "conflict"),
        ("chair", S.SUBMITTED, M.IN_PROGRESS, "plan", False, "conflict"),  # deferred: not on it any more
        ("reviewer", S.SCHEDULED, M.IN_PROGRESS, "plan", True, "forbidden"),
        (None, S.SCHEDULED, M.IN_PROGRESS, "plan", True, "forbidden"),
    ],
)
def test_can_decide(
    role: str | None, status: S, meeting_status: M, decision: str, on_meeting: bool, expected: str
) -> None:
    verdict = can_decide(
        REVIEWER, case(status, on_meeting=on_meeting), meeting(meeting_status), role, decision
    )
    assert outcome(verdict) == expected


def test_a_coordinator_does_not_decide_for_the_board() -> None:
    assert outcome(can_decide(COORDINATOR, case(S.SCHEDULED), meeting(M.IN_PROGRESS), None)) == "forbidden"


def test_no_meeting_means_no_chair() -> None:
    assert outcome(can_decide(REVIEWER, case(S.SUBMITTED, on_meeting=False), None, None)) == "forbidden"


@pytest.mark.parametrize(
    ("role", "status", "plan_status", "expected"),
    [
        ("chair", S.DISCUSSED, "draft", "allowed"),
        ("chair", S.DISCUSSED, None, "conflict"),  # the draft is being built
        ("chair", S.DISCUSSED, "final", "conflict"),  # an amendment's new draft is not there yet
        ("chair", S.SCHEDULED, None, "conflict"),  # nothing is signed before the board decided
        ("chair", S.FINALIZED, "final", "conflict"),
        ("reviewer", S.DISCUSSED, "draft", "forbidden"),
        (None, S.SCHEDULED, None, "forbidden"),  # 403 comes before any 409
    ],
)
def test_can_sign(role: str | None, status: S, plan_status: str | None, expected: str) -> None:
    assert outcome(can_sign(REVIEWER, case(status), role, plan_status)) == expected


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("chair", S.FINALIZED, "allowed"),
        ("chair", S.DISCUSSED, "conflict"),
        ("reviewer", S.FINALIZED, "forbidden"),
    ],
)
def test_can_amend(role: str, status: S, expected: str) -> None:
    assert outcome(can_amend(REVIEWER, case(status), role)) == expected


@pytest.mark.parametrize(
    ("who", "role", "status", "expected"),
    [
        (REVIEWER, "reviewer", S.SCHEDULED, "allowed"),
        (REVIEWER, "chair", S.DISCUSSED, "allowed"),
        (REVIEWER, "reviewer", S.FINALIZED, "conflict"),
        (REVIEWER, None, S.SCHEDULED, "forbidden"),
        (PRESENTER, "reviewer", S.SCHEDULED, "forbidden"),
    ],
)
def test_can_recommend(who: User, role: str | None, status: S, expected: str) -> None:
    assert outcome(can_recommend(who, case(status), role)) == expected


@pytest.mark.parametrize(
    ("author_is_caller", "role", "status", "expected"),
    [
        (True, "reviewer", S.SCHEDULED, "allowed"),
        (True, "reviewer", S.DISCUSSED, "allowed"),
        (True, "reviewer", S.FINALIZED, "conflict"),  # the care plan is final
        (True, None, S.SCHEDULED, "forbidden"),  # no longer on the case's meeting
        (True, None, S.SUBMITTED, "forbidden"),  # the case left the meeting (deferred)
        (False, "reviewer", S.SCHEDULED, "forbidden"),
    ],
)
def test_can_revise(author_is_caller: bool, role: str | None, status: S, expected: str) -> None:
    author = REVIEWER.id if author_is_caller else uuid4()
    assert outcome(can_revise(REVIEWER, author, case(status), role)) == expected


@pytest.mark.parametrize(
    ("who", "role", "status", "starts_in", "expected"),
    [
        (REVIEWER, "chair", M.SCHEDULED, timedelta(minutes=59), "allowed"),
        (COORDINATOR, None, M.SCHEDULED, timedelta(minutes=30), "allowed"),
        (REVIEWER, "chair", M.SCHEDULED, timedelta(minutes=61), "conflict"),  # too early
        (REVIEWER, "chair", M.IN_PROGRESS, timedelta(minutes=0), "conflict"),
        (REVIEWER, "reviewer", M.SCHEDULED, timedelta(minutes=30), "forbidden"),
        (PRESENTER, None, M.SCHEDULED, timedelta(minutes=30), "forbidden"),
    ],
)
def test_can_start(who: User, role: str | None, status: M, starts_in: timedelta, expected: str) -> None:
    assert outcome(can_start(who, meeting(status, starts_in=starts_in), role, NOW)) == expected


@pytest.mark.parametrize(
    ("status", "close", "attendance"),
    [
        (M.SCHEDULED, "conflict", "conflict"),
        (M.IN_PROGRESS, "allowed", "allowed"),
        (M.CLOSED, "conflict", "conflict"),  # once closed, its attendance is the record
        (M.CANCELLED, "conflict", "conflict"),
    ],
)
def test_can_close_and_record_attendance(status: M, close: str, attendance: str) -> None:
    assert outcome(can_close(REVIEWER, meeting(status), "chair")) == close
    assert outcome(can_record_attendance(REVIEWER, meeting(status), "chair")) == attendance
    assert outcome(can_close(REVIEWER, meeting(status), "reviewer")) == "forbidden"
    assert outcome(can_record_attendance(PRESENTER, meeting(status), None)) == "forbidden"


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        (COORDINATOR, M.SCHEDULED, "allowed"),
        (COORDINATOR, M.IN_PROGRESS, "conflict"),
        (REVIEWER, M.SCHEDULED, "forbidden"),
    ],
)
def test_can_change_schedule(who: User, status: M, expected: str) -> None:
    assert outcome(can_change_schedule(who, meeting(status))) == expected


def test_can_read_a_meeting() -> None:
    assert can_read(REVIEWER, "reviewer") and can_read(COORDINATOR, None)
    assert outcome(can_read(PRESENTER, None)) == "forbidden"
