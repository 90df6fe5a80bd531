"""Who may do what to a case, and when: pure answers over the user, the case and its meeting.

Services enforce these answers (`tumorboard.policy.enforce`); pages and templates read them to show
or hide a button. The case's status rules come from the lifecycle table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import AWAITING_DECISION, UNDER_DISCUSSION, CaseEvent, allows
from tumorboard.enums import CaseStatus, MeetingStatus, ParticipantRole, Role
from tumorboard.meetings.policy import MeetingFacts
from tumorboard.policy import ALLOWED, Verdict, conflict, forbidden

PLAN = "plan"
DEFER = "defer"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the case rules look at."""

    id: UUID
    status: CaseStatus
    presenter_id: UUID
    meeting_id: UUID | None

    @classmethod
    def of(cls, case: Any) -> CaseFacts:
        """The facts of a case struct or row (anything with id, status, presenter_id and meeting_id)."""
        get = case.__getitem__ if hasattr(case, "keys") else case.__getattribute__
        return cls(
            id=get("id"),
            status=CaseStatus(get("status")),
            presenter_id=get("presenter_id"),
            meeting_id=get("meeting_id"),
        )


def can_withdraw(user: User, case: CaseFacts) -> Verdict:
    """Withdraw a case: its presenter, until the care plan is signed."""
    if case.presenter_id != user.id:
        return forbidden("Only the case's presenter may withdraw it")
    if not allows(case.status, CaseEvent.WITHDRAW):
        if case.status == CaseStatus.WITHDRAWN:
            return conflict("The case is already withdrawn")
        return conflict("The case's care plan is signed; a finalized case cannot be withdrawn")
    return ALLOWED


def can_move(user: User, case: CaseFacts) -> Verdict:
    """Put a case on a meeting by hand: coordinators, until the board has decided it."""
    if not user.has_role(Role.COORDINATOR):
        return forbidden("This needs the coordinator role")
    if not allows(case.status, CaseEvent.MOVE):
        return conflict(f"The case is {case.status} and can no longer move")
    return ALLOWED


def can_complete_readiness(user: User, case: CaseFacts) -> Verdict:
    """Supply what the board's checklist finds missing: its presenter and coordinators, until decided."""
    if case.presenter_id != user.id and not user.has_role(Role.COORDINATOR):
        return forbidden("Only the case's presenter and coordinators may complete it")
    if case.status not in AWAITING_DECISION:
        return conflict(f"The case is {case.status}; its readiness can no longer change")
    return ALLOWED


def decision_event(status: CaseStatus, outcome: str) -> CaseEvent:
    """The lifecycle event a decision with this outcome is for a case in this status."""
    if outcome == DEFER:
        return CaseEvent.DEFER
    return CaseEvent.CORRECT if status == CaseStatus.DISCUSSED else CaseEvent.DECIDE


def can_decide(
    user: User, case: CaseFacts, meeting: MeetingFacts | None, role: str | None, outcome: str = PLAN
) -> Verdict:
    """Record (or correct) the board's decision: the chair of the case's meeting, while it runs.

    `meeting` is the case's meeting, or for a case that left it, the meeting that last decided it.
    """
    if meeting is None or role != ParticipantRole.CHAIR:
        return forbidden("Only the chair of the case's meeting may record the board's decision")
    if case.status == CaseStatus.FINALIZED:
        return conflict("The case's care plan is signed; a change needs an amendment")
    if case.meeting_id != meeting.id or case.status not in UNDER_DISCUSSION:
        return conflict(f"The case is not on this meeting's agenda (it is {case.status})")
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return conflict(
            f"The meeting is {meeting.status}; the board decides while its meeting is in progress"
        )
    if not allows(case.status, decision_event(case.status, outcome)):
        return conflict(
            "The board has recorded a plan for this case; a discussed case can no longer be deferred"
        )
    return ALLOWED


def can_sign(user: User, case: CaseFacts, role: str | None, care_plan_status: str | None) -> Verdict:
    """Sign the care plan: the chair of the meeting that decided, once a draft of the plan exists."""
    if role != ParticipantRole.CHAIR:
        return forbidden("Only the chair of the meeting that decided the case may sign its care plan")
    if not allows(case.status, CaseEvent.SIGN):
        if case.status == CaseStatus.FINALIZED:
            return conflict("The care plan is already signed; the chair can amend it to change it")
        return conflict(f"The case is {case.status}; only a case the board has decided can be signed")
    if care_plan_status != "draft":
        return conflict("There is no care plan draft to sign yet")
    return ALLOWED


def can_amend(user: User, case: CaseFacts, role: str | None) -> Verdict:
    """Reopen a signed care plan: the chair of the meeting that decided."""
    if role != ParticipantRole.CHAIR:
        return forbidden("Only the chair of the case's meeting may do this")
    if not allows(case.status, CaseEvent.AMEND):
        return conflict("Only a signed care plan can be amended; the current draft can still change")
    return ALLOWED


def can_record_follow_up(user: User, case: CaseFacts, signed: bool) -> Verdict:
    """Record whether the signed care plan was implemented: the case's presenter, once a version is signed."""
    if case.presenter_id != user.id:
        return forbidden("Only the case's presenter may record whether its care plan was implemented")
    if not signed:
        return conflict("The care plan is not signed yet; follow-up is recorded after signing")
    return ALLOWED
