"""The report page's charts, from a board's figures and the facts behind them.

1. Attendance by specialty per meeting: people present at each meeting, by required discipline
   (any other discipline together).
2. Cases per meeting: presentations at each meeting, plans and deferrals.
3. Days from submission to decision: how many presentations took how long, by week.
4. Time from decision to signature: how many plans were signed how soon, and how many are not yet.
5. Implementation of the signed plans: fully, partly, not, or no follow-up yet.
6. Why plans were not fully implemented: each reason, partly and not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from tumorboard.care_plans.schemas import DeviationReason, Implementation
from tumorboard.labels import label
from tumorboard.reports.figures import HeldMeeting, Presentation, Ratio
from tumorboard.reports.service import BoardQuality
from tumorboard.reports.svg import GREY, PALETTE, Chart, Series

# (last day included, label): weeks first, then fortnights, then the rest.
DAY_BINS: tuple[tuple[int | None, str], ...] = (
    (7, "0 to 7"),
    (14, "8 to 14"),
    (21, "15 to 21"),
    (28, "22 to 28"),
    (42, "29 to 42"),
    (56, "43 to 56"),
    (None, "over 56"),
)
# (hours, label): a signature within fewer hours than these falls in the bin.
HOUR_BINS: tuple[tuple[float | None, str], ...] = (
    (24, "within a day"),
    (48, "1 to 2 days"),
    (72, "2 to 3 days"),
    (168, "3 to 7 days"),
    (336, "1 to 2 weeks"),
    (None, "over 2 weeks"),
)
NOT_SIGNED = "not signed yet"
CHART_KEYS = (
    "attendance",
    "cases",
    "days-to-decision",
    "decision-to-signature",
    "implementation",
    "reasons",
)
GREEN, ORANGE, VERMILION = PALETTE[2], PALETTE[1], PALETTE[3]


def report_charts(quality: BoardQuality) -> list[Chart]:
    """Every chart of the report page, in order."""
    labels = _meeting_labels(quality.meetings, quality.query.period_start, quality.query.period_end)
    return [
        attendance_chart(quality, labels),
        cases_chart(quality, labels),
        days_chart(quality.presentations, quality.figures.median_days_submission_to_decision),
        signature_chart(quality.presentations, quality.figures.median_hours_decision_to_signature),
        implementation_chart(quality.presentations),
        reasons_chart(quality.presentations),
    ]


def attendance_chart(quality: BoardQuality, labels: tuple[str, ...]) -> Chart:
    """(1) People present at each meeting by required discipline, any other discipline together."""
    required = quality.board.required_disciplines
    present = [Counter(meeting.present) for meeting in quality.meetings]
    series = [Series(label(d), tuple(counts[d] for counts in present)) for d in required]
    others = tuple(sum(n for d, n in counts.items() if d not in required) for counts in present)
    if any(others):
        series.append(Series("Other disciplines", others, GREY))
    covered = [f"{label(d).lower()} at {_count_of(ratio)}" for d, ratio in quality.figures.attendance.items()]
    meetings = len(quality.meetings)
    summary = (
        f"{_plural(meetings, 'meeting')} in the period. Required disciplines present: {', '.join(covered)}."
        if meetings
        else "No meeting was held in the period."
    )
    return Chart(
        key="attendance",
        title="Attendance by specialty per meeting",
        summary=summary,
        categories=labels,
        series=tuple(series),
        value_label="people present",
        category_label="meeting",
    )


def cases_chart(quality: BoardQuality, labels: tuple[str, ...]) -> Chart:
    """(2) Presentations at each meeting: plans decided and deferrals."""
    plans = Counter(p.meeting_id for p in quality.presentations if p.is_plan)
    deferrals = Counter(p.meeting_id for p in quality.presentations if not p.is_plan)
    ids = [meeting.id for meeting in quality.meetings]
    total = len(quality.presentations)
    return Chart(
        key="cases",
        title="Cases per meeting",
        summary=(
            f"{_plural(total, 'case')} presented at {_plural(len(ids), 'meeting')}: "
            f"{sum(plans.values())} with a plan decided, {sum(deferrals.values())} deferred."
        ),
        categories=labels,
        series=(
            Series("Plan decided", tuple(plans[i] for i in ids)),
            Series("Deferred", tuple(deferrals[i] for i in ids), ORANGE),
        ),
        value_label="cases",
        category_label="meeting",
    )


def days_chart(presentations: Sequence[Presentation], median: float | None) -> Chart:
    """(3) Presentations by calendar days from submission to decision."""
    counts = Counter(_bin_of_days(p.days_to_decision) for p in presentations)
    summary = (
        f"Median {_number(median)} days from submission to the board's decision, "
        f"over {_plural(len(presentations), 'case')}."
        if median is not None
        else "No case was presented in the period."
    )
    return Chart(
        key="days-to-decision",
        title="Days from submission to decision",
        summary=summary,
        categories=tuple(name for _, name in DAY_BINS),
        series=(Series("Cases", tuple(counts[name] for _, name in DAY_BINS)),),
        value_label="cases",
        category_label="days from submission to decision",
    )


def signature_chart(presentations: Sequence[Presentation], median: float | None) -> Chart:
    """(4) Plans by time from the decision to the signature, and those not signed yet."""
    plans = [p for p in presentations if p.is_plan]
    counts = Counter(_bin_of_hours(p.hours_to_signature) for p in plans if p.hours_to_signature is not None)
    unsigned = sum(not p.is_signed for p in plans)
    names = [name for _, name in HOUR_BINS]
    signed = len(plans) - unsigned
    summary = (
        f"Median {_number(median)} hours from the decision to the chair's signature, over "
        f"{_plural(signed, 'signed plan')}; {unsigned} not signed yet."
        if median is not None
        else f"No plan of the period has been signed yet ({unsigned} waiting)."
    )
    return Chart(
        key="decision-to-signature",
        title="Time from decision to signature",
        summary=summary,
        categories=(*names, NOT_SIGNED),
        series=(
            Series("Signed plans", (*(counts[name] for name in names), 0)),
            Series("Not signed yet", (*(0 for _ in names), unsigned), GREY),
        ),
        value_label="plans",
        category_label="time from decision to signature",
    )


def implementation_chart(presentations: Sequence[Presentation]) -> Chart:
    """(5) The signed plans by how they were implemented, and those without a follow-up yet."""
    signed = [p for p in presentations if p.is_plan and p.is_signed]
    counts = Counter(p.implementation for p in signed)
    rows = [(f"{label(i)} implemented", counts[i]) for i in Implementation]
    rows.append(("No follow-up yet", counts[None]))
    recorded = len(signed) - counts[None]
    return Chart(
        key="implementation",
        title="Implementation of the signed plans",
        summary=(
            f"Follow-up recorded for {recorded} of {_plural(len(signed), 'signed plan')}: "
            f"{counts[Implementation.FULLY]} fully, {counts[Implementation.PARTLY]} partly and "
            f"{counts[Implementation.NOT]} not implemented."
        ),
        categories=tuple(name for name, _ in rows),
        series=(Series("Signed plans", tuple(n for _, n in rows)),),
        value_label="signed plans",
        category_label="implementation",
        horizontal=True,
    )


def reasons_chart(presentations: Sequence[Presentation]) -> Chart:
    """(6) Why signed plans were partly or not implemented."""
    deviations = [p for p in presentations if p.is_signed and p.reason is not None]
    partly = Counter(p.reason for p in deviations if p.implementation == Implementation.PARTLY)
    not_done = Counter(p.reason for p in deviations if p.implementation == Implementation.NOT)
    reasons = list(DeviationReason)
    both = partly + not_done
    common = max(reasons, key=lambda r: both[r]) if deviations else None
    summary = (
        f"{_plural(len(deviations), 'plan')} not fully implemented; the most common reason: "
        f"{label(common).lower()} ({both[common]})."
        if common is not None
        else "No signed plan of the period is recorded as partly or not implemented."
    )
    return Chart(
        key="reasons",
        title="Why plans were not fully implemented",
        summary=summary,
        categories=tuple(label(r) for r in reasons),
        series=(
            Series("Partly implemented", tuple(partly[r] for r in reasons), ORANGE),
            Series("Not implemented", tuple(not_done[r] for r in reasons), VERMILION),
        ),
        value_label="signed plans",
        category_label="reason",
        horizontal=True,
    )


def _meeting_labels(meetings: Sequence[HeldMeeting], first: date, last: date) -> tuple[str, ...]:
    """Each meeting's day, with the year when the period spans more than one; a second meeting on a
    day gets a number."""
    form = "%d %b %Y" if first.year != last.year else "%d %b"
    labels: list[str] = []
    seen: Counter[str] = Counter()
    for meeting in meetings:
        day = meeting.held_on.strftime(form).lstrip("0")
        seen[day] += 1
        labels.append(day if seen[day] == 1 else f"{day} ({seen[day]})")
    return tuple(labels)


def _bin_of_days(days: int) -> str:
    return next(name for last, name in DAY_BINS if last is None or days <= last)


def _bin_of_hours(hours: float) -> str:
    return next(name for limit, name in HOUR_BINS if limit is None or hours < limit)


def _count_of(ratio: Ratio) -> str:
    share = ratio.share
    return f"{ratio.count} of {ratio.total}" + (f" ({share:.0%})" if share is not None else "")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _number(value: float) -> str:
    return f"{value:g}"
