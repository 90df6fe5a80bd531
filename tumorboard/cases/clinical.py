"""The rules of structured clinical data: code formats, plausible dates and TNM stage prefixes.

Pure functions over the input structs, returning one FieldError per bad field (named by its dotted
key, e.g. ``stage.t`` or ``prior_treatments.1.ended_on``) with fixed messages that never repeat the
value. The input structs raise them all at once (see ``cases.schemas``); stored data is not checked
again when it is read, so a rule tightened later never makes an old case unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from tumorboard.validation import FieldError

if TYPE_CHECKING:
    from tumorboard.cases.schemas import Biomarker, Comorbidity, Diagnosis, PriorTreatment, Stage

ICD10CM = re.compile(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?")
TOPOGRAPHY = re.compile(r"C[0-9]{2}\.[0-9]")
MORPHOLOGY = re.compile(r"[89][0-9]{3}/[012369]")
LOINC = re.compile(r"[0-9]{1,7}-[0-9]")
# One stage category: an optional classification prefix, the letter, then the category itself with
# optional subdivisions and a parenthesised suffix: cT1mi, pN0(i+), ypN1a(sn), cM1c, Tis (DCIS).
_CATEGORY = {
    "t": re.compile(r"(?P<prefix>[A-Za-z]*?)T(?:X|0|is|a|[1-4])[a-z0-9]{0,4}(?: ?\([^()]{1,30}\))?"),
    "n": re.compile(r"(?P<prefix>[A-Za-z]*?)N(?:X|[0-3])[a-z0-9]{0,4}(?: ?\([^()]{1,30}\))?"),
    "m": re.compile(r"(?P<prefix>[A-Za-z]*?)M(?:X|0|1)[a-z0-9]{0,4}(?: ?\([^()]{1,30}\))?"),
}
GROUP = re.compile(r"(?:0|0a|0is|I|II|III|IV)(?:[A-D][1-3]?)?|(?i:occult(?: carcinoma)?)")
KNOWN_PREFIXES = ("c", "p", "yc", "yp")
# The prefixes each stage type allows per category (AJCC 8, chapter 1): a pathological stage may use
# clinical N (pTis cN0) and M (pM0 does not exist); post-therapy stages may keep M from before treatment.
ALLOWED_PREFIXES: dict[str, dict[str, tuple[str, ...]]] = {
    "clinical": {"t": ("c",), "n": ("c",), "m": ("c", "p")},
    "pathological": {"t": ("p",), "n": ("p", "c"), "m": ("c", "p")},
    "post_therapy_clinical": {"t": ("yc",), "n": ("yc",), "m": ("c", "p", "yc")},
    "post_therapy_pathological": {"t": ("yp",), "n": ("yp", "yc"), "m": ("c", "p", "yc", "yp")},
}
_TYPE_WORDS = {
    "clinical": "a clinical",
    "pathological": "a pathological",
    "post_therapy_clinical": "a post-therapy clinical",
    "post_therapy_pathological": "a post-therapy pathological",
}
_EXAMPLES = {"t": "cT2", "n": "cN1", "m": "cM0"}


def latest_today() -> date:
    """Today where it is latest on Earth (UTC+14): a date entered as "today" anywhere is not future."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def loinc_check_digit_ok(code: str) -> bool:
    """Whether a LOINC code's check digit (after the hyphen) is right: LOINC's mod 10 (Luhn) algorithm."""
    number, _, check = code.partition("-")
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(check)


def is_loinc(code: str) -> bool:
    """A LOINC code: digits, a hyphen and a correct check digit (e.g. 85319-2)."""
    return LOINC.fullmatch(code) is not None and loinc_check_digit_ok(code)


def diagnosis_errors(diagnosis: Diagnosis, birth_date: date | None, today: date) -> list[FieldError]:
    """Problems with the coded diagnosis: code formats by system, the date, the ICD-O-3 codes."""
    errors = []
    if diagnosis.system == "ICD-10-CM" and not ICD10CM.fullmatch(diagnosis.code):
        errors.append(FieldError("diagnosis.code", "must be an ICD-10-CM code such as C50.412"))
    if diagnosis.system == "ICD-O-3" and not (
        TOPOGRAPHY.fullmatch(diagnosis.code) or MORPHOLOGY.fullmatch(diagnosis.code)
    ):
        errors.append(FieldError("diagnosis.code", "must be an ICD-O-3 code such as C50.4 or 8500/3"))
    if diagnosis.diagnosed_on is not None:
        if diagnosis.diagnosed_on > today:
            errors.append(FieldError("diagnosis.diagnosed_on", "must not be in the future"))
        elif birth_date is not None and diagnosis.diagnosed_on < birth_date:
            errors.append(FieldError("diagnosis.diagnosed_on", "must not be before the patient's birth date"))
    if diagnosis.topography is not None and not TOPOGRAPHY.fullmatch(diagnosis.topography.code):
        errors.append(
            FieldError("diagnosis.topography.code", "must be an ICD-O-3 topography code such as C50.4")
        )
    if diagnosis.morphology is not None and not MORPHOLOGY.fullmatch(diagnosis.morphology.code):
        errors.append(
            FieldError(
                "diagnosis.morphology.code",
                "must be an ICD-O-3 morphology code with its behaviour, such as 8500/3",
            )
        )
    return errors


def stage_errors(stage: Stage | None, prefix: str = "stage") -> list[FieldError]:
    """Problems with a TNM stage: edition, categories and their prefixes against the type, group."""
    if stage is None:
        return []
    errors = []
    if stage.system == "AJCC8" and stage.edition not in (None, 8):
        errors.append(
            FieldError(f"{prefix}.edition", "must be 8 for the system AJCC8 (or use the system AJCC)")
        )
    if stage.system != "AJCC8" and stage.edition is None:
        errors.append(FieldError(f"{prefix}.edition", "is required unless the system is AJCC8"))
    for name in ("t", "n", "m"):
        errors.extend(_category_errors(f"{prefix}.{name}", name, getattr(stage, name), stage.type))
    if not GROUP.fullmatch(stage.group):
        errors.append(FieldError(f"{prefix}.group", "must be a stage group such as IIB, IVA or 0is"))
    return errors


def _category_errors(key: str, name: str, value: str, stage_type: str | None) -> list[FieldError]:
    letter = name.upper()
    match = _CATEGORY[name].fullmatch(value)
    if match is None:
        return [FieldError(key, f"must be a {letter} category such as {_EXAMPLES[name]}")]
    given = match["prefix"]
    if given and given not in KNOWN_PREFIXES:
        return [FieldError(key, f"has an unknown prefix: use c, p, yc or yp before {letter}")]
    if name == "m" and given in ("p", "yp") and value[len(given) + 1 :].startswith("0"):
        return [FieldError(key, "must not be pathological M0, which does not exist: use cM0")]
    if given and stage_type is not None and given not in ALLOWED_PREFIXES[stage_type][name]:
        allowed = " or ".join(ALLOWED_PREFIXES[stage_type][name])
        return [FieldError(key, f"must start with {allowed} for {_TYPE_WORDS[stage_type]} stage")]
    return []


def biomarker_errors(biomarkers: Iterable[Biomarker], today: date) -> list[FieldError]:
    """Problems with biomarker results: LOINC codes and test dates."""
    errors = []
    for index, biomarker in enumerate(biomarkers):
        if biomarker.loinc is not None and not is_loinc(biomarker.loinc):
            errors.append(
                FieldError(
                    f"biomarkers.{index}.loinc", "must be a LOINC code with its check digit, such as 85319-2"
                )
            )
        if biomarker.tested_on is not None and biomarker.tested_on > today:
            errors.append(FieldError(f"biomarkers.{index}.tested_on", "must not be in the future"))
    return errors


def treatment_errors(treatments: Sequence[PriorTreatment], today: date) -> list[FieldError]:
    """Problems with prior treatments: dates in the future, an end before the start."""
    errors = []
    for index, treatment in enumerate(treatments):
        for name in ("started_on", "ended_on"):
            value = getattr(treatment, name)
            if value is not None and value > today:
                errors.append(FieldError(f"prior_treatments.{index}.{name}", "must not be in the future"))
        started, ended = treatment.started_on, treatment.ended_on
        if started is not None and ended is not None and ended < started:
            errors.append(
                FieldError(f"prior_treatments.{index}.ended_on", "must not be before the start date")
            )
    return errors


def comorbidity_errors(comorbidities: Sequence[Comorbidity]) -> list[FieldError]:
    """Problems with comorbidities: their ICD-10-CM codes."""
    return [
        FieldError(f"comorbidities.{index}.code", "must be an ICD-10-CM code such as E11.9")
        for index, comorbidity in enumerate(comorbidities)
        if comorbidity.code is not None and not ICD10CM.fullmatch(comorbidity.code)
    ]
