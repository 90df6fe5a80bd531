"""The home page: each user's unread notices and own work, one section per role they hold."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, get
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.cases.service import list_cases
from tumorboard.enums import CaseStatus, ParticipantRole, Role
from tumorboard.notifications.service import list_notifications
from tumorboard.pages import work
from tumorboard.pages.common import page

HOME_CASES = 100
HOME_NOTICES = 10


class HomePage(Controller):
    """What the signed-in user has to do."""

    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User) -> Template:
        """A presenter's cases, a reviewer's coming agenda, a chair's meetings, a coordinator's planning."""
        notices = await list_notifications(conn, user, unread_only=True, limit=HOME_NOTICES, cursor=None)
        context: dict[str, Any] = {"user": user, "notices": notices}
        if user.has_role(Role.PRESENTER):
            mine = await list_cases(
                conn, user, status=None, meeting_id=None, mine=True, limit=HOME_CASES, cursor=None
            )
            context["my_cases"] = mine.items
            context["meetings"] = await work.meeting_briefs(conn, (case.meeting_id for case in mine.items))
        meetings = await work.my_meetings(conn, user)
        if user.has_role(Role.REVIEWER) or meetings:
            context["agenda_cases"] = await work.cases_on_my_meetings(conn, user)
        chaired = [m for m in meetings if m.participant_role == ParticipantRole.CHAIR]
        if chaired:
            context["chaired"] = chaired
            context["drafts"] = await work.drafts_awaiting_my_signature(conn, user)
        if user.has_role(Role.COORDINATOR):
            context["open_meetings"] = await work.open_meetings_with_quorum(conn, user)
            waiting = await list_cases(
                conn,
                user,
                status=CaseStatus.SUBMITTED,
                meeting_id=None,
                mine=False,
                limit=HOME_CASES,
                cursor=None,
            )
            context["waiting_cases"] = waiting.items
        return page(request, "home.html", **context)
