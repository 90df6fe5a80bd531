"""The meeting's presentation mode: the case on screen, large, with every recommendation side by side and
where they agree, attendance and live quorum, and a timer against the case's slot. Participants follow
it live; the chair (or a coordinator) presents cases, records the board's decision (adopting the
agreed plan in one click, or editing it), defers a case, and moves on.

Every action goes through the services the API uses; the page only reads the policies' answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import ServerSentEvent, Template

from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.cases.lifecycle import AWAITING_DECISION
from tumorboard.cases.policy import DEFER, CaseFacts, can_decide
from tumorboard.cases.schemas import age_on
from tumorboard.cases.service import get_case
from tumorboard.decisions.schemas import Outcome
from tumorboard.decisions.service import decisions_of
from tumorboard.errors import DomainError, InvalidInput
from tumorboard.meetings import presentation
from tumorboard.meetings.policy import (
    MeetingFacts,
    can_close,
    can_present,
    can_record_attendance,
    can_start,
    runs_meetings,
)
from tumorboard.meetings.rules import local_day
from tumorboard.meetings.schemas import Meeting
from tumorboard.meetings.service import get_meeting
from tumorboard.pages import work
from tumorboard.pages.common import attempt, done_or_refused, page
from tumorboard.pages.decisions import decision_form_values
from tumorboard.pages.forms import text
from tumorboard.pages.streams import live_stream, provide_live_user, refusal_as_text, renderer
from tumorboard.recommendations.agreement import agreement
from tumorboard.recommendations.service import recommendations_of

PAGE_TEMPLATE = "pages/meeting_present.html"
LIVE_TEMPLATE = "pages/_present_live.html"


async def presentation_context(
    conn: asyncpg.Connection, user: User, meeting: Meeting, panel_case: UUID | None = None
) -> dict[str, Any]:
    """What the presentation shows, and what the viewer may do there (the policies' answers).

    `panel_case` is the case the chair's decision panel was drawn for, so the live part can say when
    the screen has moved on without it.
    """
    role = await participant_role(conn, meeting.id, user.id)
    facts = MeetingFacts.of(meeting)
    now = datetime.now(UTC)
    current = next((case for case in meeting.cases if case.id == meeting.current_case_id), None)
    context: dict[str, Any] = {
        "meeting": meeting,
        "role": role,
        "now": now,
        "current": current,
        "panel_case": panel_case,
        "decided_count": sum(case.status not in AWAITING_DECISION for case in meeting.cases),
        "awaiting_count": sum(case.status in AWAITING_DECISION for case in meeting.cases),
        "deferred_count": await work.deferred_at_meeting(conn, meeting.id),
        "runs_meeting": runs_meetings(user, role),
        "may_present": bool(can_present(user, facts, role)),
        "may_start": bool(can_start(user, facts, role, now)),
        "may_record_attendance": bool(can_record_attendance(user, facts, role)),
        "may_close": bool(can_close(user, facts, role)),
    }
    if current is None:
        return context
    case = await get_case(conn, user, current.id)
    recommendations = await recommendations_of(conn, case.id)
    decisions = await decisions_of(conn, case.id)
    case_facts = CaseFacts.of(case)
    may_decide = bool(can_decide(user, case_facts, facts, role))
    since = meeting.current_case_since or now
    return context | {
        "case": case,
        "awaits_decision": case.status in AWAITING_DECISION,
        "age": age_on(case.patient.birth_date, local_day(meeting.starts_at, meeting.time_zone)),
        "recommendations": sorted(recommendations, key=lambda r: r.created_at),
        "agreement": agreement(recommendations),
        "decision": next((d for d in reversed(decisions) if d.meeting_id == meeting.id), None),
        "elapsed_seconds": max(0, int((now - since).total_seconds())),
        "late_minutes": max(0, int((now - current.slot_ends_at).total_seconds() // 60))
        if current.slot_ends_at
        else 0,
        "may_decide": may_decide,
        "may_defer": bool(can_decide(user, case_facts, facts, role, DEFER)),
        "decision_values": decision_form_values(decisions, recommendations, meeting.id) if may_decide else {},
        "plan": Outcome.PLAN,
    }


class PresentationPages(Controller):
    """A meeting on screen, for the room and for everyone following it."""

    include_in_schema = False

    @get("/meetings/{meeting_id:uuid}/present")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Template:
        """The presentation of a meeting its participants and coordinators may see; it follows the
        chair's screen live."""
        meeting = await get_meeting(conn, user, meeting_id)
        context = await presentation_context(conn, user, meeting)
        return page(
            request,
            PAGE_TEMPLATE,
            user=user,
            fingerprint=await work.live_agenda_fingerprint(conn, meeting_id),
            **context,
        )

    @get(
        "/meetings/{meeting_id:uuid}/present/live",
        dependencies={"user": Provide(provide_live_user)},
        exception_handlers={DomainError: refusal_as_text},
    )
    async def live(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        state: State,
        meeting_id: UUID,
        since: Annotated[str | None, Parameter(max_length=64)] = None,
        case: UUID | None = None,
    ) -> ServerSentEvent:
        """Stream the presentation: redrawn whenever the case on screen, the agenda, a recommendation,
        a decision or the attendance changes."""
        await get_meeting(conn, user, meeting_id)  # checks access now, in the request's transaction
        render = renderer(request, LIVE_TEMPLATE)

        async def digest(conn: asyncpg.Connection) -> str | None:
            return await work.live_agenda_fingerprint(conn, meeting_id)

        async def redraw(conn: asyncpg.Connection) -> str:
            meeting = await get_meeting(conn, user, meeting_id)
            return render(await presentation_context(conn, user, meeting, case))

        return await live_stream(request, conn, state, user, digest, redraw, since)

    @post("/meetings/{meeting_id:uuid}/present")
    async def present(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """Put the chosen case on screen."""
        chosen = text(await request.form(), "case_id")

        async def present() -> Meeting:
            try:
                case_id = UUID(chosen)
            except ValueError:
                raise InvalidInput("case_id", "choose a case of the agenda") from None
            return await presentation.present_case(conn, user, meeting_id, case_id)

        result = await attempt(conn, present)
        return done_or_refused(request, f"/meetings/{meeting_id}/present", result, "The case is on screen.")

    @post("/meetings/{meeting_id:uuid}/next-case")
    async def next_case(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, meeting_id: UUID
    ) -> Response[Any]:
        """Move on to the next case awaiting the board's decision."""
        result = await attempt(conn, lambda: presentation.present_next_case(conn, user, meeting_id))
        message = (
            "Every case on the agenda has been decided. Close the meeting when the board is done."
            if isinstance(result, Meeting) and result.current_case_id is None
            else "Next case on screen."
        )
        return done_or_refused(request, f"/meetings/{meeting_id}/present", result, message)
