"""Creating and listing boards, their scheduling settings and readiness checklists."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.access import require_role
from tumorboard.auth.schemas import User
from tumorboard.boards.schemas import Board, BoardCreate, BoardUpdate, ChecklistItem, ChecklistPut
from tumorboard.db import Record, fetch_all, queries
from tumorboard.enums import Role
from tumorboard.errors import Conflict, NotFound


def board_from_row(row: Record) -> Board:
    """A board struct from a list_boards or get_board_settings row."""
    return msgspec.convert(dict(row), Board)


async def create_board(conn: asyncpg.Connection, user: User, data: BoardCreate) -> Board:
    """Create a board (coordinators)."""
    require_role(user, Role.COORDINATOR, action="create", subject_type="board")
    try:
        async with conn.transaction():
            board_id = await queries.boards.insert_board(
                conn,
                name=data.name,
                disease_sites=[str(site) for site in data.disease_sites],
                required_disciplines=[str(d) for d in data.required_disciplines],
                time_zone=data.time_zone,
                minutes_per_case=data.minutes_per_case,
                agenda_lock_hours=data.agenda_lock_hours,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict("A board with this name already exists") from None
    await _insert_checklist(conn, board_id, data.checklist)
    await audit.record(conn, user.id, "create", "board", board_id)
    return await get_board(conn, board_id)


async def list_boards(conn: asyncpg.Connection) -> list[Board]:
    """Every board."""
    return [board_from_row(row) for row in await fetch_all(queries.boards.list_boards(conn))]


async def get_board(conn: asyncpg.Connection, board_id: UUID) -> Board:
    """One board with its settings and checklist."""
    row = await queries.boards.get_board_settings(conn, id=board_id)
    if row is None:
        raise NotFound("No such board")
    return board_from_row(row)


async def update_board(conn: asyncpg.Connection, user: User, board_id: UUID, data: BoardUpdate) -> Board:
    """Change a board's time zone, minutes per case or agenda lock lead time (coordinators).

    Minutes per case apply to meetings created afterwards; a new lock lead time also applies to
    the board's meetings whose agenda is still open.
    """
    require_role(user, Role.COORDINATOR, action="update", subject_type="board", subject_id=board_id)
    if await queries.boards.lock_board(conn, id=board_id) is None:
        raise NotFound("No such board")
    fields = {
        name: (None if value is msgspec.UNSET else value)
        for name, value in msgspec.structs.asdict(data).items()
    }
    await queries.boards.update_board_settings(conn, id=board_id, **fields)
    if fields["agenda_lock_hours"] is not None:
        await queries.boards.update_open_agenda_lock_hours(
            conn, board_id=board_id, agenda_lock_hours=fields["agenda_lock_hours"]
        )
    await audit.record(conn, user.id, "update", "board", board_id)
    return await get_board(conn, board_id)


async def replace_checklist(
    conn: asyncpg.Connection, user: User, board_id: UUID, data: ChecklistPut
) -> Board:
    """Replace a board's readiness checklist (coordinators)."""
    require_role(user, Role.COORDINATOR, action="update_checklist", subject_type="board", subject_id=board_id)
    if await queries.boards.lock_board(conn, id=board_id) is None:
        raise NotFound("No such board")
    await queries.boards.delete_checklist(conn, board_id=board_id)
    await _insert_checklist(conn, board_id, data.items)
    await audit.record(conn, user.id, "update_checklist", "board", board_id)
    return await get_board(conn, board_id)


async def _insert_checklist(conn: asyncpg.Connection, board_id: UUID, items: list[ChecklistItem]) -> None:
    if items:
        await queries.boards.insert_checklist(
            conn,
            board_id=board_id,
            items=[str(entry.item) for entry in items],
            max_age_days=[entry.max_age_days for entry in items],
        )
