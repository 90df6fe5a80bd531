"""Reading a board's quality figures for a period: access, a bounded read of the facts, the figures."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import msgspec

from tumorboard import audit
from tumorboard.auth.schemas import User
from tumorboard.boards.schemas import Board
from tumorboard.boards.service import get_board, list_boards
from tumorboard.db import Record, fetch_all, queries
from tumorboard.errors import TooSlow
from tumorboard.policy import enforce
from tumorboard.reports.figures import HeldMeeting, Presentation, QualityFigures, quality_figures
from tumorboard.reports.policy import can_read_quality_report
from tumorboard.reports.schemas import QualityQuery

# The longest any statement of the report may run; a period is at most ten years of one board.
TIME_LIMIT_MS = 10_000
_ACTION = "read_quality_report"


@dataclass(frozen=True, slots=True)
class BoardQuality:
    """A board's figures for a period, with the facts behind them (for the report page's charts)."""

    board: Board
    query: QualityQuery
    figures: QualityFigures
    presentations: list[Presentation]
    meetings: list[HeldMeeting]


async def report_boards(conn: asyncpg.Connection, user: User) -> list[Board]:
    """The boards a report may be asked for, to those who may read reports."""
    enforce(can_read_quality_report(user), action=_ACTION, subject_type="board")
    return await list_boards(conn)


async def board_quality(conn: asyncpg.Connection, user: User, query: QualityQuery) -> BoardQuality:
    """The quality figures of a board for a period (coordinators and admins; every read audited)."""
    enforce(can_read_quality_report(user), action=_ACTION, subject_type="board", subject_id=query.board_id)
    board = await get_board(conn, query.board_id)
    presentations, meetings = await _facts(conn, query)
    await audit.record(conn, user.id, _ACTION, "board", board.id)
    return BoardQuality(
        board=board,
        query=query,
        figures=quality_figures(presentations, meetings, board.required_disciplines),
        presentations=presentations,
        meetings=meetings,
    )


async def _facts(
    conn: asyncpg.Connection, query: QualityQuery
) -> tuple[list[Presentation], list[HeldMeeting]]:
    """The period's presentations and meetings, read from one snapshot within the time limit."""
    period = {"board_id": query.board_id, "period_start": query.period_start, "period_end": query.period_end}
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await queries.reports.set_report_time_limit(conn, milliseconds=str(TIME_LIMIT_MS))
            rows = await fetch_all(queries.reports.list_presentations(conn, **period))
            meeting_ids = list({row["meeting_id"] for row in rows})
            meeting_rows = await fetch_all(
                queries.reports.list_report_meetings(conn, decision_meeting_ids=meeting_ids, **period)
            )
    except asyncpg.QueryCanceledError:
        raise TooSlow(
            "The report took too long to compute and was stopped; try a shorter period, or again later"
        ) from None
    return [_presentation(row) for row in rows], [_meeting(row) for row in meeting_rows]


def _presentation(row: Record) -> Presentation:
    return msgspec.convert(dict(row), Presentation)


def _meeting(row: Record) -> HeldMeeting:
    return msgspec.convert(dict(row), HeldMeeting)
