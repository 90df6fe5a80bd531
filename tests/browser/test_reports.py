"""The quality report and the follow-up form in a real browser: charts drawn under the strict CSP,
pickers that work without script, and the presenter's follow-up, with screenshots as artifacts."""

from __future__ import annotations

import asyncpg
import pytest
from playwright.async_api import expect

from tests.browser.conftest import SignIn
from tests.care_plan_helpers import signed_case
from tests.factories import Factory
from tests.report_seed import seed_march

pytestmark = pytest.mark.slow


async def test_a_coordinator_reads_the_quality_report(
    sign_in: SignIn, api: Factory, pool: asyncpg.Pool
) -> None:
    seeded = await seed_march(api, pool)
    tab = await sign_in(seeded.coordinator, "coordinator")
    page = tab.page
    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Board quality report")
    await page.get_by_label("From", exact=True).fill("2026-03-01")
    await page.get_by_label("To (included)", exact=True).fill("2026-03-31")
    await page.get_by_role("button", name="Show the report").click()

    await expect(page.get_by_test_id("figure-cases_presented")).to_contain_text("8")
    await expect(page.get_by_test_id("figure-prospective")).to_contain_text("62.5%")
    chart = page.get_by_role("img", name="Attendance by specialty per meeting")
    await expect(chart).to_be_visible()
    assert (await chart.bounding_box() or {}).get("height", 0) > 100  # drawn, not blocked by the CSP
    await expect(page.get_by_role("img", name="Cases per meeting")).to_be_visible()
    await page.get_by_test_id("chart-cases").get_by_text("Data table").click()
    await expect(page.get_by_test_id("chart-cases").get_by_role("row", name="9 Mar")).to_contain_text("2")
    await tab.shot("quality-report", tablet=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    width = await page.evaluate("document.documentElement.scrollWidth")
    await tab.shot("quality-report-390")
    assert width <= 390, width
    assert tab.problems == []


async def test_a_presenter_records_the_follow_up(sign_in: SignIn, api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case = await signed_case(api, pool, team)
    tab = await sign_in(team.presenter, "presenter")
    page = tab.page
    await page.goto(f"/cases/{case['id']}/care-plan")
    await page.get_by_role("link", name="Implementation follow-up").click()
    await page.get_by_label("Partly: some of the plan was carried out").check()
    await page.get_by_role("button", name="Record the follow-up").click()
    await expect(page.locator("#reason-error")).to_have_text(
        "Is required unless the plan was fully implemented"
    )
    await page.get_by_label("Reason, when not fully implemented").select_option("comorbidity_or_fitness")
    await page.get_by_role("button", name="Record the follow-up").click()
    await expect(page.get_by_test_id("flash")).to_have_text(
        "Follow-up recorded for care plan version 1: partly implemented."
    )
    await expect(page.get_by_test_id("follow-up-recorded")).to_have_text("Partly implemented")
    await tab.shot("follow-up", tablet=True)
    assert tab.problems == []
