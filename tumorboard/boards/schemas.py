"""Board structs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from tumorboard.enums import ONCOLOGY_DISCIPLINES, Discipline, DiseaseSite
from tumorboard.validation import Name, safe_message

MinutesPerCase = Annotated[int, msgspec.Meta(ge=1, le=240)]
AgendaLockHours = Annotated[int, msgspec.Meta(ge=0, le=336)]
MaxAgeDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]
TimeZoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+\Z")]

_UNKNOWN_TIME_ZONE = safe_message("time_zone is not a known IANA time zone (e.g. Europe/Berlin)")
_CHECKLIST_ERRORS = {
    field: (
        safe_message(f"{field} lists an item more than once"),
        safe_message(f"{field} may give max_age_days to pathology_report and imaging only"),
    )
    for field in ("items", "checklist")
}


class ChecklistItemKind(StrEnum):
    """What a case must have before its board discusses it."""

    STAGE = "stage"
    HISTOLOGY = "histology"
    ECOG = "ecog"
    BIOMARKERS = "biomarkers"
    PATHOLOGY_REPORT = "pathology_report"
    IMAGING = "imaging"


DATED_ITEMS = frozenset({ChecklistItemKind.PATHOLOGY_REPORT, ChecklistItemKind.IMAGING})


class ChecklistItem(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One readiness requirement; dated items may have to be at most max_age_days old."""

    item: ChecklistItemKind
    max_age_days: MaxAgeDays | None = None


DEFAULT_CHECKLIST = (
    ChecklistItem(item=ChecklistItemKind.STAGE),
    ChecklistItem(item=ChecklistItemKind.PATHOLOGY_REPORT),
    ChecklistItem(item=ChecklistItemKind.IMAGING, max_age_days=60),
    ChecklistItem(item=ChecklistItemKind.ECOG),
)


def known_time_zone(name: str) -> bool:
    """Whether the IANA time zone database knows the name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_checklist(items: list[ChecklistItem], field: str) -> None:
    """Refuse a checklist naming an item twice or giving an age to an undated item."""
    duplicate, undated_age = _CHECKLIST_ERRORS[field]
    if len({entry.item for entry in items}) != len(items):
        raise ValueError(duplicate)
    if any(entry.max_age_days is not None and entry.item not in DATED_ITEMS for entry in items):
        raise ValueError(undated_age)


class Board(msgspec.Struct, kw_only=True, frozen=True):
    """A tumor board."""

    id: UUID
    name: str
    disease_sites: list[DiseaseSite]
    required_disciplines: list[Discipline]
    time_zone: str
    minutes_per_case: int
    agenda_lock_hours: int
    checklist: list[ChecklistItem]
    created_at: datetime


class BoardCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /boards; required disciplines default to the three oncology ones."""

    name: Name
    disease_sites: Annotated[list[DiseaseSite], msgspec.Meta(min_length=1, max_length=18)]
    required_disciplines: Annotated[list[Discipline], msgspec.Meta(min_length=1, max_length=10)] = (
        msgspec.field(default_factory=lambda: list(ONCOLOGY_DISCIPLINES))
    )
    time_zone: TimeZoneName = "UTC"
    minutes_per_case: MinutesPerCase = 6
    agenda_lock_hours: AgendaLockHours = 24
    checklist: Annotated[list[ChecklistItem], msgspec.Meta(max_length=6)] = msgspec.field(
        default_factory=lambda: list(DEFAULT_CHECKLIST)
    )

    def __post_init__(self) -> None:
        self.disease_sites = list(dict.fromkeys(self.disease_sites))
        self.required_disciplines = list(dict.fromkeys(self.required_disciplines))
        if not known_time_zone(self.time_zone):
            raise ValueError(_UNKNOWN_TIME_ZONE)
        check_checklist(self.checklist, "checklist")


class BoardUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PATCH /boards/{id}: the scheduling settings; absent fields stay as they are."""

    time_zone: TimeZoneName | msgspec.UnsetType = msgspec.UNSET
    minutes_per_case: MinutesPerCase | msgspec.UnsetType = msgspec.UNSET
    agenda_lock_hours: AgendaLockHours | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.time_zone is not msgspec.UNSET and not known_time_zone(self.time_zone):
            raise ValueError(_UNKNOWN_TIME_ZONE)


class ChecklistPut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /boards/{id}/checklist: the whole new checklist, in display order."""

    items: Annotated[list[ChecklistItem], msgspec.Meta(max_length=6)]

    def __post_init__(self) -> None:
        check_checklist(self.items, "items")


CHECKLIST_LABELS = {
    ChecklistItemKind.STAGE: "stage",
    ChecklistItemKind.HISTOLOGY: "histology",
    ChecklistItemKind.ECOG: "ECOG performance status",
    ChecklistItemKind.BIOMARKERS: "biomarkers",
    ChecklistItemKind.PATHOLOGY_REPORT: "pathology report",
    ChecklistItemKind.IMAGING: "imaging",
}


def describe_items(items: list[str]) -> str:
    """Checklist items as a readable list: ``pathology report, imaging``."""
    return ", ".join(CHECKLIST_LABELS.get(ChecklistItemKind(item), item) for item in items)
