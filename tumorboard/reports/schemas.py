"""Report structs: the question (a board and a period) and the board's quality figures."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from tumorboard.enums import Discipline
from tumorboard.validation import decode_query, safe_message

MAX_PERIOD_YEARS = 10

_TO_BEFORE_FROM = safe_message("to must not be before from")
_TOO_LONG = safe_message(f"to must be less than {MAX_PERIOD_YEARS} years after from")


def spans_too_long(first: date, last: date) -> bool:
    """Whether the period from `first` to `last` (both included) reaches the same calendar day
    MAX_PERIOD_YEARS years on, i.e. is longer than MAX_PERIOD_YEARS years (a 29 February start
    ends on 28 February at the latest)."""
    years = last.year - first.year
    return years > MAX_PERIOD_YEARS or (
        years == MAX_PERIOD_YEARS and (last.month, last.day) >= (first.month, first.day)
    )


class QualityQuery(
    msgspec.Struct,
    kw_only=True,
    forbid_unknown_fields=True,
    frozen=True,
    rename={"period_start": "from", "period_end": "to"},
):
    """The query of GET /reports/quality: a board, and the days (both included, in the board's time
    zone) on which the board recorded the decisions to count."""

    board_id: UUID
    period_start: date
    period_end: date

    def __post_init__(self) -> None:
        if self.period_end < self.period_start:
            raise ValueError(_TO_BEFORE_FROM)
        if spans_too_long(self.period_start, self.period_end):
            raise ValueError(_TOO_LONG)


def quality_query(board_id: str | None, period_start: str | None, period_end: str | None) -> QualityQuery:
    """The report's query from its parameters as sent; InvalidQuery names each bad one."""
    raw = {"board_id": board_id, "from": period_start, "to": period_end}
    return decode_query({name: value for name, value in raw.items() if value is not None}, QualityQuery)


class FollowUpShares(msgspec.Struct, kw_only=True, frozen=True):
    """How the signed plans of the period were followed up."""

    recorded_share: float | None
    not_implemented_share: float | None


class QualityReport(msgspec.Struct, kw_only=True, frozen=True):
    """The board's figures for the period (docs/reports.md defines each); a share is null when
    nothing was there to count."""

    cases_presented: int
    prospective_share: float | None
    stage_discussed_share: float | None
    guideline_concordant_share: float | None
    trial_discussed_share: float | None
    attendance_by_discipline: dict[Discipline, float | None]
    median_days_submission_to_decision: float | None
    median_hours_decision_to_signature: float | None
    follow_up: FollowUpShares
