"""Creating and listing boards."""

from __future__ import annotations

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.boards.schemas import Board, BoardCreate
from tumorboard.db import fetch_all, queries
from tumorboard.enums import Role
from tumorboard.errors import Conflict


async def create_board(conn: asyncpg.Connection, user: User, data: BoardCreate) -> Board:
    """Create a board (coordinators)."""
    require_role(user, Role.COORDINATOR, action="create", subject_type="board")
    try:
        async with conn.transaction():
            row = await queries.insert_board(
                conn,
                name=data.name,
                disease_sites=[str(site) for site in data.disease_sites],
                required_disciplines=[str(d) for d in data.required_disciplines],
            )
    except asyncpg.UniqueViolationError:
        raise Conflict("A board with this name already exists") from None
    board = msgspec.convert(dict(row), Board)
    await audit.record(conn, user.id, "create", "board", board.id)
    return board


async def list_boards(conn: asyncpg.Connection) -> list[Board]:
    """Every board."""
    return [msgspec.convert(dict(row), Board) for row in await fetch_all(queries.list_boards(conn))]
