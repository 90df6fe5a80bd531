"""The running order a presenter sees of the meeting their case is on, live: read-only, their own cases
in full, the others as time slots without patient data, and which slot the meeting has on screen (the
page itself is the meeting page, `tumorboard.pages.meetings`)."""

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
from tumorboard.meetings.slots import agenda_slots
from tumorboard.pages import work
from tumorboard.pages.streams import live_stream, provide_live_user, refusal_as_text, renderer

LIVE_TEMPLATE = "pages/_meeting_slots.html"


class SlotsPages(Controller):
    """The running order, live."""

    include_in_schema = False

    @get(
        "/meetings/{meeting_id:uuid}/slots/live",
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
    ) -> ServerSentEvent:
        """Stream the running order as the user may see it, redrawn as the meeting moves on."""
        await agenda_slots(conn, user, meeting_id)  # checks access now, in the request's transaction
        render = renderer(request, LIVE_TEMPLATE)

        async def digest(conn: asyncpg.Connection) -> str | None:
            return await work.live_agenda_fingerprint(conn, meeting_id)

        async def redraw(conn: asyncpg.Connection) -> str:
            return render({"slots": await agenda_slots(conn, user, meeting_id)})

        return await live_stream(request, conn, state, user, digest, redraw, since)
