"""The case's clinical record as mCODE resources: what the board was asked about, for the document.

Built from a care plan version's frozen content, so a document shows the case as the board saw it.
`tumorboard.fhir.intake` reads the same shapes back; docs/interoperability.md maps every field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from tumorboard.care_plans.schemas import (
    CarePlanContent,
    PlanBiomarker,
    PlanComorbidity,
    PlanPriorTreatment,
    PlanStage,
)
from tumorboard.cases.clinical import ALLOWED_PREFIXES
from tumorboard.fhir import codes
from tumorboard.fhir.resources import Ids, Json, code_or_none, coding, compact, concept
from tumorboard.labels import label

# A number JSON writes back digit for digit (no leading zeros, no exponent, no plus sign).
_NUMBER = re.compile(r"-?(0|[1-9]\d{0,14})(\.\d{1,15})?")
_PREFIX = re.compile(r"(c|p|yc|yp)[TNM]")
UNIT_EXTENSION = "urn:tumorboard:extension:unit"


@dataclass
class ClinicalRecord:
    """The resources of a case's clinical record and the keys the document refers to them by."""

    resources: list[Json] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # keys of the observations and conditions

    def add(self, resource: Json, key: str | None = None) -> None:
        """Add a resource; with a key, list it among the clinical findings."""
        self.resources.append(resource)
        if key is not None:
            self.findings.append(key)


def _ajcc(code: str, display: str) -> Json | None:
    """An AJCC coding of a stage value (a suffix typed with odd spacing stays in the text only)."""
    valid = code_or_none(code)
    return coding(codes.AJCC, valid, display) if valid else None


def _meta(profile: str) -> Json:
    return {"profile": [profile]}


def patient(content: CarePlanContent, ids: Ids) -> Json:
    """The CancerPatient: MRN, name, sex, birth date."""
    p = content.patient
    return {
        "resourceType": "Patient",
        "id": ids.of("patient"),
        "meta": _meta(codes.PATIENT_PROFILE),
        "identifier": [
            {
                "use": "usual",
                "type": concept(coding(codes.V2_IDENTIFIER_TYPE, "MR", "Medical record number")),
                "system": codes.MRN_SYSTEM,
                "value": p.mrn,
            }
        ],
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "gender": p.sex if p.sex in ("female", "male", "other") else "unknown",
        "birthDate": p.birth_date.isoformat(),
    }


def _laterality(value: str) -> Json:
    if value in codes.LATERALITY_SNOMED:
        code, display = codes.LATERALITY_SNOMED[value]
        return {
            "url": codes.MCODE_LATERALITY_EXTENSION,
            "valueCodeableConcept": concept(coding(codes.SNOMED, code, display)),
        }
    return {"url": codes.LATERALITY_EXTENSION, "valueCode": value}


def _body_site(content: CarePlanContent) -> list[Json]:
    d = content.diagnosis
    if d.topography is None and d.laterality is None:
        return []
    site = concept(coding(codes.ICDO3, d.topography.code, d.topography.display) if d.topography else None)
    if d.laterality is not None:
        site["extension"] = [_laterality(d.laterality)]
    return [site]


def _histology(content: CarePlanContent) -> Json | None:
    morphology = content.diagnosis.morphology
    if morphology is None and content.histology is None:
        return None
    value = concept(
        coding(codes.ICDO3, morphology.code, morphology.display) if morphology else None,
        text=content.histology,
    )
    return {"url": codes.HISTOLOGY_EXTENSION, "valueCodeableConcept": value}


def primary_condition(content: CarePlanContent, ids: Ids) -> Json:
    """The PrimaryCancerCondition: the coded diagnosis, site, laterality, histology, date, stage."""
    d = content.diagnosis
    system = codes.DIAGNOSIS_SYSTEMS[d.system]
    extensions = [
        {"url": codes.ASSERTED_DATE_EXTENSION, "valueDateTime": d.diagnosed_on.isoformat()}
        if d.diagnosed_on
        else None,
        _histology(content),
    ]
    stage = None
    if content.stage is not None:
        group = content.stage.group
        stage = [
            {
                "summary": concept(_ajcc(codes.ajcc_group_code(group), group), text=f"Stage {group}"),
                "assessment": [ids.ref("stage:group")],
            }
        ]
    return compact(
        {
            "resourceType": "Condition",
            "id": ids.of("condition"),
            "meta": _meta(codes.PRIMARY_CANCER_PROFILE),
            "extension": [e for e in extensions if e],
            "clinicalStatus": concept(coding(codes.CONDITION_CLINICAL, "active", "Active")),
            "verificationStatus": concept(coding(codes.CONDITION_VERIFICATION, "confirmed", "Confirmed")),
            "category": [concept(coding(codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item"))],
            "code": concept(coding(system, d.code, d.display), text=d.display),
            "bodySite": _body_site(content),
            "subject": ids.ref("patient"),
            "stage": stage,
            "note": [{"text": content.summary}],
        }
    )


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def staging_method(stage: PlanStage) -> Json:
    """The staging system and edition: a standard code where one exists, and ours, always."""
    edition = 8 if stage.system == "AJCC8" else stage.edition
    family = "UICC" if stage.system == "UICC" else "AJCC"
    standard = codes.UICC_METHOD if family == "UICC" else codes.STAGING_METHODS.get((family, edition or 0))
    ours = stage.system if stage.edition is None else f"{stage.system}-{stage.edition}"
    words = f"{family} {_ordinal(edition)} edition" if edition else family
    return concept(
        coding(*standard) if standard else None, coding(codes.STAGE_SYSTEM_SYSTEM, ours, words), text=words
    )


def _implied_type(stage: PlanStage) -> str | None:
    """The type the prefixes imply when none was stated: cT with cN/cM is clinical, pT with allowed
    N and M prefixes pathological; anything else implies nothing."""
    prefixes = {part: _PREFIX.match(getattr(stage, part)) for part in ("t", "n", "m")}
    for kind in codes.STAGE_CODES:
        allowed = ALLOWED_PREFIXES[kind]
        found = {part: match[1] if match else "" for part, match in prefixes.items()}
        if found["t"] in allowed["t"] and all(found[p] in (*allowed[p], "") for p in ("n", "m")):
            return kind
    return None


def _stage_code(stage: PlanStage, part: str) -> Json:
    # LOINC has clinical and pathological classes; a post-therapy stage is LOINC's "other" plus our
    # code. A stage without a type takes the class its prefixes imply, marked "unstated" in our code.
    implied = _implied_type(stage) if stage.type is None else None
    kind = stage.type if stage.type in codes.STAGE_CODES else implied
    table = codes.STAGE_CODES[kind] if kind else codes.OTHER_STAGE_CODES
    loinc = coding(codes.LOINC, table[part], codes.STAGE_DISPLAYS[part].format(codes.STAGE_CLASS_WORDS[kind]))
    ours = None
    if stage.type is not None and stage.type not in codes.STAGE_CODES:
        ours = coding(codes.STAGE_TYPE_SYSTEM, stage.type, label(stage.type))
    elif implied is not None:
        ours = coding(codes.STAGE_TYPE_SYSTEM, codes.UNSTATED_STAGE_TYPE, "Type not stated")
    return concept(loinc, ours)


def stage_observations(stage: PlanStage, ids: Ids) -> list[Json]:
    """TNMStageGroup and its T, N and M categories (LOINC codes by stage type, AJCC values)."""
    common = {
        "resourceType": "Observation",
        "status": "final",
        "subject": ids.ref("patient"),
        "focus": [ids.ref("condition")],
        "method": staging_method(stage),
    }
    group = {
        **common,
        "id": ids.of("stage:group"),
        "meta": _meta(codes.STAGE_GROUP_PROFILE),
        "code": _stage_code(stage, "group"),
        "valueCodeableConcept": concept(
            _ajcc(codes.ajcc_group_code(stage.group), stage.group), text=stage.group
        ),
        "hasMember": [ids.ref(f"stage:{part}") for part in ("t", "n", "m")],
    }
    categories = [
        {
            **common,
            "id": ids.of(f"stage:{part}"),
            "meta": _meta(codes.CATEGORY_PROFILES[part]),
            "code": _stage_code(stage, part),
            "valueCodeableConcept": concept(_ajcc(value, value), text=value),
        }
        for part, value in (("t", stage.t), ("n", stage.n), ("m", stage.m))
    ]
    return [group, *categories]


def ecog_observation(ecog: int, ids: Ids) -> Json:
    """ECOGPerformanceStatus: the score and its LOINC answer."""
    return {
        "resourceType": "Observation",
        "id": ids.of("ecog"),
        "meta": _meta(codes.ECOG_PROFILE),
        "status": "final",
        "category": [concept(coding(codes.OBSERVATION_CATEGORY, "survey", "Survey"))],
        "code": concept(coding(codes.LOINC, *codes.ECOG_CODE)),
        "subject": ids.ref("patient"),
        "valueInteger": ecog,
        "interpretation": [concept(coding(codes.LOINC, codes.ECOG_ANSWERS[ecog]))],
    }


def _marker_value(marker: PlanBiomarker) -> Json:
    if marker.unit is not None and _NUMBER.fullmatch(marker.value):
        quantity = {"value": Decimal(marker.value), "unit": marker.unit}
        if marker.unit in codes.UCUM_UNITS:
            quantity |= {"system": codes.UCUM, "code": marker.unit}
        return {"valueQuantity": quantity}
    value: Json = {"valueString": marker.value}
    if marker.unit is not None:  # a unit beside a value that is not a number: kept, in our extension
        value["extension"] = [{"url": UNIT_EXTENSION, "valueString": marker.unit}]
    return value


def marker_observation(marker: PlanBiomarker, key: str, ids: Ids) -> Json:
    """TumorMarkerTest: the result, its LOINC code when known, unit, method and date."""
    value = _marker_value(marker)
    extensions = [{"url": codes.RELATED_CONDITION_EXTENSION, "valueReference": ids.ref("condition")}]
    extensions += value.pop("extension", [])
    return compact(
        {
            "resourceType": "Observation",
            "id": ids.of(key),
            "meta": _meta(codes.TUMOR_MARKER_PROFILE),
            "extension": extensions,
            "status": "final",
            "category": [
                concept(coding(codes.OBSERVATION_CATEGORY, "laboratory", "Laboratory")),
                concept(coding(codes.SNOMED, *codes.TUMOR_MARKER_CATEGORY)),
            ],
            "code": concept(coding(codes.LOINC, marker.loinc) if marker.loinc else None, text=marker.name),
            "subject": ids.ref("patient"),
            "effectiveDateTime": marker.tested_on.isoformat() if marker.tested_on else None,
            "method": concept(text=marker.method) if marker.method else None,
            **value,
        }
    )


def modality_concept(modality: str) -> Json:
    """A treatment modality: SNOMED CT where a concept fits, and our code, always."""
    standard = codes.MODALITY_SNOMED.get(modality)
    return concept(
        coding(codes.SNOMED, *standard) if standard else None,
        coding(codes.MODALITY_SYSTEM, modality, label(modality)),
        text=label(modality),
    )


def treatment_procedure(treatment: PlanPriorTreatment, key: str, ids: Ids) -> Json:
    """A treatment the patient had before the board, as a Procedure for the cancer."""
    started, ended = treatment.started_on, treatment.ended_on
    status = "completed" if ended else "in-progress" if started else "unknown"
    period = compact(
        {"start": started.isoformat() if started else None, "end": ended.isoformat() if ended else None}
    )
    return compact(
        {
            "resourceType": "Procedure",
            "id": ids.of(key),
            "status": status,
            "code": modality_concept(treatment.modality),
            "subject": ids.ref("patient"),
            "performedPeriod": period or None,
            "reasonReference": [ids.ref("condition")],
            "note": [{"text": treatment.description}] if treatment.description else None,
        }
    )


def comorbidity_condition(comorbidity: PlanComorbidity, key: str, ids: Ids) -> Json:
    """Another condition of the patient (a problem-list Condition, ICD-10-CM when coded)."""
    code = coding(codes.ICD10CM, comorbidity.code) if comorbidity.code else None
    return {
        "resourceType": "Condition",
        "id": ids.of(key),
        "clinicalStatus": concept(coding(codes.CONDITION_CLINICAL, "active", "Active")),
        "category": [concept(coding(codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item"))],
        "code": concept(code, text=comorbidity.name),
        "subject": ids.ref("patient"),
    }


def referrer_resources(content: CarePlanContent, ids: Ids) -> list[Json]:
    """The referring clinician: a Practitioner, and a PractitionerRole at their organisation."""
    referrer = content.referrer
    if referrer is None:
        return []
    telecom = [{"system": "email", "value": referrer.email}] if referrer.email else None
    practitioner = compact(
        {
            "resourceType": "Practitioner",
            "id": ids.of("referrer"),
            "name": [{"text": referrer.name}],
            "telecom": telecom,
        }
    )
    if referrer.organisation is None:
        return [practitioner]
    organisation = {
        "resourceType": "Organization",
        "id": ids.of("referrer:organisation"),
        "name": referrer.organisation,
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": ids.of("referrer:role"),
        "practitioner": ids.ref("referrer", referrer.name),
        "organization": ids.ref("referrer:organisation", referrer.organisation),
    }
    return [practitioner, organisation, role]


def board_request(content: CarePlanContent, ids: Ids, decided: bool) -> Json:
    """The ServiceRequest for the board's review: the question, site, urgency, deadline, referrer."""
    referrer = content.referrer
    requester = None
    if referrer is not None:
        key = "referrer:role" if referrer.organisation else "referrer"
        requester = ids.ref(key, referrer.name)
    started = content.treatment_started
    return compact(
        {
            "resourceType": "ServiceRequest",
            "id": ids.of("request"),
            "extension": [{"url": codes.TREATMENT_STARTED_EXTENSION, "valueBoolean": started}]
            if started is not None
            else None,
            "status": "completed" if decided else "active",
            "intent": "order",
            "category": [
                concept(coding(codes.DISEASE_SITE_SYSTEM, content.disease_site, label(content.disease_site)))
            ],
            "priority": content.urgency,
            "code": concept(
                coding(codes.REQUEST_SYSTEM, codes.BOARD_REVIEW, "Tumor board review"),
                text="Tumor board review",
            ),
            "subject": ids.ref("patient"),
            "occurrencePeriod": {"end": content.discuss_by.isoformat()} if content.discuss_by else None,
            "requester": requester,
            "reasonReference": [ids.ref("condition")],
            "note": [{"text": content.question}],
        }
    )


def clinical_record(content: CarePlanContent, ids: Ids, decided: bool) -> ClinicalRecord:
    """Every resource of the case's clinical record, with the request for the board's review."""
    record = ClinicalRecord()
    record.add(patient(content, ids))
    record.add(primary_condition(content, ids), "condition")
    if content.stage is not None:
        for observation, key in zip(
            stage_observations(content.stage, ids), ("group", "t", "n", "m"), strict=True
        ):
            record.add(observation, f"stage:{key}")
    if content.ecog is not None:
        record.add(ecog_observation(content.ecog, ids), "ecog")
    for index, marker in enumerate(content.biomarkers):
        record.add(marker_observation(marker, f"marker:{index}", ids), f"marker:{index}")
    for index, treatment in enumerate(content.prior_treatments):
        record.add(treatment_procedure(treatment, f"treatment:{index}", ids), f"treatment:{index}")
    for index, comorbidity in enumerate(content.comorbidities):
        record.add(comorbidity_condition(comorbidity, f"comorbidity:{index}", ids), f"comorbidity:{index}")
    for resource in referrer_resources(content, ids):
        record.add(resource)
    record.add(board_request(content, ids, decided))
    return record
