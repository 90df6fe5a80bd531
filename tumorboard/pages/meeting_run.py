"""Running a meeting from its page or its presentation: starting it, recording who attended, closing it.

Each form may name the page to return to (`back`: the meeting page or its presentation)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, post

from tumorboard.auth.schemas import User
from tumorboard.meetings import attendance
from tumorboard.meetings.schemas import AttendancePut, Meeting
from tumorboard.pages.common import attempt, done_or_refused, safe_next
from tumorboard.pages.forms import decode, text

ATTENDANCE_FIELD = "attendance."


def back_to(form: Any, meeting_id: UUID) -> str:
    """The page a meeting form returns to: the one it names, else the meeting page."""
    return safe_next(text(form, "back") or f"/meetings/{meeting_id}")


def attendance_body(form: Any) -> dict[str, Any]:
    """The posted attendance radios (``attendance.<user id>`` = status) as a PUT attendance body."""
    recorded = []
    for name in form:
        value = form.get(name)
        if name.startswith(ATTENDANCE_FIELD) and isinstance(value, str) and value:
            recorded.append({"user_id": name.removeprefix(ATTENDANCE_FIELD), "status": value})
    return {"attendance": recorded}


class MeetingRunPages(Controller):
    """The chair's (or a coordinator's) controls during the meeting."""

    include_in_schema = False

    @post("/meetings/{meeting_id:uuid}/start")
    async def start(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """Open the meeting: quorum now counts who is present."""
        back = back_to(await request.form(), meeting_id)
        result = await attempt(conn, lambda: attendance.start_meeting(conn, user, meeting_id))
        return done_or_refused(request, back, result, "Meeting started. Record who is present below.")

    @post("/meetings/{meeting_id:uuid}/attendance")
    async def record(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """Record who attended."""
        form = await request.form()
        body = attendance_body(form)

        async def record() -> Meeting:
            return await attendance.record_attendance(conn, user, meeting_id, decode(body, AttendancePut))

        result = await attempt(conn, record)
        return done_or_refused(request, back_to(form, meeting_id), result, "Attendance saved.")

    @post("/meetings/{meeting_id:uuid}/close")
    async def close(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """End the meeting."""
        back = back_to(await request.form(), meeting_id)
        result = await attempt(conn, lambda: attendance.close_meeting(conn, user, meeting_id))
        return done_or_refused(request, back, result, "Meeting closed.")
