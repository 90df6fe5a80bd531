"""A chair runs a three-case meeting in presentation mode in a real browser, while a participant follows
on another screen and the presenter watches a case page; screenshots as artifacts."""

from __future__ import annotations

import subprocess

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import SignIn
from tests.factories import PASSWORD, Factory
from tests.meeting_room import meeting_to_run

pytestmark = pytest.mark.slow

# Every visible form control must have an accessible name from a label (or aria-label/labelledby).
UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
  .map((el) => el.name || el.id)
"""


async def _narrow(page: Page, path: str) -> None:
    """Look at the page as a 390 px phone does: nothing may stick out sideways."""
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.screenshot(path=path, full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_the_chair_runs_a_three_case_meeting_while_a_participant_follows(
    sign_in: SignIn, api: Factory, worker: subprocess.Popen[bytes]
) -> None:
    run = await meeting_to_run(api)
    team, meeting_id = run.team, run.meeting["id"]
    first, second, third = run.cases
    name = [f"{c['patient']['family_name']}, {c['patient']['given_name']}" for c in run.cases]

    chair_tab = await sign_in(team.chair, "meeting-chair")
    chair = chair_tab.page
    await chair.get_by_test_id("chair-section").get_by_role("link").first.click()
    await chair.get_by_role("link", name="Run it in presentation mode").click()
    await expect(chair.get_by_test_id("case-on-screen")).to_contain_text("The meeting has not started")
    await chair.get_by_role("button", name="Start the meeting").click()
    await expect(chair.get_by_test_id("flash")).to_have_text("Meeting started. Record who is present below.")
    attendance = chair.get_by_test_id("attendance-panel")
    for person in (team.chair, team.surgeon, team.radiation):
        await attendance.get_by_label(f"{person.full_name}: present").check()
    await attendance.get_by_role("button", name="Save attendance").click()
    await expect(chair.get_by_test_id("flash")).to_have_text("Attendance saved.")
    await expect(chair.get_by_test_id("quorum")).to_contain_text("Complete")

    # A participant follows on their own screen.
    follower_tab = await sign_in(team.surgeon, "meeting-participant")
    follower = follower_tab.page
    await follower.goto(f"/meetings/{meeting_id}")
    await follower.get_by_role("link", name="Follow it in presentation mode").click()
    on_screen = follower.get_by_test_id("case-on-screen")
    await expect(on_screen).to_contain_text("The chair has not put a case on screen yet.")

    # The presenter watches the first case's page.
    presenter_tab = await sign_in(team.presenter, "meeting-presenter")
    presenter = presenter_tab.page
    await presenter.goto(f"/cases/{first['id']}")
    await expect(presenter.get_by_test_id("where-it-stands")).to_contain_text("On the agenda")

    # First case: every recommendation agrees; the chair adopts the plan in one click.
    await chair.get_by_role("button", name="Present the first case").click()
    await expect(chair.get_by_test_id("case-on-screen")).to_contain_text(name[0])
    await expect(on_screen).to_contain_text(name[0], timeout=10_000)  # pushed live, no reload
    await expect(chair.get_by_test_id("agreement-summary")).to_have_text(
        "Every recommendation proposes the same plan."
    )
    await expect(chair.get_by_test_id("timer")).to_contain_text("Case 1 of 3")
    await chair_tab.shot("presentation-case-1")
    await follower_tab.shot("presentation-following")
    await chair.get_by_role("button", name="Adopt plan A").click()
    await expect(chair.get_by_test_id("flash")).to_contain_text("Decision recorded")
    await expect(chair.get_by_test_id("decision-on-screen")).to_contain_text(
        "Curative: Systemic therapy → Surgery → Radiation"
    )
    await expect(presenter.get_by_test_id("where-it-stands")).to_contain_text("Discussed", timeout=10_000)
    await expect(presenter.get_by_test_id("decision")).to_contain_text(
        "Systemic therapy → Surgery → Radiation"
    )
    await presenter_tab.shot("case-page-live")

    # Second case: one differing view; the chair defers it with a reason and the screen moves on.
    await chair.get_by_role("button", name="Next case").click()
    await expect(on_screen).to_contain_text(name[1], timeout=10_000)
    await expect(chair.get_by_test_id("agreement-summary")).to_contain_text(
        "Most recommendations propose plan A"
    )
    await expect(chair.locator(".rec-card.differs")).to_have_count(1)
    await chair_tab.shot("presentation-differing-view")
    await _narrow(chair, "test-artifacts/meeting-chair-presentation-390.png")
    assert await chair.evaluate(UNLABELLED_CONTROLS) == []
    await chair.get_by_test_id("defer-decision").locator("summary").click()
    await chair.get_by_label("Reason (for example the work-up the board asks for)").fill(
        "Breast MRI before deciding on surgery."
    )
    await chair.get_by_role("button", name="Defer the case").click()
    await expect(chair.get_by_test_id("flash")).to_contain_text("Deferred")
    await expect(chair.get_by_test_id("case-on-screen")).to_contain_text(name[2])
    await expect(on_screen).to_contain_text(name[2], timeout=10_000)

    # Third case: the recommendations are split; the chair edits the plan.
    edit = chair.get_by_test_id("edit-decision")
    await expect(edit).to_have_attribute("open", "")
    await edit.get_by_label("Intent").select_option("curative")
    await edit.get_by_label("Plan step 1").select_option("further_workup")
    await edit.get_by_label("Plan step 2").select_option("surgery")
    await edit.get_by_label("Plan step 3").select_option("")
    await edit.get_by_label("Decision summary").fill("PET-CT, then surgery if the nodes are clear.")
    await edit.get_by_label("Clinical trial status").select_option("not_considered")
    await chair_tab.shot("presentation-edit-decision")
    await edit.get_by_role("button", name="Record the decision").click()
    await expect(chair.get_by_test_id("flash")).to_contain_text("Decision recorded")
    await expect(chair.get_by_test_id("decision-on-screen")).to_contain_text("Further workup → Surgery")
    await expect(follower.get_by_test_id("decision-on-screen")).to_contain_text(
        "Further workup → Surgery", timeout=10_000
    )
    await expect(chair.get_by_test_id("present-head")).to_contain_text("2 of 2 decided · 1 deferred")
    await _narrow(follower, "test-artifacts/meeting-participant-presentation-390.png")
    assert await follower.evaluate(UNLABELLED_CONTROLS) == []

    # Close the meeting, then sign the first case's care plan with the password.
    await chair.locator("details.confirm summary", has_text="Close the meeting").click()
    await chair.get_by_role("button", name="Close the meeting").click()
    await expect(chair.get_by_test_id("flash")).to_have_text("Meeting closed.")
    await expect(chair.get_by_test_id("case-on-screen")).to_contain_text("The meeting is closed")
    await expect(on_screen).to_contain_text("The meeting is closed", timeout=10_000)
    for _ in range(40):  # the worker drafts the care plan from the decision
        await chair.goto(f"/cases/{first['id']}/care-plan")
        if await chair.get_by_role("button", name="Sign version 1").count():
            break
        await chair.wait_for_timeout(500)
    await expect(chair.get_by_text("Consensus", exact=False).first).to_be_visible()
    await chair.get_by_label("Your password").fill(PASSWORD)
    await chair.get_by_role("button", name="Sign version 1").click()
    await expect(chair.get_by_test_id("flash")).to_have_text(
        "Care plan version 1 signed. The case is finalized."
    )
    await chair_tab.shot("signed")

    deferral = await api.ok(
        api.client.get(f"/cases/{second['id']}/decisions", headers=team.presenter.headers), 200
    )
    assert [(d["outcome"], d["summary"]) for d in deferral] == [
        ("defer", "Breast MRI before deciding on surgery.")
    ]
    decided = await api.ok(api.client.get(f"/cases/{third['id']}", headers=team.presenter.headers), 200)
    assert decided["status"] == "discussed"
    assert chair_tab.problems == [] and follower_tab.problems == [] and presenter_tab.problems == []
