"""Who may recommend on a case and revise a recommendation: pure answers over plain facts."""

from __future__ import annotations

from uuid import UUID

from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import UNDER_DISCUSSION
from tumorboard.cases.policy import CaseFacts
from tumorboard.enums import CaseStatus, Role
from tumorboard.policy import ALLOWED, Verdict, conflict, forbidden


def can_recommend(user: User, case: CaseFacts, role: str | None) -> Verdict:
    """A first recommendation: a reviewer taking part in the case's meeting, until the plan is signed."""
    if not user.has_role(Role.REVIEWER):
        return forbidden("This needs the reviewer role")
    if role is None:
        return forbidden("Only reviewers taking part in the case's meeting may recommend")
    if case.status not in UNDER_DISCUSSION:
        return conflict(f"The case is {case.status}; recommendations are closed")
    return ALLOWED


def can_revise(user: User, author_id: UUID, case: CaseFacts, role: str | None) -> Verdict:
    """A new version of a recommendation: its author, while still on the case's meeting and the
    care plan is not final."""
    if author_id != user.id:
        return forbidden("Only its author may change a recommendation")
    if role is None:
        return forbidden("Only an author still taking part in the case's meeting may change a recommendation")
    if case.status == CaseStatus.FINALIZED:
        return conflict("The care plan is final; recommendations are locked unless the chair amends it")
    if case.status not in UNDER_DISCUSSION:
        return conflict(f"The case is {case.status}; recommendations are closed")
    return ALLOWED
