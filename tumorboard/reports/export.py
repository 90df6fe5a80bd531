"""The quality figures as CSV: one row per figure, nested figures named with a dot."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from tumorboard.reports.schemas import QualityQuery, QualityReport

CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8"


def quality_csv(report: QualityReport) -> str:
    """`figure,value` rows in the order of the JSON (`attendance_by_discipline.pathology`,
    `follow_up.recorded_share`); a null figure is an empty value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["figure", "value"])
    writer.writerows(_rows(msgspec.to_builtins(report)))
    return out.getvalue()


def csv_filename(query: QualityQuery) -> str:
    """The download's file name: the board's id and the period."""
    return f"quality-{query.board_id}-{query.period_start}-to-{query.period_end}.csv"


def _rows(value: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for name, item in value.items():
        key = f"{prefix}{name}"
        if isinstance(item, dict):
            rows.extend(_rows(item, f"{key}."))
        else:
            rows.append((key, "" if item is None else item))
    return rows
