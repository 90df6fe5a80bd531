"""Account pages: changing one's password (forced after a reset), one's sessions and signing out
everywhere; an admin's page of a user (edit, deactivate, reset, sessions); the audit trail page."""

from __future__ import annotations

import csv
import io

from tests.browser.support import field_error, flash_of, page_client, text_of
from tests.factories import PASSWORD, Factory

NEW_PASSWORD = "a brand new passphrase"


def change_form(current: str, new: str, again: str | None = None) -> dict[str, str]:
    return {"current_password": current, "new_password": new, "new_password_again": again or new}


async def test_changing_ones_password_ends_the_other_sessions(server: str, api: Factory) -> None:
    user = await api.user("presenter")
    async with page_client(server, user) as here, page_client(server, user) as elsewhere:
        account = await here.get("/account")
        assert account.status_code == 200
        assert "(this one)" in account.text and account.text.count("Browser session") == 2
        assert account.text.count("<td>127.0.0.1</td>") == 2  # where each browser signed in from
        assert "API token" in account.text  # the factory's token
        mismatch = await here.post("/account/password", change_form(PASSWORD, NEW_PASSWORD, "something else"))
        assert mismatch.status_code == 400
        assert field_error(mismatch, "new_password_again") == "Does not match the new password"
        wrong = await here.post("/account/password", change_form("not my password", NEW_PASSWORD))
        assert wrong.status_code == 401 and "Your current password is not correct." in text_of(wrong)
        assert NEW_PASSWORD not in wrong.text
        failures = "SELECT count(*) FROM sign_in_failure WHERE scope = 'account' AND key = $1"
        assert await api.pool.fetchval(failures, user.email) == 1
        common = await here.post("/account/password", change_form(PASSWORD, "password1234"))
        assert common.status_code == 400 and "too common" in (field_error(common, "new_password") or "")
        changed = await here.post("/account/password", change_form(PASSWORD, NEW_PASSWORD))
        assert changed.status_code == 303 and changed.headers["location"] == "/account"
        assert "other sessions" in (flash_of(await here.get("/account")) or "")
        gone = await elsewhere.get("/")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert (await api.client.get("/me", headers=user.headers)).status_code == 401


async def test_sign_out_everywhere_ends_every_session_and_token(server: str, api: Factory) -> None:
    user = await api.user("coordinator")
    async with page_client(server, user) as here, page_client(server, user) as elsewhere:
        response = await here.post("/account/sign-out-everywhere")
        assert response.status_code == 303 and response.headers["location"] == "/login"
        for browser in (here, elsewhere):
            assert (await browser.get("/")).status_code == 303
    assert (await api.client.get("/me", headers=user.headers)).status_code == 401


async def test_after_a_reset_every_page_leads_to_the_password_form(server: str, api: Factory) -> None:
    admin, user = await api.user("admin"), await api.user("presenter")
    async with page_client(server, admin) as admin_pages, page_client(server, user) as user_pages:
        reset = await admin_pages.post(
            f"/admin/users/{user.id}/password-reset", {"temporary_password": "a temporary passphrase"}
        )
        assert reset.status_code == 303
        assert (await user_pages.get("/")).headers["location"].startswith("/login")  # the session ended
        signed_in = await user_pages.client.post(
            "/login", data={"email": user.email, "password": "a temporary passphrase"}
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account/password"
        for path in ("/", "/cases", "/account"):
            response = await user_pages.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/account/password"
        form = await user_pages.get("/account/password")
        assert 'data-testid="password-change-required"' in form.text
        changed = await user_pages.post(
            "/account/password", change_form("a temporary passphrase", NEW_PASSWORD)
        )
        assert changed.status_code == 303
        assert (await user_pages.get("/")).status_code == 200


async def test_an_admin_edits_and_deactivates_a_user_from_their_page(server: str, api: Factory) -> None:
    admin, user = await api.user("admin"), await api.user("presenter", name="Dr. Before")
    async with page_client(server, admin) as admin_pages, page_client(server, user) as user_pages:
        shown = await admin_pages.get(f"/admin/users/{user.id}")
        assert shown.status_code == 200 and "Dr. Before" in shown.text and "Browser session" in shown.text
        listing = await admin_pages.get("/admin/users")
        assert f'href="/admin/users/{user.id}"' in listing.text
        refused = await admin_pages.post(
            f"/admin/users/{user.id}", [("full_name", "Dr. After"), ("roles", "reviewer"), ("active", "on")]
        )
        assert (
            refused.status_code == 400 and field_error(refused, "discipline") == "Is required for reviewers"
        )
        saved = await admin_pages.post(
            f"/admin/users/{user.id}",
            [("full_name", "Dr. After"), ("roles", "presenter"), ("roles", "reviewer"),
             ("discipline", "radiology"), ("active", "on")],
        )  # fmt: skip
        assert saved.status_code == 303
        assert "Dr. After" in (await user_pages.get("/")).text
        deactivated = await admin_pages.post(
            f"/admin/users/{user.id}", [("full_name", "Dr. After"), ("roles", "presenter")]
        )
        assert deactivated.status_code == 303
        assert "can no longer sign in" in (flash_of(await admin_pages.get(f"/admin/users/{user.id}")) or "")
        assert (await user_pages.get("/")).status_code == 303  # signed out at once
        again = await user_pages.sign_in(user)
        assert again.status_code == 401
    row = await api.pool.fetchrow("SELECT is_active, full_name FROM app_user WHERE id = $1", user.id)
    assert row["is_active"] is False and row["full_name"] == "Dr. After"


async def test_only_admins_open_user_and_audit_pages(server: str, api: Factory) -> None:
    coordinator, user = await api.user("coordinator"), await api.user("presenter")
    async with page_client(server, coordinator) as browser:
        for path in (f"/admin/users/{user.id}", "/admin/audit", "/admin/audit.csv"):
            assert (await browser.get(path)).status_code == 403, path
        refused = await browser.post(
            f"/admin/users/{user.id}", [("full_name", "Dr. Hijacked"), ("roles", "admin")]
        )
        assert refused.status_code == 403
    assert await api.pool.fetchval("SELECT full_name FROM app_user WHERE id = $1", user.id) != "Dr. Hijacked"


async def test_the_audit_page_finds_a_users_actions_and_exports_them(server: str, api: Factory) -> None:
    admin, presenter = await api.user("admin"), await api.user("presenter")
    case = await api.case(presenter)
    await api.client.get(f"/cases/{case['id']}", headers=presenter.headers)
    async with page_client(server, admin) as browser:
        found = await browser.get("/admin/audit", params={"actor": presenter.email})
        assert found.status_code == 200
        text = text_of(found)
        assert "read (json)" in text and "create" in text and "127.0.0.1" in text
        by_case = await browser.get("/admin/audit", params={"subject": case["id"], "from": "2000-01-01"})
        assert text_of(by_case).count(presenter.email) == 2
        unknown = await browser.get("/admin/audit", params={"actor": "nobody@example.org"})
        assert unknown.status_code == 400 and field_error(unknown, "actor") == "No user has this email"
        exported = await browser.get("/admin/audit.csv", params={"subject": case["id"]})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert {row["action"] for row in rows} >= {"read", "create"}
    searches = await api.pool.fetchval(
        "SELECT count(*) FROM audit_event WHERE actor_id = $1 AND action = 'search'", admin.id
    )
    assert searches == 3  # the refused search (unknown email) never ran
