"""Board endpoints."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from litestar import Controller, get, patch, post, put

from tumorboard.auth.schemas import User
from tumorboard.boards import service
from tumorboard.boards.schemas import Board, BoardCreate, BoardUpdate, ChecklistPut


class BoardController(Controller):
    """Tumor boards."""

    path = "/boards"
    tags = ["boards"]

    @post(operation_id="CreateBoard")
    async def create_board(self, conn: asyncpg.Connection, user: User, data: BoardCreate) -> Board:
        """Create a board (coordinators)."""
        return await service.create_board(conn, user, data)

    @get(operation_id="ListBoards")
    async def list_boards(self, conn: asyncpg.Connection, user: User) -> list[Board]:
        """Every board."""
        return await service.list_boards(conn)

    @get("/{board_id:uuid}", operation_id="GetBoard")
    async def get_board(self, conn: asyncpg.Connection, user: User, board_id: UUID) -> Board:
        """One board with its scheduling settings and readiness checklist."""
        return await service.get_board(conn, board_id)

    @patch("/{board_id:uuid}", operation_id="UpdateBoard")
    async def update_board(
        self, conn: asyncpg.Connection, user: User, board_id: UUID, data: BoardUpdate
    ) -> Board:
        """Change a board's time zone, minutes per case or agenda lock lead time (coordinators)."""
        return await service.update_board(conn, user, board_id, data)

    @put("/{board_id:uuid}/checklist", operation_id="ReplaceChecklist")
    async def replace_checklist(
        self, conn: asyncpg.Connection, user: User, board_id: UUID, data: ChecklistPut
    ) -> Board:
        """Replace the board's readiness checklist (coordinators)."""
        return await service.replace_checklist(conn, user, board_id, data)
