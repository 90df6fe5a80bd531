"""Browser fixtures: Debian's Chromium driven by Playwright, one context (one user) per page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from tests.browser.support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import PASSWORD, Actor

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    async_playwright = None  # type: ignore[assignment]


@dataclass
class UserPage:
    """A signed-in browser tab that remembers every error the page showed in its console."""

    page: Page
    role: str
    problems: list[str] = field(default_factory=list)

    async def shot(self, step: str, *, tablet: bool = False) -> None:
        """Save test-artifacts/<role>-<step>.png, and the tablet-width view when asked."""
        await self.page.screenshot(path=str(ARTIFACTS / f"{self.role}-{step}.png"), full_page=True)
        if tablet:
            await self.page.set_viewport_size({"width": 768, "height": 1024})
            await self.page.screenshot(path=str(ARTIFACTS / f"{self.role}-{step}-768.png"), full_page=True)
            await self.page.set_viewport_size({"width": 1280, "height": 800})


SignIn = Callable[[Actor, str], Awaitable[UserPage]]


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """One headless Chromium for the run; never a downloaded browser."""
    if async_playwright is None or not CHROMIUM.exists():
        pytest.skip("Playwright and Debian's chromium (/usr/bin/chromium) are needed for browser tests")
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def sign_in(chromium: Browser, server: str) -> AsyncIterator[SignIn]:
    """Open a tab for a user and sign in through the form, as a person would."""
    contexts = []

    async def open_as(actor: Actor, role: str) -> UserPage:
        context = await chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
        contexts.append(context)
        user_page = UserPage(await context.new_page(), role)
        page = user_page.page
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: user_page.problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                user_page.problems.append(f"console: {message.text}")
                if message.type == "error" and "status of 400" not in message.text
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                user_page.problems.append(f"{response.status} {response.url}")
                if response.status >= 400 and response.request.resource_type != "document"
                else None
            ),
        )
        await page.goto("/login")
        await page.get_by_label("Email").fill(actor.email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{server}/")
        return user_page

    yield open_as
    for context in contexts:
        await context.close()
