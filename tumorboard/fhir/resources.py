"""Small builders of FHIR JSON shapes (plain dicts: fhir.resources validates the finished Bundle)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec

Json = dict[str, Any]
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CODE = re.compile(r"[^\s]+( [^\s]+)*")
MEDIA_TYPE = "application/fhir+json"
# FHIR decimals are JSON numbers written as precisely as they were given (12.50 stays 12.50).
_ENCODER = msgspec.json.Encoder(decimal_format="number")


class Ids:
    """Stable resource ids within one document: the same key always gives the same id, so a document
    built twice from the same version is the same."""

    def __init__(self, namespace: uuid.UUID) -> None:
        self.namespace = namespace

    def of(self, key: str) -> str:
        """The id of the resource known by `key` in this document."""
        return str(uuid.uuid5(self.namespace, key))

    def ref(self, key: str, display: str | None = None) -> Json:
        """A reference to that resource, by the full URL of its bundle entry."""
        return reference(self.of(key), display)


def full_url(resource_id: str) -> str:
    """The bundle entry's full URL of a resource."""
    return f"urn:uuid:{resource_id}"


def reference(resource_id: str, display: str | None = None) -> Json:
    """A reference to a resource of the same bundle."""
    return compact({"reference": full_url(resource_id), "display": display})


def coding(system: str, code: str, display: str | None = None) -> Json:
    """One Coding."""
    return compact({"system": system, "code": code, "display": display})


def concept(*codings: Json | None, text: str | None = None) -> Json:
    """A CodeableConcept of the codings given (None ones left out), with its text."""
    return compact({"coding": [c for c in codings if c] or None, "text": text})


def instant(value: datetime) -> str:
    """A FHIR instant (time zone always given)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")


def narrative(lines: Iterable[str]) -> Json:
    """Generated XHTML narrative: one paragraph per line, escaped, without the control characters
    XML cannot carry."""
    paragraphs = "".join(f"<p>{html.escape(_XML_UNSAFE.sub('', line), quote=False)}</p>" for line in lines)
    paragraphs = paragraphs or "<p>—</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</div>'}


def code_or_none(value: str) -> str | None:
    """The value when it is a valid FHIR code (no leading, trailing or double whitespace), else None."""
    return value if _CODE.fullmatch(value) else None


def compact(value: Json) -> Json:
    """The mapping without its None values and empty lists (FHIR forbids empty elements)."""
    return {key: item for key, item in value.items() if item is not None and item != []}


def encode(resource: Json) -> bytes:
    """A resource or Bundle as FHIR JSON (decimals as numbers with their digits)."""
    return _ENCODER.encode(resource)
