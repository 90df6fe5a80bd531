"""Structured intake in a real browser: a presenter submits a case with full clinical data, sees it on
the case page, attaches the pathology report and opens it in the sandboxed viewer."""

from __future__ import annotations

import pytest
import typst
from playwright.async_api import expect

from tests.browser.conftest import SignIn
from tests.browser.support import ARTIFACTS
from tests.factories import Factory

# A real one-page report, so the viewer has something to draw.
REPORT = typst.compile(
    b"= Pathology report\nCore biopsy, left breast: invasive ductal carcinoma, grade 2.\n",
    font_paths=typst.Fonts(include_system_fonts=False),
)

pytestmark = pytest.mark.slow


async def test_a_presenter_submits_a_fully_structured_case_and_attaches_its_report(
    sign_in: SignIn, api: Factory
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology", name="Dr. Ines Amaral")
    await api.board(await api.user("coordinator"))
    tab = await sign_in(presenter, "presenter")
    page = tab.page

    await page.goto("/cases/new")
    await page.get_by_label("Given name").fill("Joana")
    await page.get_by_label("Family name").fill("Pereira")
    await page.get_by_label("Medical record number (MRN)").fill("MRN-INTAKE-1")
    await page.get_by_label("Date of birth").fill("1968-04-02")
    await page.get_by_label("Sex").select_option("female")
    await page.get_by_label("Disease site").select_option("breast")
    await page.get_by_label("Diagnosis code").fill("C50.412")  # from the pick list: its name is filled in
    await page.get_by_label("Date of diagnosis").fill("2026-10-02")
    await page.get_by_label("ICD-O-3 topography").fill("C50.4")
    await page.get_by_label("Laterality").select_option("left")
    await page.get_by_label("ICD-O-3 morphology").fill("8500/3")
    await page.get_by_label("Histology").fill("Grade 2, Ki-67 25%")
    await page.get_by_label("Stage type").select_option("clinical")
    await page.get_by_label("T", exact=True).fill("cT2")
    await page.get_by_label("N", exact=True).fill("cN1")
    await page.get_by_label("M", exact=True).fill("cM0")
    await page.get_by_label("Stage group").fill("IIB")
    await page.get_by_label("ECOG performance status").select_option("0")
    await page.get_by_label("Biomarker 1").fill("HER2")
    await page.get_by_label("Result 1").fill("positive (3+)")
    await page.get_by_label("LOINC code 1").fill("85319-2")
    await page.get_by_label("Method 1").fill("IHC")
    await page.get_by_label("Date of test 1").fill("2026-10-05")
    await page.get_by_label("Biomarker 2").fill("ER")
    await page.get_by_label("Result 2").fill("positive")
    await page.get_by_label("Unit 2").fill("%")
    await page.get_by_label("Has treatment for this cancer already started?").select_option("false")
    await page.get_by_label("Prior treatment 1").select_option("further_workup")
    await page.get_by_label("What was given 1").fill("Core biopsy and staging CT")
    await page.get_by_label("Started 1").fill("2026-10-02")
    await page.get_by_label("Ended 1").fill("2026-09-30")  # before the start: refused
    await page.get_by_role("button", name="Add a comorbidity").click()  # htmx fetches the second row
    await expect(page.get_by_label("ICD-10-CM code 2")).to_be_focused()
    await page.get_by_label("ICD-10-CM code 1").fill("I10")
    await page.get_by_label("Comorbidity 2").fill("Osteoarthritis of the knee")
    await page.get_by_label("Clinical summary").fill(
        "Screen-detected 24 mm mass, one suspicious axillary node."
    )
    await page.get_by_label("Question for the board").fill("Neoadjuvant systemic therapy first?")
    await page.get_by_role("button", name="Submit the case").click()

    await expect(page.locator("#prior_treatments-0-ended_on-error")).to_have_text(
        "Must not be before the start date"
    )
    await expect(page.get_by_label("LOINC code 1")).to_have_value("85319-2")
    await expect(page.get_by_label("Comorbidity 1")).to_have_value("Essential (primary) hypertension")
    await tab.shot("intake-form-errors", tablet=True)
    await page.get_by_label("Ended 1").fill("2026-10-09")
    await page.get_by_role("button", name="Submit the case").click()

    await expect(page.get_by_test_id("flash")).to_contain_text("Case submitted")
    summary = page.get_by_test_id("clinical-summary")
    await expect(summary).to_contain_text(
        "Malignant neoplasm of upper-outer quadrant of left female breast ICD-10-CM C50.412"
    )
    await expect(summary).to_contain_text("Upper-outer quadrant of breast ICD-O-3 C50.4 · Laterality: Left")
    await expect(summary).to_contain_text("Infiltrating duct carcinoma, NOS ICD-O-3 8500/3")
    await expect(summary).to_contain_text("Clinical: cT2 cN1 cM0, group IIB (AJCC 8th edition)")
    await expect(summary).to_contain_text("HER2: positive (3+) (IHC, 05 Oct 2026) LOINC 85319-2")
    await expect(summary).to_contain_text(
        "Further workup \N{EN DASH} Core biopsy and staging CT (02 Oct 2026 \N{EN DASH} 09 Oct 2026)"
    )
    await expect(summary).to_contain_text("Essential (primary) hypertension ICD-10-CM I10")
    await expect(summary).to_contain_text("No (prospective case)")
    await expect(page.get_by_test_id("readiness")).to_contain_text("no pathology report recorded")
    await tab.shot("intake-case", tablet=True)

    report = ARTIFACTS / "pathology-report.pdf"
    report.write_bytes(REPORT)
    await page.get_by_label("File").set_input_files(str(report))
    await page.get_by_label("Kind of document").select_option("pathology_report")
    await page.get_by_label("Date of the document").fill("2026-10-04")
    await page.get_by_role("button", name="Attach").click()
    await expect(page.get_by_test_id("flash")).to_contain_text(
        "Pathology report “pathology-report.pdf” attached."
    )
    await expect(page.get_by_test_id("readiness")).to_contain_text("dated 2026-10-04")
    await expect(page.get_by_test_id("attachments")).to_contain_text("pathology-report.pdf")
    await tab.shot("intake-documents")

    async with page.expect_response(lambda response: response.url.endswith("/inline")) as framed:
        await page.get_by_role("link", name="pathology-report.pdf").click()
    response = await framed.value
    assert (await response.header_value("content-security-policy") or "").startswith("sandbox;")
    assert response.headers["content-type"] == "application/pdf"
    frame = page.get_by_test_id("document-frame")
    await expect(frame).to_have_attribute("src", f"/attachments/{page.url.rsplit('/', 1)[1]}/inline")
    await page.wait_for_timeout(1000)  # the PDF viewer draws the first page
    await tab.shot("intake-document-viewer")
    assert tab.problems == []
