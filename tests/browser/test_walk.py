"""Every page, for every role, in a real browser: no console error, no failed request, no serious or
critical accessibility violation (axe-core), nothing sideways at 390 px; screenshots as artifacts.

The pages are read from the app's routes (every GET route that serves HTML), so a new page is walked
as soon as it exists; its path parameters are filled from the seeded records in `PARAMETERS`, and a
page with a parameter nobody declared there fails the walk until someone says how to fill it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.enums import MediaType
from litestar.response import Template
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response

from tests.app_routes import http_routes
from tests.browser.scenarios import draft_care_plan
from tests.browser.support import ARTIFACTS
from tests.factories import PASSWORD, Actor, Factory
from tests.meeting_room import meeting_to_run, start_with_everyone_present

pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff0d0a2db40000000049454e44ae426082"
)
# GET routes that serve HTML but are not pages: fragments a page fetches, and the API docs' own router.
NOT_PAGES = {
    "/cases/new/biomarker-row": "a row of the case form, fetched by htmx",
    "/cases/new/treatment-row": "a row of the case form, fetched by htmx",
    "/cases/new/comorbidity-row": "a row of the case form, fetched by htmx",
    "/api/v1/schema/{path:str}": "Litestar's dispatch to the API docs pages, walked by their own paths",
    "/api/v1/schema": "the default API docs page, walked as /api/v1/schema/swagger",
    "/auth/oidc/signed-out": "exists with single sign-on only; tests/browser/test_sso.py opens it",
}
# Routes that answer HTML without declaring it (they also serve other formats or build a Response).
HTML_RESPONSES = {"/api/v1/meetings/{meeting_id:uuid}/agenda.html"}
# Addresses visited on purpose for their error page (with the site's navigation).
ERROR_PAGES = {"/cases/not-a-uuid": 404, "/no-such-page": 404}
# Pages we serve but do not write (Swagger UI and ReDoc, vendored): walked once, for console errors
# and failed requests; axe's findings there are theirs to fix (and ReDoc takes axe half a minute).
THIRD_PARTY = {"/api/v1/schema/swagger", "/api/v1/schema/redoc"}
# Statuses a page may answer a role that may not use it: the error page, walked like any page.
REFUSALS = {403, 404, 409}
# Pages also looked at as a 390 px phone shows them, by the roles that use them most there.
PHONE_PAGES = (
    "/",
    "/cases",
    "/cases/new",
    "/cases/{case_id:uuid}",
    "/cases/{case_id:uuid}/care-plan",
    "/cases/{case_id:uuid}/recommendation",
    "/meetings",
    "/meetings/{meeting_id:uuid}",
    "/meetings/{meeting_id:uuid}/present",
    "/meetings/{meeting_id:uuid}/participants",
    "/api/v1/meetings/{meeting_id:uuid}/agenda.html",
    "/api/v1/cases/{case_id:uuid}/care-plan.html",
    "/reports/quality",
)
PHONE_ROLES = ("chair", "coordinator")
PHONE_WIDTH = 390
SERIOUS = ("serious", "critical")


@dataclass
class Seeded:
    """The records the walk fills path parameters from, and who signs in for each role."""

    actors: dict[str, Actor]
    ids: dict[str, str]


# Each path parameter name and the seeded record that fills it.
PARAMETERS: dict[str, Callable[[Seeded], str]] = {
    "case_id": lambda seeded: seeded.ids["case"],
    "meeting_id": lambda seeded: seeded.ids["meeting"],
    "attachment_id": lambda seeded: seeded.ids["attachment"],
    "user_id": lambda seeded: seeded.ids["user"],
    "board_id": lambda seeded: seeded.ids["board"],
    "version": lambda seeded: "1",  # the first care plan version of the case
    "series_id": lambda seeded: seeded.ids["series"],
}
# Query strings a page needs to be more than a refused address.
QUERIES = {
    "/cases/{case_id:uuid}/care-plan/diff": "?from=1&to=1",  # the seed has one version
}


def html_get_routes() -> list[str]:
    """The app's GET routes that serve an HTML page (templates, HTML responses), fragments aside."""
    found = []
    for route in http_routes():
        if route.path in NOT_PAGES:
            continue
        for handler in route.route_handlers:
            returns = handler.parsed_fn_signature.return_type.annotation
            serves_html = returns is Template or handler.media_type == MediaType.HTML
            if "GET" in handler.http_methods and (serves_html or route.path in HTML_RESPONSES):
                found.append(route.path)
    return sorted(set(found))


def fill(path: str, seeded: Seeded) -> str:
    """The route with each path parameter filled from its seeded record; fails for an unknown one."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PARAMETERS:
            pytest.fail(f"{path}: no seeded record fills {{{name}}}; add one to PARAMETERS in {__file__}")
        return PARAMETERS[name](seeded)

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path) + QUERIES.get(path, "")


async def seed(api: Factory) -> Seeded:
    """A meeting in progress with three cases: the first decided, its care plan drafted, a document
    attached; a weekly series of the same board; and an admin besides the board's team."""
    run = await meeting_to_run(api)
    team = run.team
    await start_with_everyone_present(api, run)
    case_id = run.cases[0]["id"]
    await api.ok(api.decide(team.chair, case_id), 200)
    await draft_care_plan(api.pool, case_id)
    attachment = await api.ok(
        api.client.post(
            f"/cases/{case_id}/attachments",
            data={"kind": "imaging_report"},
            files={"file": ("scan.png", PNG, "image/png")},
            headers=team.presenter.headers,
        ),
        201,
    )
    series = await api.series(
        team.coordinator,
        run.meeting["board_id"],
        team.participants,
        starts_on=(date.today() + timedelta(days=14)).isoformat(),
        start_time="08:00",
        horizon_days=21,
    )
    actors = {
        "admin": await api.user("admin", name="Dr. Walk Admin"),
        "coordinator": team.coordinator,
        "presenter": team.presenter,
        "reviewer": team.surgeon,
        "chair": team.chair,
    }
    ids = {
        "case": case_id,
        "meeting": run.meeting["id"],
        "board": run.meeting["board_id"],
        "attachment": attachment["id"],
        "user": str(team.presenter.id),
        "series": series["id"],
    }
    return Seeded(actors=actors, ids=ids)


@dataclass
class Visit:
    """What one page showed: its status and everything that went wrong on it."""

    status: int | None = None
    console: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Walker:
    """One signed-in browser tab that notes console errors and failed requests of the page it shows."""

    def __init__(self, page: Page, role: str) -> None:
        self.page, self.role = page, role
        self.visit = Visit()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.visit.problems.append(f"page error: {error}"))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.visit.console.append(message.text)

    def _response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.request.frame == self.page.main_frame:
            return  # the page itself: its status is judged by the walk
        if response.status >= 400:
            self.visit.problems.append(f"{response.status} {response.request.method} {response.url}")

    def _failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # cut short by leaving the page (a live stream, the icon): the server did not fail
        self.visit.problems.append(f"failed {request.method} {request.url}: {request.failure}")

    async def open(self, path: str, *, axe: bool = True) -> Visit:
        """Open a page and check it; what went wrong is in the visit."""
        self.visit = Visit()
        response = await self.page.goto(path, wait_until="load")
        self.visit.status = response.status if response else None
        await self.page.wait_for_timeout(150)  # let htmx connect its live parts
        # Chromium reports an error page's own status in the console; that page was visited on purpose.
        own_status = f"the server responded with a status of {self.visit.status} "
        self.visit.problems.extend(
            f"console: {text}"
            for text in self.visit.console
            if not (self.visit.status in REFUSALS and own_status in text)
        )
        if axe:
            self.visit.problems.extend(f"axe {violation}" for violation in await self.axe_violations())
        return self.visit

    async def axe_violations(self) -> list[str]:
        """The serious and critical accessibility violations axe-core finds on the page."""
        if not await self.page.evaluate("typeof window.axe !== 'undefined'"):
            await self.page.evaluate(AXE.read_text())  # through DevTools: the page's CSP does not apply
        results: dict[str, Any] = await self.page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        return [
            f"{v['impact']} {v['id']}: {v['help']} at {json.dumps([n['target'] for n in v['nodes'][:3]])}"
            for v in results["violations"]
            if v["impact"] in SERIOUS
        ]

    async def shot(self, name: str) -> None:
        """Save test-artifacts/walk-<role>-<name>.png."""
        path = str(ARTIFACTS / f"walk-{self.role}-{name}.png")
        await self.page.screenshot(path=path, full_page=True, timeout=45_000)

    async def sideways_at_phone_width(self, name: str) -> int:
        """How wide the page is at 390 px (more means it scrolls sideways); saves the phone view."""
        await self.page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        width = int(await self.page.evaluate("document.documentElement.scrollWidth"))
        await self.page.screenshot(path=str(ARTIFACTS / f"walk-{self.role}-{name}-390.png"), full_page=True)
        await self.page.set_viewport_size({"width": 1280, "height": 800})
        return width


def slug(path: str) -> str:
    """A file name for a page's screenshot."""
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"\{(\w+)(?::\w+)?\}", r"\1", path).lower()).strip("-") or "home"


async def signed_in(chromium: Browser, server: str, role: str, actor: Actor) -> Walker:
    """A tab signed in through the form."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    await page.goto("/login")
    await page.get_by_label("Email").fill(actor.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{server}/")
    return Walker(page, role)


async def test_every_page_for_every_role_is_clean_accessible_and_fits_a_phone(
    chromium: Browser, server: str, api: Factory
) -> None:
    routes = html_get_routes()
    seeded = await seed(api)
    pages = {route: fill(route, seeded) for route in routes}
    problems: list[str] = []
    opened_by_someone: set[str] = set()
    for role, actor in seeded.actors.items():
        walker = await signed_in(chromium, server, role, actor)
        try:
            for route, path in pages.items():
                if route in THIRD_PARTY and role != "admin":
                    continue
                visit = await walker.open(path, axe=route not in THIRD_PARTY)
                if visit.status == 200:
                    opened_by_someone.add(route)
                    await walker.shot(slug(route))
                elif visit.status not in REFUSALS:
                    problems.append(f"{role} {path}: status {visit.status}")
                elif not await walker.page.get_by_test_id("error-page").count():
                    problems.append(f"{role} {path}: {visit.status} without the error page")
                problems.extend(f"{role} {path}: {problem}" for problem in visit.problems)
            for path, status in ERROR_PAGES.items():
                visit = await walker.open(path)
                navigation = await walker.page.get_by_role("navigation", name="Main").count()
                if visit.status != status or not navigation:
                    problems.append(f"{role} {path}: {visit.status}, expected the {status} page with a menu")
                problems.extend(f"{role} {path}: {problem}" for problem in visit.problems)
                await walker.shot(f"error-{status}")
            if role in PHONE_ROLES:
                for route in PHONE_PAGES:
                    await walker.open(pages[route], axe=False)
                    width = await walker.sideways_at_phone_width(slug(route))
                    if width > PHONE_WIDTH:
                        problems.append(f"{role} {pages[route]}: {width} px wide at {PHONE_WIDTH} px")
        finally:
            await walker.page.context.close()
    problems.extend(f"no role could open {route}" for route in sorted(set(routes) - opened_by_someone))
    assert problems == [], "\n".join(problems)
