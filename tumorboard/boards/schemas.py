"""Board structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tumorboard.enums import ONCOLOGY_DISCIPLINES, Discipline, DiseaseSite
from tumorboard.validation import Name


class Board(msgspec.Struct, kw_only=True, frozen=True):
    """A tumor board."""

    id: UUID
    name: str
    disease_sites: list[DiseaseSite]
    required_disciplines: list[Discipline]
    created_at: datetime


class BoardCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /boards; required disciplines default to the three oncology ones."""

    name: Name
    disease_sites: Annotated[list[DiseaseSite], msgspec.Meta(min_length=1, max_length=18)]
    required_disciplines: Annotated[list[Discipline], msgspec.Meta(min_length=1, max_length=10)] = (
        msgspec.field(default_factory=lambda: list(ONCOLOGY_DISCIPLINES))
    )

    def __post_init__(self) -> None:
        self.disease_sites = list(dict.fromkeys(self.disease_sites))
        self.required_disciplines = list(dict.fromkeys(self.required_disciplines))
