"""A case from an mCODE-style FHIR Bundle: POST /cases with Content-Type application/fhir+json.

The bundle is read into the body POST /cases takes as JSON (`CaseCreate`), so the same rules check it
(tumorboard/cases/clinical.py) and the same service stores it (idempotency included). Each case field
remembers the bundle element it came from: an error names that element, e.g.
`Bundle.entry[4].resource(Observation).valueCodeableConcept`, never the value. The mapping is the
inverse of tumorboard/fhir/clinical.py; docs/interoperability.md lists it field by field.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from tumorboard.auth.schemas import User
from tumorboard.cases.schemas import Case, CaseCreate
from tumorboard.cases.service import submit_case
from tumorboard.errors import InvalidInput
from tumorboard.fhir import codes
from tumorboard.fhir.bundle import Entry, ReadBundle, read_bundle
from tumorboard.fhir.clinical import UNIT_EXTENSION
from tumorboard.fhir.reading import Reader, codings, first_coding, text_of
from tumorboard.fhir.resources import Json
from tumorboard.validation import FieldError, InvalidBody, collect_errors


def _patient(r: Reader) -> Entry | None:
    patients = r.bundle.of_type("Patient")
    if not patients:
        r.fail("Bundle.entry", "must contain a Patient resource")
        return None
    for extra in patients[1:]:
        r.fail(extra.path(), "is a second Patient: a bundle describes one patient")
    entry = patients[0]
    p = entry.resource
    identifiers = p.get("identifier", [])
    mrn = next((i for i, ident in enumerate(identifiers) if "MR" in codings(ident.get("type"), "code")), None)
    if mrn is None and len(identifiers) == 1:
        mrn = 0
    if mrn is None or "value" not in identifiers[mrn]:
        r.fail(entry.path("identifier"), "needs the medical record number (an identifier of type MR)")
    else:
        r.take("patient.mrn", identifiers[mrn]["value"], entry.path(f"identifier[{mrn}].value"))
    names = p.get("name", [])
    index = next((i for i, name in enumerate(names) if name.get("use") == "official"), 0)
    name = names[index] if names else {}
    if not name.get("family") or not name.get("given"):
        r.fail(entry.path("name"), "needs a family name and a given name")
    else:
        r.take("patient.family_name", name["family"], entry.path(f"name[{index}].family"))
        r.take("patient.given_name", " ".join(name["given"]), entry.path(f"name[{index}].given"))
    r.take_date("patient.birth_date", p.get("birthDate"), entry.path("birthDate"), required=True)
    r.take("patient.sex", p.get("gender"), entry.path("gender"), required=True)
    return entry


def _primary_condition(r: Reader, request: Entry | None) -> Entry | None:
    conditions = [
        c for c in r.bundle.of_type("Condition") if codes.SECONDARY_CANCER_PROFILE not in c.profiles()
    ]
    claimed = [c for c in conditions if codes.PRIMARY_CANCER_PROFILE in c.profiles()]
    for extra in claimed[1:]:
        r.fail(extra.path("meta.profile"), "is a second primary cancer Condition")
    if claimed:
        return claimed[0]
    reasons = [
        r.bundle.resolve(ref) for ref in (request.resource.get("reasonReference", []) if request else [])
    ]
    named = [c for c in reasons if c is not None and c.type == "Condition"]
    if named or len(conditions) == 1:
        return named[0] if named else conditions[0]
    r.fail(
        "Bundle.entry",
        "must contain the primary cancer Condition (meta.profile mcode-primary-cancer-condition)",
    )
    return None


def _diagnosis(r: Reader, entry: Entry) -> None:
    c = entry.resource
    code = c.get("code", {})
    found = next(
        (
            (index, system, coding)
            for system, uri in codes.DIAGNOSIS_SYSTEMS.items()
            for index, coding in enumerate(code.get("coding", []))
            if coding.get("system") == uri and "code" in coding
        ),
        None,
    )
    if found is None:
        r.fail(entry.path("code"), "needs an ICD-10-CM or ICD-O-3 coding of the diagnosis")
        return
    index, system, coding = found
    r.take("diagnosis.system", system, entry.path(f"code.coding[{index}].system"))
    r.take("diagnosis.code", coding["code"], entry.path(f"code.coding[{index}].code"))
    display = code.get("text") or coding.get("display")
    r.take("diagnosis.display", display, entry.path("code.text"), required=True)
    asserted = r.extension(c, codes.ASSERTED_DATE_EXTENSION)
    if asserted is not None:
        r.take_date(
            "diagnosis.diagnosed_on", asserted.get("valueDateTime"), entry.path("extension.valueDateTime")
        )
    elif "onsetDateTime" in c:
        r.take_date("diagnosis.diagnosed_on", c["onsetDateTime"], entry.path("onsetDateTime"))
    sites = c.get("bodySite", [])
    if sites:
        _site(r, entry, sites[0])
    histology = r.extension(c, codes.HISTOLOGY_EXTENSION)
    if histology is not None:
        value = histology.get("valueCodeableConcept", {})
        morphology = first_coding(value, codes.ICDO3)
        where = entry.path("extension.valueCodeableConcept")
        if morphology is not None:
            r.take("diagnosis.morphology", _coded(morphology), f"{where}.coding")
        words = value.get("text") or (None if morphology else text_of(value))
        r.take("histology", words, f"{where}.text")
    r.take(
        "summary",
        "\n\n".join(n["text"] for n in c.get("note", []) if n.get("text")) or None,
        entry.path("note"),
    )
    if "summary" not in r.case:
        r.fail(entry.path("note"), "needs the clinical summary (a note on the primary cancer Condition)")


def _coded(coding: Json) -> Json:
    return {"code": coding["code"], **({"display": coding["display"]} if coding.get("display") else {})}


def _site(r: Reader, entry: Entry, site: Json) -> None:
    topography = first_coding(site, codes.ICDO3)
    if topography is not None:
        r.take("diagnosis.topography", _coded(topography), entry.path("bodySite[0].coding"))
    ours = r.extension(site, codes.LATERALITY_EXTENSION)
    mcode = r.extension(site, codes.MCODE_LATERALITY_EXTENSION)
    where = entry.path("bodySite[0].extension")
    if ours is not None:
        r.take("diagnosis.laterality", ours.get("valueCode"), where)
    elif mcode is not None:
        sides = {code: side for side, (code, _) in codes.LATERALITY_SNOMED.items()}
        found = [sides[c] for c in codings(mcode.get("valueCodeableConcept"), "code") if c in sides]
        if not found:
            r.fail(f"{where}.valueCodeableConcept", "must be left, right, bilateral or midline (SNOMED CT)")
        else:
            r.take("diagnosis.laterality", found[0], f"{where}.valueCodeableConcept")


def _marker(r: Reader, entry: Entry, index: int) -> None:
    o = entry.resource
    key = f"biomarkers.{index}"
    r.take(f"{key}.name", text_of(o.get("code")), entry.path("code.text"), required=True)
    loinc = first_coding(o.get("code"), codes.LOINC)
    if loinc is not None:
        r.take(f"{key}.loinc", loinc.get("code"), entry.path("code.coding"))
    where = entry.path("value[x]")
    if "valueQuantity" in o:
        quantity = o["valueQuantity"]
        r.take(
            f"{key}.value", None if "value" not in quantity else str(quantity["value"]), where, required=True
        )
        r.take(f"{key}.unit", quantity.get("unit") or quantity.get("code"), entry.path("valueQuantity.unit"))
    elif "valueString" in o:
        r.take(f"{key}.value", o["valueString"], where)
        unit = r.extension(o, UNIT_EXTENSION)
        r.take(f"{key}.unit", unit.get("valueString") if unit else None, entry.path("extension"))
    elif "valueCodeableConcept" in o:
        r.take(f"{key}.value", text_of(o["valueCodeableConcept"]), where, required=True)
    elif "valueInteger" in o:
        r.take(f"{key}.value", str(o["valueInteger"]), where)
    else:
        r.fail(where, "needs the result as a Quantity, string, CodeableConcept or integer")
    effective = o.get("effectiveDateTime") or o.get("effectivePeriod", {}).get("start")
    r.take_date(f"{key}.tested_on", effective, entry.path("effective[x]"))
    if "method" in o:
        r.take(f"{key}.method", text_of(o["method"]), entry.path("method"))


def _ecog(r: Reader) -> None:
    scores = [
        o
        for o in r.bundle.of_type("Observation")
        if codes.ECOG_CODE[0] in codings(o.resource.get("code"), "code")
    ]
    if not scores:
        return
    entry = max(scores, key=lambda o: str(o.resource.get("effectiveDateTime", "")))  # the latest one
    o = entry.resource
    if "valueInteger" in o:
        r.take("ecog", o["valueInteger"], entry.path("valueInteger"))
        return
    answers = [c for c in codings(o.get("valueCodeableConcept"), "code") if c in codes.ECOG_ANSWERS]
    if answers:
        r.take("ecog", codes.ECOG_ANSWERS.index(answers[0]), entry.path("valueCodeableConcept"))
    else:
        r.fail(entry.path("value[x]"), "needs the ECOG score as an integer or a LOINC answer (LL529-9)")


def _treatment(r: Reader, entry: Entry, index: int) -> None:
    p = entry.resource
    key = f"prior_treatments.{index}"
    code = p.get("code", {})
    ours = first_coding(code, codes.MODALITY_SYSTEM)
    snomed = [codes.MODALITY_FROM_SNOMED[c] for c in codings(code, "code") if c in codes.MODALITY_FROM_SNOMED]
    modality = ours["code"] if ours else (snomed[0] if snomed else "other")
    r.take(f"{key}.modality", modality, entry.path("code"))
    notes = "\n\n".join(n["text"] for n in p.get("note", []) if n.get("text")) or None
    description = notes if notes or ours else text_of(code)
    r.take(f"{key}.description", description, entry.path("note"))
    period = p.get("performedPeriod", {})
    started = period.get("start") or p.get("performedDateTime")
    ended = period.get("end") or p.get("performedDateTime")
    r.take_date(f"{key}.started_on", started, entry.path("performed[x]"))
    r.take_date(f"{key}.ended_on", ended, entry.path("performed[x]"))


def _comorbidity(r: Reader, entry: Entry, index: int) -> None:
    code = entry.resource.get("code", {})
    key = f"comorbidities.{index}"
    r.take(f"{key}.name", text_of(code), entry.path("code.text"), required=True)
    icd = first_coding(code, codes.ICD10CM)
    if icd is not None:
        r.take(f"{key}.code", icd.get("code"), entry.path("code.coding"))


def _request(r: Reader) -> Entry | None:
    requests = r.bundle.of_type("ServiceRequest")
    ours = [q for q in requests if codes.BOARD_REVIEW in codings(q.resource.get("code"), "code")]
    if ours or len(requests) == 1:
        return (ours or requests)[0]
    if requests:
        r.fail(
            "Bundle.entry",
            "has several ServiceRequests: code the board review urn:tumorboard:request#tumor-board-review",
        )
    else:
        r.fail(
            "Bundle.entry",
            "must contain a ServiceRequest for the board's review, with the question as its note",
        )
    return None


def _review(r: Reader, entry: Entry, condition: Entry | None) -> None:
    q = entry.resource
    question = "\n\n".join(n["text"] for n in q.get("note", []) if n.get("text")) or None
    r.take("question", question, entry.path("note"), required=True)
    priority = q.get("priority")
    if priority is not None:
        r.take("urgency", "routine" if priority == "routine" else "urgent", entry.path("priority"))
    deadline = q.get("occurrencePeriod", {}).get("end") or q.get("occurrenceDateTime")
    r.take_date("discuss_by", deadline, entry.path("occurrence[x]"))
    started = r.extension(q, codes.TREATMENT_STARTED_EXTENSION)
    if started is not None:
        r.take("treatment_started", started.get("valueBoolean"), entry.path("extension.valueBoolean"))
    site = next(
        (c for concept in q.get("category", []) if (c := first_coding(concept, codes.DISEASE_SITE_SYSTEM))),
        None,
    )
    where = entry.path("category")
    if site is not None:
        r.take("disease_site", site.get("code"), where)
    elif (inferred := _site_of_diagnosis(r.case)) is not None:
        r.take("disease_site", inferred, where)
    elif condition is not None:
        r.fail(
            where, "needs the disease site (urn:tumorboard:disease-site) or a diagnosis code that implies it"
        )
    if "requester" in q:
        _referrer(r, entry)


def _site_of_diagnosis(case: dict[str, Any]) -> str | None:
    diagnosis = case.get("diagnosis", {})
    topography = diagnosis.get("topography", {}).get("code")
    return codes.disease_site_of(topography or diagnosis.get("code", ""))


def _referrer(r: Reader, request: Entry) -> None:
    where = request.path("requester")
    target = r.bundle.resolve(request.resource["requester"])
    if target is None or target.type not in ("Practitioner", "PractitionerRole"):
        r.fail(where, "must refer to a Practitioner or PractitionerRole in the bundle")
        return
    role = target.resource if target.type == "PractitionerRole" else {}
    person_entry = r.bundle.resolve(role["practitioner"]) if "practitioner" in role else target
    person = person_entry.resource if person_entry and person_entry.type == "Practitioner" else {}
    organisation = r.bundle.resolve(role.get("organization"))
    emails = [
        t["value"]
        for t in (*role.get("telecom", []), *person.get("telecom", []))
        if t.get("system") == "email"
    ]
    names = person.get("name", [])
    name = (
        names[0].get("text") or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
        if names
        else None
    )
    r.take("referrer.name", name or None, f"{where}.name", required=True)
    if organisation is not None and organisation.type == "Organization":
        r.take("referrer.organisation", organisation.resource.get("name"), f"{where}.organization")
    r.take("referrer.email", emails[0] if emails else None, f"{where}.telecom")


def case_body(bundle: ReadBundle) -> Reader:
    """The POST /cases body a bundle describes, the bundle element each field came from, and what
    could not be read."""
    r = Reader(bundle)
    patient = _patient(r)
    request = _request(r)
    condition = _primary_condition(r, request)
    if condition is not None:
        _diagnosis(r, condition)
    r.stage()
    _ecog(r)
    markers = [o for o in bundle.of_type("Observation") if codes.TUMOR_MARKER_PROFILE in o.profiles()]
    for index, entry in enumerate(markers):
        _marker(r, entry, index)
    for index, entry in enumerate(bundle.of_type("Procedure")):
        _treatment(r, entry, index)
    others = [
        c
        for c in bundle.of_type("Condition")
        if c is not condition and codes.SECONDARY_CANCER_PROFILE not in c.profiles()
    ]
    for index, entry in enumerate(others):
        _comorbidity(r, entry, index)
    if request is not None:
        _review(r, request, condition)
    if patient is not None:
        r.check_subjects(patient)
    return r


def _translated(errors: list[FieldError], sources: dict[str, str], *, read: bool = False) -> list[FieldError]:
    """Errors named by case field, renamed to the bundle elements the fields came from; with `read`,
    only those about fields that were read (a field that could not be read has its own error)."""

    def source(key: str) -> str | None:
        parts = key.split(".")
        while parts and ".".join(parts) not in sources:
            parts.pop()
        return sources[".".join(parts)] if parts else None

    named = [(source(e.key), e) for e in errors]
    return [
        FieldError(where or "Bundle", f"{e.message} ({e.key})") for where, e in named if where or not read
    ]


# Stand-ins for required fields a bundle did not give (their own error is reported), so that the
# intake rules still check everything else the bundle did give.
_STAND_INS: dict[str, Any] = {
    "patient": {
        "mrn": "-",
        "given_name": "-",
        "family_name": "-",
        "birth_date": "1900-01-01",
        "sex": "unknown",
    },
    "disease_site": "other",
    "diagnosis": {"code": "C80.1", "system": "ICD-10-CM", "display": "-"},
    "summary": "-",
    "question": "-",
}


def _rule_errors(raw: dict[str, Any]) -> list[FieldError]:
    """The intake rules' errors about a case body (none when it is valid)."""
    try:
        msgspec.convert({**_STAND_INS, **raw}, CaseCreate)
    except msgspec.ValidationError:
        return collect_errors(raw, CaseCreate)
    except InvalidBody as refused:
        return refused.errors
    return []


def read_case(body: bytes) -> tuple[CaseCreate, dict[str, str]]:
    """The case a posted bundle describes, checked by the same rules as a JSON body; every problem
    found is reported at once."""
    r = case_body(read_bundle(body))
    problems = _translated(_rule_errors(r.case), r.sources, read=bool(r.errors))
    if r.errors or problems:
        raise InvalidBody([*r.errors, *problems])
    try:
        return msgspec.convert(r.case, CaseCreate), r.sources
    except msgspec.ValidationError:  # a required field no element gave (each one has its error above)
        raise InvalidBody(_translated(collect_errors(r.case, CaseCreate), r.sources)) from None


async def submit_bundle(
    conn: asyncpg.Connection, user: User, body: bytes, idempotency_key: str | None
) -> Case:
    """Create the case a bundle describes, as POST /cases does with JSON (the presenter, idempotent)."""
    data, sources = read_case(body)
    try:
        return await submit_case(conn, user, data, body, idempotency_key)
    except InvalidInput as refused:
        raise InvalidBody(_translated([FieldError(refused.field, refused.message)], sources)) from None
