"""The care plan as a FHIR document an EHR can file: a Bundle of type `document`, Composition first.

The Composition (LOINC 85232-7 "Tumor board Consult note") has sections for the question, the
clinical data, the board's decision, the recommendations and the attendance; the entries are the
case's clinical record as mCODE resources (tumorboard.fhir.clinical), the CarePlan, a Practitioner for
each person named, a ResearchStudy per trial considered, and for a signed version a Provenance naming
the signer. Resources are plain dicts; the tests validate every shape the builder makes with
fhir.resources (R4B), which would cost more than the rest of the export if done on every request.
"""

from __future__ import annotations

from typing import Any

from tumorboard.care_plans.schemas import CarePlanContent, CarePlanDocument, PlanProposal
from tumorboard.fhir import codes
from tumorboard.fhir.clinical import ClinicalRecord, clinical_record, modality_concept
from tumorboard.fhir.resources import Ids, Json, coding, compact, concept, full_url, instant, narrative
from tumorboard.labels import label

CASE_SYSTEM = "urn:tumorboard:case"


def _sequence(modalities: list[str]) -> str:
    return " → ".join(label(m) for m in modalities) or "no modality"


class _People:
    """A Practitioner per person the document names (by name: the version stores names)."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.names: list[str] = []

    def ref(self, name: str) -> Json:
        """A reference to the person's Practitioner, added on first use."""
        if name not in self.names:
            self.names.append(name)
        return self.ids.ref(f"practitioner:{name}", name)

    def resources(self) -> list[Json]:
        """One Practitioner per person named."""
        return [
            {
                "resourceType": "Practitioner",
                "id": self.ids.of(f"practitioner:{name}"),
                "name": [{"text": name}],
            }
            for name in self.names
        ]


# ---------------------------------------------------------------------------------------------------------
# The CarePlan and its notes


def _activities(modalities: list[str]) -> list[Json]:
    total = len(modalities)
    return [
        {
            "detail": {
                "code": modality_concept(modality),
                "status": "not-started",
                "description": f"Step {index} of {total}: {label(modality)}",
            }
        }
        for index, modality in enumerate(modalities, start=1)
    ]


def _proposal_note(index: int, proposal: PlanProposal) -> str:
    supporters = ", ".join(proposal.supporters) or "no one"
    return (
        f"Dissenting proposal {index}: {label(proposal.intent)} intent, "
        f"{_sequence(proposal.modalities)}. Supported by: {supporters}."
    )


def _guideline_notes(content: CarePlanContent) -> list[str]:
    notes = []
    for rec in content.recommendations:
        guideline = rec.guideline
        if guideline is None or guideline.concordant:
            continue
        cited = f"{guideline.name} ({guideline.version})" if guideline.version else guideline.name
        why = (guideline.reason or "no reason given").rstrip(".")
        notes.append(f"Not concordant with {cited} ({rec.author_name}, {label(rec.discipline)}): {why}.")
    return notes


def _plan_notes(document: CarePlanDocument) -> list[str]:
    content = document.content
    notes: list[str] = []
    if content.amendment is not None:
        notes.append(
            f"Amends signed version {content.amendment.replaces_version}: {content.amendment.reason}"
        )
    decision = content.decision
    if decision is not None:
        notes.append(f"The board's decision, recorded by {decision.decided_by_name}: {decision.summary}")
        if decision.quorum_override:
            missing = ", ".join(label(d) for d in content.meeting.quorum.missing)
            notes.append(f"Decided without quorum (missing {missing}): {decision.quorum_override}")
    if not content.consensus:
        if decision is None:  # versions built before the board's decisions were recorded
            notes.extend(_proposal_note(i, prop) for i, prop in enumerate(content.proposals, start=1))
        notes.extend(
            f"Dissent of {r.author_name} ({label(r.discipline)}): “{r.summary}”"
            for r in content.recommendations
            if (r.intent, r.modalities) != (content.intent, content.modalities)
        )
    notes.extend(_guideline_notes(content))
    if content.absent_disciplines:
        absent = ", ".join(label(d) for d in content.absent_disciplines)
        notes.append(f"Required disciplines without a recommendation: {absent}.")
    if content.trial_ids:
        notes.append(f"Clinical trials considered: {', '.join(content.trial_ids)}.")
    if document.signature is not None:
        notes.append(f"Content hash (SHA-256): {document.signature.content_hash}")
    return notes


def _intent(intent: str) -> list[Json] | None:
    standard = codes.INTENT_SNOMED.get(intent)
    if standard is None:  # "undetermined" has no code in mCODE's procedure intent value set
        return None
    value = concept(coding(codes.SNOMED, *standard), coding(codes.INTENT_SYSTEM, intent), text=label(intent))
    return [{"url": codes.PROCEDURE_INTENT_EXTENSION, "valueCodeableConcept": value}]


def _care_plan(document: CarePlanDocument, ids: Ids, people: _People) -> Json:
    content = document.content
    description = f"{label(content.intent)} intent: {_sequence(content.modalities)}."
    if not content.consensus:
        description += " The board did not reach consensus; see notes for the differing views."
    replaces = None
    if content.amendment is not None:
        replaced = {"system": codes.CARE_PLAN_SYSTEM, "value": str(content.amendment.replaces_id)}
        replaces = [{"identifier": replaced, "display": f"Version {content.amendment.replaces_version}"}]
    signature = document.signature
    return compact(
        {
            "resourceType": "CarePlan",
            "id": ids.of("careplan"),
            "extension": _intent(content.intent),
            "identifier": [{"system": codes.CARE_PLAN_SYSTEM, "value": str(document.id)}],
            "status": "active" if document.status == "final" else "draft",
            "intent": "plan",
            "category": [concept(coding(codes.SNOMED, *codes.CARE_PLAN_CATEGORY))],
            "title": f"Tumor board care plan, version {document.version}",
            "description": description,
            "subject": ids.ref("patient"),
            "created": instant(document.generated_at),
            "author": people.ref(signature.signed_by_name) if signature else None,
            "contributor": [people.ref(r.author_name) for r in content.recommendations],
            "addresses": [ids.ref("condition")],
            "supportingInfo": [ids.ref(f"trial:{trial}", trial) for trial in content.trial_ids],
            "replaces": replaces,
            "activity": _activities(content.modalities),
            "note": [{"text": text} for text in _plan_notes(document)],
        }
    )


def _trials(content: CarePlanContent, ids: Ids) -> list[Json]:
    return [
        {
            "resourceType": "ResearchStudy",
            "id": ids.of(f"trial:{trial}"),
            "identifier": [{"system": codes.CLINICAL_TRIALS, "value": trial}],
            "status": "active",
        }
        for trial in content.trial_ids
    ]


# ---------------------------------------------------------------------------------------------------------
# The Composition and the signature


def _decision_lines(content: CarePlanContent) -> list[str]:
    lines = [f"{label(content.intent)} intent: {_sequence(content.modalities)}."]
    decision = content.decision
    if decision is not None:
        lines.append(decision.summary)
        if decision.rationale:
            lines.append(f"Rationale: {decision.rationale}")
        if decision.trial_status:
            trial = f" ({decision.trial_id})" if decision.trial_id else ""
            lines.append(f"Clinical trial: {label(decision.trial_status)}{trial}.")
        if decision.quorum_override:
            lines.append(f"Decided without quorum: {decision.quorum_override}")
    lines.append(
        "The board reached consensus." if content.consensus else "The board did not reach consensus."
    )
    return lines


def _section(
    key: str, title: str, lines: list[str], entries: list[Json], loinc: tuple[str, str] | None = None
) -> Json:
    return compact(
        {
            "title": title,
            "code": concept(
                coding(codes.LOINC, *loinc) if loinc else None, coding(codes.SECTION_SYSTEM, key, title)
            ),
            "text": narrative(lines),
            "entry": entries,
        }
    )


def _sections(document: CarePlanDocument, ids: Ids, record: ClinicalRecord, people: _People) -> list[Json]:
    content = document.content
    meeting = content.meeting
    recommendations = [
        f"{label(r.discipline)}, {r.author_name} (version {r.version}): {label(r.intent)} intent, "
        f"{_sequence(r.modalities)}. {r.summary}"
        for r in content.recommendations
    ]
    attendance = [
        f"{p.full_name} ({label(p.discipline) if p.discipline else 'no discipline'}, {label(p.role)}): "
        f"{label(p.attendance) if p.attendance else 'invited'}"
        for p in meeting.participants
    ]
    quorum = meeting.quorum
    attendance.append(
        f"Quorum ({quorum.basis}): required {', '.join(label(d) for d in quorum.required) or 'none'}; "
        f"missing {', '.join(label(d) for d in quorum.missing) or 'none'}."
    )
    clinical = [
        f"{content.diagnosis.display} ({content.diagnosis.system} {content.diagnosis.code})",
        content.summary,
    ]
    trials = [ids.ref(f"trial:{trial}", trial) for trial in content.trial_ids]
    return [
        _section("question", "Question for the board", [content.question], [ids.ref("request")]),
        _section("clinical", "Clinical data", clinical, [ids.ref(key) for key in record.findings]),
        _section(
            "decision",
            "The board's decision",
            _decision_lines(content),
            [ids.ref("careplan"), *trials],
            codes.PLAN_OF_CARE_SECTION,
        ),
        _section("recommendations", "Recommendations", recommendations or ["No recommendation."], []),
        _section(
            "attendance",
            f"Attendance: {meeting.board_name}, {instant(meeting.starts_at)}",
            attendance,
            [people.ref(p.full_name) for p in meeting.participants],
        ),
    ]


def _composition(document: CarePlanDocument, ids: Ids, record: ClinicalRecord, people: _People) -> Json:
    content = document.content
    signature = document.signature
    if content.decision is not None:
        authors = [people.ref(content.decision.decided_by_name)]
    elif signature is not None:
        authors = [people.ref(signature.signed_by_name)]
    else:  # a version built before the board's decisions were recorded, not signed
        authors = [{"display": content.meeting.board_name}]
    status = "preliminary"
    if signature is not None:
        status = "amended" if content.amendment else "final"
    relates = None
    if content.amendment is not None:
        target = {"system": codes.CARE_PLAN_SYSTEM, "value": str(content.amendment.replaces_id)}
        relates = [{"code": "replaces", "targetIdentifier": target}]
    sections = _sections(document, ids, record, people)  # names the attendees before they are listed
    return compact(
        {
            "resourceType": "Composition",
            "id": ids.of("composition"),
            "identifier": {"system": CASE_SYSTEM, "value": str(content.case_id)},
            "status": status,
            "type": concept(coding(codes.LOINC, *codes.DOCUMENT_TYPE)),
            "subject": ids.ref("patient"),
            "date": instant(signature.signed_at if signature else document.generated_at),
            "author": authors,
            "title": f"Tumor board care plan, version {document.version}"
            + ("" if signature else " (draft, not signed)"),
            "attester": [
                {
                    "mode": "legal",
                    "time": instant(signature.signed_at),
                    "party": people.ref(signature.signed_by_name),
                }
            ]
            if signature
            else None,
            "relatesTo": relates,
            "section": sections,
        }
    )


def _provenance(document: CarePlanDocument, ids: Ids, people: _People) -> Json | None:
    signature = document.signature
    if signature is None:
        return None
    signer = people.ref(signature.signed_by_name)
    return {
        "resourceType": "Provenance",
        "id": ids.of("provenance"),
        "target": [ids.ref("composition"), ids.ref("careplan")],
        "recorded": instant(signature.signed_at),
        "reason": [concept(text="Approved as the board's care plan")],
        "agent": [{"type": concept(coding(codes.PROVENANCE_AGENT, "attester", "Attester")), "who": signer}],
        "signature": [
            {
                "type": [coding(codes.SIGNATURE_TYPE, *codes.VERIFICATION_SIGNATURE)],
                "when": instant(signature.signed_at),
                "who": signer,
            }
        ],
    }


def build_fhir_bundle(document: CarePlanDocument) -> dict[str, Any]:
    """The care plan version as a FHIR document (Bundle of type document) in R4B."""
    ids = Ids(document.id)
    people = _People(ids)
    record = clinical_record(document.content, ids, decided=document.content.decision is not None)
    care_plan = _care_plan(document, ids, people)
    composition = _composition(document, ids, record, people)
    provenance = _provenance(document, ids, people)
    resources = [
        composition,
        *record.resources,
        care_plan,
        *_trials(document.content, ids),
        *people.resources(),
        *([provenance] if provenance else []),
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": str(document.id),
        "identifier": {"system": codes.CARE_PLAN_SYSTEM, "value": f"{document.id}:{document.status}"},
        "type": "document",
        "timestamp": composition["date"],
        "entry": [{"fullUrl": full_url(r["id"]), "resource": r} for r in resources],
    }
    return bundle
