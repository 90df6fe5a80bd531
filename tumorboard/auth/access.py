"""Access rules by role and by record, shared by every domain."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from tumorboard.auth.schemas import User
from tumorboard.db import queries
from tumorboard.enums import Role
from tumorboard.errors import AccessDenied


def require_role(
    user: User, *roles: Role, action: str, subject_type: str, subject_id: UUID | None = None
) -> None:
    """Refuse (and audit) a caller who holds none of the roles."""
    if not user.has_role(*roles):
        names = " or ".join(str(role) for role in roles)
        raise AccessDenied(
            f"This needs the {names} role", action=action, subject_type=subject_type, subject_id=subject_id
        )


async def participant_role(conn: asyncpg.Connection, meeting_id: UUID | None, user_id: UUID) -> str | None:
    """The caller's role on a meeting ('chair' or 'reviewer'), or None."""
    if meeting_id is None:
        return None
    return await queries.meetings.get_participant_role(conn, meeting_id=meeting_id, user_id=user_id)
