"""User administration pages."""

from __future__ import annotations

import asyncpg

from tests.browser.support import field_error, flash_of, input_value, page_client, text_of
from tests.factories import Factory


def user_form(**overrides: str) -> list[tuple[str, str]]:
    """A new-user form as a browser posts it."""
    fields = {
        "full_name": "Dr. Lena Radiologist",
        "email": "Lena.Radiologist@example.org",
        "password": "a long enough secret",
        "discipline": "radiology",
        **overrides,
    }
    return [*fields.items(), ("roles", "reviewer")]


async def test_an_admin_creates_a_user_who_can_then_sign_in(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    admin = await api.user("admin", name="Alex Admin")
    async with page_client(server, admin) as browser:
        listing = await browser.get("/admin/users")
        assert listing.status_code == 200 and "Alex Admin" in text_of(listing)
        created = await browser.post("/admin/users", user_form())
        assert created.status_code == 303
        shown = await browser.get(created.headers["location"])
        assert flash_of(shown) == "User lena.radiologist@example.org created. They can sign in now."
        assert "Dr. Lena Radiologist" in text_of(shown)
        duplicate = await browser.post("/admin/users", user_form())
        assert duplicate.status_code == 409
        assert "A user with this email already exists" in text_of(duplicate)
    row = await pool.fetchrow(
        "SELECT roles, discipline FROM app_user WHERE email = 'lena.radiologist@example.org'"
    )
    assert (row["roles"], row["discipline"]) == (["reviewer"], "radiology")
    async with page_client(server) as newcomer:
        signed_in = await newcomer.client.post(
            "/login", data={"email": "lena.radiologist@example.org", "password": "a long enough secret"}
        )
        assert signed_in.status_code == 303


async def test_the_user_form_marks_bad_fields_and_never_echoes_the_password(
    server: str, api: Factory
) -> None:
    admin = await api.user("admin")
    async with page_client(server, admin) as browser:
        refused = await browser.post(
            "/admin/users", user_form(email="not-an-email", password="short", discipline="")
        )
    assert refused.status_code == 400
    assert field_error(refused, "email") == "Is not in the expected format"
    assert field_error(refused, "password") == "Must be at least 12 characters"
    assert input_value(refused, "email") == "not-an-email"
    assert input_value(refused, "full_name") == "Dr. Lena Radiologist"
    assert input_value(refused, "password") == ""
    assert "short" not in refused.text


async def test_only_admins_manage_users_and_refusals_are_audited(
    server: str, api: Factory, pool: asyncpg.Pool
) -> None:
    coordinator = await api.user("coordinator")
    async with page_client(server, coordinator) as browser:
        listing = await browser.get("/admin/users")
        created = await browser.post("/admin/users", user_form())
    assert listing.status_code == 403 and created.status_code == 403
    assert "Not allowed" in text_of(created)
    assert await pool.fetchval("SELECT count(*) FROM app_user WHERE email LIKE 'lena%'") == 0
    denied = await pool.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE actor_id = $1 AND subject_type = 'user' AND outcome = 'denied'",
        coordinator.id,
    )
    assert denied == 2
