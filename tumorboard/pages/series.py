"""Meeting series pages: one recurring meeting with its coming occurrences, choosing its participants
and ending it, through the series service the API calls (`meetings.series`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.boards.service import get_board
from tumorboard.enums import ParticipantRole, Role
from tumorboard.errors import DomainError
from tumorboard.meetings import series as service
from tumorboard.meetings.schemas import ParticipantsPut, Series
from tumorboard.pages.common import attempt, done, done_or_refused, field_errors, page
from tumorboard.pages.forms import decode, text, texts
from tumorboard.pages.meetings import eligible_participants, participants_body


async def _participants_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    found: Series,
    chair: str,
    reviewers: set[str],
    refused: DomainError | None = None,
) -> Template:
    require_role(user, Role.COORDINATOR, action="update_participants", subject_type="meeting_series")
    return page(
        request,
        "pages/series_participants.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        series=found,
        board=await get_board(conn, found.board_id),
        **await eligible_participants(conn),
        chair=chair,
        reviewers=reviewers,
        error=refused.detail if refused else None,
        errors=field_errors(refused) if refused else {},
    )


class SeriesPages(Controller):
    """A board's recurring meeting."""

    include_in_schema = False

    @get("/series/{series_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, series_id: UUID
    ) -> Template:
        """The series, its participants (for coordinators and its participants) and its coming meetings."""
        found = await service.get_series(conn, user, series_id)
        return page(
            request,
            "pages/series.html",
            user=user,
            series=found,
            board=await get_board(conn, found.board_id),
            may_change=user.has_role(Role.COORDINATOR) and found.ended_at is None,
        )

    @get("/series/{series_id:uuid}/participants")
    async def edit_participants(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, series_id: UUID
    ) -> Template:
        """Choose the chair and reviewers of the series and its future meetings."""
        found = await service.get_series(conn, user, series_id)
        chair = next((p.user_id for p in found.participants if p.role == ParticipantRole.CHAIR), None)
        reviewers = {str(p.user_id) for p in found.participants if p.role == ParticipantRole.REVIEWER}
        return await _participants_page(request, conn, user, found, str(chair or ""), reviewers)

    @post("/series/{series_id:uuid}/participants")
    async def save_participants(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, series_id: UUID
    ) -> Response[Any]:
        """Replace the participants of the series and of its future meetings."""
        form = await request.form()
        body = participants_body(form)

        async def replace() -> Series:
            return await service.replace_series_participants(
                conn, user, series_id, decode(body, ParticipantsPut)
            )

        result = await attempt(conn, replace)
        if isinstance(result, DomainError):
            found = await service.get_series(conn, user, series_id)
            chosen = set(texts(form, "reviewers"))
            return await _participants_page(request, conn, user, found, text(form, "chair"), chosen, result)
        count = len(result.occurrences)
        return done(
            request,
            f"/series/{series_id}",
            f"Participants saved for the series and its {count} coming meeting(s).",
        )

    @post("/series/{series_id:uuid}/end")
    async def end(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, series_id: UUID
    ) -> Response[Any]:
        """Stop the series: its future meetings are cancelled and their cases placed again."""
        result = await attempt(conn, lambda: service.end_series(conn, user, series_id))
        message = "Series ended. Its future meetings are cancelled and their cases placed again."
        return done_or_refused(request, f"/series/{series_id}", result, message)
