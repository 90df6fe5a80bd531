"""Meeting endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get, post, put
from litestar.params import Parameter

from tumorboard.auth.schemas import User
from tumorboard.meetings import service
from tumorboard.meetings.schemas import Meeting, MeetingCreate, MeetingPage, ParticipantsPut
from tumorboard.pagination import DEFAULT_LIMIT
from tumorboard.web import read_json


class MeetingController(Controller):
    """Board meetings, their participants and agendas."""

    path = "/meetings"
    tags = ["meetings"]

    @post(operation_id="CreateMeeting")
    async def create_meeting(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Meeting:
        """Schedule a meeting (coordinators)."""
        return await service.create_meeting(conn, user, await read_json(request, MeetingCreate))

    @put("/{meeting_id:uuid}/participants", operation_id="ReplaceParticipants")
    async def replace_participants(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Meeting:
        """Replace the participant list (coordinators); triggers assignment."""
        data = await read_json(request, ParticipantsPut)
        return await service.replace_participants(conn, user, meeting_id, data)

    @get("/{meeting_id:uuid}", operation_id="GetMeeting")
    async def get_meeting(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """A meeting with participants, agenda and quorum (participants and coordinators)."""
        return await service.get_meeting(conn, user, meeting_id)

    @get(operation_id="ListMeetings")
    async def list_meetings(
        self,
        conn: asyncpg.Connection,
        user: User,
        board_id: UUID | None = None,
        starts_from: Annotated[datetime | None, Parameter(query="from")] = None,
        starts_to: Annotated[datetime | None, Parameter(query="to")] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
    ) -> MeetingPage:
        """Meetings by start time."""
        return await service.list_meetings(conn, board_id, starts_from, starts_to, limit, cursor)

    @post("/{meeting_id:uuid}/cancel", operation_id="CancelMeeting", status_code=200)
    async def cancel_meeting(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """Cancel a meeting (coordinators); its cases are re-assigned."""
        return await service.cancel_meeting(conn, user, meeting_id)
