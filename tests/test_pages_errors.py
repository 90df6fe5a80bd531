"""Errors a browser meets are pages with the site's navigation; API clients keep the contract's JSON."""

from __future__ import annotations

import re

import asyncpg
import httpx

from tests.browser.scenarios import meeting_of
from tests.browser.support import page_client, text_of
from tests.care_plan_helpers import consolidate, discussed_case
from tests.factories import Factory

# What a browser sends when it navigates to an address.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


def assert_error_page_with_navigation(response: httpx.Response, status: int, name: str) -> None:
    """An HTML error page of this status whose header shows the signed-in user and the main menu."""
    where = f"{response.request.url.path} -> {response.status_code}"
    assert response.status_code == status, where
    assert response.headers["content-type"].startswith("text/html"), where
    assert 'data-testid="error-page"' in response.text or 'data-testid="being-prepared"' in response.text
    assert '<nav class="site-nav" aria-label="Main">' in response.text, where
    assert f'data-testid="user-name">{name}<' in response.text, where
    assert re.search(r'name="_csrf_token" value="[^"]+"', response.text), "sign-out needs its token"


async def test_malformed_ids_unknown_pages_and_wrong_methods_show_the_error_page_with_navigation(
    server: str, api: Factory
) -> None:
    presenter = await api.user("presenter", name="Dr. Pia Presenter")
    async with page_client(server, presenter) as browser:
        await browser.get("/")  # the CSRF cookie every signed-in browser has
        malformed = await browser.get("/cases/not-a-uuid", headers=BROWSER)
        unknown = await browser.get("/no-such-page", headers=BROWSER)
        wrong_method = await browser.get(f"/meetings/{presenter.id}/start", headers=BROWSER)
        denied = await browser.get("/admin/users", headers=BROWSER)
        missing = await browser.get("/cases/00000000-0000-4000-8000-000000000000", headers=BROWSER)
        bad_query = await browser.get("/cases?status=nonsense", headers=BROWSER)
        api_address = await browser.get("/api/v1/cases/not-a-uuid", headers=BROWSER)
    for response, status in (
        (malformed, 404),
        (unknown, 404),
        (wrong_method, 405),
        (denied, 403),
        (missing, 404),
        (bad_query, 400),
        (api_address, 404),
    ):
        assert_error_page_with_navigation(response, status, "Dr. Pia Presenter")
    assert "There is no such page." in text_of(malformed)
    assert "This page cannot be used that way." in text_of(wrong_method)


async def test_api_clients_keep_the_json_errors_of_the_contract(server: str, api: Factory) -> None:
    presenter = await api.user("presenter")
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        by_token = await client.get("/api/v1/cases/not-a-uuid", headers=presenter.headers)
        asking_json = await client.get("/cases/not-a-uuid", headers=JSON)
        wrong_method = await client.delete("/api/v1/me", headers=presenter.headers)
        denied = await client.get("/api/v1/users", headers=presenter.headers)
    assert by_token.status_code == 404 and by_token.json() == {"status_code": 404, "detail": "Not Found"}
    assert asking_json.status_code == 404 and asking_json.json()["status_code"] == 404
    assert wrong_method.status_code == 405 and wrong_method.json()["status_code"] == 405
    assert denied.status_code == 403 and denied.json()["status_code"] == 403


async def test_a_visitor_without_a_session_sees_the_error_page_without_navigation(server: str) -> None:
    async with page_client(server) as visitor:
        unknown = await visitor.get("/cases/not-a-uuid", headers=BROWSER)
    assert unknown.status_code == 404 and "There is no such page." in text_of(unknown)
    assert 'aria-label="Main"' not in unknown.text


async def test_a_document_still_being_rendered_is_a_page_that_reloads_itself(
    server: str, api: Factory
) -> None:
    team = await api.team()
    for_browser, for_client = await meeting_of(api, team), await meeting_of(api, team)
    async with page_client(server, team.coordinator) as browser:
        await browser.get("/")
        preparing = await browser.get(f"/api/v1/meetings/{for_browser['id']}/agenda.pdf", headers=BROWSER)
    assert_error_page_with_navigation(preparing, 503, team.coordinator.full_name)
    assert preparing.headers["retry-after"] == "2"
    assert '<meta http-equiv="refresh" content="2">' in preparing.text
    assert "The agenda PDF is being prepared. This page reloads by itself" in text_of(preparing)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        answer = await client.get(
            f"/api/v1/meetings/{for_client['id']}/agenda.pdf", headers=team.coordinator.headers
        )
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert answer.json()["detail"] == "The agenda PDF is being prepared; retry in a few seconds"


async def test_the_error_page_keeps_the_inbox_badge(server: str, api: Factory, pool: asyncpg.Pool) -> None:
    team = await api.team()
    case, _ = await discussed_case(api, team)
    await consolidate(pool, case["id"])  # the presenter is told the draft is ready
    async with page_client(server, team.presenter) as browser:
        await browser.get("/")
        for path in ("/no-such-page", "/admin/users", "/cases/not-a-uuid"):  # before and inside a handler
            response = await browser.get(path, headers=BROWSER)
            assert response.status_code in (403, 404), path
            badge = re.search(r'data-testid="unread-badge">(\d+)<', response.text)
            assert badge is not None and badge[1] == "1", path
