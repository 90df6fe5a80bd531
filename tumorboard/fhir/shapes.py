"""The FHIR R4 elements the import reads, as msgspec structs: a posted resource is checked against
its shape (types, FHIR date formats) before any of it is read, in microseconds.

Only what tumorboard.fhir.intake reads is declared; other elements pass unchecked and are ignored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

# FHIR R4 date and dateTime (datatypes.html): a year, a month or a day, a time with its zone.
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_DATE = _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
_DATE_TIME = (
    _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
    r"(\.[0-9]{1,9})?)?)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)?)?)?"
)
Date = Annotated[str, msgspec.Meta(pattern=f"^{_DATE}\\Z")]
DateTime = Annotated[str, msgspec.Meta(pattern=f"^{_DATE_TIME}\\Z")]


class _Element(msgspec.Struct, kw_only=True):
    """Elements keep their FHIR names (camelCase); unknown ones are allowed and not read."""


class Coding(_Element):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(_Element):
    coding: list[Coding] = []
    text: str | None = None


class Reference(_Element):
    reference: str | None = None
    display: str | None = None


class Period(_Element):
    start: DateTime | None = None
    end: DateTime | None = None


class Quantity(_Element):
    value: Decimal | int | None = None
    unit: str | None = None
    code: str | None = None


class Annotation(_Element):
    text: str | None = None


class Extension(_Element):
    url: str
    valueDateTime: DateTime | None = None
    valueCode: str | None = None
    valueBoolean: bool | None = None
    valueString: str | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueReference: Reference | None = None


class CodedSite(CodeableConcept):
    extension: list[Extension] = []


class Meta(_Element):
    profile: list[str] = []


class Identifier(_Element):
    type: CodeableConcept | None = None
    system: str | None = None
    value: str | None = None


class HumanName(_Element):
    use: str | None = None
    text: str | None = None
    family: str | None = None
    given: list[str] = []


class ContactPoint(_Element):
    system: str | None = None
    value: str | None = None


class _Resource(_Element):
    resourceType: str
    id: str | None = None
    meta: Meta | None = None
    extension: list[Extension] = []


class Patient(_Resource):
    identifier: list[Identifier] = []
    name: list[HumanName] = []
    gender: str | None = None
    birthDate: Date | None = None


class Condition(_Resource):
    code: CodeableConcept | None = None
    bodySite: list[CodedSite] = []
    subject: Reference | None = None
    onsetDateTime: DateTime | None = None
    note: list[Annotation] = []


class Observation(_Resource):
    code: CodeableConcept | None = None
    subject: Reference | None = None
    effectiveDateTime: DateTime | None = None
    effectivePeriod: Period | None = None
    valueQuantity: Quantity | None = None
    valueString: str | None = None
    valueInteger: int | None = None
    valueCodeableConcept: CodeableConcept | None = None
    method: CodeableConcept | None = None
    hasMember: list[Reference] = []


class Procedure(_Resource):
    code: CodeableConcept | None = None
    subject: Reference | None = None
    performedDateTime: DateTime | None = None
    performedPeriod: Period | None = None
    note: list[Annotation] = []


class ServiceRequest(_Resource):
    code: CodeableConcept | None = None
    category: list[CodeableConcept] = []
    priority: str | None = None
    subject: Reference | None = None
    occurrenceDateTime: DateTime | None = None
    occurrencePeriod: Period | None = None
    requester: Reference | None = None
    reasonReference: list[Reference] = []
    note: list[Annotation] = []


class Practitioner(_Resource):
    name: list[HumanName] = []
    telecom: list[ContactPoint] = []


class PractitionerRole(_Resource):
    practitioner: Reference | None = None
    organization: Reference | None = None
    telecom: list[ContactPoint] = []


class Organization(_Resource):
    name: str | None = None


class Other(_Resource):
    """Any other resource: only what every resource has (the import reads no more of it)."""

    subject: Reference | None = None


SHAPES: dict[str, type[_Resource]] = {
    shape.__name__: shape
    for shape in (
        Patient,
        Condition,
        Observation,
        Procedure,
        ServiceRequest,
        Practitioner,
        PractitionerRole,
        Organization,
    )
}


def check(resource: dict[str, Any]) -> str | None:
    """None when the resource has the shape the import reads, else msgspec's description (which
    names the element; it may quote the value, so callers never show it as is)."""
    try:
        msgspec.convert(resource, SHAPES.get(str(resource["resourceType"]), Other), strict=True)
    except msgspec.ValidationError as wrong:
        return str(wrong)
    return None
