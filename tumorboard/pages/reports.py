"""The board quality report page: board and period pickers, the figures, charts for slides, and the
downloads (the figures as CSV, each chart as an SVG file). Same service and rules as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.response import Template
from markupsafe import Markup

from tumorboard.auth.schemas import User
from tumorboard.errors import NotFound
from tumorboard.pages.common import NO_STORE, field_errors, form_error, page
from tumorboard.pages.filters import zone_of
from tumorboard.reports import service
from tumorboard.reports.charts import CHART_KEYS, report_charts
from tumorboard.reports.export import CSV_MEDIA_TYPE, csv_filename, quality_csv
from tumorboard.reports.figures import QualityFigures, Ratio
from tumorboard.reports.schemas import QualityQuery, quality_query
from tumorboard.reports.svg import render_svg
from tumorboard.validation import InvalidQuery

BoardParam = Annotated[str | None, QueryParameter(description="The board (a UUID)")]
FromParam = Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD")]
ToParam = Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD")]
SVG_MEDIA_TYPE = "image/svg+xml"


@dataclass(frozen=True, slots=True)
class Tile:
    """One figure as the page shows it: its name, its value, what it counts, and how."""

    key: str
    name: str
    value: str
    detail: str
    definition: str


def percent(ratio: Ratio) -> str:
    """A share as people read it: ``62.5%``; a dash when there was nothing to count."""
    share = ratio.share
    return "—" if share is None else f"{share * 100:.1f}".removesuffix(".0") + "%"


def _of(ratio: Ratio, noun: str) -> str:
    return f"{ratio.count} of {ratio.total} {noun}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def figure_tiles(figures: QualityFigures) -> list[Tile]:
    """The report's figures in the page's words, with the counts behind each share."""
    unknown = figures.unknown_treatment_status
    return [
        Tile(
            "cases_presented",
            "Cases presented",
            str(figures.cases_presented),
            "plans and deferrals",
            "Cases the board decided at a meeting (a plan or a deferral), on the day of the decision.",
        ),
        Tile(
            "prospective",
            "Presented prospectively",
            percent(figures.prospective),
            _of(figures.prospective, "cases") + (f"; {unknown} without treatment status" if unknown else ""),
            "Cases submitted before treatment started; a case that did not say counts as not prospective.",
        ),
        Tile(
            "stage_discussed",
            "Stage discussed",
            percent(figures.stage_discussed),
            _of(figures.stage_discussed, "plans"),
            "Plans for which the board recorded that it discussed stage.",
        ),
        Tile(
            "guideline_concordant",
            "Guideline concordant",
            percent(figures.guideline_concordant),
            _of(figures.guideline_concordant, "plans"),
            "Plans the board recorded as concordant with a guideline.",
        ),
        Tile(
            "trial_discussed",
            "Clinical trial discussed",
            percent(figures.trial_discussed),
            _of(figures.trial_discussed, "plans"),
            "Plans with a trial status recorded other than “not considered”.",
        ),
        Tile(
            "days_to_decision",
            "Days from submission to decision",
            _number(figures.median_days_submission_to_decision),
            "median, calendar days",
            "From the day the case was submitted to the day the board recorded its decision.",
        ),
        Tile(
            "hours_to_signature",
            "Hours from decision to signature",
            _number(figures.median_hours_decision_to_signature),
            "median, signed plans",
            "From the chair's first record of the plan to the first signature of its care plan.",
        ),
        Tile(
            "follow_up_recorded",
            "Follow-up recorded",
            percent(figures.follow_up_recorded),
            _of(figures.follow_up_recorded, "signed plans"),
            "Signed plans whose presenter recorded whether they were implemented.",
        ),
        Tile(
            "not_implemented",
            "Not implemented",
            percent(figures.not_implemented),
            _of(figures.not_implemented, "follow-ups"),
            "Recorded follow-ups marked not implemented (partly implemented is not counted).",
        ),
    ]


def last_twelve_months(today: date) -> tuple[date, date]:
    """The default period: from the first day of the month eleven months back, to today."""
    month = today.month - 11
    year = today.year - (1 if month < 1 else 0)
    return date(year, month + 12 if month < 1 else month, 1), today


def period_presets(today: date) -> list[tuple[str, date, date]]:
    """Periods a coordinator often reports on: (name, first day, last day)."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_quarter_end = quarter_start - timedelta(days=1)
    last_quarter_start = date(last_quarter_end.year, 3 * ((last_quarter_end.month - 1) // 3) + 1, 1)
    return [
        ("Last 12 months", *last_twelve_months(today)),
        ("This year", date(today.year, 1, 1), today),
        ("Last quarter", last_quarter_start, last_quarter_end),
        ("Last year", date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]


def _today(state: State) -> date:
    return datetime.now(zone_of(state.settings.time_zone)).date()


def _query_string(query: QualityQuery) -> str:
    return f"board_id={query.board_id}&from={query.period_start}&to={query.period_end}"


class ReportPages(Controller):
    """The board quality report."""

    include_in_schema = False

    @get("/reports/quality")
    async def quality(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        state: State,
        board_id: BoardParam = None,
        period_start: FromParam = None,
        period_end: ToParam = None,
    ) -> Template:
        """Pick a board and a period; see its figures and charts (coordinators and admins)."""
        boards = await service.report_boards(conn, user)
        first, last = last_twelve_months(_today(state))
        values = {
            "board_id": board_id if board_id is not None else (str(boards[0].id) if boards else ""),
            "from": period_start if period_start is not None else str(first),
            "to": period_end if period_end is not None else str(last),
        }
        context: dict[str, Any] = {
            "user": user,
            "boards": boards,
            "board_choices": [(str(b.id), b.name) for b in boards],
            "values": values,
            "presets": period_presets(_today(state)),
            "errors": {},
            "error": None,
            "quality": None,
        }
        if not boards:
            return page(request, "pages/quality_report.html", **context)
        try:
            query = quality_query(values["board_id"], values["from"], values["to"])
        except InvalidQuery as refused:
            context |= {"errors": field_errors(refused), "error": form_error(refused)}
            return page(request, "pages/quality_report.html", status_code=400, **context)
        quality = await service.board_quality(conn, user, query)
        charts = [(chart, Markup(render_svg(chart))) for chart in report_charts(quality)]  # noqa: S704 - ElementTree escapes every label
        context |= {
            "quality": quality,
            "tiles": figure_tiles(quality.figures),
            "percent": percent,
            "charts": charts,
            "query_string": _query_string(query),
        }
        return page(request, "pages/quality_report.html", **context)

    @get("/reports/quality.csv")
    async def quality_csv(
        self,
        conn: asyncpg.Connection,
        user: User,
        board_id: BoardParam = None,
        period_start: FromParam = None,
        period_end: ToParam = None,
    ) -> Response[str]:
        """The figures as CSV, as the API gives them with Accept: text/csv."""
        query = quality_query(board_id, period_start, period_end)
        report = (await service.board_quality(conn, user, query)).figures.report()
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{csv_filename(query)}"'}
        return Response(quality_csv(report), media_type=CSV_MEDIA_TYPE, headers=headers)

    @get("/reports/quality/charts/{name:str}")
    async def chart_svg(
        self,
        conn: asyncpg.Connection,
        user: User,
        name: str,
        board_id: BoardParam = None,
        period_start: FromParam = None,
        period_end: ToParam = None,
    ) -> Response[str]:
        """One chart as an SVG file (``cases.svg``), titled with the board and the period, for a slide."""
        key = name.removesuffix(".svg")
        if key not in CHART_KEYS or not name.endswith(".svg"):
            raise NotFound("No such chart")
        query = quality_query(board_id, period_start, period_end)
        quality = await service.board_quality(conn, user, query)
        chart = next(c for c in report_charts(quality) if c.key == key)
        caption = f"{quality.board.name}, {query.period_start} to {query.period_end}"
        disposition = f'attachment; filename="{key}-{query.period_start}-to-{query.period_end}.svg"'
        return Response(
            render_svg(chart, caption=caption),
            media_type=SVG_MEDIA_TYPE,
            headers={**NO_STORE, "Content-Disposition": disposition},
        )
