"""The care plan as a FHIR R4 Bundle, built from fhir.resources R4B models (which validate it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition, ConditionStage
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from tumorboard.care_plans.schemas import CarePlanContent, CarePlanDocument, PlanProposal, PlanStage
from tumorboard.labels import label

MRN_SYSTEM = "urn:tumorboard:mrn"
CARE_PLAN_SYSTEM = "urn:tumorboard:care-plan"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
DIAGNOSIS_SYSTEMS = {
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-O-3": "http://terminology.hl7.org/CodeSystem/icd-o-3",
}
FHIR_GENDERS = frozenset({"female", "male", "other", "unknown"})
TNM_COMPONENTS = (
    ("t", "21905-5", "Primary tumor.clinical Cancer"),
    ("n", "21906-3", "Regional lymph nodes.clinical Cancer"),
    ("m", "21907-1", "Distant metastases.clinical Cancer"),
)


def _resource_id(document: CarePlanDocument, kind: str) -> str:
    # Stable per document version and resource kind, so rebuilding the bundle yields the same ids.
    return str(uuid.uuid5(document.id, kind))


def _urn(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _concept(
    system: str | None, code: str, display: str | None = None, text: str | None = None
) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=code, display=display)], text=text or display)


def _text(text: str) -> CodeableConcept:
    return CodeableConcept(text=text)


def _patient(content: CarePlanContent, resource_id: str) -> Patient:
    p = content.patient
    gender = p.sex if p.sex in FHIR_GENDERS else "unknown"
    return Patient(
        id=resource_id,
        identifier=[
            Identifier(
                use="usual",
                type=_concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number"),
                system=MRN_SYSTEM,
                value=p.mrn,
            )
        ],
        name=[HumanName(use="official", family=p.family_name, given=[p.given_name])],
        birthDate=p.birth_date,
        gender=gender,
    )


def _diagnosis_code(content: CarePlanContent) -> CodeableConcept:
    d = content.diagnosis
    system = DIAGNOSIS_SYSTEMS.get(d.system)
    if system is None:
        return CodeableConcept(text=f"{d.display} ({d.system} {d.code})")
    return _concept(system, d.code, d.display)


def _stage_summary(stage: PlanStage) -> str:
    return f"Stage {stage.group} ({stage.system} {stage.t} {stage.n} {stage.m})"


def _condition(
    content: CarePlanContent, resource_id: str, patient_ref: str, stage_ref: str | None
) -> Condition:
    stages = None
    if content.stage is not None:
        assessment = [Reference(reference=stage_ref)] if stage_ref else None
        stages = [ConditionStage(summary=_text(_stage_summary(content.stage)), assessment=assessment)]
    notes = [Annotation(text=f"Histology: {content.histology}")] if content.histology else None
    return Condition(
        id=resource_id,
        clinicalStatus=_concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
        ),
        verificationStatus=_concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"
        ),
        category=[
            _concept(
                "http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis",
                "Encounter Diagnosis",
            )
        ],
        code=_diagnosis_code(content),
        subject=Reference(reference=patient_ref),
        stage=stages,
        note=notes,
    )


def _stage_observation(
    stage: PlanStage, resource_id: str, patient_ref: str, condition_ref: str
) -> Observation:
    components = [
        ObservationComponent(
            code=_concept(LOINC, code, display), valueCodeableConcept=_text(getattr(stage, attr))
        )
        for attr, code, display in TNM_COMPONENTS
    ]
    return Observation(
        id=resource_id,
        status="final",
        code=_concept(LOINC, "21908-9", "Stage group.clinical Cancer"),
        subject=Reference(reference=patient_ref),
        focus=[Reference(reference=condition_ref)],
        method=_text(stage.system),
        valueCodeableConcept=_text(stage.group),
        component=components,
    )


def _ecog_observation(ecog: int, resource_id: str, patient_ref: str) -> Observation:
    return Observation(
        id=resource_id,
        status="final",
        category=[_concept("http://terminology.hl7.org/CodeSystem/observation-category", "survey", "Survey")],
        code=_concept(LOINC, "89247-1", "ECOG Performance Status score"),
        subject=Reference(reference=patient_ref),
        valueInteger=ecog,
    )


def _sequence(modalities: list[str]) -> str:
    return " → ".join(label(m) for m in modalities) or "no modality"


def _plan_description(content: CarePlanContent) -> str:
    text = f"{label(content.intent)} intent: {_sequence(content.modalities)}."
    if not content.consensus:
        text += " The board did not reach consensus; see notes for the differing views."
    return text


def _activities(modalities: list[str]) -> list[CarePlanActivity]:
    total = len(modalities)
    return [
        CarePlanActivity(
            detail=CarePlanActivityDetail(
                status="not-started",
                code=_text(label(modality)),
                description=f"Step {index} of {total}: {label(modality)}",
            )
        )
        for index, modality in enumerate(modalities, start=1)
    ]


def _proposal_note(index: int, proposal: PlanProposal) -> Annotation:
    supporters = ", ".join(proposal.supporters) or "no one"
    return Annotation(
        text=(
            f"Dissenting proposal {index}: {label(proposal.intent)} intent, "
            f"{_sequence(proposal.modalities)}. Supported by: {supporters}."
        )
    )


def _guideline_notes(content: CarePlanContent) -> list[Annotation]:
    notes = []
    for rec in content.recommendations:
        guideline = rec.guideline
        if guideline is None or guideline.concordant:
            continue
        cited = f"{guideline.name} ({guideline.version})" if guideline.version else guideline.name
        why = (guideline.reason or "no reason given").rstrip(".")
        notes.append(
            Annotation(
                text=f"Not concordant with {cited} ({rec.author_name}, {label(rec.discipline)}): {why}."
            )
        )
    return notes


def _plan_notes(document: CarePlanDocument) -> list[Annotation]:
    content = document.content
    notes: list[Annotation] = []
    if content.amendment is not None:
        notes.append(
            Annotation(
                text=f"Amends signed version {content.amendment.replaces_version}: {content.amendment.reason}"
            )
        )
    decision = content.decision
    if decision is not None:
        notes.append(
            Annotation(
                text=f"The board's decision, recorded by {decision.decided_by_name}: {decision.summary}"
            )
        )
        if decision.quorum_override:
            missing = ", ".join(label(d) for d in content.meeting.quorum.missing)
            notes.append(
                Annotation(text=f"Decided without quorum (missing {missing}): {decision.quorum_override}")
            )
    if not content.consensus:
        if decision is None:  # versions built before the board's decisions were recorded
            notes.extend(_proposal_note(i, prop) for i, prop in enumerate(content.proposals, start=1))
        notes.extend(
            Annotation(text=f"Dissent of {r.author_name} ({label(r.discipline)}): “{r.summary}”")
            for r in content.recommendations
            if (r.intent, r.modalities) != (content.intent, content.modalities)
        )
    notes.extend(_guideline_notes(content))
    if content.absent_disciplines:
        absent = ", ".join(label(d) for d in content.absent_disciplines)
        notes.append(Annotation(text=f"Required disciplines without a recommendation: {absent}."))
    if content.trial_ids:
        notes.append(Annotation(text=f"Clinical trials considered: {', '.join(content.trial_ids)}."))
    if document.signature is not None:
        notes.append(Annotation(text=f"Content hash (SHA-256): {document.signature.content_hash}"))
    return notes


def _care_plan(
    document: CarePlanDocument, resource_id: str, patient_ref: str, condition_ref: str
) -> CarePlan:
    content = document.content
    contributors = [
        Reference(display=f"{rec.author_name} ({label(rec.discipline)})") for rec in content.recommendations
    ]
    author = Reference(display=document.signature.signed_by_name) if document.signature else None
    replaces = None
    if content.amendment is not None:
        replaced = Identifier(system=CARE_PLAN_SYSTEM, value=str(content.amendment.replaces_id))
        replaces = [Reference(identifier=replaced, display=f"Version {content.amendment.replaces_version}")]
    return CarePlan(
        id=resource_id,
        identifier=[Identifier(system=CARE_PLAN_SYSTEM, value=str(document.id))],
        status="active" if document.status == "final" else "draft",
        intent="plan",
        category=[_concept(SNOMED, "312384001", "Multidisciplinary assessment")],
        title=f"Tumor board care plan, version {document.version}",
        description=_plan_description(content),
        subject=Reference(reference=patient_ref),
        addresses=[Reference(reference=condition_ref)],
        replaces=replaces,
        created=_aware(document.generated_at),
        author=author,
        contributor=contributors or None,
        activity=_activities(content.modalities) or None,
        note=_plan_notes(document) or None,
    )


def _entry(resource: Resource) -> BundleEntry:
    return BundleEntry(fullUrl=_urn(str(resource.id)), resource=resource)


def build_fhir_bundle(document: CarePlanDocument) -> dict[str, Any]:
    """The care plan as a FHIR R4 Bundle (type collection), validated with fhir.resources R4B."""
    content = document.content
    ids = {
        kind: _resource_id(document, kind) for kind in ("patient", "condition", "stage", "ecog", "careplan")
    }
    patient_ref, condition_ref = _urn(ids["patient"]), _urn(ids["condition"])
    stage_ref = _urn(ids["stage"]) if content.stage is not None else None

    resources: list[Resource] = [
        _patient(content, ids["patient"]),
        _condition(content, ids["condition"], patient_ref, stage_ref),
    ]
    if content.stage is not None:
        resources.append(_stage_observation(content.stage, ids["stage"], patient_ref, condition_ref))
    if content.ecog is not None:
        resources.append(_ecog_observation(content.ecog, ids["ecog"], patient_ref))
    resources.append(_care_plan(document, ids["careplan"], patient_ref, condition_ref))

    bundle = Bundle(
        id=str(document.id),
        identifier=Identifier(system=CARE_PLAN_SYSTEM, value=f"{document.id}:bundle"),
        type="collection",
        timestamp=_aware(document.generated_at),
        entry=[_entry(resource) for resource in resources],
    )
    result: dict[str, Any] = bundle.model_dump(mode="json")
    return result
