"""Text as documents print it: dates, times and enumeration values, and the jinja filters they share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import jinja2

from tumorboard.documents.clinical import clinical_line, clinical_rows
from tumorboard.labels import label

NOTHING = "—"


def day(value: date | None) -> str:
    """A date as ``14 Mar 2025`` (unambiguous across locales)."""
    return value.strftime("%d %b %Y") if value is not None else NOTHING


def moment(value: datetime | None) -> str:
    """A timestamp as ``14 Mar 2025, 14:30 UTC``, in its own time zone."""
    if value is None:
        return NOTHING
    zone = value.tzname() or ""
    return f"{value.strftime('%d %b %Y, %H:%M')} {zone}".rstrip()


def local_time(value: datetime | None, zone: ZoneInfo, pattern: str) -> str:
    """A moment in a time zone (a board's), formatted by `pattern`: ``04 Mar 2026 08:00``."""
    return value.astimezone(zone).strftime(pattern) if value is not None else NOTHING


def time_span(start: datetime | None, end: datetime | None, zone: ZoneInfo, first: str = "%H:%M") -> str:
    """From a start to an end in a time zone, joined by an en dash; the start formatted by `first`."""
    return f"{local_time(start, zone, first)}\N{EN DASH}{local_time(end, zone, '%H:%M')}"


def labels(values: Iterable[object], separator: str = ", ") -> str:
    """Enumeration values as people read them, joined: ``Surgery, Radiation``."""
    return separator.join(label(value) for value in values)


def register_filters(env: jinja2.Environment) -> None:
    """Register the filters every page and document template may use: ``label`` and the clinical
    summary (``clinical_rows``, ``clinical_line``, read by ``templates/pages/_clinical.html``)."""
    env.filters["label"] = label
    env.filters["clinical_rows"] = clinical_rows
    env.filters["clinical_line"] = clinical_line
