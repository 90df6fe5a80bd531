"""The live agenda: the meeting page's agenda, redrawn over server-sent events as recommendations
arrive (the stream's mechanics, session checks and limits are in `tumorboard.pages.streams`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import ServerSentEvent

from tumorboard.auth.schemas import User
from tumorboard.errors import DomainError
from tumorboard.meetings.service import get_meeting
from tumorboard.pages import work
from tumorboard.pages.meetings import AGENDA_TEMPLATE, agenda_context
from tumorboard.pages.streams import live_stream, provide_live_user, refusal_as_text, renderer


class LivePages(Controller):
    """Live updates of a meeting's agenda."""

    include_in_schema = False

    @get(
        "/meetings/{meeting_id:uuid}/live",
        dependencies={"user": Provide(provide_live_user)},
        exception_handlers={DomainError: refusal_as_text},
    )
    async def live_agenda(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        state: State,
        meeting_id: UUID,
        since: Annotated[str | None, Parameter(max_length=64)] = None,
    ) -> ServerSentEvent:
        """Stream the agenda of a meeting the user may see; nothing is sent until it changes."""
        await get_meeting(conn, user, meeting_id)  # checks access now, in the request's transaction
        render = renderer(request, AGENDA_TEMPLATE)

        async def digest(conn: asyncpg.Connection) -> str | None:
            return await work.live_agenda_fingerprint(conn, meeting_id)

        async def redraw(conn: asyncpg.Connection) -> str:
            meeting = await get_meeting(conn, user, meeting_id)
            return render(await agenda_context(conn, user, meeting))

        return await live_stream(request, conn, state, user, digest, redraw, since)
