"""The letter to the referring clinician as a document: its PDF says everything its HTML page says, is
archival, prints what was typed as typed and names the patient on every page (no database needed)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from tests.document_checks import archival_facts, html_facts, missing_from_pdf, pdf_pages, pdf_text
from tests.test_care_plan_documents import (
    MRN,
    NOW,
    make_amended_document,
    make_document,
    make_final_document,
)
from tumorboard.care_plans.schemas import CarePlanDocument, PlanReferrer
from tumorboard.documents.pdf import render_pdf
from tumorboard.letters.documents import PDF_TEMPLATE, LetterModel, letter_model, render_html

REFERRER = PlanReferrer(name="Dr. Rita Moreau", organisation="Clinique du Parc", email="rita@parc.example")
CONTACT = "Dr. Ines Amaral"
TYPED = '#set page(fill: red) = Heading *bold* _it_ $x^2$ <tag> @ref `raw` \\ "quoted" -- ... ~ // no'


def with_content(document: CarePlanDocument, **fields: object) -> CarePlanDocument:
    return msgspec.structs.replace(document, content=msgspec.structs.replace(document.content, **fields))


def with_decision(document: CarePlanDocument, **fields: object) -> CarePlanDocument:
    assert document.content.decision is not None
    return with_content(document, decision=msgspec.structs.replace(document.content.decision, **fields))


LETTERS: dict[str, Callable[[], tuple[CarePlanDocument, PlanReferrer]]] = {
    "signed": lambda: (make_final_document(), REFERRER),
    "amended": lambda: (make_amended_document(), REFERRER),
    "differing views, a referrer without organisation": lambda: (
        with_content(make_final_document(), consensus=False),
        PlanReferrer(name="Dr. Paul Petit"),
    ),
    "minimal": lambda: (make_document(minimal=True, status="final", signed=True), REFERRER),
    "trial without its number, several lines": lambda: (
        with_decision(
            make_final_document(),
            trial_id=None,
            summary="Neoadjuvant therapy.\nThen surgery.\n\nThen radiotherapy.",
        ),
        REFERRER,
    ),
}


def model_of(document: CarePlanDocument, referrer: PlanReferrer = REFERRER) -> LetterModel:
    return letter_model(document, referrer, CONTACT)


def letter_pdf(letter: LetterModel) -> bytes:
    return render_pdf(PDF_TEMPLATE, letter, created_at=NOW)


@pytest.mark.parametrize("variant", list(LETTERS))
def test_every_fact_of_the_letter_page_is_in_its_pdf(variant: str) -> None:
    letter = model_of(*LETTERS[variant]())
    html = render_html(letter)
    assert len(html_facts(html)) >= 18
    assert missing_from_pdf(html, letter_pdf(letter)) == []


def test_the_letter_words_the_decision_once_for_both_layouts() -> None:
    letter = model_of(make_amended_document())
    facts = html_facts(render_html(letter))
    for fact in (
        "Dear Dr. Rita Moreau,",
        "Outcome of the tumor board for your patient (amended)",
        f"Marguerite Delacroix, born 09 Jul 1962, MRN {MRN}",
        "This letter replaces the one for version 1:",
        "Curative intent.",
        "Systemic therapy",
        "Radiotherapy",
        "Clinical trial: eligible (NCT04567890).",
        f"{CONTACT}, who presented your patient, coordinates these steps and is your contact for questions."
        " The full care plan, with each discipline's recommendation, is available to the treating team in"
        " Tumorboard.",
        "Chair, Breast Tumor Board",
    ):
        assert fact in facts, fact
    assert (
        "Thank you for referring your patient. The Breast Tumor Board discussed the case at its meeting of"
        " 12 Mar 2025. The board's care plan was signed by Dr. Ada Okafor on 14 Mar 2025, 15:30 UTC."
    ) in facts
    minimal = html_facts(render_html(model_of(make_document(minimal=True, status="final", signed=True))))
    optional = ("Rationale", "Clinical trial", "This letter replaces")
    assert not any(fact.startswith(optional) for fact in minimal)
    dissent = html_facts(render_html(model_of(with_content(make_final_document(), consensus=False))))
    assert "Not every discipline proposed this plan; the care plan records the differing views." in dissent


def test_a_fact_missing_from_the_letter_pdf_is_noticed() -> None:
    amended = model_of(make_amended_document())
    missing = missing_from_pdf(render_html(amended), letter_pdf(model_of(make_final_document())))
    assert "This letter replaces the one for version 1:" in missing


def test_the_letter_pdf_is_archival_tagged_and_embeds_its_fonts() -> None:
    facts = archival_facts(letter_pdf(model_of(make_final_document())))
    assert (facts["pdfa_part"], facts["pdfa_conformance"], facts["pdfua_part"]) == ("2", "A", "1")
    assert facts["tagged"] and facts["language"] == "en-GB"
    assert facts["title"] == "Tumor board outcome \N{EN DASH} letter to Dr. Rita Moreau"
    assert facts["fonts"] and all(facts["fonts"].values()), facts["fonts"]


def test_typed_text_prints_as_typed_never_as_markup() -> None:
    document = with_decision(make_amended_document(), summary=TYPED, rationale=TYPED)
    content = msgspec.structs.replace(
        document.content,
        question=TYPED,
        amendment=msgspec.structs.replace(document.content.amendment, reason=TYPED),
    )
    letter = model_of(msgspec.structs.replace(document, content=content), PlanReferrer(name=TYPED))
    rendered = letter_pdf(letter)
    text = pdf_text(rendered)
    assert text.count(TYPED) == 6  # the question, summary, rationale, amendment and the name twice
    assert missing_from_pdf(render_html(letter), rendered) == []
    assert len(pdf_pages(rendered)) == len(pdf_pages(letter_pdf(model_of(make_amended_document()))))


def test_every_page_names_the_patient_and_its_number() -> None:
    long = " ".join(["The board weighed toxicity, comorbidity and the patient's preference."] * 60)
    pages = pdf_pages(letter_pdf(model_of(with_decision(make_final_document(), summary=long))))
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Marguerite Delacroix, born 09 Jul 1962, MRN {MRN}" in page
        assert f"Page {number} of {len(pages)}" in page


def test_one_signed_version_gives_the_same_letter_every_time() -> None:
    document = make_final_document()
    assert letter_pdf(model_of(document)) == letter_pdf(model_of(document))


def test_only_a_signed_version_has_a_letter() -> None:
    with pytest.raises(ValueError, match="signed"):
        model_of(make_document())
