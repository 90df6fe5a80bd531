"""Care plan structs: the content snapshot each version is built from, and the API view.

The snapshot structs mirror the case's on purpose rather than reuse them: a version's content is
frozen when it is built and must still load after the input schemas of cases evolve.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec


class PlanPatient(msgspec.Struct, kw_only=True, frozen=True):
    """The patient block of the document."""

    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str


class PlanDiagnosis(msgspec.Struct, kw_only=True, frozen=True):
    """The diagnosis as coded on the case."""

    code: str
    system: str
    display: str


class PlanStage(msgspec.Struct, kw_only=True, frozen=True):
    """AJCC TNM stage."""

    system: str
    t: str
    n: str
    m: str
    group: str


class PlanBiomarker(msgspec.Struct, kw_only=True, frozen=True):
    """One biomarker result."""

    name: str
    value: str


class PlanParticipant(msgspec.Struct, kw_only=True, frozen=True):
    """A meeting participant as printed in the attendance block."""

    full_name: str
    discipline: str | None
    role: str


class PlanQuorum(msgspec.Struct, kw_only=True, frozen=True):
    """Disciplines the board requires, those its participants cover, and the gap."""

    required: list[str]
    covered: list[str]
    missing: list[str]


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


class CarePlan(msgspec.Struct, kw_only=True, frozen=True):
    """The API view of the latest care plan version of a case."""

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
