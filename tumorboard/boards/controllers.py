"""Board endpoints."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, get, post

from tumorboard.auth.schemas import User
from tumorboard.boards import service
from tumorboard.boards.schemas import Board, BoardCreate
from tumorboard.web import read_json


class BoardController(Controller):
    """Tumor boards."""

    path = "/boards"
    tags = ["boards"]

    @post(operation_id="CreateBoard")
    async def create_board(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User
    ) -> Board:
        """Create a board (coordinators)."""
        return await service.create_board(conn, user, await read_json(request, BoardCreate))

    @get(operation_id="ListBoards")
    async def list_boards(self, conn: asyncpg.Connection, user: User) -> list[Board]:
        """Every board."""
        return await service.list_boards(conn)
