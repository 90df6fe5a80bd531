"""In a real browser: the live meeting page drops its patient data when the session ends, its event
stream closes, and the API documentation renders under our own Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import SignIn
from tests.browser.scenarios import case_on_a_meeting
from tests.browser.support import CHROMIUM
from tests.factories import Factory, eventually

pytestmark = pytest.mark.slow


def streams_of(api: Factory, user_id: object, expected: int) -> Callable[[], Awaitable[bool]]:
    """A check that the user has this many live streams open."""

    async def check() -> bool:
        count = await api.pool.fetchval("SELECT count(*) FROM live_stream WHERE user_id = $1", user_id)
        return bool(count == expected)

    return check


async def test_signing_out_elsewhere_clears_the_live_meeting_page(sign_in: SignIn, api: Factory) -> None:
    team, meeting, case = await case_on_a_meeting(api)
    family_name, mrn = case["patient"]["family_name"], case["patient"]["mrn"]
    tab = await sign_in(team.chair, "chair")
    page = tab.page
    await page.goto(f"/meetings/{meeting['id']}")
    await expect(page.get_by_test_id("live-agenda")).to_contain_text(family_name)
    await eventually(streams_of(api, team.chair.id, 1))

    other = await sign_in(team.chair, "chair-elsewhere")
    await other.page.goto("/account")
    await other.page.get_by_text("Sign out everywhere…").click()
    await other.page.get_by_role("button", name="Sign out everywhere").click()
    await expect(other.page.get_by_test_id("flash")).to_have_text("You have signed out everywhere.")

    await expect(page.get_by_test_id("session-ended")).to_be_visible(timeout=10_000)
    html = await page.content()
    assert family_name not in html and mrn not in html
    await expect(page.get_by_role("link", name="Sign in again")).to_be_visible()
    await tab.shot("session-ended")
    # The stream closed and is no longer counted; the page does not try to reconnect.
    await eventually(streams_of(api, team.chair.id, 0), within=10)
    assert tab.problems == [] and other.problems == []


async def test_the_live_page_clears_itself_when_the_session_expires(sign_in: SignIn, api: Factory) -> None:
    team, meeting, case = await case_on_a_meeting(api)
    tab = await sign_in(team.surgeon, "reviewer")
    # The session's absolute end comes in a few seconds.
    await api.pool.execute(
        "UPDATE access_token SET ends_at = now() + interval '4 seconds',"
        " expires_at = now() + interval '4 seconds' WHERE user_id = $1 AND kind = 'session'",
        team.surgeon.id,
    )
    await tab.page.goto(f"/meetings/{meeting['id']}")
    await expect(tab.page.get_by_test_id("live-agenda")).to_contain_text(case["patient"]["family_name"])
    await expect(tab.page.get_by_test_id("session-ended")).to_be_visible(timeout=15_000)
    assert case["patient"]["family_name"] not in await tab.page.content()
    assert tab.problems == []


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/api/v1/schema/swagger", ".swagger-ui .info"), ("/api/v1/schema/redoc", "#redoc h1")],
)
async def test_the_api_documentation_renders_under_our_csp(
    chromium: Browser, server: str, path: str, rendered: str
) -> None:
    assert CHROMIUM.exists()
    context = await chromium.new_context(base_url=server)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = await page.goto(path)
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    await expect(page.locator(rendered).first).to_contain_text("Tumorboard", timeout=20_000)
    await expect(
        page.get_by_text("CreateToken").or_(page.get_by_text("/api/v1/auth/token")).first
    ).to_be_attached()
    assert problems == []
    assert all(url.startswith(server) for url in requested), [
        u for u in requested if not u.startswith(server)
    ]
    await context.close()
