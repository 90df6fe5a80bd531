"""Reading a posted FHIR Bundle: JSON, a known resource type per entry, the shape of each resource
the import reads (tumorboard.fhir.shapes), references, element paths.

Every problem is a FieldError whose key is the element's path in the bundle, such as
`Bundle.entry[2].resource(Condition).code.coding[0].system`, with a fixed message: the values sent
are never repeated (they are patient data).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from fhir.resources.R4B import get_fhir_model_class

from tumorboard.fhir import shapes
from tumorboard.fhir.resources import Json
from tumorboard.validation import FieldError, InvalidBody

# Bundles a referral can come in (a document, a collection, a transaction, a search result).
READABLE_TYPES = frozenset({"document", "collection", "transaction", "batch", "searchset"})
MAX_ENTRIES = 1000
# Decimals stay decimals (12.50 keeps its digits), as FHIR means them.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


@dataclass(frozen=True)
class Entry:
    """One resource of the bundle, with where it is."""

    index: int
    resource: Json
    full_url: str | None

    @property
    def type(self) -> str:
        """Its resourceType."""
        return str(self.resource["resourceType"])

    def path(self, element: str = "") -> str:
        """The path of one of its elements, e.g. Bundle.entry[2].resource(Condition).code."""
        base = f"Bundle.entry[{self.index}].resource({self.type})"
        return f"{base}.{element}" if element else base

    def profiles(self) -> list[str]:
        """The profiles it claims in meta.profile (without versions)."""
        return [str(p).split("|", 1)[0] for p in self.resource.get("meta", {}).get("profile", [])]


@dataclass
class ReadBundle:
    """The resources of a valid bundle, found by type and by reference."""

    entries: list[Entry]
    _by_reference: dict[str, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.full_url:
                self._by_reference[entry.full_url] = entry
            if "id" in entry.resource:
                self._by_reference.setdefault(f"{entry.type}/{entry.resource['id']}", entry)

    def of_type(self, resource_type: str) -> list[Entry]:
        """The entries holding resources of one type, in bundle order."""
        return [entry for entry in self.entries if entry.type == resource_type]

    def resolve(self, reference: Json | None) -> Entry | None:
        """The entry a Reference points to, by full URL or Type/id; None when it is not in the bundle."""
        target = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(target, str):
            return None
        if target in self._by_reference:
            return self._by_reference[target]
        tail = "/".join(target.rsplit("/", 2)[-2:])
        return self._by_reference.get(tail)


_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>\w+)`")


def _shape_error(description: str, entry: Entry) -> FieldError:
    """A shape problem named by its element, in a fixed message (msgspec's may quote the value)."""
    found = _AT.search(description)
    where = found["path"].lstrip(".") if found else ""
    if missing := _MISSING.match(description):
        return FieldError(entry.path(".".join(filter(None, (where, missing["field"])))), "is required")
    if "matching regex" in description:
        message = "is not a valid FHIR date or date-time"
    elif description.startswith("Expected"):
        message = "has the wrong type"
    else:
        message = "is invalid"
    return FieldError(entry.path(where), message)


def _entry(index: int, raw: Any, errors: list[FieldError]) -> Entry | None:
    where = f"Bundle.entry[{index}]"
    resource = raw.get("resource") if isinstance(raw, dict) else None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        errors.append(FieldError(f"{where}.resource", "must be a resource with a resourceType"))
        return None
    full_url = raw.get("fullUrl")
    if full_url is not None and not isinstance(full_url, str):
        errors.append(FieldError(f"{where}.fullUrl", "has the wrong type"))
        return None
    entry = Entry(index, resource, full_url)
    try:
        get_fhir_model_class(entry.type)
    except (KeyError, ValueError):
        errors.append(FieldError(f"{where}.resource.resourceType", "is not a FHIR R4 resource type"))
        return None
    if (problem := shapes.check(resource)) is not None:
        errors.append(_shape_error(problem, entry))
        return None
    return entry


def _entries(raw: Json, errors: list[FieldError]) -> Iterator[Entry]:
    items = raw.get("entry", [])
    if not isinstance(items, list):
        errors.append(FieldError("Bundle.entry", "must be a list of entries"))
        return
    if len(items) > MAX_ENTRIES:
        errors.append(FieldError("Bundle.entry", f"must have at most {MAX_ENTRIES} entries"))
        return
    for index, item in enumerate(items):
        if (entry := _entry(index, item, errors)) is not None:
            yield entry


def read_bundle(body: bytes) -> ReadBundle:
    """A posted Bundle, each resource valid R4B; InvalidBody naming every bad element otherwise."""
    try:
        raw = _DECODER.decode(body)
    except msgspec.DecodeError:
        raise InvalidBody([FieldError("body", "is not valid JSON")]) from None
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise InvalidBody([FieldError("Bundle.resourceType", "must be Bundle")])
    errors: list[FieldError] = []
    if raw.get("type") not in READABLE_TYPES:
        errors.append(FieldError("Bundle.type", f"must be one of {', '.join(sorted(READABLE_TYPES))}"))
    entries = list(_entries(raw, errors))
    if errors:
        raise InvalidBody(errors)
    return ReadBundle(entries)
