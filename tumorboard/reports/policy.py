"""Who may read the board quality report: pure answers over the user."""

from __future__ import annotations

from tumorboard.auth.schemas import User
from tumorboard.enums import Role
from tumorboard.policy import ALLOWED, Verdict, forbidden


def can_read_quality_report(user: User) -> Verdict:
    """Read a board's quality figures: coordinators and admins (figures only, no patient data)."""
    if not user.has_role(Role.COORDINATOR, Role.ADMIN):
        return forbidden("The board quality report needs the coordinator or admin role")
    return ALLOWED
