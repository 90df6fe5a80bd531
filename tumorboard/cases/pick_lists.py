"""The submission form's pick lists (codes/*.csv, sources in codes/README.md), read once."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import msgspec

CODES_DIR = Path(__file__).resolve().parent / "codes"


class CodeOption(msgspec.Struct, frozen=True):
    """A code with its term."""

    code: str
    display: str


class BiomarkerOption(msgspec.Struct, frozen=True):
    """A biomarker as the form suggests it: its usual name, LOINC code, unit and method."""

    name: str
    loinc: str
    display: str
    unit: str
    method: str


class PickLists(msgspec.Struct, frozen=True):
    """Every list the case form offers."""

    icd10cm: tuple[CodeOption, ...]
    topography: tuple[CodeOption, ...]
    morphology: tuple[CodeOption, ...]
    comorbidities: tuple[CodeOption, ...]
    biomarkers: tuple[BiomarkerOption, ...]

    @property
    def methods(self) -> tuple[str, ...]:
        """The biomarker methods the lists name, each once."""
        return tuple(sorted({b.method for b in self.biomarkers if b.method} | {"NGS", "PCR", "FISH", "IHC"}))

    @property
    def units(self) -> tuple[str, ...]:
        """The biomarker units the lists name, each once."""
        return tuple(sorted({b.unit for b in self.biomarkers if b.unit}))


def _rows(name: str) -> list[dict[str, str]]:
    with (CODES_DIR / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _codes(name: str) -> tuple[CodeOption, ...]:
    return tuple(CodeOption(row["code"], row["display"]) for row in _rows(name))


@cache
def pick_lists() -> PickLists:
    """The lists, read from the files on first use."""
    return PickLists(
        icd10cm=_codes("icd10cm_oncology.csv"),
        topography=_codes("icdo3_topography.csv"),
        morphology=_codes("icdo3_morphology.csv"),
        comorbidities=_codes("comorbidities.csv"),
        biomarkers=tuple(msgspec.convert(row, BiomarkerOption) for row in _rows("biomarkers.csv")),
    )


def term_of(options: tuple[CodeOption, ...], code: str) -> str | None:
    """The term of a listed code, or None."""
    return next((option.display for option in options if option.code == code), None)
