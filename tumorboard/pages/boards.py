"""Board pages: the boards and, for coordinators, creating one; one board with its settings, readiness
checklist and meeting series, changed through the board and series services the API calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from tumorboard.auth.schemas import User
from tumorboard.boards import service
from tumorboard.boards.schemas import (
    CHECKLIST_LABELS,
    DATED_ITEMS,
    Board,
    BoardCreate,
    BoardUpdate,
    ChecklistItemKind,
    ChecklistPut,
    describe_items,
)
from tumorboard.enums import ONCOLOGY_DISCIPLINES, Role
from tumorboard.errors import DomainError
from tumorboard.meetings import series
from tumorboard.meetings.schemas import Series, SeriesCreate
from tumorboard.meetings.series import list_board_series
from tumorboard.pages.common import attempt, done, field_errors, form_error, page
from tumorboard.pages.forms import compact, decode, number, optional, text, texts


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


# ---------------------------------------------------------------------------------------------------------
# One board: its settings, its readiness checklist and its meeting series


def settings_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a PATCH /boards/{id} body."""
    return compact(
        {
            "time_zone": text(form, "time_zone"),
            "minutes_per_case": number(form, "minutes_per_case"),
            "agenda_lock_hours": number(form, "agenda_lock_hours"),
        }
    )


def checklist_body(form: Any) -> dict[str, Any]:
    """The ticked items, in display order, shaped like a PUT /boards/{id}/checklist body; a dated
    item may carry a maximum age."""
    chosen = set(texts(form, "items"))
    items = []
    for kind in ChecklistItemKind:
        if kind in chosen:
            age = number(form, f"max_age_days.{kind}") if kind in DATED_ITEMS else None
            items.append(compact({"item": str(kind), "max_age_days": age}))
    return {"items": items}


def _checklist_errors(refused: DomainError, body: dict[str, Any]) -> dict[str, str]:
    """A checklist refusal's messages under the inputs of the items they name."""
    errors: dict[str, str] = {}
    for key, message in field_errors(refused).items():
        parts = key.split(".")
        if (
            len(parts) == 3
            and parts[0] == "items"
            and parts[1].isdigit()
            and int(parts[1]) < len(body["items"])
        ):
            errors[f"{parts[2]}.{body['items'][int(parts[1])]['item']}"] = message
        else:
            errors.setdefault("items", message)
    return errors


def series_body(form: Any) -> dict[str, Any]:
    """The posted form shaped like a POST /boards/{id}/series body; participants are chosen afterwards."""
    return compact(
        {
            "recurrence_rule": text(form, "recurrence_rule").upper(),
            "starts_on": text(form, "starts_on"),
            "start_time": text(form, "start_time"),
            "time_zone": optional(form, "time_zone"),
            "duration_minutes": number(form, "duration_minutes"),
            "location": optional(form, "location"),
            "video_url": optional(form, "video_url"),
            "capacity": number(form, "capacity"),
            "minutes_per_case": number(form, "minutes_per_case"),
            "deadline_hours": number(form, "deadline_hours"),
            "horizon_days": number(form, "horizon_days"),
        }
    )


SERIES_DEFAULTS = {
    "recurrence_rule": "FREQ=WEEKLY;BYDAY=TU",
    "start_time": "07:30",
    "duration_minutes": "60",
    "capacity": "10",
    "deadline_hours": "48",
    "horizon_days": "56",
}
Form = Literal["settings", "checklist", "series"]


async def _board_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: User,
    board_id: UUID,
    refused: tuple[Form, dict[str, Any], DomainError] | None = None,
) -> Template:
    board = await service.get_board(conn, board_id)
    values: dict[str, dict[str, Any]] = {
        "settings": {
            "time_zone": board.time_zone,
            "minutes_per_case": board.minutes_per_case,
            "agenda_lock_hours": board.agenda_lock_hours,
        },
        "checklist": {"items": [msgspec.to_builtins(item) for item in board.checklist]},
        "series": {**SERIES_DEFAULTS, "starts_on": datetime.now(UTC).date().isoformat()},
    }
    errors: dict[str, dict[str, str]] = {"settings": {}, "checklist": {}, "series": {}}
    error: dict[str, str | None] = {"settings": None, "checklist": None, "series": None}
    if refused is not None:
        form, body, problem = refused
        values[form] = body
        errors[form] = _checklist_errors(problem, body) if form == "checklist" else field_errors(problem)
        error[form] = form_error(problem)
    checklist = {entry["item"]: entry.get("max_age_days") for entry in values["checklist"]["items"]}
    return page(
        request,
        "pages/board.html",
        status_code=refused[2].status_code if refused else 200,
        user=user,
        board=board,
        series=await list_board_series(conn, user, board_id),
        values=values,
        errors=errors,
        error=error,
        checklist=checklist,
        checklist_kinds=[
            (str(kind), CHECKLIST_LABELS[kind], kind in DATED_ITEMS) for kind in ChecklistItemKind
        ],
        may_change=user.has_role(Role.COORDINATOR),
    )


class BoardSettingsPages(Controller):
    """One board: its settings, checklist and meeting series."""

    include_in_schema = False

    @get("/boards/{board_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, board_id: UUID
    ) -> Template:
        """The board with its series; for coordinators, the forms that change it."""
        return await _board_page(request, conn, user, board_id)

    @post("/boards/{board_id:uuid}")
    async def update(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, board_id: UUID
    ) -> Response[Any]:
        """Change the time zone, minutes per case or agenda lock lead time."""
        body = settings_body(await request.form())

        async def update() -> Board:
            return await service.update_board(conn, user, board_id, decode(body, BoardUpdate))

        result = await attempt(conn, update)
        if isinstance(result, DomainError):
            return await _board_page(request, conn, user, board_id, ("settings", body, result))
        return done(request, f"/boards/{board_id}", "Board settings saved.")

    @post("/boards/{board_id:uuid}/checklist")
    async def replace_checklist(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, board_id: UUID
    ) -> Response[Any]:
        """Replace the readiness checklist."""
        body = checklist_body(await request.form())

        async def replace() -> Board:
            return await service.replace_checklist(conn, user, board_id, decode(body, ChecklistPut))

        result = await attempt(conn, replace)
        if isinstance(result, DomainError):
            return await _board_page(request, conn, user, board_id, ("checklist", body, result))
        items = describe_items([item.item for item in result.checklist]) or "nothing"
        return done(request, f"/boards/{board_id}", f"Checklist saved: cases need {items}.")

    @post("/boards/{board_id:uuid}/series")
    async def create_series(
        self, request: Request[Any, Any, Any], conn: asyncpg.Connection, user: User, board_id: UUID
    ) -> Response[Any]:
        """Define a recurring meeting, then choose its participants."""
        body = series_body(await request.form())

        async def create() -> Series:
            return await series.create_series(conn, user, board_id, decode(body, SeriesCreate))

        result = await attempt(conn, create)
        if isinstance(result, DomainError):
            return await _board_page(request, conn, user, board_id, ("series", body, result))
        count = len(result.occurrences)
        message = f"Meeting series created with {count} meeting(s) ahead. Now choose who takes part."
        return done(request, f"/series/{result.id}/participants", message)
