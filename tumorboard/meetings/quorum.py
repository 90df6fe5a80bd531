"""Quorum and attendance: which required disciplines are covered, by participants or by those present."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from tumorboard.enums import Discipline, MeetingStatus
from tumorboard.meetings.schemas import Attendance, AttendanceStatus, Quorum

# Once a meeting has started, quorum counts who is present rather than who was invited.
TAKING_ATTENDANCE = frozenset({MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED})


def quorum(required: Sequence[str], disciplines: Sequence[str | None]) -> Quorum:
    """Which required disciplines the participants (chair included) cover and which are missing."""
    needed = [Discipline(d) for d in required]
    present = {d for d in disciplines if d is not None}
    return Quorum(
        required=needed,
        covered=[d for d in needed if d in present],
        missing=[d for d in needed if d not in present],
    )


def attendance_view(status: str, rows: Sequence[Mapping[str, Any]]) -> list[Attendance]:
    """Each participant's attendance once the meeting has started (empty before).

    Non-attendance is flagged: an absence without excuse at once, a participant nobody recorded
    once the meeting is closed.
    """
    if status not in TAKING_ATTENDANCE:
        return []
    closed = status == MeetingStatus.CLOSED
    entries = []
    for row in rows:
        recorded: AttendanceStatus | Literal["unrecorded"] = row["status"] or "unrecorded"
        entries.append(
            Attendance(
                user_id=row["user_id"],
                full_name=row["full_name"],
                discipline=row["discipline"],
                role=row["role"],
                status=recorded,
                flagged=recorded == "absent" or (recorded == "unrecorded" and closed),
                recorded_at=row["recorded_at"],
            )
        )
    return entries


def meeting_quorum(
    status: str,
    required: Sequence[str],
    participants: Sequence[Mapping[str, Any]],
    attendance: list[Attendance],
) -> tuple[Quorum, str]:
    """The meeting's quorum and its basis: participants before the start, those present after."""
    if status in TAKING_ATTENDANCE:
        return quorum(required, [a.discipline for a in attendance if a.status == "present"]), "attendance"
    return quorum(required, [p["discipline"] for p in participants]), "participants"
