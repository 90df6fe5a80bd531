"""Code systems, profiles and the code tables both directions of the FHIR mapping share.

Every table maps a Tumorboard value to a standard code and back. Where a value has no standard
code (a post-therapy stage type, a laterality "not applicable"), the value also travels as a coding
of Tumorboard's own code system (`urn:tumorboard:...`), so an export imports back unchanged; other
systems may ignore those codings. Sources and versions: docs/interoperability.md.
"""

from __future__ import annotations

import re
from typing import Final

# Code systems.
LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
NCIT: Final = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3: Final = "http://terminology.hl7.org/CodeSystem/icd-o-3"
AJCC: Final = "http://cancerstaging.org"
UCUM: Final = "http://unitsofmeasure.org"
V2_IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
PROVENANCE_AGENT: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE: Final = "urn:iso-astm:E1762-95:2013"
CLINICAL_TRIALS: Final = "https://clinicaltrials.gov"
DIAGNOSIS_SYSTEMS: Final = {"ICD-10-CM": ICD10CM, "ICD-O-3": ICDO3}

# Tumorboard's own identifiers and codes, where no standard one exists.
MRN_SYSTEM: Final = "urn:tumorboard:mrn"
CARE_PLAN_SYSTEM: Final = "urn:tumorboard:care-plan"
CONTENT_HASH_SYSTEM: Final = "urn:tumorboard:content-hash"
MODALITY_SYSTEM: Final = "urn:tumorboard:modality"
INTENT_SYSTEM: Final = "urn:tumorboard:intent"
DISEASE_SITE_SYSTEM: Final = "urn:tumorboard:disease-site"
STAGE_TYPE_SYSTEM: Final = "urn:tumorboard:stage-type"
STAGE_SYSTEM_SYSTEM: Final = "urn:tumorboard:stage-system"
UNSTATED_STAGE_TYPE: Final = "unstated"
SECTION_SYSTEM: Final = "urn:tumorboard:document-section"
REQUEST_SYSTEM: Final = "urn:tumorboard:request"
LATERALITY_EXTENSION: Final = "urn:tumorboard:extension:laterality"
TREATMENT_STARTED_EXTENSION: Final = "urn:tumorboard:extension:treatment-started"
BOARD_REVIEW: Final = "tumor-board-review"

# mCODE STU 4 (4.0.0): the profiles this export claims, and the extensions it uses.
MCODE: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PATIENT_PROFILE: Final = MCODE + "mcode-cancer-patient"
PRIMARY_CANCER_PROFILE: Final = MCODE + "mcode-primary-cancer-condition"
SECONDARY_CANCER_PROFILE: Final = MCODE + "mcode-secondary-cancer-condition"  # read only to skip it
STAGE_GROUP_PROFILE: Final = MCODE + "mcode-tnm-stage-group"
CATEGORY_PROFILES: Final = {
    "t": MCODE + "mcode-tnm-primary-tumor-category",
    "n": MCODE + "mcode-tnm-regional-nodes-category",
    "m": MCODE + "mcode-tnm-distant-metastases-category",
}
ECOG_PROFILE: Final = MCODE + "mcode-ecog-performance-status"
TUMOR_MARKER_PROFILE: Final = MCODE + "mcode-tumor-marker-test"
HISTOLOGY_EXTENSION: Final = MCODE + "mcode-histology-morphology-behavior"
MCODE_LATERALITY_EXTENSION: Final = MCODE + "mcode-laterality-qualifier"
PROCEDURE_INTENT_EXTENSION: Final = MCODE + "mcode-procedure-intent"
RELATED_CONDITION_EXTENSION: Final = MCODE + "mcode-related-condition"
ASSERTED_DATE_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"

# The document: LOINC "Tumor board Consult note", sections, and what a signature means.
DOCUMENT_TYPE: Final = ("85232-7", "Tumor board Consult note")
PLAN_OF_CARE_SECTION: Final = ("18776-5", "Plan of care note")
VERIFICATION_SIGNATURE: Final = ("1.2.840.10065.1.12.1.5", "Verification Signature")
CARE_PLAN_CATEGORY: Final = ("312384001", "Multidisciplinary assessment")
ECOG_CODE: Final = ("89247-1", "ECOG Performance Status score")
TUMOR_MARKER_CATEGORY: Final = ("250724005", "Tumor marker measurement (procedure)")
# LOINC answers for ECOG 0-5 (answer list LL529-9, bound by the mCODE profile).
ECOG_ANSWERS: Final = ("LA9622-7", "LA9623-5", "LA9624-3", "LA9625-0", "LA9626-8", "LA9627-6")

# Plan steps: SNOMED CT where a concept fits (procedure or regime/therapy), else our code alone.
MODALITY_SNOMED: Final = {
    "surgery": ("387713003", "Surgical procedure (procedure)"),
    "radiation": ("108290001", "Radiation oncology AND/OR radiotherapy (procedure)"),
    "systemic_therapy": ("416608005", "Drug therapy (procedure)"),
    "clinical_trial": ("709491003", "Enrollment in clinical trial (procedure)"),
    "active_surveillance": ("424313000", "Active surveillance (regime/therapy)"),
    "further_workup": ("386053000", "Evaluation procedure (procedure)"),
}
# Extra SNOMED CT concepts read on import (what other systems often send for the same steps).
MODALITY_FROM_SNOMED: Final = {
    **{code: modality for modality, (code, _) in MODALITY_SNOMED.items()},
    "367336001": "systemic_therapy",  # Chemotherapy
    "1287742003": "radiation",  # Radiotherapy
    "110465008": "clinical_trial",  # Clinical trial
}
INTENT_SNOMED: Final = {
    "curative": ("373808002", "Curative - procedure intent"),
    "palliative": ("363676003", "Palliative - procedure intent"),
}
LATERALITY_SNOMED: Final = {
    "left": ("7771000", "Left (qualifier value)"),
    "right": ("24028007", "Right (qualifier value)"),
    "bilateral": ("51440002", "Right and left (qualifier value)"),
    "midline": ("399488007", "Midline (qualifier value)"),
}

# TNM: the LOINC observation codes by stage type (group, T, N, M); a stage without a type, and the
# post-therapy ones LOINC has no class for, use LOINC's "other" class plus our stage-type code.
_CLINICAL = {"group": "21908-9", "t": "21905-5", "n": "21906-3", "m": "21907-1"}
_PATHOLOGICAL = {"group": "21902-2", "t": "21899-0", "n": "21900-6", "m": "21901-4"}
_OTHER = {"group": "21914-7", "t": "21911-3", "n": "21912-1", "m": "21913-9"}
STAGE_CODES: Final = {"clinical": _CLINICAL, "pathological": _PATHOLOGICAL}
OTHER_STAGE_CODES: Final = _OTHER
STAGE_DISPLAYS: Final = {
    "group": "Stage group.{} Cancer",
    "t": "Primary tumor.{} Cancer",
    "n": "Regional lymph nodes.{} Cancer",
    "m": "Distant metastases.{} Cancer",
}
STAGE_CLASS_WORDS: Final = {"clinical": "clinical", "pathological": "pathology", None: "other"}
# LOINC code -> (part, stage type or None for "other").
STAGE_PART_OF_CODE: Final = {
    code: (part, kind)
    for kind, table in (("clinical", _CLINICAL), ("pathological", _PATHOLOGICAL), (None, _OTHER))
    for part, code in table.items()
}

# Staging systems: (system, edition) -> a standard code of the TNM staging method value set.
STAGING_METHODS: Final = {
    ("AJCC", 6): (SNOMED, "444256004", "AJCC Cancer Staging Manual, 6th edition"),
    ("AJCC", 7): (SNOMED, "443830009", "AJCC Cancer Staging Manual, 7th edition"),
    ("AJCC", 8): (SNOMED, "897275008", "AJCC Cancer Staging Manual, 8th edition"),
    ("AJCC", 9): (SNOMED, "1269566009", "AJCC Cancer Staging Manual, 9th version"),
    ("AJCC", 4): (NCIT, "C191343", "AJCC Cancer Staging Manual 4th Edition"),
    ("AJCC", 5): (NCIT, "C191344", "AJCC Cancer Staging Manual 5th Edition"),
}
UICC_METHOD: Final = (NCIT, "C198206", "UICC Staging System Manual")
METHOD_OF_CODE: Final = {code: key for key, (_, code, _) in STAGING_METHODS.items()} | {
    "C146985": ("AJCC", 8)
}

# Which board a diagnosis goes to, by ICD-10-CM category or ICD-O-3 topography (C00-C80 ranges).
_SITE_RANGES: Final = (
    ("C00", "C14", "head_and_neck"),
    ("C15", "C16", "upper_gi"),
    ("C17", "C17", "upper_gi"),
    ("C18", "C21", "colorectal"),
    ("C22", "C24", "hepatobiliary"),
    ("C25", "C25", "pancreas"),
    ("C30", "C32", "head_and_neck"),
    ("C33", "C39", "thoracic"),
    ("C40", "C41", "sarcoma"),
    ("C43", "C44", "skin"),
    ("C45", "C45", "thoracic"),
    ("C46", "C49", "sarcoma"),
    ("C50", "C50", "breast"),
    ("C51", "C58", "gynecologic"),
    ("C60", "C60", "genitourinary"),
    ("C61", "C61", "prostate"),
    ("C62", "C68", "genitourinary"),
    ("C69", "C72", "neuro"),
    ("C73", "C75", "endocrine"),
    ("C81", "C88", "lymphoma"),
    ("C90", "C90", "myeloma"),
    ("C91", "C95", "leukemia"),
)
_CATEGORY = re.compile(r"C\d\d")
UCUM_UNITS: Final = frozenset({"%", "ng/mL", "U/mL", "U/L", "mg/L", "mIU/mL", "mg/dL", "g/dL", "pg/mL"})
_ROMAN = {"IV": "4", "III": "3", "II": "2", "I": "1"}
_ARABIC = re.compile(r"([1-4])([A-D][1-3]?)?")


def disease_site_of(code: str) -> str | None:
    """The board's disease site a cancer code points to (ICD-10-CM C codes, ICD-O-3 topography)."""
    category = code[:3].upper()
    if not _CATEGORY.fullmatch(category):
        return None
    return next((site for low, high, site in _SITE_RANGES if low <= category <= high), None)


def ajcc_group_code(group: str) -> str:
    """The AJCC code of a stage group written with Roman numerals (IIB -> 2B); others stay as written."""
    for roman, arabic in _ROMAN.items():
        rest = group[len(roman) :]
        if group.startswith(roman) and (not rest or rest[0] in "ABCD"):
            return arabic + rest
    return group


def roman_group(code: str) -> str:
    """A stage group written with Roman numerals from its AJCC code (2B -> IIB)."""
    match = _ARABIC.fullmatch(code)
    if match is None:
        return code
    roman = {arabic: roman for roman, arabic in _ROMAN.items()}[match[1]]
    return roman + (match[2] or "")
