"""Meeting endpoints: meetings, agendas and attendance; series; case readiness; calendars."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import asyncpg
from litestar import Controller, MediaType, Response, delete, get, patch, post, put
from litestar.params import Parameter

from tumorboard.auth.schemas import User
from tumorboard.errors import NotFound
from tumorboard.meetings import agenda, attendance, calendar, pack, presentation, readiness, series, service
from tumorboard.meetings.schemas import (
    Agenda,
    AgendaSlots,
    AttendancePut,
    CalendarFeed,
    CaseReadiness,
    CurrentCasePut,
    Meeting,
    MeetingCreate,
    MeetingPage,
    MeetingUpdate,
    ParticipantsPut,
    ReadinessUpdate,
    Series,
    SeriesCreate,
)
from tumorboard.meetings.slots import agenda_slots
from tumorboard.openapi_schema import DOCUMENT_NOT_READY
from tumorboard.pagination import DEFAULT_LIMIT

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store"}
PDF_MEDIA_TYPE = "application/pdf"


class MeetingController(Controller):
    """Board meetings, their participants, agendas and attendance."""

    path = "/meetings"
    tags = ["meetings"]

    @post(operation_id="CreateMeeting")
    async def create_meeting(self, conn: asyncpg.Connection, user: User, data: MeetingCreate) -> Meeting:
        """Schedule a meeting (coordinators)."""
        return await service.create_meeting(conn, user, data)

    @put("/{meeting_id:uuid}/participants", operation_id="ReplaceParticipants")
    async def replace_participants(
        self, conn: asyncpg.Connection, user: User, meeting_id: UUID, data: ParticipantsPut
    ) -> Meeting:
        """Replace the participant list (coordinators); triggers assignment."""
        return await service.replace_participants(conn, user, meeting_id, data)

    @get("/{meeting_id:uuid}", operation_id="GetMeeting")
    async def get_meeting(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """A meeting with participants, agenda, quorum and attendance (participants and coordinators)."""
        return await service.get_meeting(conn, user, meeting_id)

    @patch("/{meeting_id:uuid}", operation_id="UpdateMeeting")
    async def update_meeting(
        self, conn: asyncpg.Connection, user: User, meeting_id: UUID, data: MeetingUpdate
    ) -> Meeting:
        """Move or reshape one meeting, e.g. one occurrence of a series (coordinators)."""
        return await service.update_meeting(conn, user, meeting_id, data)

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
        """The meetings the caller may see, by start time."""
        return await service.list_meetings(conn, user, board_id, starts_from, starts_to, limit, cursor)

    @post("/{meeting_id:uuid}/cancel", operation_id="CancelMeeting", status_code=200)
    async def cancel_meeting(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """Cancel a meeting (coordinators); its cases are re-assigned."""
        return await service.cancel_meeting(conn, user, meeting_id)

    @post("/{meeting_id:uuid}/start", operation_id="StartMeeting", status_code=200)
    async def start_meeting(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """Open the meeting (chair or coordinators); quorum then counts those present."""
        return await attendance.start_meeting(conn, user, meeting_id)

    @post("/{meeting_id:uuid}/close", operation_id="CloseMeeting", status_code=200)
    async def close_meeting(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """End the meeting (chair or coordinators)."""
        return await attendance.close_meeting(conn, user, meeting_id)

    @put("/{meeting_id:uuid}/attendance", operation_id="RecordAttendance")
    async def record_attendance(
        self, conn: asyncpg.Connection, user: User, meeting_id: UUID, data: AttendancePut
    ) -> Meeting:
        """Record who attended (chair or coordinators), once the meeting has started."""
        return await attendance.record_attendance(conn, user, meeting_id, data)

    @get("/{meeting_id:uuid}/agenda", operation_id="GetAgenda")
    async def get_agenda(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Agenda:
        """The ordered agenda with time slots and readiness (participants and coordinators)."""
        return await agenda.get_agenda(conn, user, meeting_id)

    @get("/{meeting_id:uuid}/agenda.html", operation_id="GetAgendaHtml", media_type=MediaType.HTML)
    async def get_agenda_html(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Response[str]:
        """The agenda as an HTML page."""
        html = await agenda.get_agenda_html(conn, user, meeting_id)
        return Response(html, media_type="text/html; charset=utf-8", headers=NO_STORE)

    @get(
        "/{meeting_id:uuid}/agenda.pdf",
        operation_id="GetAgendaPdf",
        media_type=PDF_MEDIA_TYPE,
        responses=DOCUMENT_NOT_READY,
    )
    async def get_agenda_pdf(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Response[bytes]:
        """The agenda as a PDF; 503 with Retry-After while a worker renders it."""
        pdf = await agenda.get_agenda_pdf(conn, user, meeting_id)
        headers = {**NO_STORE, "Content-Disposition": f'inline; filename="agenda-{meeting_id}.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=headers)

    @get("/{meeting_id:uuid}/slots", operation_id="GetAgendaSlots")
    async def get_slots(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> AgendaSlots:
        """The running order: every case for participants and coordinators; for a presenter of a case
        on the meeting, their own cases in full and the others as time slots without patient data."""
        return await agenda_slots(conn, user, meeting_id)

    @put("/{meeting_id:uuid}/current-case", operation_id="PresentCase")
    async def present_case(
        self, conn: asyncpg.Connection, user: User, meeting_id: UUID, data: CurrentCasePut
    ) -> Meeting:
        """Put a case of the agenda on the running meeting's screen, or clear it (chair or coordinators)."""
        return await presentation.present_case(conn, user, meeting_id, data.case_id)

    @post("/{meeting_id:uuid}/next-case", operation_id="PresentNextCase", status_code=200)
    async def present_next_case(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Meeting:
        """Move the running meeting's screen on to the next case awaiting a decision (chair or
        coordinators)."""
        return await presentation.present_next_case(conn, user, meeting_id)

    @get(
        "/{meeting_id:uuid}/pack.pdf",
        operation_id="GetMeetingPack",
        media_type=PDF_MEDIA_TYPE,
        responses=DOCUMENT_NOT_READY,
    )
    async def get_pack(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Response[bytes]:
        """The meeting pack (each case's summary, question, clinical data and recommendations so far)
        as a PDF, for participants and coordinators, every download audited; 503 with Retry-After
        while a worker renders it."""
        pdf = await pack.get_pack_pdf(conn, user, meeting_id)
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="meeting-pack-{meeting_id}.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=headers)

    @get("/{meeting_id:uuid}/invite.ics", operation_id="GetMeetingInvite", media_type=ICS_MEDIA_TYPE)
    async def get_invite(self, conn: asyncpg.Connection, user: User, meeting_id: UUID) -> Response[bytes]:
        """The meeting as an iCalendar invite."""
        ics = await calendar.meeting_invite(conn, user, meeting_id)
        headers = {"Content-Disposition": f'attachment; filename="meeting-{meeting_id}.ics"'}
        return Response(ics, media_type=ICS_MEDIA_TYPE, headers=headers)


class BoardSeriesController(Controller):
    """The recurring meetings of a board."""

    path = "/boards/{board_id:uuid}/series"
    tags = ["meeting series"]

    @post(operation_id="CreateSeries")
    async def create_series(
        self, conn: asyncpg.Connection, user: User, board_id: UUID, data: SeriesCreate
    ) -> Series:
        """Define a recurring meeting from an RFC 5545 RRULE (coordinators)."""
        return await series.create_series(conn, user, board_id, data)

    @get(operation_id="ListBoardSeries")
    async def list_series(self, conn: asyncpg.Connection, user: User, board_id: UUID) -> list[Series]:
        """A board's series with their upcoming occurrences."""
        return await series.list_board_series(conn, user, board_id)


class SeriesController(Controller):
    """One recurring meeting."""

    path = "/series"
    tags = ["meeting series"]

    @get("/{series_id:uuid}", operation_id="GetSeries")
    async def get_series(self, conn: asyncpg.Connection, user: User, series_id: UUID) -> Series:
        """A series with its upcoming occurrences (participants and video links for coordinators and
        its participants)."""
        return await series.get_series(conn, user, series_id)

    @put("/{series_id:uuid}/participants", operation_id="ReplaceSeriesParticipants")
    async def replace_participants(
        self, conn: asyncpg.Connection, user: User, series_id: UUID, data: ParticipantsPut
    ) -> Series:
        """Replace the participants of the series and of its future occurrences (coordinators)."""
        return await series.replace_series_participants(conn, user, series_id, data)

    @post("/{series_id:uuid}/end", operation_id="EndSeries", status_code=200)
    async def end_series(self, conn: asyncpg.Connection, user: User, series_id: UUID) -> Series:
        """Stop the series; its future occurrences are cancelled (coordinators)."""
        return await series.end_series(conn, user, series_id)


class CaseReadinessController(Controller):
    """Whether a case is ready for its board."""

    path = "/cases/{case_id:uuid}/readiness"
    tags = ["cases"]

    @get(operation_id="GetCaseReadiness")
    async def get_readiness(self, conn: asyncpg.Connection, user: User, case_id: UUID) -> CaseReadiness:
        """The case's checklist, item by item (as GET /cases/{id})."""
        return await readiness.get_case_readiness(conn, user, case_id)

    @patch(operation_id="UpdateCaseReadiness")
    async def update_readiness(
        self, conn: asyncpg.Connection, user: User, case_id: UUID, data: ReadinessUpdate
    ) -> CaseReadiness:
        """Supply what is missing (its presenter, coordinators)."""
        return await readiness.update_case_readiness(conn, user, case_id, data)


class CalendarFeedController(Controller):
    """The caller's calendar subscription URL."""

    path = "/me/calendar-feed"
    tags = ["calendar"]

    @post(operation_id="IssueCalendarFeed", status_code=201)
    async def issue(self, conn: asyncpg.Connection, user: User) -> CalendarFeed:
        """A new secret feed URL of the meetings the caller takes part in (replaces the old one)."""
        token, created_at = await calendar.issue_feed(conn, user)
        return CalendarFeed(url=calendar.feed_url(token), created_at=created_at)

    @delete(operation_id="RevokeCalendarFeed", status_code=204)
    async def revoke(self, conn: asyncpg.Connection, user: User) -> None:
        """Revoke the caller's feed URL."""
        await calendar.revoke_feed(conn, user)


class CalendarController(Controller):
    """Calendar feeds, authenticated by the secret in their URL."""

    path = "/calendar"
    tags = ["calendar"]

    @get("/{feed:str}", operation_id="ReadCalendarFeed", media_type=ICS_MEDIA_TYPE)
    async def read_feed(
        self, conn: asyncpg.Connection, feed: Annotated[str, Parameter(max_length=100)]
    ) -> Response[bytes]:
        """The meetings of the feed's owner as iCalendar (`/calendar/<secret>.ics`)."""
        token, suffix, rest = feed.partition(".ics")
        if not suffix or rest:
            raise NotFound("No such calendar feed")
        return Response(await calendar.read_feed(conn, token), media_type=ICS_MEDIA_TYPE, headers=NO_STORE)
