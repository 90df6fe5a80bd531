"""Health probes, the sign-in and home pages, and the security headers on every response."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import asyncpg
import httpx
import pytest

from tests.browser.support import flash_of, page_client
from tests.factories import PASSWORD, Actor, Factory
from tumorboard.web import SESSION_COOKIE


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
    assert response.status_code == 303
    assert response.headers["location"] == "/login"

    forged = await web.get("/", headers={"Cookie": f"{SESSION_COOKIE}=not-a-session"})
    assert forged.status_code == 303
    assert forged.headers["location"] == "/login"


async def test_logout_ends_the_session(server: str, web: httpx.AsyncClient, api: Factory) -> None:
    presenter = await api.user("presenter")
    async with page_client(server, presenter) as browser:
        session = {SESSION_COOKIE: browser.client.cookies[SESSION_COOKIE]}
        assert (await browser.get("/")).status_code == 200

        response = await browser.post("/logout")
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        cleared = session_set_cookie(response)
        assert cleared is not None and "max-age=0" in cleared.lower()
        assert response.headers["clear-site-data"] == '"cache", "storage"'
        signed_out = await browser.get("/login")
        assert flash_of(signed_out) == "You have signed out."

    # The old cookie no longer works, even if the browser kept it.
    cookie = {"Cookie": f"{SESSION_COOKIE}={session[SESSION_COOKIE]}"}
    after = await web.get("/", headers=cookie)
    assert after.status_code == 303
    assert after.headers["location"] == "/login"
    assert (await web.get("/api/v1/me", headers=cookie)).status_code == 401


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
        await web.post("/logout", headers=session),  # no CSRF token: refused
    ]
    assert sorted({r.status_code for r in responses}) == [200, 303, 401, 403, 404, 405]
    for response in responses:
        assert_security_headers(response)


# ---------------------------------------------------------------------------------------------------------
# Sessions, CSRF and the API


async def test_a_page_asked_for_before_signing_in_opens_after_it(
    server: str, web: httpx.AsyncClient, api: Factory
) -> None:
    presenter = await api.user("presenter")
    asked = await web.get("/cases/new")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=%2Fcases%2Fnew"
    form = await web.get(asked.headers["location"])
    assert 'name="next" value="/cases/new"' in form.text
    data = {"email": presenter.email, "password": PASSWORD}
    back = await web.post("/login", data={**data, "next": "/cases/new"})
    assert back.headers["location"] == "/cases/new"
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"):
        assert (await web.post("/login", data={**data, "next": elsewhere})).headers["location"] == "/"


async def test_each_sign_in_starts_a_new_session_and_ends_the_one_the_browser_had(
    server: str, web: httpx.AsyncClient, api: Factory
) -> None:
    presenter = await api.user("presenter")
    first = cookie_header(await sign_in(web, presenter))
    again = await web.post("/login", data={"email": presenter.email, "password": PASSWORD}, headers=first)
    second = cookie_header(again)
    assert second != first
    assert (await web.get("/", headers=second)).status_code == 200
    assert (await web.get("/", headers=first)).status_code == 303


async def test_a_sign_in_posted_from_another_site_is_refused(web: httpx.AsyncClient, api: Factory) -> None:
    presenter = await api.user("presenter")
    data = {"email": presenter.email, "password": PASSWORD}
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        refused = await web.post("/login", data=data, headers=headers)
        assert refused.status_code == 403
        assert session_set_cookie(refused) is None
    own = await web.post("/login", data=data, headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert own.status_code == 303


async def test_the_session_cookie_only_reads_through_the_api(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    coordinator = await api.user("coordinator")
    async with page_client(server, coordinator) as browser:
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["id"] == str(coordinator.id)
        board = {"name": "Cookie Board", "disease_sites": ["breast"]}
        refused = await browser.client.post("/api/v1/boards", json=board)
        assert refused.status_code == 401
        # The same change with the bearer token is fine.
        allowed = await browser.client.post("/api/v1/boards", json=board, headers=coordinator.headers)
        assert allowed.status_code == 201
    assert await pool.fetchval("SELECT count(*) FROM board WHERE name = 'Cookie Board'") == 1


async def test_errors_on_pages_are_pages(server: str, api: Factory) -> None:
    presenter = await api.user("presenter")
    async with page_client(server, presenter) as browser:
        missing = await browser.get("/cases/00000000-0000-4000-8000-000000000000")
        malformed = await browser.get("/cases?status=nonsense")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert malformed.status_code == 400 and "nonsense" not in malformed.text
    for response in (missing, malformed):
        assert response.headers["content-type"].startswith("text/html")
        assert_security_headers(response)
