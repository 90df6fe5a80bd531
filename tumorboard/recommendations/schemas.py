"""Recommendation structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tumorboard.enums import Discipline, Intent, Modality
from tumorboard.validation import Name, Text

Modalities = Annotated[list[Modality], msgspec.Meta(min_length=1, max_length=10)]
NctNumber = Annotated[str, msgspec.Meta(pattern=r"^NCT\d{8}\Z")]


class Guideline(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The guideline the proposal was checked against; `reason` says why it departs from it."""

    name: Name
    version: Name | None = None
    concordant: bool
    reason: Text | None = None


class Trial(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A clinical trial to consider, by its NCT number."""

    id: NctNumber


class RecommendationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /cases/{id}/recommendations: the whole plan the reviewer proposes."""

    intent: Intent
    modalities: Modalities
    summary: Text
    rationale: Text | None = None
    guideline: Guideline | None = None
    trial: Trial | None = None


class RecommendationUpdate(RecommendationCreate, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /recommendations/{id}: the new content and the version it replaces."""

    version: Annotated[int, msgspec.Meta(ge=1)]


class Recommendation(msgspec.Struct, kw_only=True, frozen=True):
    """A recommendation with its author."""

    id: UUID
    case_id: UUID
    author_id: UUID
    author_name: str
    discipline: Discipline
    intent: Intent
    modalities: list[Modality]
    summary: str
    rationale: str | None
    guideline: Guideline | None
    trial: Trial | None
    version: int
    created_at: datetime
    updated_at: datetime
