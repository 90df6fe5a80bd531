"""Health probes, the sign-in and home pages, and the security headers on every response."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD, Actor, Factory
from tumorboard.web import SESSION_COOKIE

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def web(server: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the site root that shows redirects instead of following them and keeps no cookies."""
    async with httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30) as client:
        yield client


class Forms(HTMLParser):
    """The forms of a page and the names of their inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inputs: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(attributes)
        elif tag == "input" and attributes.get("name"):
            self.inputs[str(attributes["name"])] = attributes


def parse_forms(page: str) -> Forms:
    parser = Forms()
    parser.feed(page)
    return parser


def session_set_cookie(response: httpx.Response) -> str | None:
    """The raw Set-Cookie header of the session cookie, if the response sets it."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{SESSION_COOKIE}="):
            return header
    return None


def cookie_header(response: httpx.Response) -> dict[str, str]:
    """A Cookie request header carrying the session a sign-in response set."""
    raw = session_set_cookie(response)
    assert raw is not None, response.headers
    return {"Cookie": raw.split(";", 1)[0]}


async def sign_in(web: httpx.AsyncClient, actor: Actor, password: str = PASSWORD) -> httpx.Response:
    return await web.post("/login", data={"email": actor.email, "password": password})


def assert_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert "default-src" in response.headers.get("content-security-policy", ""), where
    assert response.headers.get("x-content-type-options") == "nosniff", where


# ---------------------------------------------------------------------------------------------------------
# Health


async def test_liveness(web: httpx.AsyncClient) -> None:
    response = await web.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readiness_checks_database_and_redis(web: httpx.AsyncClient) -> None:
    response = await web.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


# ---------------------------------------------------------------------------------------------------------
# Sign in, home, sign out


async def test_login_page_is_a_form_with_email_and_password(web: httpx.AsyncClient) -> None:
    response = await web.get("/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse_forms(response.text)
    assert any(str(form.get("method", "")).lower() == "post" for form in page.forms)
    assert {"email", "password"} <= set(page.inputs)
    assert page.inputs["password"]["type"] == "password"
    assert session_set_cookie(response) is None


async def test_good_credentials_start_a_session_and_show_the_users_work(
    web: httpx.AsyncClient, api: Factory
) -> None:
    presenter = await api.user("presenter", discipline="medical_oncology", name="Dr. Amelia Hartwell")
    case = await api.case(presenter, disease_site="colorectal")
    stranger = await api.user("presenter")
    foreign = await api.case(stranger)

    response = await sign_in(web, presenter)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    raw = session_set_cookie(response)
    assert raw is not None
    attributes = [part.strip().lower() for part in raw.split(";")]
    assert "httponly" in attributes
    assert any(a in ("samesite=lax", "samesite=strict") for a in attributes), raw
    assert all(not a.startswith("max-age=0") for a in attributes), raw

    home = await web.get("/", headers=cookie_header(response))
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    text = html.unescape(home.text)
    assert "Dr. Amelia Hartwell" in text
    assert case["patient"]["family_name"] in text and case["patient"]["given_name"] in text
    assert "Colorectal" in text
    assert "Submitted" in text
    assert foreign["patient"]["family_name"] not in text


async def test_bad_password_shows_the_form_again_with_an_error(web: httpx.AsyncClient, api: Factory) -> None:
    presenter = await api.user("presenter")
    response = await sign_in(web, presenter, password="not the password")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Invalid email or password" in response.text
    page = parse_forms(response.text)
    assert page.inputs["email"]["value"] == presenter.email
    assert page.inputs["password"].get("value") in (None, "")
    assert session_set_cookie(response) is None

    unknown = await web.post("/login", data={"email": "nobody@example.org", "password": PASSWORD})
    assert unknown.status_code == 401
    assert session_set_cookie(unknown) is None


async def test_home_without_a_session_redirects_to_login(web: httpx.AsyncClient) -> None:
    response = await web.get("/")
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login"

    forged = await web.get("/", headers={"Cookie": f"{SESSION_COOKIE}=not-a-session"})
    assert forged.status_code in (302, 303, 307)
    assert forged.headers["location"] == "/login"


async def test_logout_ends_the_session(web: httpx.AsyncClient, api: Factory) -> None:
    presenter = await api.user("presenter")
    session = cookie_header(await sign_in(web, presenter))
    assert (await web.get("/", headers=session)).status_code == 200

    response = await web.post("/logout", headers=session)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cleared = session_set_cookie(response)
    assert cleared is not None and "max-age=0" in cleared.lower()

    # The old cookie no longer works, even if the browser kept it.
    after = await web.get("/", headers=session)
    assert after.status_code in (302, 303, 307)
    assert after.headers["location"] == "/login"
    assert (await web.get("/api/v1/me", headers=session)).status_code == 401


def max_age(set_cookie: str) -> int | None:
    for part in set_cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age":
            return int(value)
    return None


async def test_an_active_session_is_not_cut_off_by_the_cookie_lifetime(
    web: httpx.AsyncClient, api: Factory
) -> None:
    presenter = await api.user("presenter")
    signed_in = await sign_in(web, presenter)
    login_cookie = session_set_cookie(signed_in)
    assert login_cookie is not None
    home = await web.get("/", headers=cookie_header(signed_in))
    assert home.status_code == 200
    # Either the browser keeps the cookie for its session (the server enforces the idle timeout), or
    # each page the user opens renews the cookie's lifetime along with the server-side expiry.
    renewed = session_set_cookie(home)
    kept_for_the_browser_session = max_age(login_cookie) is None and "expires=" not in login_cookie.lower()
    renewed_on_use = renewed is not None and (max_age(renewed) or 0) > 0
    assert kept_for_the_browser_session or renewed_on_use


# ---------------------------------------------------------------------------------------------------------
# Security headers


async def test_every_response_carries_the_security_headers(web: httpx.AsyncClient, api: Factory) -> None:
    presenter = await api.user("presenter")
    good = await sign_in(web, presenter)
    session = cookie_header(good)
    responses = [
        await web.get("/health/live"),
        await web.get("/health/ready"),
        await web.get("/login"),
        good,
        await sign_in(web, presenter, password="wrong"),
        await web.get("/"),
        await web.get("/", headers=session),
        await web.get("/no-such-page"),
        await web.get("/api/v1/me"),
        await web.get("/api/v1/me", headers=presenter.headers),
        await web.get("/api/v1/cases/00000000-0000-4000-8000-000000000000", headers=presenter.headers),
        await web.post(
            "/api/v1/boards", json={"name": "x", "disease_sites": ["breast"]}, headers=presenter.headers
        ),
        await web.delete("/health/live"),
        await web.post("/logout", headers=session),
    ]
    assert sorted({r.status_code for r in responses}) == [200, 303, 401, 403, 404, 405]
    for response in responses:
        assert_security_headers(response)


# ---------------------------------------------------------------------------------------------------------
# A real browser


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium")
async def test_presenter_signs_in_with_a_real_browser(server: str, api: Factory) -> None:
    from playwright.async_api import async_playwright, expect

    presenter = await api.user("presenter", discipline="medical_oncology", name="Dr. Beatrice Okafor")
    case = await api.case(presenter, disease_site="thoracic")
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            # Anything the page fails to load (the browser's own favicon request aside) shows a broken page.
            page.on(
                "response",
                lambda r: (
                    errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{server}/login")
            await page.fill("input[name=email]", presenter.email)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{server}/")

            await expect(page.get_by_test_id("user-name")).to_have_text("Dr. Beatrice Okafor")
            row = page.locator("tbody tr", has_text=case["patient"]["family_name"])
            await expect(row).to_have_count(1)
            await expect(row).to_contain_text("Thoracic")
            await expect(row).to_contain_text("Submitted")
            await expect(row).to_contain_text(case["patient"]["mrn"])
            await page.screenshot(path=str(ARTIFACTS / "home-presenter.png"), full_page=True)

            cookies = {c["name"]: c for c in await page.context.cookies()}
            assert cookies[SESSION_COOKIE]["httpOnly"] is True
            assert await page.evaluate("document.cookie") == ""
        finally:
            await browser.close()
    assert errors == [], errors
