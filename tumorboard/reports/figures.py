"""The board quality figures as pure functions over plain facts, one per figure.

The unit is a **presentation**: a case decided at a meeting of the board, counted on the day (in the
board's time zone) the chair first recorded the board's decision on it there. A case deferred at one
meeting and decided at the next is two presentations; a correction of a plan is the same one. What a
presentation says (plan or deferral, stage, guideline, trial) is its latest correction.

1. `cases_presented`: every presentation of the period, plans and deferrals.
2. `prospective`: presentations whose case was submitted before treatment started
   (`treatment_started` is false). A case that did not say (null) does not count as prospective: the
   board cannot show it was; it stays in the denominator, and `unknown_treatment_status` counts it.
3. `stage_discussed`, `guideline_concordant`, `trial_discussed`: shares of the plans (deferrals carry
   none of these). A plan without the field recorded counts as not discussed / not concordant; a
   trial counts as discussed when its status is recorded and is not `not_considered`.
4. `attendance`: for each discipline the board requires, the share of the period's meetings at which
   a participant of that discipline was recorded present. A meeting without recorded attendance
   counts as nobody present.
5. `median_days_submission_to_decision`: calendar days (board's time zone) from the case's submission
   to the day of the presentation, median over all presentations.
6. `median_hours_decision_to_signature`: hours from the first record of a plan to the first signature
   of a care plan version built from it, median over the plans signed so far.
7. `follow_up_recorded`: of the signed plans, those whose newest signed version has a follow-up;
   `not_implemented`: of those follow-ups, the ones marked not implemented (partly is not counted).

A share is None when its denominator is 0 (nothing to count is not the same as 0 %).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from tumorboard.care_plans.schemas import DeviationReason, Implementation
from tumorboard.decisions.schemas import Outcome, TrialStatus
from tumorboard.enums import Discipline
from tumorboard.reports.schemas import FollowUpShares, QualityReport

SHARE_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Presentation:
    """What the report counts of one case decided at one meeting."""

    meeting_id: UUID
    outcome: Outcome
    treatment_started: bool | None
    stage_discussed: bool | None
    guideline_concordant: bool | None
    trial_status: TrialStatus | None
    days_to_decision: int
    hours_to_signature: float | None
    implementation: Implementation | None
    reason: DeviationReason | None

    @property
    def is_plan(self) -> bool:
        """Whether the board decided a plan (not a deferral)."""
        return self.outcome == Outcome.PLAN

    @property
    def is_signed(self) -> bool:
        """Whether a care plan built from this decision has been signed."""
        return self.hours_to_signature is not None


@dataclass(frozen=True, slots=True)
class HeldMeeting:
    """A meeting of the period, with the discipline of each participant recorded present."""

    id: UUID
    held_on: date
    present: tuple[Discipline, ...]


@dataclass(frozen=True, slots=True)
class Ratio:
    """A count out of a total; its share is None when the total is 0."""

    count: int
    total: int

    @property
    def share(self) -> float | None:
        """count / total, rounded to SHARE_DIGITS; None when there is nothing to count."""
        return round(self.count / self.total, SHARE_DIGITS) if self.total else None


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """Every figure of the report, with the counts behind each share."""

    cases_presented: int
    prospective: Ratio
    unknown_treatment_status: int
    stage_discussed: Ratio
    guideline_concordant: Ratio
    trial_discussed: Ratio
    attendance: dict[Discipline, Ratio]
    median_days_submission_to_decision: float | None
    median_hours_decision_to_signature: float | None
    follow_up_recorded: Ratio
    not_implemented: Ratio

    def report(self) -> QualityReport:
        """The figures as the API gives them."""
        return QualityReport(
            cases_presented=self.cases_presented,
            prospective_share=self.prospective.share,
            stage_discussed_share=self.stage_discussed.share,
            guideline_concordant_share=self.guideline_concordant.share,
            trial_discussed_share=self.trial_discussed.share,
            attendance_by_discipline={d: ratio.share for d, ratio in self.attendance.items()},
            median_days_submission_to_decision=self.median_days_submission_to_decision,
            median_hours_decision_to_signature=self.median_hours_decision_to_signature,
            follow_up=FollowUpShares(
                recorded_share=self.follow_up_recorded.share,
                not_implemented_share=self.not_implemented.share,
            ),
        )


def prospective(presentations: Sequence[Presentation]) -> Ratio:
    """(2) Presentations submitted before treatment started, of all presentations."""
    return Ratio(sum(p.treatment_started is False for p in presentations), len(presentations))


def stage_discussed(plans: Sequence[Presentation]) -> Ratio:
    """(3) Plans for which the board recorded that it discussed stage."""
    return Ratio(sum(p.stage_discussed is True for p in plans), len(plans))


def guideline_concordant(plans: Sequence[Presentation]) -> Ratio:
    """(3) Plans the board recorded as concordant with a guideline."""
    return Ratio(sum(p.guideline_concordant is True for p in plans), len(plans))


def trial_discussed(plans: Sequence[Presentation]) -> Ratio:
    """(3) Plans with a recorded trial status other than not_considered."""
    considered = sum(p.trial_status not in (None, TrialStatus.NOT_CONSIDERED) for p in plans)
    return Ratio(considered, len(plans))


def attendance(meetings: Sequence[HeldMeeting], required: Sequence[Discipline]) -> dict[Discipline, Ratio]:
    """(4) For each required discipline, the meetings at which someone of it was present."""
    return {d: Ratio(sum(d in m.present for m in meetings), len(meetings)) for d in required}


def median_days_to_decision(presentations: Sequence[Presentation]) -> float | None:
    """(5) Median calendar days from submission to the presentation."""
    days = [p.days_to_decision for p in presentations]
    return float(statistics.median(days)) if days else None


def median_hours_to_signature(plans: Sequence[Presentation]) -> float | None:
    """(6) Median hours from the decision to the signature, over the signed plans (one decimal)."""
    hours = [p.hours_to_signature for p in plans if p.hours_to_signature is not None]
    return round(statistics.median(hours), 1) if hours else None


def follow_up_recorded(plans: Sequence[Presentation]) -> Ratio:
    """(7) Signed plans whose follow-up has been recorded."""
    signed = [p for p in plans if p.is_signed]
    return Ratio(sum(p.implementation is not None for p in signed), len(signed))


def not_implemented(plans: Sequence[Presentation]) -> Ratio:
    """(7) Recorded follow-ups marked not implemented (partly implemented is not counted)."""
    recorded = [p for p in plans if p.is_signed and p.implementation is not None]
    return Ratio(sum(p.implementation == Implementation.NOT for p in recorded), len(recorded))


def quality_figures(
    presentations: Sequence[Presentation], meetings: Sequence[HeldMeeting], required: Sequence[Discipline]
) -> QualityFigures:
    """Every figure of a board's period from its presentations and meetings."""
    plans = [p for p in presentations if p.is_plan]
    return QualityFigures(
        cases_presented=len(presentations),
        prospective=prospective(presentations),
        unknown_treatment_status=sum(p.treatment_started is None for p in presentations),
        stage_discussed=stage_discussed(plans),
        guideline_concordant=guideline_concordant(plans),
        trial_discussed=trial_discussed(plans),
        attendance=attendance(meetings, required),
        median_days_submission_to_decision=median_days_to_decision(presentations),
        median_hours_decision_to_signature=median_hours_to_signature(plans),
        follow_up_recorded=follow_up_recorded(plans),
        not_implemented=not_implemented(plans),
    )
