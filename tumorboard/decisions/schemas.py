"""Decision structs: the chair's record of what the board agreed on a case."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

from tumorboard.enums import Discipline, Intent, Modality
from tumorboard.recommendations.schemas import Guideline, Modalities, NctNumber
from tumorboard.validation import Text, safe_message

_INTENT_NEEDED = safe_message("intent is required for a plan")
_MODALITIES_NEEDED = safe_message("modalities is required for a plan: the whole plan, in order")
_PLAN_ONLY = {
    name: safe_message(f"{name} is only recorded with a plan; a deferral gives its reason in summary")
    for name in (
        "intent",
        "modalities",
        "rationale",
        "guideline",
        "trial",
        "stage_discussed",
        "quorum_override",
    )
}


class Outcome(StrEnum):
    """What the board decided: a plan, or to discuss the case again at a later meeting."""

    PLAN = "plan"
    DEFER = "defer"


class TrialStatus(StrEnum):
    """Where the patient stands with clinical trials, as the board discussed it."""

    ENROLLED = "enrolled"
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NONE_AVAILABLE = "none_available"
    NOT_CONSIDERED = "not_considered"


class DecisionTrial(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """The trial status the board recorded, with the trial's NCT number when there is one."""

    status: TrialStatus
    id: NctNumber | None = None


class DecisionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /cases/{id}/decision. A plan needs intent, the ordered modalities and a summary;
    a deferral only its reason, in `summary`. `quorum_override` is the chair's reason for deciding
    a plan without quorum (ignored while quorum is met)."""

    outcome: Outcome
    intent: Intent | None = None
    modalities: Modalities | None = None
    summary: Text
    rationale: Text | None = None
    guideline: Guideline | None = None
    trial: DecisionTrial | None = None
    stage_discussed: bool | None = None
    quorum_override: Text | None = None

    def __post_init__(self) -> None:
        if self.outcome == Outcome.PLAN:
            if self.intent is None:
                raise ValueError(_INTENT_NEEDED)
            if self.modalities is None:
                raise ValueError(_MODALITIES_NEEDED)
            return
        for name, message in _PLAN_ONLY.items():
            if getattr(self, name) is not None:
                raise ValueError(message)


class DecisionQuorum(msgspec.Struct, kw_only=True, frozen=True):
    """Quorum as counted from those present when the chair recorded the decision."""

    required: list[Discipline]
    covered: list[Discipline]
    missing: list[Discipline]


class DecisionAttendee(msgspec.Struct, kw_only=True, frozen=True):
    """A participant of the meeting and their attendance when the decision was recorded."""

    user_id: UUID
    full_name: str
    discipline: Discipline | None
    role: str
    attendance: str


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    """A recorded decision: one revision of the board's decision on a case at a meeting."""

    id: UUID
    case_id: UUID
    meeting_id: UUID
    revision: int
    outcome: Outcome
    intent: Intent | None
    modalities: list[Modality] | None
    summary: str
    rationale: str | None
    guideline: Guideline | None
    trial: DecisionTrial | None
    stage_discussed: bool | None
    quorum: DecisionQuorum
    quorum_override: str | None
    attendance: list[DecisionAttendee]
    decided_by: UUID
    decided_by_name: str
    decided_at: datetime


def decision_from_row(row: Any) -> Decision:
    """A decision struct from a board_decision row (get_current_decision, list_case_decisions)."""
    fields = dict(row)
    status, trial_id = fields.pop("trial_status"), fields.pop("trial_id")
    fields["trial"] = {"status": status, "id": trial_id} if status is not None else None
    fields["quorum"] = {
        "required": fields.pop("quorum_required"),
        "covered": fields.pop("quorum_covered"),
        "missing": fields.pop("quorum_missing"),
    }
    return msgspec.convert(fields, Decision)
