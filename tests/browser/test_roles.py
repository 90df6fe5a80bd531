"""Each role's main path in a real browser, from signing in to done, with screenshots as artifacts."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SignIn
from tests.browser.scenarios import case_on_a_meeting, case_placed_on
from tests.factories import PASSWORD, Factory, recommendation_body

pytestmark = pytest.mark.slow


async def test_a_presenter_submits_a_case(sign_in: SignIn, api: Factory) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology", name="Dr. Beatrice Okafor")
    earlier = await api.case(presenter, disease_site="thoracic")
    tab = await sign_in(presenter, "presenter")
    page = tab.page
    await expect(page.get_by_test_id("user-name")).to_have_text("Dr. Beatrice Okafor")
    row = page.locator("tbody tr", has_text=earlier["patient"]["family_name"])
    await expect(row).to_contain_text("Thoracic")
    await expect(row).to_contain_text("Submitted")
    await tab.shot("home", tablet=True)

    await page.get_by_role("link", name="Submit a case").first.click()
    await page.get_by_label("Given name").fill("Greta")
    await page.get_by_label("Family name").fill("Lindqvist")
    await page.get_by_label("Date of birth").fill("1962-08-30")
    await page.get_by_label("Sex").select_option("female")
    await page.get_by_label("Disease site").select_option("breast")
    await page.get_by_label("Diagnosis code").fill("C50.912")
    await page.get_by_label("Diagnosis", exact=True).fill("Malignant neoplasm of left breast")
    await page.get_by_label("Biomarker 1").fill("ER")
    await page.get_by_label("Result 1").fill("positive")
    await page.get_by_role("button", name="Add a biomarker").click()  # htmx fetches a third row
    await expect(page.get_by_label("Biomarker 3")).to_be_focused()
    await page.get_by_label("Biomarker 3").fill("HER2")
    await page.get_by_label("Result 3").fill("negative")
    await page.get_by_label("Clinical summary").fill("Screen-detected 18 mm mass; core biopsy done.")
    await page.get_by_label("Question for the board").fill("Breast-conserving surgery first?")
    await page.get_by_role("button", name="Submit the case").click()

    # The MRN was forgotten: the form comes back with what was typed and the field marked.
    await expect(page.locator("#patient-mrn-error")).to_have_text("Is required")
    await expect(page.get_by_label("Family name")).to_have_value("Lindqvist")
    await expect(page.get_by_label("Biomarker 2")).to_have_value("HER2")  # the empty row closed up
    await tab.shot("case-form-errors", tablet=True)
    await page.get_by_label("Medical record number (MRN)").fill("MRN-BROWSER-1")
    await page.get_by_role("button", name="Submit the case").click()

    await expect(page.get_by_test_id("flash")).to_contain_text("Case submitted")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Lindqvist, Greta")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Submitted by Dr. Beatrice Okafor")
    await tab.shot("case-submitted", tablet=True)
    assert await page.evaluate("document.cookie") == ""  # session and CSRF cookies are HttpOnly
    assert tab.problems == []


async def test_a_coordinator_schedules_a_meeting_and_sets_its_participants(
    sign_in: SignIn, api: Factory
) -> None:
    coordinator = await api.user("coordinator", name="Casey Coordinator")
    chair = await api.user("reviewer", discipline="medical_oncology", name="Dr. Mara Chair")
    surgeon = await api.user("reviewer", discipline="surgical_oncology", name="Dr. Sol Surgeon")
    radiation = await api.user("reviewer", discipline="radiation_oncology", name="Dr. Rui Radiation")
    tab = await sign_in(coordinator, "coordinator")
    page = tab.page
    await expect(page.get_by_text("No meetings are scheduled.")).to_be_visible()
    await tab.shot("home-empty")

    await page.get_by_role("link", name="Boards").click()
    await page.get_by_label("Name").fill("Breast Tumor Board")
    await page.get_by_label("Breast").check()
    await page.get_by_role("button", name="Create the board").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("Board “Breast Tumor Board” created")
    await tab.shot("boards", tablet=True)

    await page.get_by_role("link", name="Meetings").click()
    await page.get_by_role("link", name="Schedule a meeting").first.click()
    await page.get_by_label("Board").select_option(label="Breast Tumor Board")
    start = (datetime.now(UTC) + timedelta(days=10)).replace(hour=15, minute=30)
    await page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Room").fill("Conference room 2")
    await page.get_by_role("button", name="Schedule the meeting").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Meeting scheduled. Now choose who takes part.")

    await page.get_by_label("Chair", exact=True).select_option(label="Dr. Mara Chair — Medical oncology")
    await page.get_by_label(re.compile("Dr. Sol Surgeon")).check()
    await page.get_by_label(re.compile("Dr. Rui Radiation")).check()
    await tab.shot("participants", tablet=True)
    await page.get_by_role("button", name="Save participants").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Participants saved. Quorum is complete.")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Breast Tumor Board")
    await tab.shot("meeting")

    await page.get_by_role("link", name="Home").click()
    meeting_row = page.locator("tbody tr", has_text="Breast Tumor Board")
    await expect(meeting_row).to_contain_text("0 / 10")
    await expect(meeting_row).to_contain_text("Complete")
    await tab.shot("home", tablet=True)
    assert {chair.id, surgeon.id, radiation.id}
    assert tab.problems == []


async def test_a_reviewer_recommends_and_sees_the_agenda_update_live(sign_in: SignIn, api: Factory) -> None:
    team, _, case = await case_on_a_meeting(api)
    tab = await sign_in(team.surgeon, "reviewer")
    page = tab.page
    await expect(page.get_by_text("1 waiting for your recommendation")).to_be_visible()
    await tab.shot("home", tablet=True)

    await page.get_by_role("link", name="Recommend").click()
    await page.get_by_label("Curative").check()
    await page.get_by_label("Step 1").select_option("systemic_therapy")
    await page.get_by_label("Step 2").select_option("surgery")
    await page.get_by_label("Step 3").select_option("radiation")
    await page.get_by_label("Summary").fill("Neoadjuvant chemotherapy, surgery, then radiotherapy.")
    await page.get_by_label("Guideline", exact=True).fill("NCCN Breast")
    await page.get_by_label("Yes, concordant").check()
    await tab.shot("recommendation-form")
    await page.get_by_role("button", name="Save the recommendation").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Recommendation saved (version 1).")
    await expect(page.get_by_test_id("recommendation")).to_contain_text(
        "Curative: Systemic therapy → Surgery → Radiation"
    )
    await tab.shot("recommended")

    await page.get_by_role("link", name="Open the meeting's agenda").click()
    agenda = page.get_by_test_id("live-agenda")
    await expect(agenda).to_contain_text("✓ Surgical oncology")
    await expect(agenda).to_contain_text("○ Radiation oncology")
    await api.ok(
        api.client.post(
            f"/cases/{case['id']}/recommendations", json=recommendation_body(), headers=team.radiation.headers
        ),
        201,
    )
    await expect(agenda).to_contain_text("✓ Radiation oncology", timeout=10_000)  # no reload: pushed live
    await tab.shot("live-agenda", tablet=True)
    assert tab.problems == []


async def test_the_chair_runs_the_meeting_records_the_decision_and_signs_the_care_plan(
    sign_in: SignIn, api: Factory, worker: subprocess.Popen[bytes]
) -> None:
    team = await api.team()
    meeting = await api.board_meeting_soon(team)
    case = await case_placed_on(api, team, meeting)
    for reviewer, body in (
        (team.surgeon, recommendation_body()),
        (team.radiation, recommendation_body(modalities=["surgery", "radiation"], summary="Surgery first.")),
    ):
        await api.ok(
            api.client.post(f"/cases/{case['id']}/recommendations", json=body, headers=reviewer.headers), 201
        )
    tab = await sign_in(team.chair, "chair")
    page = tab.page
    await expect(page.get_by_test_id("chair-section")).to_contain_text("1 / 10")
    await tab.shot("home", tablet=True)

    await page.get_by_test_id("chair-section").get_by_role("link").first.click()
    await page.get_by_role("button", name="Start the meeting").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Meeting started. Record who is present below.")
    for person in (team.chair, team.surgeon, team.radiation):
        await page.get_by_label(f"{person.full_name}: present").check()
    await page.get_by_role("button", name="Save attendance").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Attendance saved.")
    await expect(page.get_by_test_id("run-meeting")).to_be_visible()
    await tab.shot("meeting-running", tablet=True)

    await (
        page.get_by_test_id("live-agenda")
        .get_by_role("link", name=re.compile(case["patient"]["family_name"]))
        .click()
    )
    await expect(page.get_by_test_id("where-it-stands")).to_contain_text(
        "Preparation: waiting for Medical oncology"
    )
    form = page.get_by_test_id("decision-form")
    await expect(form.get_by_label("Plan step 1")).to_have_value("systemic_therapy")  # the proposals' lead
    await form.get_by_label("Decision summary").fill("Neoadjuvant chemotherapy, surgery, then radiotherapy.")
    await form.get_by_label("Clinical trial status").select_option("none_available")
    await tab.shot("decision-form")
    await form.get_by_role("button", name="Record the decision").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("Decision recorded")
    await expect(page.get_by_test_id("decision").first).to_contain_text(
        "Systemic therapy → Surgery → Radiation"
    )
    await tab.shot("decision-recorded")

    # The worker drafts the care plan from the decision; the page says so until it is there.
    for _ in range(40):
        await page.goto(f"/cases/{case['id']}/care-plan")
        if await page.get_by_role("button", name="Sign version 1").count():
            break
        await page.wait_for_timeout(500)
    await expect(page.get_by_test_id("consolidated-plan")).to_contain_text("Curative")
    await expect(page.get_by_text("No consensus")).to_be_visible()
    await tab.shot("care-plan-draft", tablet=True)
    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign version 1").click()
    await expect(page.get_by_test_id("flash")).to_have_text(
        "Care plan version 1 signed. The case is finalized."
    )
    await expect(page.get_by_text("Signed by Dr. Chair")).to_be_visible()
    await expect(page.get_by_text("Approved as the board's care plan.")).to_be_visible()
    await tab.shot("care-plan-signed")

    await page.goto(f"/meetings/{meeting['id']}")
    await expect(page.get_by_test_id("agenda-summary")).to_contain_text("1 of 1 discussed")
    await page.get_by_role("button", name="Close the meeting").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Meeting closed.")
    assert tab.problems == []


async def test_an_admin_creates_a_user(sign_in: SignIn, api: Factory) -> None:
    admin = await api.user("admin", name="Alex Admin")
    tab = await sign_in(admin, "admin")
    page = tab.page
    await expect(page.get_by_role("link", name="Manage users")).to_be_visible()
    await tab.shot("home")

    await page.get_by_role("link", name="Users", exact=True).click()
    await page.get_by_label("Full name").fill("Dr. Noor Pathologist")
    await page.get_by_label("Email").fill("noor.pathologist@example.org")
    await page.get_by_label("First password").fill("a long first password")
    await page.get_by_label("Reviewer").check()
    await page.get_by_role("button", name="Create the user").click()
    await expect(page.locator("#discipline-error")).to_have_text("Is required for reviewers")
    await expect(page.get_by_label("Full name")).to_have_value("Dr. Noor Pathologist")
    await page.get_by_label("First password").fill("a long first password")
    await page.get_by_label("Discipline").select_option("pathology")
    await page.get_by_role("button", name="Create the user").click()
    await expect(page.get_by_test_id("flash")).to_have_text(
        "User noor.pathologist@example.org created. They can sign in now."
    )
    await expect(page.locator("tbody tr", has_text="Dr. Noor Pathologist")).to_contain_text("Pathology")
    await tab.shot("users", tablet=True)
    assert tab.problems == []
