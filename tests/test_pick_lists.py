"""The form's pick lists: every shipped code is one the intake rules accept, each listed once."""

from __future__ import annotations

from tumorboard.cases.clinical import ICD10CM, MORPHOLOGY, TOPOGRAPHY, is_loinc
from tumorboard.cases.pick_lists import pick_lists, term_of


def test_every_listed_code_has_the_format_intake_accepts() -> None:
    lists = pick_lists()
    for option in (*lists.icd10cm, *lists.comorbidities):
        assert ICD10CM.fullmatch(option.code), option
    assert all(TOPOGRAPHY.fullmatch(option.code) for option in lists.topography)
    assert all(MORPHOLOGY.fullmatch(option.code) for option in lists.morphology)
    assert all(is_loinc(b.loinc) for b in lists.biomarkers if b.loinc)
    for options in (lists.icd10cm, lists.topography, lists.morphology, lists.comorbidities):
        codes = [option.code for option in options]
        assert len(codes) == len(set(codes)) and all(option.display for option in options)
    assert len({b.loinc for b in lists.biomarkers if b.loinc}) == len(
        [b for b in lists.biomarkers if b.loinc]
    )


def test_the_lists_cover_the_common_cases_with_their_terms() -> None:
    lists = pick_lists()
    assert term_of(lists.topography, "C50.4") == "Upper-outer quadrant of breast"
    assert term_of(lists.morphology, "8500/3") == "Infiltrating duct carcinoma, NOS"
    assert term_of(lists.icd10cm, "C34.11") == "Malignant neoplasm of upper lobe, right bronchus or lung"
    assert term_of(lists.icd10cm, "Z99.9") is None
    her2 = [b for b in lists.biomarkers if b.name == "HER2"]
    assert {b.loinc for b in her2} == {"85319-2", "85318-4"}
    assert "IHC" in lists.methods and "ng/mL" in lists.units
