"""The report's pure parts: figure definitions on edge cases, chart data, and the SVG drawing."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from defusedxml import ElementTree as ET

from tumorboard.care_plans.schemas import DeviationReason, Implementation
from tumorboard.decisions.schemas import Outcome, TrialStatus
from tumorboard.enums import Discipline
from tumorboard.reports.charts import _meeting_labels
from tumorboard.reports.figures import HeldMeeting, Presentation, Ratio, quality_figures
from tumorboard.reports.svg import Chart, Series, render_svg, ticks

SVG = "{http://www.w3.org/2000/svg}"


def _presentation(**fields: object) -> Presentation:
    values: dict[str, object] = {
        "meeting_id": uuid4(),
        "outcome": Outcome.PLAN,
        "treatment_started": False,
        "stage_discussed": True,
        "guideline_concordant": True,
        "trial_status": TrialStatus.ELIGIBLE,
        "days_to_decision": 3,
        "hours_to_signature": 10.0,
        "implementation": None,
        "reason": None,
    }
    values.update(fields)
    return Presentation(**values)  # type: ignore[arg-type]


def test_shares_are_null_without_a_denominator_not_zero() -> None:
    assert Ratio(0, 0).share is None and Ratio(0, 3).share == 0.0 and Ratio(2, 3).share == 0.6667
    required = [Discipline.MEDICAL_ONCOLOGY, Discipline.PATHOLOGY]
    nothing = quality_figures([], [], required).report()
    assert nothing.cases_presented == 0
    assert nothing.prospective_share is None and nothing.median_days_submission_to_decision is None
    assert nothing.attendance_by_discipline == {Discipline.MEDICAL_ONCOLOGY: None, Discipline.PATHOLOGY: None}
    # Only deferrals: the plan shares have nothing to count, the case count and prospective share do.
    deferrals = [_presentation(outcome=Outcome.DEFER, stage_discussed=None, trial_status=None)] * 2
    only_deferred = quality_figures(deferrals, [], required).report()
    assert (only_deferred.cases_presented, only_deferred.prospective_share) == (2, 1.0)
    assert only_deferred.stage_discussed_share is None and only_deferred.trial_discussed_share is None
    assert only_deferred.follow_up.recorded_share is None


def test_unknown_treatment_status_is_not_prospective_and_stays_counted() -> None:
    figures = quality_figures(
        [_presentation(treatment_started=None), _presentation(treatment_started=True), _presentation()],
        [],
        [],
    )
    assert (figures.prospective.count, figures.prospective.total, figures.unknown_treatment_status) == (
        1,
        3,
        1,
    )


def test_partly_implemented_is_a_recorded_follow_up_but_not_a_non_implementation() -> None:
    plans = [
        _presentation(implementation=Implementation.PARTLY, reason=DeviationReason.OTHER),
        _presentation(implementation=Implementation.NOT, reason=DeviationReason.PATIENT_CHOICE),
        _presentation(),  # signed, nothing recorded
        _presentation(hours_to_signature=None),  # not signed: no follow-up expected yet
    ]
    report = quality_figures(plans, [], []).report()
    assert report.follow_up.recorded_share == round(2 / 3, 4)
    assert report.follow_up.not_implemented_share == 0.5
    assert report.median_hours_decision_to_signature == 10.0


def test_attendance_counts_meetings_with_someone_of_the_discipline_present() -> None:
    meetings = [
        HeldMeeting(uuid4(), date(2026, 3, 2), (Discipline.PATHOLOGY, Discipline.PATHOLOGY)),
        HeldMeeting(uuid4(), date(2026, 3, 9), ()),
    ]
    figures = quality_figures([], meetings, [Discipline.PATHOLOGY, Discipline.RADIOLOGY])
    assert figures.attendance == {Discipline.PATHOLOGY: Ratio(1, 2), Discipline.RADIOLOGY: Ratio(0, 2)}


def test_meeting_labels_name_the_year_across_years_and_number_a_second_meeting_on_a_day() -> None:
    meetings = [
        HeldMeeting(uuid4(), date(2025, 12, 29), ()),
        HeldMeeting(uuid4(), date(2026, 1, 5), ()),
        HeldMeeting(uuid4(), date(2026, 1, 5), ()),
    ]
    assert _meeting_labels(meetings, date(2025, 12, 1), date(2026, 1, 31)) == (
        "29 Dec 2025",
        "5 Jan 2026",
        "5 Jan 2026 (2)",
    )
    assert _meeting_labels(meetings[1:2], date(2026, 1, 1), date(2026, 1, 31)) == ("5 Jan",)


def test_axis_ticks_are_whole_round_steps_past_the_top() -> None:
    assert ticks(0) == [0, 1]
    assert ticks(1) == [0, 1]
    assert ticks(4) == [0, 1, 2, 3, 4]
    assert ticks(7) == [0, 2, 4, 6, 8]
    assert ticks(23) == [0, 5, 10, 15, 20, 25]
    assert ticks(180) == [0, 50, 100, 150, 200]


def _chart(**overrides: object) -> Chart:
    fields: dict[str, object] = {
        "key": "cases",
        "title": "Cases <per> meeting & more",
        "summary": 'Said "plainly" </desc><script>alert(1)</script>',
        "categories": ("2 Mar", "9 Mar"),
        "series": (Series("Plan decided", (2, 4)), Series("Deferred", (1, 0), "#E69F00")),
        "value_label": "cases",
        "category_label": "meeting",
    }
    fields.update(overrides)
    return Chart(**fields)  # type: ignore[arg-type]


def test_the_svg_is_well_formed_named_for_screen_readers_and_escapes_every_label() -> None:
    svg = ET.fromstring(render_svg(_chart()))
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Cases <per> meeting & more"
    assert desc.text == 'Said "plainly" </desc><script>alert(1)</script>'
    assert not [element for element in svg.iter() if element.tag.endswith("script")]
    segments = {r.find(f"{SVG}title").text: float(r.get("height")) for r in svg.iter(f"{SVG}rect") if len(r)}
    assert set(segments) == {"2 Mar, Plan decided: 2", "2 Mar, Deferred: 1", "9 Mar, Plan decided: 4"}
    assert segments["9 Mar, Plan decided: 4"] == 2 * segments["2 Mar, Plan decided: 2"]  # one scale
    drawn = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"Plan decided", "Deferred", "3", "4", "2 Mar", "9 Mar"} <= set(drawn)  # legend, totals, labels


def test_a_captioned_svg_draws_its_title_and_an_empty_one_says_so() -> None:
    captioned = ET.fromstring(
        render_svg(_chart(horizontal=True), caption="Board A, 2026-03-01 to 2026-03-31")
    )
    assert [t.text for t in captioned.iter(f"{SVG}text")][:2] == [
        "Cases <per> meeting & more",
        "Board A, 2026-03-01 to 2026-03-31",
    ]
    empty = ET.fromstring(render_svg(_chart(categories=(), series=(Series("Cases", ()),))))
    assert [t.text for t in empty.iter(f"{SVG}text")] == ["Nothing to show for this period"]
