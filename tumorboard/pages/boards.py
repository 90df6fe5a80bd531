"""Board pages: the boards and, for coordinators, creating one."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.boards import service
from tumorboard.boards.schemas import Board, BoardCreate
from tumorboard.enums import ONCOLOGY_DISCIPLINES, Role
from tumorboard.errors import DomainError
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import decode, text, texts


def board_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a POST /boards body."""
    return {
        "name": text(form, "name"),
        "disease_sites": texts(form, "disease_sites"),
        "required_disciplines": texts(form, "required_disciplines"),
    }


async def _boards_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    values: dict[str, Any],
    refused: DomainError | None = None,
) -> Template:
    return page(
        request,
        "pages/boards.html",
        status_code=refused.status_code if refused else 200,
        user=user,
        boards=await service.list_boards(conn),
        values=values,
        errors=field_errors(refused) if refused else {},
        error=form_error(refused) if refused else None,
        may_create=user.has_role(Role.COORDINATOR),
    )


class BoardPages(Controller):
    """Tumor boards."""

    include_in_schema = False

    @get("/boards")
    async def list_boards(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Template:
        """Every board, and the form to create one."""
        defaults = {
            "name": "",
            "disease_sites": [],
            "required_disciplines": [str(d) for d in ONCOLOGY_DISCIPLINES],
        }
        return await _boards_page(request, conn, user, defaults)

    @post("/boards")
    async def create(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Response[Any]:
        """Create the board."""
        body = board_body(await request.form())

        async def create() -> Board:
            return await service.create_board(conn, user, decode(body, BoardCreate))

        result = await attempt(conn, create)
        if isinstance(result, DomainError):
            return await _boards_page(request, conn, user, body, result)
        return done(request, "/boards", f"Board “{result.name}” created. Schedule its first meeting next.")
