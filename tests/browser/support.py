"""Helpers for page tests: a cookie-keeping form client over HTTP, and Debian's Chromium under Playwright."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.factories import PASSWORD, Actor
from tumorboard.pages.security import CSRF_COOKIE, CSRF_FIELD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FormData = Mapping[str, str] | Sequence[tuple[str, str]]


class PageClient:
    """One signed-in browser, as far as HTTP goes: it keeps its cookies and sends the CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def sign_in(self, actor: Actor, password: str = PASSWORD) -> httpx.Response:
        """Post the sign-in form."""
        return await self.client.post("/login", data={"email": actor.email, "password": password})

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """Open a page."""
        return await self.client.get(path, **kwargs)

    async def csrf_token(self) -> str:
        """The token page forms carry (any page sets it)."""
        if CSRF_COOKIE not in self.client.cookies:
            await self.client.get("/")
        return self.client.cookies[CSRF_COOKIE]

    async def post(self, path: str, data: FormData = (), *, csrf: bool = True) -> httpx.Response:
        """Submit a form, with the CSRF token unless told not to."""
        fields: dict[str, list[str]] = {}
        for name, value in data.items() if isinstance(data, Mapping) else data:
            fields.setdefault(name, []).append(value)
        if csrf:
            fields[CSRF_FIELD] = [await self.csrf_token()]
        return await self.client.post(path, data=fields)


@asynccontextmanager
async def page_client(server: str, actor: Actor | None = None) -> AsyncIterator[PageClient]:
    """A page client, signed in as the actor when one is given."""
    async with httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30) as client:
        pages = PageClient(client)
        if actor is not None:
            response = await pages.sign_in(actor)
            assert response.status_code == 303, response.text
        yield pages


def text_of(response: httpx.Response) -> str:
    """The page's text with tags removed and entities decoded, whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(without_tags))


def flash_of(response: httpx.Response) -> str | None:
    """The confirmation message a page shows, if any."""
    match = re.search(r'data-testid="flash">([^<]*)<', response.text)
    return html.unescape(match.group(1)) if match else None


def input_value(response: httpx.Response, name: str) -> str | None:
    """The value attribute of the input with this name."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', response.text)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def field_error(response: httpx.Response, name: str) -> str | None:
    """The error message shown under a field."""
    field_id = name.replace(".", "-")
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', response.text)
    return html.unescape(match.group(1)) if match else None
