"""Who may attach documents to a case, and when: a pure answer services enforce and pages read."""

from __future__ import annotations

from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import OPEN_STATUSES
from tumorboard.cases.policy import CaseFacts
from tumorboard.enums import Role
from tumorboard.policy import ALLOWED, Verdict, conflict, forbidden


def can_attach(user: User, case: CaseFacts) -> Verdict:
    """Attach a document: the case's presenter and coordinators, until it is finalized or withdrawn."""
    if case.presenter_id != user.id and not user.has_role(Role.COORDINATOR):
        return forbidden("Only the case's presenter and coordinators may attach documents to it")
    if case.status not in OPEN_STATUSES:
        return conflict(f"The case is {case.status}; documents can no longer be attached to it")
    return ALLOWED
