"""A case's clinical summary, worded once for every page and document that shows it.

`clinical_rows` gives the whole record as rows of a definition list (the case page, the
recommendation form, the care plan document); `clinical_line` gives one line for lists of cases (the
meeting's agenda). Both read anything carrying a case's clinical fields under these names: a `Case`,
an agenda item's `CaseClinical`, a care plan version's content. Each row is text in pieces, each
piece plain, strong, secondary (`sub`) or a code, so a jinja template (`templates/pages/_clinical.html`)
and a Typst template (`templates/documents/base.typ`) print the same words in their own styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, Protocol

import msgspec

from tumorboard.labels import label

Style = Literal["", "strong", "sub", "code"]

_STAGE_TYPES = {
    "clinical": "Clinical",
    "pathological": "Pathological",
    "post_therapy_clinical": "Post-therapy clinical",
    "post_therapy_pathological": "Post-therapy pathological",
}
_SIDES = ("left", "right", "bilateral")


class Piece(msgspec.Struct, kw_only=True, frozen=True):
    """A run of text in one style."""

    text: str
    style: Style = ""


Line = list[Piece]


class ClinicalRow(msgspec.Struct, kw_only=True, frozen=True):
    """One term of the summary and its lines (a bulleted list when `listed`)."""

    term: str
    lines: list[Line]
    listed: bool = False


# What the summary reads, by name (Case, CaseClinical and CarePlanContent all carry these).


class _Coded(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def display(self) -> str | None: ...


class _Diagnosis(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def system(self) -> str: ...
    @property
    def display(self) -> str: ...
    @property
    def diagnosed_on(self) -> date | None: ...
    @property
    def laterality(self) -> str | None: ...
    @property
    def topography(self) -> _Coded | None: ...
    @property
    def morphology(self) -> _Coded | None: ...


class _Stage(Protocol):
    @property
    def system(self) -> str: ...
    @property
    def edition(self) -> int | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def t(self) -> str: ...
    @property
    def n(self) -> str: ...
    @property
    def m(self) -> str: ...
    @property
    def group(self) -> str: ...


class _Biomarker(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def loinc(self) -> str | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def tested_on(self) -> date | None: ...
    @property
    def method(self) -> str | None: ...


class _PriorTreatment(Protocol):
    @property
    def modality(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def started_on(self) -> date | None: ...
    @property
    def ended_on(self) -> date | None: ...


class _Comorbidity(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def code(self) -> str | None: ...


class ClinicalRecord(Protocol):
    """A case's clinical fields, wherever they are carried."""

    @property
    def diagnosis(self) -> _Diagnosis: ...
    @property
    def histology(self) -> str | None: ...
    @property
    def stage(self) -> _Stage | None: ...
    @property
    def ecog(self) -> int | None: ...
    @property
    def biomarkers(self) -> Sequence[_Biomarker]: ...
    @property
    def prior_treatments(self) -> Sequence[_PriorTreatment]: ...
    @property
    def comorbidities(self) -> Sequence[_Comorbidity]: ...
    @property
    def treatment_started(self) -> bool | None: ...


# ---------------------------------------------------------------------------------------------------------
# Words


def _day(value: date) -> str:
    return value.strftime("%d %b %Y")


def _ordinal(number: int) -> str:
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number, 'th') }"


def stage_system(stage: _Stage) -> str:
    """The staging system and edition: ``AJCC 8th edition``, ``UICC 9th edition``."""
    if stage.system == "AJCC8":
        return "AJCC 8th edition"
    return f"{stage.system} {_ordinal(stage.edition)} edition" if stage.edition else stage.system


def stage_categories(stage: _Stage) -> str:
    """T, N and M with the group: ``pT2 pN1a cM0, group IIB``."""
    return f"{stage.t} {stage.n} {stage.m}, group {stage.group}"


def _dates(first: date | None, last: date | None) -> str:
    if first and last:
        return _day(first) if first == last else f"{_day(first)} \N{EN DASH} {_day(last)}"
    if first:
        return f"since {_day(first)}"
    return f"until {_day(last)}" if last else ""


def _text(text: str) -> Piece:
    return Piece(text=text)


def _code(text: str) -> Piece:
    return Piece(text=text, style="code")


def _sub(text: str) -> Piece:
    return Piece(text=text, style="sub")


def _coded(term: _Coded, system: str) -> Line:
    line = [_text(f"{term.display} ")] if term.display else []
    return [*line, _code(f"{system} {term.code}")]


def _not_recorded(text: str = "Not recorded") -> list[Line]:
    return [[_sub(text)]]


# ---------------------------------------------------------------------------------------------------------
# The summary and the line


def _site(c: ClinicalRecord) -> list[Line]:
    d = c.diagnosis
    line: Line = _coded(d.topography, "ICD-O-3") if d.topography else []
    if d.topography and d.laterality:
        line.append(_text(" · "))
    if d.laterality:
        line.append(_text(f"Laterality: {label(d.laterality)}"))
    return [line] if line else _not_recorded()


def _histology(c: ClinicalRecord) -> list[Line]:
    lines = [_coded(c.diagnosis.morphology, "ICD-O-3")] if c.diagnosis.morphology else []
    if c.histology:
        lines.append([_text(c.histology)])
    return lines or _not_recorded()


def _stage(c: ClinicalRecord) -> list[Line]:
    s = c.stage
    if s is None:
        return _not_recorded()
    kind = [_text(f"{_STAGE_TYPES.get(s.type, s.type)}: ")] if s.type else []
    return [
        [*kind, Piece(text=stage_categories(s), style="strong"), _text(" "), _sub(f"({stage_system(s)})")]
    ]


def _biomarker(b: _Biomarker) -> Line:
    line = [Piece(text=f"{b.name}:", style="strong"), _text(f" {b.value}" + (f" {b.unit}" if b.unit else ""))]
    if b.method or b.tested_on:
        details = ", ".join(part for part in (b.method, _day(b.tested_on) if b.tested_on else None) if part)
        line += [_text(" "), _sub(f"({details})")]
    if b.loinc:
        line += [_text(" "), _code(f"LOINC {b.loinc}")]
    return line


def _treatment(t: _PriorTreatment) -> Line:
    line = [Piece(text=label(t.modality), style="strong")]
    if t.description:
        line.append(_text(f" \N{EN DASH} {t.description}"))
    if t.started_on or t.ended_on:
        line += [_text(" "), _sub(f"({_dates(t.started_on, t.ended_on)})")]
    return line


def _comorbidity(m: _Comorbidity) -> Line:
    return [_text(m.name), _text(" "), _code(f"ICD-10-CM {m.code}")] if m.code else [_text(m.name)]


def _treatment_started(c: ClinicalRecord) -> list[Line]:
    if c.treatment_started is None:
        return _not_recorded("Not stated")
    return [[_text("Yes, before the board" if c.treatment_started else "No (prospective case)")]]


def clinical_rows(c: ClinicalRecord) -> list[ClinicalRow]:
    """The whole clinical record as terms and lines: diagnosis, site, histology, stage, ECOG,
    biomarkers, prior treatment, comorbidities, and whether treatment started before the board."""
    d = c.diagnosis
    diagnosis = [[_text(f"{d.display} "), _code(f"{d.system} {d.code}")]]
    if d.diagnosed_on:
        diagnosis.append([_sub(f"Diagnosed {_day(d.diagnosed_on)}")])

    def listed(term: str, lines: list[Line]) -> ClinicalRow:
        if not lines:
            return ClinicalRow(term=term, lines=_not_recorded("None recorded"))
        return ClinicalRow(term=term, lines=lines, listed=True)

    return [
        ClinicalRow(term="Diagnosis", lines=diagnosis),
        ClinicalRow(term="Primary site", lines=_site(c)),
        ClinicalRow(term="Histology", lines=_histology(c)),
        ClinicalRow(term="Stage", lines=_stage(c)),
        ClinicalRow(term="ECOG", lines=[[_text(str(c.ecog))]] if c.ecog is not None else _not_recorded()),
        listed("Biomarkers", [_biomarker(b) for b in c.biomarkers]),
        listed("Prior treatment", [_treatment(t) for t in c.prior_treatments]),
        listed("Comorbidities", [_comorbidity(m) for m in c.comorbidities]),
        ClinicalRow(term="Treatment started", lines=_treatment_started(c)),
    ]


def clinical_line(c: ClinicalRecord) -> Line:
    """The record in one line for lists: diagnosis and code, side, histology, stage, ECOG, biomarkers."""
    d = c.diagnosis
    line = [_text(f"{d.display} "), _code(d.code)]
    words = f" ({d.laterality})" if d.laterality in _SIDES else ""
    if d.morphology:
        words += f" · {d.morphology.display or d.morphology.code}"
    elif c.histology:
        words += f" · {c.histology}"
    if c.stage:
        kind = f"{_STAGE_TYPES.get(c.stage.type, c.stage.type).lower()} " if c.stage.type else ""
        words += f" · {kind}{stage_categories(c.stage)}"
    if c.ecog is not None:
        words += f" · ECOG {c.ecog}"
    if c.biomarkers:
        words += " · " + "; ".join(
            f"{b.name} {b.value}" + (f" {b.unit}" if b.unit else "") for b in c.biomarkers
        )
    if c.treatment_started:
        words += " · treatment started"
    return [*line, _text(words)] if words else line
