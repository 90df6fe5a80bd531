"""Meeting pages: the list, scheduling, the meeting with its live agenda, participants, cancelling."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template

from tumorboard.auth.access import participant_role, require_role
from tumorboard.auth.schemas import User
from tumorboard.auth.service import list_users
from tumorboard.boards.service import list_boards
from tumorboard.cases.policy import DEFER, CaseFacts, can_decide
from tumorboard.enums import ParticipantRole, Role
from tumorboard.errors import DomainError
from tumorboard.labels import label
from tumorboard.meetings import service
from tumorboard.meetings.policy import (
    MeetingFacts,
    can_chair,
    can_change_schedule,
    can_close,
    can_read,
    can_record_attendance,
    can_review,
    can_start,
    runs_meetings,
)
from tumorboard.meetings.rules import deadline_passed
from tumorboard.meetings.schemas import Meeting, MeetingCreate, ParticipantsPut
from tumorboard.meetings.slots import agenda_slots
from tumorboard.pages import work
from tumorboard.pages.common import attempt, done, done_or_refused, field_errors, form_error, page
from tumorboard.pages.filters import input_datetime, when, zone_of
from tumorboard.pages.forms import (
    compact,
    decode,
    flatten,
    local_datetime,
    number,
    optional,
    text,
    texts,
)
from tumorboard.pages.schemas import AgendaActions
from tumorboard.recommendations.policy import can_recommend, can_revise

USERS_PAGE = 200
MAX_USER_PAGES = 25
AGENDA_TEMPLATE = "pages/meeting_agenda.html"
SLOTS_TEMPLATE = "pages/meeting_slots.html"


def meeting_body(form: Any, time_zone: str) -> dict[str, Any]:
    """The posted form shaped like a POST /meetings body; times read in the service's time zone."""
    zone = zone_of(time_zone)
    body = {
        "board_id": text(form, "board_id"),
        "starts_at": local_datetime(form, "starts_at", zone) or "",
        "duration_minutes": number(form, "duration_minutes"),
        "location": optional(form, "location"),
        "video_url": optional(form, "video_url"),
        "capacity": number(form, "capacity"),
        "submission_deadline": local_datetime(form, "submission_deadline", zone),
    }
    return compact(body)


def participants_body(form: Any) -> dict[str, Any]:
    """The chosen chair and reviewers as a participant list; a chair ticked as reviewer counts once."""
    chair = text(form, "chair")
    listed = [{"user_id": chair, "role": ParticipantRole.CHAIR}] if chair else []
    listed += [
        {"user_id": reviewer, "role": ParticipantRole.REVIEWER}
        for reviewer in dict.fromkeys(texts(form, "reviewers"))
        if reviewer != chair
    ]
    return {"participants": listed}


async def all_users(conn: asyncpg.Connection) -> list[User]:
    """Every user by name, read page by page through the user service."""
    users: list[User] = []
    cursor = None
    for _ in range(MAX_USER_PAGES):
        found = await list_users(conn, USERS_PAGE, cursor)
        users.extend(found.items)
        if (cursor := found.next_cursor) is None:
            break
    return users


async def eligible_participants(conn: asyncpg.Connection) -> dict[str, list[User]]:
    """Whom a participants form offers (a meeting's or a series'): as chair, the active users
    `can_chair` accepts; as reviewers, the active users `can_review` accepts."""
    active = [u for u in await all_users(conn) if u.active]
    return {
        "chairs": [u for u in active if can_chair(u.roles, u.discipline)],
        "people": [u for u in active if can_review(u.roles)],
    }


async def agenda_context(conn: asyncpg.Connection, user: User, meeting: Meeting) -> dict[str, Any]:
    """What the meeting page and its live agenda show: cases, progress per discipline, and what the
    viewer may do (the policies' answers)."""
    role = await participant_role(conn, meeting.id, user.id)
    progress = await work.agenda_progress(conn, meeting.id, user.id)
    facts = MeetingFacts.of(meeting)
    actions = {}
    for case in meeting.cases:
        case_facts = CaseFacts(
            id=case.id, status=case.status, presenter_id=case.presenter_id, meeting_id=meeting.id
        )
        own = progress[case.id].own_recommendation_id if case.id in progress else None
        recommend = (
            can_revise(user, user.id, case_facts, role) if own else can_recommend(user, case_facts, role)
        )
        decide = can_decide(user, case_facts, facts, role) or can_decide(user, case_facts, facts, role, DEFER)
        actions[case.id] = AgendaActions(recommend=bool(recommend), decide=bool(decide))
    return {
        "meeting": meeting,
        "progress": progress,
        "role": role,
        "actions": actions,
        "may_start": bool(can_start(user, facts, role, datetime.now(UTC))),
        "may_record_attendance": bool(can_record_attendance(user, facts, role)),
        "may_close": bool(can_close(user, facts, role)),
        "may_change": bool(can_change_schedule(user, facts)),
        "runs_meeting": runs_meetings(user, role),
        "deadline_passed": deadline_passed(meeting.submission_deadline, datetime.now(UTC)),
    }


class MeetingPages(Controller):
    """Board meetings."""

    include_in_schema = False

    @get("/meetings")
    async def list_meetings(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Template:
        """Coordinators see every open meeting with fill and quorum; others, the meetings they are in."""
        if user.has_role(Role.COORDINATOR):
            context: dict[str, Any] = {"open_meetings": await work.open_meetings_with_quorum(conn, user)}
        else:
            context = {"my_meetings": await work.my_meetings(conn, user)}
        return page(request, "pages/meetings.html", user=user, **context)

    @get("/meetings/new")
    async def new_meeting(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Template:
        """The scheduling form, for coordinators: they schedule meetings."""
        require_role(user, Role.COORDINATOR, action="create", subject_type="meeting")
        defaults = {"duration_minutes": "60", "capacity": "10"}
        return page(request, "pages/meeting_form.html", **await _form_context(conn, user, defaults))

    @post("/meetings")
    async def create(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, state: State
    ) -> Response[Any]:
        """Schedule the meeting, then choose its participants."""
        form = await request.form()
        body = meeting_body(form, state.settings.time_zone)
        result = await attempt(conn, lambda: _create(conn, user, body))
        if isinstance(result, DomainError):
            zone = zone_of(state.settings.time_zone)
            values = flatten(body)
            for name in ("starts_at", "submission_deadline"):
                values[name] = input_datetime(values.get(name), zone)  # as the input shows it
            context = await _form_context(conn, user, values, result)
            return page(request, "pages/meeting_form.html", status_code=result.status_code, **context)
        message = "Meeting scheduled. Now choose who takes part."
        if deadline_passed(result.submission_deadline, datetime.now(UTC)):
            deadline = when(result.submission_deadline, zone_of(state.settings.time_zone))
            message = (
                f"Meeting scheduled. Its submission deadline ({deadline}) has already passed: only urgent "
                "cases can join it. Now choose who takes part."
            )
        return done(request, f"/meetings/{result.id}/participants", message)

    @get("/meetings/{meeting_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        meeting_id: UUID,
    ) -> Template:
        """The meeting with its agenda; the agenda follows recommendations live while the page is open,
        and the page clears itself when the session ends (at the latest at its absolute end). A presenter
        of a case on it sees its running order instead (their own cases only)."""
        if not can_read(user, await participant_role(conn, meeting_id, user.id)):
            slots = await agenda_slots(conn, user, meeting_id)  # 403, audited, unless they present a case
            fingerprint = await work.live_agenda_fingerprint(conn, meeting_id)
            return page(request, SLOTS_TEMPLATE, user=user, slots=slots, fingerprint=fingerprint)
        meeting = await service.get_meeting(conn, user, meeting_id)
        return page(
            request,
            "pages/meeting.html",
            user=user,
            fingerprint=await work.live_agenda_fingerprint(conn, meeting_id),
            **await agenda_context(conn, user, meeting),
        )

    @get("/meetings/{meeting_id:uuid}/participants")
    async def edit_participants(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Template:
        """Choose the chair and the reviewers."""
        meeting = await service.get_meeting(conn, user, meeting_id)
        chair = next((p.user_id for p in meeting.participants if p.role == ParticipantRole.CHAIR), None)
        reviewers = {str(p.user_id) for p in meeting.participants if p.role == ParticipantRole.REVIEWER}
        context = await _participants_context(conn, user, meeting, str(chair or ""), reviewers)
        return page(request, "pages/participants_form.html", **context)

    @post("/meetings/{meeting_id:uuid}/participants")
    async def save_participants(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """Replace the participant list; waiting cases are then offered to the meeting."""
        form = await request.form()
        body = participants_body(form)

        async def replace() -> Meeting:
            return await service.replace_participants(conn, user, meeting_id, decode(body, ParticipantsPut))

        result = await attempt(conn, replace)
        if isinstance(result, DomainError):
            meeting = await service.get_meeting(conn, user, meeting_id)
            chosen = set(texts(form, "reviewers"))
            context = await _participants_context(conn, user, meeting, text(form, "chair"), chosen, result)
            return page(request, "pages/participants_form.html", status_code=result.status_code, **context)
        missing = ", ".join(label(d).lower() for d in result.quorum.missing)
        quorum = f"Quorum is missing {missing}." if missing else "Quorum is complete."
        return done(request, f"/meetings/{meeting_id}", f"Participants saved. {quorum}")

    @post("/meetings/{meeting_id:uuid}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """Cancel the meeting; its cases go back to waiting and are placed again."""
        result = await attempt(conn, lambda: service.cancel_meeting(conn, user, meeting_id))
        message = "Meeting cancelled. Its cases are being placed again."
        return done_or_refused(request, f"/meetings/{meeting_id}", result, message)


async def _create(conn: asyncpg.Connection, user: User, body: dict[str, Any]) -> Meeting:
    return await service.create_meeting(conn, user, decode(body, MeetingCreate))


async def _form_context(
    conn: asyncpg.Connection, user: User, values: dict[str, str], refused: DomainError | None = None
) -> dict[str, Any]:
    boards = await list_boards(conn)
    return {
        "user": user,
        "boards": [(str(board.id), board.name) for board in boards],
        "values": values,
        "errors": field_errors(refused) if refused else {},
        "error": form_error(refused) if refused else None,
        "may_schedule": user.has_role(Role.COORDINATOR),
    }


async def _participants_context(
    conn: asyncpg.Connection,
    user: User,
    meeting: Meeting,
    chair: str,
    reviewers: set[str],
    refused: DomainError | None = None,
) -> dict[str, Any]:
    require_role(user, Role.COORDINATOR, action="update", subject_type="meeting", subject_id=meeting.id)
    return {
        "user": user,
        "meeting": meeting,
        **await eligible_participants(conn),
        "chair": chair,
        "reviewers": reviewers,
        "error": refused.detail if refused else None,
        "errors": field_errors(refused) if refused else {},
    }
