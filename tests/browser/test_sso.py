"""Single sign-on in a real browser: the button on /login, the provider's page, back home signed in,
and signing out there too."""

from __future__ import annotations

import re
import uuid

import asyncpg
import pytest
from playwright.async_api import Browser, expect

from tests.browser.support import ARTIFACTS
from tests.sso_support import PROVIDER_NAME, IdentityProvider

pytestmark = pytest.mark.slow


async def test_a_clinician_signs_in_and_out_with_the_hospital_account(
    chromium: Browser, sso_server: str, identity_provider: IdentityProvider, pool: asyncpg.Pool
) -> None:
    subject, email = f"sub-{uuid.uuid4().hex}", f"sso-{uuid.uuid4().hex[:8]}@hospital.test"
    identity_provider.person(subject, email=email, name="Dr. Ama Mensah", groups=["tb-coordinators"])
    context = await chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=sso_server)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    authorize_requests: list[str] = []
    page.on(
        "request",
        lambda request: authorize_requests.append(request.url) if "/authorize" in request.url else None,
    )
    try:
        await page.goto("/meetings")  # a protected page: sign-in first, then back here
        await expect(page).to_have_url(re.compile(r"/login\?next="))
        await page.screenshot(path=str(ARTIFACTS / "sso-login.png"), full_page=True)
        await page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()

        await page.get_by_placeholder("sub").first.fill(subject)  # the provider's own sign-in page
        await page.get_by_role("button", name="Authorize").click()

        await expect(page).to_have_url(f"{sso_server}/meetings")
        await expect(page.get_by_test_id("user-name")).to_have_text("Dr. Ama Mensah")
        assert any("code_challenge_method=S256" in url for url in authorize_requests)
        roles = await pool.fetchval("SELECT roles FROM app_user WHERE email = $1", email)
        assert roles == ["coordinator"]

        await page.get_by_role("button", name="Sign out").click()
        await page.get_by_role("button", name="End session").click()  # the provider's page, reached by itself
        await expect(page).to_have_url(f"{sso_server}/login")
        await expect(page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}")).to_be_visible()
        await page.goto("/")
        await expect(page).to_have_url(re.compile(r"/login"))  # the session is over
    finally:
        await context.close()
