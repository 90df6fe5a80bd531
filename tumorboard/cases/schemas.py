"""Case structs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tumorboard.cases import clinical
from tumorboard.enums import CaseStatus, Discipline, DiseaseSite, Modality, Urgency
from tumorboard.validation import Email, InvalidBody, Name, Text, safe_message

_BIRTH_DATE_IN_FUTURE = safe_message("birth_date must not be in the future")
Sex = Literal["female", "male", "other", "unknown"]
Ecog = Annotated[int, msgspec.Meta(ge=0, le=4)]
Laterality = Literal["left", "right", "bilateral", "midline", "not_applicable", "unknown"]
StageType = Literal["clinical", "pathological", "post_therapy_clinical", "post_therapy_pathological"]
Edition = Annotated[int, msgspec.Meta(ge=1, le=20)]


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


class CodedTerm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A code with its term, e.g. ICD-O-3 topography C50.4 "Upper-outer quadrant of breast"."""

    code: Name
    display: Name | None = None


class Diagnosis(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The coded diagnosis (ICD-10-CM or ICD-O-3), with the ICD-O-3 site and histology beside it."""

    code: Name
    system: Literal["ICD-10-CM", "ICD-O-3"]
    display: Name
    diagnosed_on: date | None = None
    laterality: Laterality | None = None
    topography: CodedTerm | None = None
    morphology: CodedTerm | None = None


class Stage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """TNM stage, e.g. clinical cT2 cN1 cM0, group IIB, AJCC 8th edition.

    ``system`` AJCC8 names the edition itself; AJCC and UICC name it in ``edition``. ``type`` says
    which classification it is; the c, p, yc or yp prefixes of T, N and M must agree with it.
    """

    system: Literal["AJCC8", "AJCC", "UICC"]
    edition: Edition | None = None
    type: StageType | None = None
    t: Name
    n: Name
    m: Name
    group: Name


class Biomarker(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One biomarker result, e.g. HER2: positive (3+), by IHC, LOINC 85319-2."""

    name: Name
    value: Name
    loinc: Name | None = None
    unit: Name | None = None
    tested_on: date | None = None
    method: Name | None = None


class PriorTreatment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A treatment the patient already had for this cancer."""

    modality: Modality
    description: Text | None = None
    started_on: date | None = None
    ended_on: date | None = None


class Comorbidity(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Another condition that matters for the plan, with its ICD-10-CM code when known."""

    name: Name
    code: Name | None = None


class Referrer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The clinician who referred the patient to the board: the signed outcome is written to them."""

    name: Name
    organisation: Name | None = None
    email: Email | None = None


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
    prior_treatments: Annotated[list[PriorTreatment], msgspec.Meta(max_length=50)] = []
    comorbidities: Annotated[list[Comorbidity], msgspec.Meta(max_length=50)] = []
    treatment_started: bool | None = None
    referrer: Referrer | None = None

    def __post_init__(self) -> None:
        today = clinical.latest_today()
        errors = [
            *clinical.diagnosis_errors(self.diagnosis, self.patient.birth_date, today),
            *clinical.stage_errors(self.stage),
            *clinical.biomarker_errors(self.biomarkers, today),
            *clinical.treatment_errors(self.prior_treatments, today),
            *clinical.comorbidity_errors(self.comorbidities),
        ]
        if errors:
            raise InvalidBody(errors)


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
    prior_treatments: list[PriorTreatment] = []
    comorbidities: list[Comorbidity] = []
    treatment_started: bool | None = None
    referrer: Referrer | None = None
    # Coordinators only: the MRN is recorded with other patient details than this case's.
    patient_mismatch: bool | msgspec.UnsetType = msgspec.UNSET


class CaseClinical(msgspec.Struct, kw_only=True, frozen=True):
    """A case's clinical data alone, as the agenda shows it beside each case."""

    diagnosis: Diagnosis
    histology: str | None = None
    stage: Stage | None = None
    ecog: int | None = None
    biomarkers: list[Biomarker] = []
    prior_treatments: list[PriorTreatment] = []
    comorbidities: list[Comorbidity] = []
    treatment_started: bool | None = None


class CasePage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of cases."""

    items: list[Case]
    next_cursor: str | None


class CaseMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /cases/{id}/meeting."""

    meeting_id: UUID
