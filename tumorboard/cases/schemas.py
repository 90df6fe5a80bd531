"""Case structs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, Urgency
from tumorboard.validation import Name, Text, safe_message

_BIRTH_DATE_IN_FUTURE = safe_message("birth_date must not be in the future")
Sex = Literal["female", "male", "other", "unknown"]
Ecog = Annotated[int, msgspec.Meta(ge=0, le=4)]


def age_on(birth_date: date, day: date) -> int | None:
    """Completed years of age on a day (None before birth)."""
    years = day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
    return years if years >= 0 else None


class Patient(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The patient a case is about."""

    mrn: Name
    given_name: Name
    family_name: Name
    birth_date: date
    sex: Sex

    def __post_init__(self) -> None:
        if self.birth_date > datetime.now(UTC).date():
            raise ValueError(_BIRTH_DATE_IN_FUTURE)


class Diagnosis(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The coded diagnosis."""

    code: Name
    system: Literal["ICD-10-CM", "ICD-O-3"]
    display: Name


class Stage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """AJCC 8th edition TNM stage, e.g. cT2 cN1 cM0, group IIB."""

    system: Literal["AJCC8"]
    t: Name
    n: Name
    m: Name
    group: Name


class Biomarker(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One biomarker result, e.g. HER2: positive."""

    name: Name
    value: Name


class CaseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /cases."""

    patient: Patient
    disease_site: DiseaseSite
    diagnosis: Diagnosis
    histology: Name | None = None
    stage: Stage | None = None
    ecog: Ecog | None = None
    biomarkers: Annotated[list[Biomarker], msgspec.Meta(max_length=50)] = []
    summary: Text
    question: Text
    urgency: Urgency = Urgency.ROUTINE
    discuss_by: date | None = None


class Preparation(msgspec.Struct, kw_only=True, frozen=True):
    """Which of the board's required disciplines have recommended on a case on a meeting, and which not."""

    recommended: list[Discipline]
    missing: list[Discipline]


class Case(msgspec.Struct, kw_only=True, frozen=True):
    """A case as its presenter, its meeting's participants and coordinators see it; `preparation`
    while it is on a meeting and the board has not signed its plan."""

    id: UUID
    status: CaseStatus
    meeting_id: UUID | None
    assignment_note: str | None
    presenter_id: UUID
    patient: Patient
    disease_site: DiseaseSite
    diagnosis: Diagnosis
    histology: str | None
    stage: Stage | None
    ecog: int | None
    biomarkers: list[Biomarker]
    summary: str
    question: str
    urgency: Urgency
    discuss_by: date | None
    absent_disciplines: list[Discipline]
    discussion_closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    preparation: Preparation | None = None


class CasePage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of cases."""

    items: list[Case]
    next_cursor: str | None


class CaseMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /cases/{id}/meeting."""

    meeting_id: UUID
