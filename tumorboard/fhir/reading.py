"""What reading a bundle into a case needs: the case body being built with the source of each field,
the errors, coding look-ups, and the TNM stage (a stage group with its T, N and M categories)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tumorboard.fhir import codes
from tumorboard.fhir.bundle import Entry, ReadBundle
from tumorboard.fhir.resources import Json
from tumorboard.validation import FieldError

_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PARTS = ("group", "t", "n", "m")
_PART_WORDS = {"group": "stage group", "t": "T category", "n": "N category", "m": "M category"}


def codings(value: Json | None, element: str = "code") -> list[Any]:
    """One element (code, system, display) of every coding of a CodeableConcept."""
    return [c[element] for c in (value or {}).get("coding", []) if element in c]


def first_coding(value: Json | None, system: str) -> Json | None:
    """The first coding of a code system in a CodeableConcept."""
    return next(
        (c for c in (value or {}).get("coding", []) if c.get("system") == system and "code" in c), None
    )


def text_of(value: Json | None) -> str | None:
    """A CodeableConcept in words: its text, else a coding's display, else its code."""
    value = value or {}
    if value.get("text"):
        return str(value["text"])
    displays = codings(value, "display") or codings(value, "code")
    return str(displays[0]) if displays else None


def date_of(value: str) -> str | None:
    """The day of a FHIR date or dateTime; None when it is partial (a year, a month)."""
    day = value[:10]
    return day if _FULL_DATE.fullmatch(day) else None


class Reader:
    """Builds the POST /cases body from a bundle, remembering where each field came from."""

    def __init__(self, bundle: ReadBundle) -> None:
        self.bundle = bundle
        self.case: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        """Record a problem with a bundle element."""
        self.errors.append(FieldError(path, message))

    def take(self, field: str, value: Any, path: str, *, required: bool = False) -> None:
        """Set a case field (dotted, list items by index) from the element at `path`."""
        if value is None:
            if required:
                self.fail(path, "is required")
            return
        self.sources[field] = path
        target: Any = self.case
        parts = field.split(".")
        *parents, last = parts
        for part, following in zip(parents, parts[1:], strict=False):
            if isinstance(target, list):
                while len(target) <= int(part):
                    target.append([] if following.isdigit() else {})
                target = target[int(part)]
            else:
                target = target.setdefault(part, [] if following.isdigit() else {})
        if isinstance(target, list):
            target.append(value)
        else:
            target[last] = value

    def take_date(self, field: str, value: Any, path: str, *, required: bool = False) -> None:
        """Set a date field from a FHIR date or dateTime, which must name a day."""
        day = date_of(value) if isinstance(value, str) else None
        if isinstance(value, str) and day is None:
            self.fail(path, "must be a full date (YYYY-MM-DD)")
            return
        try:
            date.fromisoformat(day or "")
        except ValueError:
            if day is not None:
                self.fail(path, "is not a date of the calendar")
                return
        self.take(field, day, path, required=required)

    def extension(self, element: Json, url: str) -> Json | None:
        """An element's first extension with this URL."""
        return next((e for e in element.get("extension", []) if e.get("url") == url), None)

    def check_subjects(self, patient: Entry) -> None:
        """Every resource about a subject must be about the bundle's Patient."""
        for entry in self.bundle.entries:
            subject = entry.resource.get("subject")
            if subject is not None and self.bundle.resolve(subject) is not patient:
                self.fail(entry.path("subject"), "must refer to the bundle's Patient")

    # -----------------------------------------------------------------------------------------------------
    # The TNM stage

    def stage(self) -> None:
        """The case's stage from the TNM Observations (LOINC stage group, T, N and M codes)."""
        found: dict[str, list[Entry]] = {part: [] for part in _PARTS}
        for entry in self.bundle.of_type("Observation"):
            part = next(
                (
                    codes.STAGE_PART_OF_CODE[c][0]
                    for c in codings(entry.resource.get("code"))
                    if c in codes.STAGE_PART_OF_CODE
                ),
                None,
            )
            if part is not None:
                found[part].append(entry)
        if not any(found.values()):
            return
        chosen = self._stage_parts(found)
        lead = chosen.get("group") or chosen.get("t") or next(iter(chosen.values()))
        for part in _PARTS:
            member = chosen.get(part)
            if member is None:
                where = chosen["group"].path("hasMember") if "group" in chosen else "Bundle.entry"
                self.fail(where, f"needs the {_PART_WORDS[part]} of the stage (a TNM Observation)")
                continue
            value = member.resource.get("valueCodeableConcept", {})
            ajcc = first_coding(value, codes.AJCC)
            words = value.get("text") or (
                ajcc and (codes.roman_group(ajcc["code"]) if part == "group" else ajcc["code"])
            )
            self.take(
                f"stage.{part}", words or text_of(value), member.path("valueCodeableConcept"), required=True
            )
        self._stage_type(lead)
        self._staging_system(lead)

    def _stage_parts(self, found: dict[str, list[Entry]]) -> dict[str, Entry]:
        """The stage group reported last, and its categories (its members, else the latest of each)."""

        def latest(entries: list[Entry]) -> Entry:
            return max(
                enumerate(entries),
                key=lambda pair: (str(pair[1].resource.get("effectiveDateTime", "")), pair[0]),
            )[1]

        chosen = {part: latest(entries) for part, entries in found.items() if entries}
        if "group" in chosen:
            for member in chosen["group"].resource.get("hasMember", []):
                target = self.bundle.resolve(member)
                for part in ("t", "n", "m"):
                    if target is not None and target in found[part]:
                        chosen[part] = target
        return chosen

    def _stage_type(self, lead: Entry) -> None:
        code = lead.resource.get("code")
        ours = first_coding(code, codes.STAGE_TYPE_SYSTEM)
        where = lead.path("code")
        if ours is not None:
            if ours["code"] != codes.UNSTATED_STAGE_TYPE:
                self.take("stage.type", ours["code"], where)
            return
        kinds = [codes.STAGE_PART_OF_CODE[c][1] for c in codings(code) if c in codes.STAGE_PART_OF_CODE]
        if kinds and kinds[0] is not None:
            self.take("stage.type", kinds[0], where)

    def _staging_system(self, lead: Entry) -> None:
        method = lead.resource.get("method")
        where = lead.path("method")
        ours = first_coding(method, codes.STAGE_SYSTEM_SYSTEM)
        if ours is not None:
            system, _, number = str(ours["code"]).partition("-")
            self.take("stage.system", system, where)
            self.take("stage.edition", int(number) if number.isdigit() else None, where)
            return
        known = [codes.METHOD_OF_CODE[c] for c in codings(method) if c in codes.METHOD_OF_CODE]
        if known:
            family, edition = known[0]
            self.take("stage.system", "AJCC8" if (family, edition) == ("AJCC", 8) else family, where)
            self.take("stage.edition", None if edition == 8 else edition, where)
        elif codes.UICC_METHOD[1] in codings(method):
            self.take("stage.system", "UICC", where)
        else:
            self.fail(where, "needs the staging system, e.g. AJCC 8th edition (SNOMED CT 897275008)")
