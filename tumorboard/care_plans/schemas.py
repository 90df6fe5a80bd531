"""Care plan structs: the content snapshot each version is built from, and the API view.

The snapshot structs mirror the case's on purpose rather than reuse them: a version's content is
frozen when it is built and must still load after the input schemas of cases evolve.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from tumorboard.validation import Name, Text, safe_message


class PlanPatient(msgspec.Struct, kw_only=True, frozen=True):
    """The patient block of the document."""

    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str


class PlanCode(msgspec.Struct, kw_only=True, frozen=True):
    """A code with its term (ICD-O-3 topography or morphology)."""

    code: str
    display: str | None = None


class PlanDiagnosis(msgspec.Struct, kw_only=True, frozen=True):
    """The diagnosis as coded on the case."""

    code: str
    system: str
    display: str
    diagnosed_on: date | None = None
    laterality: str | None = None
    topography: PlanCode | None = None
    morphology: PlanCode | None = None


class PlanStage(msgspec.Struct, kw_only=True, frozen=True):
    """TNM stage with its type (clinical, pathological, post-therapy) and edition."""

    system: str
    t: str
    n: str
    m: str
    group: str
    edition: int | None = None
    type: str | None = None


class PlanBiomarker(msgspec.Struct, kw_only=True, frozen=True):
    """One biomarker result."""

    name: str
    value: str
    loinc: str | None = None
    unit: str | None = None
    tested_on: date | None = None
    method: str | None = None


class PlanPriorTreatment(msgspec.Struct, kw_only=True, frozen=True):
    """A treatment the patient had before the board."""

    modality: str
    description: str | None = None
    started_on: date | None = None
    ended_on: date | None = None


class PlanComorbidity(msgspec.Struct, kw_only=True, frozen=True):
    """Another condition of the patient."""

    name: str
    code: str | None = None


class PlanReferrer(msgspec.Struct, kw_only=True, frozen=True):
    """The clinician who referred the patient, as named at submission."""

    name: str
    organisation: str | None = None
    email: str | None = None


class PlanParticipant(msgspec.Struct, kw_only=True, frozen=True):
    """A meeting participant as printed in the attendance block; `attendance` once the meeting started
    (present, absent, excused or unrecorded)."""

    full_name: str
    discipline: str | None
    role: str
    attendance: str | None = None


class PlanQuorum(msgspec.Struct, kw_only=True, frozen=True):
    """Disciplines the board requires, those its participants cover, and the gap."""

    required: list[str]
    covered: list[str]
    missing: list[str]
    basis: Literal["participants", "attendance"] = "participants"


class PlanMeeting(msgspec.Struct, kw_only=True, frozen=True):
    """The meeting that discussed the case."""

    id: UUID
    board_name: str
    starts_at: datetime
    duration_minutes: int
    location: str | None
    participants: list[PlanParticipant]
    quorum: PlanQuorum


class PlanGuideline(msgspec.Struct, kw_only=True, frozen=True):
    """The guideline a reviewer cited and whether their proposal follows it."""

    name: str
    version: str | None = None
    concordant: bool
    reason: str | None = None


class PlanRecommendation(msgspec.Struct, kw_only=True, frozen=True):
    """One reviewer's recommendation as it stood when the version was built."""

    id: UUID
    discipline: str
    author_name: str
    intent: str
    modalities: list[str]
    summary: str
    rationale: str | None = None
    guideline: PlanGuideline | None = None
    trial_id: str | None = None
    version: int
    updated_at: datetime


class PlanProposal(msgspec.Struct, kw_only=True, frozen=True):
    """A distinct (intent, modalities) proposal and who supports it."""

    intent: str
    modalities: list[str]
    supporters: list[str]


class PlanDecision(msgspec.Struct, kw_only=True, frozen=True):
    """The board's decision as the chair recorded it (the revision the version is built from)."""

    id: UUID
    revision: int
    outcome: str
    intent: str
    modalities: list[str]
    summary: str
    rationale: str | None = None
    guideline: PlanGuideline | None = None
    trial_status: str | None = None
    trial_id: str | None = None
    stage_discussed: bool | None = None
    quorum_override: str | None = None
    decided_by_name: str
    decided_at: datetime


class PlanDifferingView(msgspec.Struct, kw_only=True, frozen=True):
    """A recommendation that does not propose the decided intent and modalities, in its author's words."""

    recommendation_id: UUID
    discipline: str
    author_name: str
    version: int
    intent: str
    modalities: list[str]
    summary: str
    rationale: str | None = None


class PlanAmendment(msgspec.Struct, kw_only=True, frozen=True):
    """The signed version an amendment replaces, and why the chair reopened it."""

    replaces_id: UUID
    replaces_version: int
    reason: str
    requested_by_name: str
    requested_at: datetime


class CarePlanContent(msgspec.Struct, kw_only=True, frozen=True):
    """Everything a care plan document prints, frozen when the version is built."""

    case_id: UUID
    disease_site: str
    urgency: str
    patient: PlanPatient
    diagnosis: PlanDiagnosis
    histology: str | None = None
    stage: PlanStage | None = None
    ecog: int | None = None
    biomarkers: list[PlanBiomarker] = []
    summary: str
    question: str
    meeting: PlanMeeting
    recommendations: list[PlanRecommendation]
    consensus: bool
    intent: str
    modalities: list[str]
    proposals: list[PlanProposal]
    absent_disciplines: list[str] = []
    trial_ids: list[str] = []
    amendment: PlanAmendment | None = None
    decision: PlanDecision | None = None  # versions built before board decisions were recorded have none
    differing_views: list[PlanDifferingView] = []
    prior_treatments: list[PlanPriorTreatment] = []
    comorbidities: list[PlanComorbidity] = []
    treatment_started: bool | None = None
    discuss_by: date | None = None
    referrer: PlanReferrer | None = None


class CarePlanSignature(msgspec.Struct, kw_only=True, frozen=True):
    """Who signed a final version, when, and the hash of its content."""

    signed_by: UUID
    signed_by_name: str
    signed_at: datetime
    content_hash: str


class CarePlanDocument(msgspec.Struct, kw_only=True, frozen=True):
    """A care plan version as the documents (HTML, PDF, FHIR) render it."""

    id: UUID
    version: int
    status: Literal["draft", "final"]
    generated_at: datetime
    content: CarePlanContent
    signature: CarePlanSignature | None = None


class GuidelineConcordance(msgspec.Struct, kw_only=True, frozen=True):
    """Whether one recommendation follows the guideline it cites, and why not."""

    discipline: str
    author_name: str
    guideline: str
    guideline_version: str | None
    concordant: bool
    reason: str | None


class CarePlan(msgspec.Struct, kw_only=True, frozen=True):
    """The API view of a care plan version (the latest one at GET /cases/{id}/care-plan)."""

    id: UUID
    case_id: UUID
    version: int
    status: Literal["draft", "final"]
    consensus: bool
    intent: str
    modalities: list[str]
    proposals: list[PlanProposal]
    absent_disciplines: list[str]
    generated_at: datetime
    signed_by: UUID | None = None
    signed_at: datetime | None = None
    content_hash: str | None = None
    guideline_concordance: list[GuidelineConcordance] = []
    trial_ids: list[str] = []
    replaces_version: int | None = None
    amendment_reason: str | None = None
    decision: PlanDecision | None = None
    differing_views: list[PlanDifferingView] = []


# ---------------------------------------------------------------------------------------------------------
# Amendments


class SignatureRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /cases/{id}/care-plan/sign: the chair's password (signing re-authenticates) and,
    optionally, the version the chair read."""

    password: Name
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class AmendmentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /cases/{id}/care-plan/amend: why the signed plan must change."""

    reason: Text


class Amendment(msgspec.Struct, kw_only=True, frozen=True):
    """An amendment of a signed version: open until the chair signs the version that replaces it."""

    id: UUID
    case_id: UUID
    amends_version: int
    reason: str
    requested_by: UUID
    requested_at: datetime
    signed_version: int | None = None


# ---------------------------------------------------------------------------------------------------------
# What changed between two versions


class FieldChange(msgspec.Struct, kw_only=True, frozen=True):
    """One field whose value differs between two versions (`before` is null when it was absent)."""

    field: str
    before: Any
    after: Any


class RecommendationChange(msgspec.Struct, kw_only=True, frozen=True):
    """A recommendation added, removed or changed between two versions."""

    recommendation_id: UUID
    discipline: str
    author_name: str
    change: Literal["added", "removed", "changed"]
    fields: list[FieldChange] = []


class CarePlanDiff(msgspec.Struct, kw_only=True, frozen=True):
    """What changed from one version of a case's care plan to another."""

    case_id: UUID
    from_version: int
    to_version: int
    changes: list[FieldChange]
    recommendations: list[RecommendationChange]

    @property
    def empty(self) -> bool:
        """Whether the two versions say the same thing."""
        return not self.changes and not self.recommendations


# ---------------------------------------------------------------------------------------------------------
# Follow-up on implementation


class Implementation(StrEnum):
    """How far a signed plan was carried out."""

    FULLY = "fully"
    PARTLY = "partly"
    NOT = "not"


class DeviationReason(StrEnum):
    """Why a plan was not (fully) carried out."""

    PATIENT_CHOICE = "patient_choice"
    COMORBIDITY_OR_FITNESS = "comorbidity_or_fitness"
    DISEASE_CHANGED = "disease_changed"
    OTHER = "other"


_REASON_NEEDED = safe_message("reason is required unless the plan was fully implemented")
_REASON_UNWANTED = safe_message("reason must be left out when the plan was fully implemented")
_TEXT_NEEDED = safe_message("reason_text is required when the reason is other")
_TEXT_UNWANTED = safe_message("reason_text is only for the reason other")


class FollowUpRecord(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /cases/{id}/care-plan/follow-up."""

    implementation: Implementation
    reason: DeviationReason | None = None
    reason_text: Text | None = None

    def __post_init__(self) -> None:
        if self.implementation == Implementation.FULLY and self.reason is not None:
            raise ValueError(_REASON_UNWANTED)
        if self.implementation != Implementation.FULLY and self.reason is None:
            raise ValueError(_REASON_NEEDED)
        if self.reason == DeviationReason.OTHER and self.reason_text is None:
            raise ValueError(_TEXT_NEEDED)
        if self.reason != DeviationReason.OTHER and self.reason_text is not None:
            raise ValueError(_TEXT_UNWANTED)


class FollowUp(msgspec.Struct, kw_only=True, frozen=True):
    """Whether a signed care plan version was implemented, as its presenter recorded it."""

    case_id: UUID
    care_plan_id: UUID
    version: int
    implementation: Implementation
    reason: DeviationReason | None
    reason_text: str | None
    recorded_by: UUID
    recorded_at: datetime


class MissingFollowUp(msgspec.Struct, kw_only=True, frozen=True):
    """A signed plan whose presenter has not recorded its implementation yet."""

    case_id: UUID
    care_plan_id: UUID
    version: int
    signed_at: datetime
    meeting_starts_at: datetime
    presenter_id: UUID
    presenter_name: str


class FollowUpReport(msgspec.Struct, kw_only=True, frozen=True):
    """Implementation of a board's signed plans, for the meetings of a period."""

    board_id: UUID
    period_start: date
    period_end: date
    signed_plans: int
    followed_up: int
    implementation: dict[Implementation, int]
    non_implementation_rate: float | None
    reasons: dict[DeviationReason, int]
    without_follow_up: list[MissingFollowUp]
