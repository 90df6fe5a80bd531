"""Form posts turned into the API's input structs, decoded by the same rules as a JSON body."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from litestar.datastructures import FormMultiDict

from tumorboard.validation import InvalidBody, collect_errors

T = TypeVar("T")


def text(form: FormMultiDict, name: str) -> str:
    """A text field, trimmed; an empty string when absent."""
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormMultiDict, name: str) -> str | None:
    """A text field, or None when left empty."""
    return text(form, name) or None


def texts(form: FormMultiDict, name: str) -> list[str]:
    """Every non-empty value of a repeated field (checkboxes, ordered steps), in form order."""
    values = (value.strip() for value in form.getall(name, []) if isinstance(value, str))
    return [value for value in values if value]


def number(form: FormMultiDict, name: str) -> int | str | None:
    """A whole-number field; what was typed is kept when it is not a number, so the check names it."""
    value = text(form, name)
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) < 10 else value


def local_datetime(form: FormMultiDict, name: str, zone: ZoneInfo) -> str | None:
    """A datetime-local field read in the service's time zone, as RFC 3339; kept as typed when invalid."""
    value = text(form, name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone).isoformat()
    except ValueError:
        return value


def compact(value: Any) -> Any:
    """A body without the fields left empty, in nested objects too: optional ones take their defaults
    and required ones are reported as required. List items stay whole, so a half-filled row's error
    names the empty field in it (``biomarkers.0.value``)."""
    if isinstance(value, dict):
        kept = {name: compact(item) for name, item in value.items()}
        return {name: item for name, item in kept.items() if item not in (None, "", [], {})}
    return value


def decode(raw: dict[str, Any], into: type[T]) -> T:
    """Form values shaped like the API body, checked like it; InvalidBody names every bad field."""
    try:
        return msgspec.convert(raw, type=into, strict=True)
    except msgspec.ValidationError:
        raise InvalidBody(collect_errors(raw, into)) from None


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """An API-shaped body as form values by dotted key (``patient.mrn``, ``biomarkers.0.name``)."""
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    elif not prefix:
        return {}
    elif isinstance(value, bool):
        return {prefix: "true" if value else "false"}
    else:
        return {prefix: "" if value is None else str(value)}
    flat: dict[str, str] = {}
    for key, item in items:
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat
