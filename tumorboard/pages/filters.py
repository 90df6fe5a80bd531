"""Jinja filters for the pages: times in the service's time zone, form values, role names."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any, get_args
from zoneinfo import ZoneInfo

import jinja2

from tumorboard.cases.schemas import Laterality, age_on
from tumorboard.documents.text import register_filters
from tumorboard.enums import Discipline, DiseaseSite, Intent, Modality, ParticipantRole, Role, Urgency
from tumorboard.labels import label
from tumorboard.settings import Settings

# The options of every select, radio group and checkbox list: (API value, label) pairs.
CHOICES: dict[str, list[tuple[str, str]]] = {
    "disease_site": [(str(v), label(v)) for v in DiseaseSite],
    "discipline": [(str(v), label(v)) for v in Discipline],
    "urgency": [(str(v), label(v)) for v in Urgency],
    "modality": [(str(v), label(v)) for v in Modality],
    "intent": [(str(v), label(v)) for v in Intent],
    "role": [(str(v), label(v)) for v in Role],
    "participant_role": [(str(v), label(v)) for v in ParticipantRole],
    "sex": [("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Unknown")],
    "diagnosis_system": [("ICD-10-CM", "ICD-10-CM"), ("ICD-O-3", "ICD-O-3")],
    "ecog": [(str(n), str(n)) for n in range(5)],
    "laterality": [(v, label(v)) for v in get_args(Laterality)],
    "stage_type": [
        ("clinical", "Clinical (c)"),
        ("pathological", "Pathological (p)"),
        ("post_therapy_clinical", "Post-therapy clinical (yc)"),
        ("post_therapy_pathological", "Post-therapy pathological (yp)"),
    ],
    "stage_system": [
        ("AJCC8", "AJCC 8th edition"),
        ("AJCC", "AJCC, edition below"),
        ("UICC", "UICC TNM, edition below"),
    ],
    "yes_no": [("false", "No, not yet"), ("true", "Yes")],
}


@lru_cache(maxsize=8)
def zone_of(name: str) -> ZoneInfo:
    """The time zone pages show times in and read form times in (TUMORBOARD_TIME_ZONE)."""
    return ZoneInfo(name)


def when(value: datetime | None, zone: ZoneInfo) -> str:
    """A moment as people read it: ``Tue 10 Mar 2026, 14:00``."""
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%a %d %b %Y, %H:%M")


def clock(value: datetime | None, zone: ZoneInfo) -> str:
    """A time of day as ``14:30``."""
    return "—" if value is None else value.astimezone(zone).strftime("%H:%M")


def day(value: date | datetime | None, zone: ZoneInfo) -> str:
    """A date as ``10 Mar 2026``."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(zone)
    return value.strftime("%d %b %Y")


def age_today(birth_date: date, zone: ZoneInfo) -> int | None:
    """Completed years of age today in the service's time zone (shown beside a date of birth)."""
    return age_on(birth_date, datetime.now(zone).date())


def input_datetime(value: Any, zone: ZoneInfo) -> str:
    """A value for a datetime-local input: a moment in the service's zone, or the text as typed."""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, str) and "+" in value[10:]:
        try:
            return input_datetime(datetime.fromisoformat(value), zone)
        except ValueError:
            return value
    return "" if value is None else str(value)


_FIELD_WORDS = {"mrn": "MRN", "t": "T", "n": "N", "m": "M", "ecog": "ECOG", "id": "NCT number", "url": "URL"}


def field_label(key: str) -> str:
    """An input name as a person reads it: ``biomarkers.1.value`` -> ``Biomarkers 2 value``."""
    words = []
    for part in key.split("."):
        if part.isdigit():
            words.append(str(int(part) + 1))
        else:
            words.extend(_FIELD_WORDS.get(word, word) for word in part.split("_"))
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def register_page_filters(env: jinja2.Environment, settings: Settings) -> None:
    """Register the document filters and the page ones (``when``, ``day``, ``clock``, ``age``,
    ``input_datetime``, ``field_label``) and globals on an environment."""
    register_filters(env)
    zone = zone_of(settings.time_zone)
    env.filters["when"] = lambda value: when(value, zone)
    env.filters["day"] = lambda value: day(value, zone)
    env.filters["clock"] = lambda value: clock(value, zone)
    env.filters["age"] = lambda value: age_today(value, zone)
    env.filters["input_datetime"] = lambda value: input_datetime(value, zone)
    env.filters["field_label"] = field_label
    env.globals["time_zone"] = settings.time_zone
    env.globals["choices"] = CHOICES
    env.globals["sso_provider"] = settings.oidc_provider_name if settings.oidc_issuer else None
