"""The domain's enumerations, with their values in the API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    PRESENTER = "presenter"
    REVIEWER = "reviewer"


class Discipline(StrEnum):
    """A clinician's specialty."""

    MEDICAL_ONCOLOGY = "medical_oncology"
    SURGICAL_ONCOLOGY = "surgical_oncology"
    RADIATION_ONCOLOGY = "radiation_oncology"
    PATHOLOGY = "pathology"
    RADIOLOGY = "radiology"
    NUCLEAR_MEDICINE = "nuclear_medicine"
    GENETICS = "genetics"
    PALLIATIVE_CARE = "palliative_care"
    NURSING = "nursing"
    OTHER = "other"


ONCOLOGY_DISCIPLINES = (
    Discipline.MEDICAL_ONCOLOGY,
    Discipline.SURGICAL_ONCOLOGY,
    Discipline.RADIATION_ONCOLOGY,
)


class DiseaseSite(StrEnum):
    """Where the cancer is; boards cover one or more sites."""

    BREAST = "breast"
    THORACIC = "thoracic"
    COLORECTAL = "colorectal"
    UPPER_GI = "upper_gi"
    HEPATOBILIARY = "hepatobiliary"
    PANCREAS = "pancreas"
    GENITOURINARY = "genitourinary"
    PROSTATE = "prostate"
    GYNECOLOGIC = "gynecologic"
    HEAD_AND_NECK = "head_and_neck"
    NEURO = "neuro"
    SKIN = "skin"
    SARCOMA = "sarcoma"
    LYMPHOMA = "lymphoma"
    LEUKEMIA = "leukemia"
    MYELOMA = "myeloma"
    ENDOCRINE = "endocrine"
    OTHER = "other"


class Urgency(StrEnum):
    """Routine cases respect the submission deadline; urgent ones may join until the start."""

    ROUTINE = "routine"
    URGENT = "urgent"


class Modality(StrEnum):
    """One step of a proposed plan."""

    SURGERY = "surgery"
    RADIATION = "radiation"
    SYSTEMIC_THERAPY = "systemic_therapy"
    CLINICAL_TRIAL = "clinical_trial"
    ACTIVE_SURVEILLANCE = "active_surveillance"
    FURTHER_WORKUP = "further_workup"
    SUPPORTIVE_CARE = "supportive_care"
    OTHER = "other"


class Intent(StrEnum):
    """The aim of the treatment."""

    CURATIVE = "curative"
    PALLIATIVE = "palliative"
    UNDETERMINED = "undetermined"


class CaseStatus(StrEnum):
    """Where a case is in its lifecycle."""

    SUBMITTED = "submitted"
    SCHEDULED = "scheduled"
    DISCUSSED = "discussed"
    FINALIZED = "finalized"
    WITHDRAWN = "withdrawn"


class MeetingStatus(StrEnum):
    """Where a meeting is in its lifecycle."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ParticipantRole(StrEnum):
    """A participant's part in one meeting."""

    CHAIR = "chair"
    REVIEWER = "reviewer"
