"""Moving or reshaping one meeting (one occurrence of a series, say): the form posts the fields of
PATCH /meetings/{id} and goes through the same service (`meetings.service.update_meeting`); it is
offered where `meetings.policy.can_change_schedule` allows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template

from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.enums import Role
from tumorboard.errors import DomainError
from tumorboard.meetings import service
from tumorboard.meetings.schemas import Meeting, MeetingUpdate
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.filters import input_datetime, zone_of
from tumorboard.pages.forms import compact, decode, local_datetime, number, optional

DATETIME_FIELDS = ("starts_at", "submission_deadline")


def meeting_update_body(form: Any, time_zone: str, meeting: Meeting) -> dict[str, Any]:
    """The posted form shaped like a PATCH /meetings/{id} body: a start left as shown stays as it is
    (to the second), an empty deadline moves with the start, an empty room or video link is cleared."""
    zone = zone_of(time_zone)
    unmoved = form.get("starts_at") == input_datetime(meeting.starts_at, zone)
    body = compact(
        {
            "starts_at": None if unmoved else local_datetime(form, "starts_at", zone),
            "duration_minutes": number(form, "duration_minutes"),
            "capacity": number(form, "capacity"),
            "minutes_per_case": number(form, "minutes_per_case"),
            "submission_deadline": local_datetime(form, "submission_deadline", zone),
        }
    )
    return {**body, "location": optional(form, "location"), "video_url": optional(form, "video_url")}


async def _edit_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    meeting: Meeting,
    values: dict[str, Any],
    refused: DomainError | None = None,
) -> Template:
    require_role(user, Role.COORDINATOR, action="update", subject_type="meeting", subject_id=meeting.id)
    zone = zone_of(request.app.state.settings.time_zone)
    shown = {
        name: input_datetime(value, zone) if isinstance(value, datetime) else value
        for name, value in values.items()
    }
    return page(
        request,
        "pages/meeting_edit.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        meeting=meeting,
        values={name: "" if value is None else value for name, value in shown.items()},
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        time_zone=request.app.state.settings.time_zone,
        deadline=input_datetime(meeting.submission_deadline, zone).replace("T", " "),
    )


class MeetingEditPages(Controller):
    """Changing one meeting's time, length, place or size."""

    include_in_schema = False

    @get("/meetings/{meeting_id:uuid}/edit")
    async def edit(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Template:
        """The meeting's schedule as a form."""
        meeting = await service.get_meeting(conn, user, meeting_id)
        values = {
            "starts_at": meeting.starts_at,
            "duration_minutes": meeting.duration_minutes,
            "capacity": meeting.capacity,
            "minutes_per_case": meeting.minutes_per_case,
            "submission_deadline": None,  # left empty, it moves with the start
            "location": meeting.location,
            "video_url": meeting.video_url,
        }
        return await _edit_page(request, conn, user, meeting, values)

    @post("/meetings/{meeting_id:uuid}/edit")
    async def update(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        state: State,
        meeting_id: UUID,
    ) -> Response[Any]:
        """Move or reshape the meeting; the form again with each field's message if refused."""
        form = await request.form()
        meeting = await service.get_meeting(conn, user, meeting_id)
        body = meeting_update_body(form, state.settings.time_zone, meeting)

        async def update() -> Meeting:
            return await service.update_meeting(conn, user, meeting_id, decode(body, MeetingUpdate))

        result = await attempt(conn, update)
        if isinstance(result, DomainError):
            meeting = await service.get_meeting(conn, user, meeting_id)
            values = {**body, **{name: form.get(name, "") for name in DATETIME_FIELDS}}  # as typed
            return await _edit_page(request, conn, user, meeting, values, result)
        return done(request, f"/meetings/{meeting_id}", "Meeting changed.")
