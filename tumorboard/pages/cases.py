"""Case pages: the list, one case with its history (following its status live), and the actions on it
(withdraw, move)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import ServerSentEvent, Template

from tumorboard.auth.access import participant_role
from tumorboard.auth.schemas import User
from tumorboard.boards.service import list_boards
from tumorboard.cases import service
from tumorboard.cases.policy import DEFER, CaseFacts, can_decide, can_move, can_withdraw
from tumorboard.cases.schemas import Case, CaseMove
from tumorboard.cases.search import CaseSearch, submission_day
from tumorboard.decisions.service import decisions_of
from tumorboard.enums import CaseStatus, DiseaseSite
from tumorboard.errors import DomainError, InvalidInput
from tumorboard.labels import label
from tumorboard.letters.service import letters_of
from tumorboard.meetings.policy import MeetingFacts, can_read_slots
from tumorboard.meetings.service import list_meetings
from tumorboard.notifications.service import email_enabled
from tumorboard.pages import work
from tumorboard.pages.attachments import documents_context
from tumorboard.pages.common import attempt, done, done_or_refused, field_errors, form_error, page
from tumorboard.pages.decisions import decision_form_values
from tumorboard.pages.forms import decode, text
from tumorboard.pages.schemas import TimelineEvent
from tumorboard.pages.streams import live_stream, provide_live_user, refusal_as_text, renderer
from tumorboard.recommendations.policy import can_recommend, can_revise
from tumorboard.recommendations.service import recommendations_of

LIST_LIMIT = 50
MOVE_CHOICES = 50
STEPS = (CaseStatus.SUBMITTED, CaseStatus.SCHEDULED, CaseStatus.DISCUSSED, CaseStatus.FINALIZED)
LIVE_TEMPLATE = "pages/_case_live.html"


def describe(event: TimelineEvent) -> str:
    """One timeline step in words."""
    who = event.actor_name or "the service"
    if event.actor_discipline:
        who += f" ({label(event.actor_discipline).lower()})"
    known = {
        ("create", "case"): f"Submitted by {who}",
        ("assign", "case"): "Placed on a meeting's agenda",
        ("move", "case"): f"Moved to a meeting by {who}",
        ("withdraw", "case"): f"Withdrawn by {who}",
        ("return_undecided", "case"): "Back to waiting: its meeting closed without a decision on it",
        ("plan", "decision"): f"The board's plan recorded by {who}"
        + (f" (correction {event.version})" if event.version and event.version > 1 else ""),
        ("defer", "decision"): f"Deferred by the board, recorded by {who}: {event.detail}",
        ("attach", "case"): f"Document attached by {who}",
        ("create", "recommendation"): f"Recommendation from {who}",
        ("update", "recommendation"): f"Recommendation revised by {who}",
        ("build", "care_plan"): f"Care plan draft version {event.version} prepared",
        ("sign", "care_plan"): f"Care plan signed by {who}",
        ("write_letter", "case"): "Letter to the referring clinician written",
        ("send_letter", "case"): "Letter to the referring clinician emailed",
    }
    return known.get(
        (event.action, event.subject_type),
        f"{label(event.action)} ({label(event.subject_type).lower()}) by {who}",
    )


async def case_status_context(conn: asyncpg.Connection, user: User, case: Case) -> dict[str, Any]:
    """What the case page shows live: where the case stands, its decisions, care plan and history, and
    the links the user may follow (the policies' answers)."""
    recommendations = await recommendations_of(conn, case.id)
    meeting = (
        (await work.meeting_briefs(conn, [case.meeting_id])).get(case.meeting_id) if case.meeting_id else None
    )
    role = await participant_role(conn, case.meeting_id, user.id)
    facts = CaseFacts.of(case)
    own = next((r for r in recommendations if r.author_id == user.id), None)
    return {
        "user": user,
        "case": case,
        "meeting": meeting,
        "role": role,
        "recommendations": recommendations,
        "own": own,
        "timeline": [
            (e.occurred_at, describe(e)) for e in await work.case_timeline(conn, case.id, case.created_at)
        ],
        "care_plan": await work.latest_care_plan(conn, case.id),
        "steps": STEPS,
        "decisions": await decisions_of(conn, case.id),
        "may_recommend": bool(
            can_revise(user, own.author_id, facts, role) if own else can_recommend(user, facts, role)
        ),
    }


class CasePages(Controller):
    """Cases a user may see."""

    include_in_schema = False

    @get("/cases")
    async def list_cases(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        status: CaseStatus | None = None,
        mine: bool = False,
        cursor: Annotated[str | None, Parameter(max_length=500)] = None,
        q: str | None = None,
        disease_site: DiseaseSite | None = None,
        board_id: UUID | None = None,
        submitted_from: Annotated[str | None, Parameter(query="from")] = None,
        submitted_to: Annotated[str | None, Parameter(query="to")] = None,
    ) -> Template:
        """The cases the user may see, newest first, a page at a time; searched when asked."""
        searched = {"q": q, "disease_site": disease_site, "board_id": board_id}
        searched |= {"from": submitted_from, "to": submitted_to}
        filters = {"status": status, "mine": "true" if mine else None, **searched}
        shown = {name: str(value) for name, value in filters.items() if value}
        context: dict[str, Any] = {
            "user": user,
            "status": status,
            "mine": mine,
            "statuses": list(CaseStatus),
            "sites": list(DiseaseSite),
            "boards": await list_boards(conn),
            "values": shown,
            "query": urlencode(shown),
            "searched": any(searched.values()),
        }
        try:
            search = CaseSearch(
                q=q or None,
                disease_site=disease_site,
                board_id=board_id,
                submitted_from=submission_day(submitted_from, "from"),
                submitted_to=submission_day(submitted_to, "to"),
            )
            found = await service.list_cases(
                conn,
                user,
                status=status,
                meeting_id=None,
                mine=mine,
                limit=LIST_LIMIT,
                cursor=cursor,
                search=search,
            )
        except InvalidInput as refused:
            return page(
                request,
                "pages/cases.html",
                status_code=400,
                **context,
                cases=[],
                error=form_error(refused),
                errors=field_errors(refused),
            )
        return page(
            request,
            "pages/cases.html",
            **context,
            cases=found.items,
            next_cursor=found.next_cursor,
            meetings=await work.meeting_briefs(conn, (case.meeting_id for case in found.items)),
        )

    @get("/cases/{case_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Template:
        """A case: its data, where it stands, its history, the recommendations and its care plan; where it
        stands, its decisions and care plan follow live while the page is open."""
        case = await service.get_case(conn, user, case_id)
        live = await case_status_context(conn, user, case)
        role, recommendations, decisions = live["role"], live["recommendations"], live["decisions"]
        facts = CaseFacts.of(case)
        meeting_facts = MeetingFacts.of(live["meeting"]) if live["meeting"] else None
        may_move = bool(can_move(user, facts))
        move_to = []
        if may_move:
            coming = await list_meetings(conn, user, None, datetime.now(UTC), None, MOVE_CHOICES, None)
            move_to = [m for m in coming.items if m.status == "scheduled" and m.id != case.meeting_id]
        may_decide = bool(can_decide(user, facts, meeting_facts, role))
        return page(
            request,
            "pages/case.html",
            fingerprint=await work.case_live_fingerprint(conn, case_id),
            **live,
            may_withdraw=bool(can_withdraw(user, facts)),
            may_decide=may_decide,
            may_defer=bool(can_decide(user, facts, meeting_facts, role, DEFER)),
            decision_values=decision_form_values(decisions, recommendations, case.meeting_id)
            if may_decide
            else {},
            may_move=may_move,
            move_to=move_to,
            may_open_agenda=bool(can_read_slots(user, role, case.presenter_id == user.id)),
            letters=await letters_of(conn, case_id) if case.referrer else [],
            email_enabled=email_enabled(),
            **await documents_context(conn, user, case),
        )

    @get(
        "/cases/{case_id:uuid}/live",
        dependencies={"user": Provide(provide_live_user)},
        exception_handlers={DomainError: refusal_as_text},
    )
    async def live(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        state: State,
        case_id: UUID,
        since: Annotated[str | None, Parameter(max_length=64)] = None,
    ) -> ServerSentEvent:
        """Stream where the case stands, its decisions, care plan and history, redrawn whenever its
        status, recommendations, decisions or care plan change."""
        await service.get_case(conn, user, case_id)  # checks access now, in the request's transaction
        render = renderer(request, LIVE_TEMPLATE)

        async def digest(conn: asyncpg.Connection) -> str | None:
            return await work.case_live_fingerprint(conn, case_id)

        async def redraw(conn: asyncpg.Connection) -> str:
            case = await service.get_case(conn, user, case_id)
            return render(await case_status_context(conn, user, case))

        return await live_stream(request, conn, state, user, digest, redraw, since)

    @post("/cases/{case_id:uuid}/withdraw")
    async def withdraw(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """The presenter withdraws the case."""
        result = await attempt(conn, lambda: service.withdraw_case(conn, user, case_id))
        return done_or_refused(
            request, f"/cases/{case_id}", result, "Case withdrawn; it has left its meeting."
        )

    @post("/cases/{case_id:uuid}/meeting")
    async def move(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, case_id: UUID
    ) -> Response[Any]:
        """A coordinator puts the case on a meeting by hand."""
        form = await request.form()
        if not text(form, "meeting_id"):
            return done(request, f"/cases/{case_id}", "Choose a meeting first.", "error")

        async def move() -> Case:
            data = decode({"meeting_id": text(form, "meeting_id")}, CaseMove)
            return await service.move_case(conn, user, case_id, data)

        result = await attempt(conn, move)
        return done_or_refused(request, f"/cases/{case_id}", result, "Case moved to the chosen meeting.")
