"""Report endpoints: a board's quality figures for a period, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from tumorboard.auth.schemas import User
from tumorboard.reports import service
from tumorboard.reports.export import CSV_MEDIA_TYPE, csv_filename, quality_csv
from tumorboard.reports.schemas import QualityReport, quality_query

JSON_MEDIA_TYPE = "application/json"
_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept"}


class QualityReportController(Controller):
    """Board quality figures (CoC Standard 2.5, NHS MDT measures)."""

    path = "/reports/quality"
    tags = ["reports"]

    @get(operation_id="GetBoardQualityReport")
    async def quality(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        user: User,
        board_id: Annotated[str | None, QueryParameter(description="Required: the board (a UUID)")] = None,
        period_start: Annotated[
            str | None,
            QueryParameter(
                name="from", description="Required: the first day, YYYY-MM-DD, in the board's time zone"
            ),
        ] = None,
        period_end: Annotated[
            str | None,
            QueryParameter(
                name="to", description="Required: the last day (included), less than 10 years after from"
            ),
        ] = None,
    ) -> Response[QualityReport | str]:
        """Coordinators and admins: the board's figures for the cases whose decision the board
        recorded from `from` to `to`; `Accept: text/csv` gives CSV (docs/reports.md defines each)."""
        query = quality_query(board_id, period_start, period_end)
        report = (await service.board_quality(conn, user, query)).figures.report()
        if request.accept.best_match([JSON_MEDIA_TYPE, "text/csv"]) == "text/csv":
            disposition = f'attachment; filename="{csv_filename(query)}"'
            return Response(
                quality_csv(report),
                media_type=CSV_MEDIA_TYPE,
                headers={**_HEADERS, "Content-Disposition": disposition},
            )
        return Response(report, headers=_HEADERS)
