"""The account lifecycle on the API (docs/security.md): GET /me, POST /me/password, PATCH /users/{id},
POST /users/{id}/password-reset, DELETE /auth/token; revocations reach every web process at once."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import PASSWORD, Actor, Factory
from tests.web_process import web_server

NEW_PASSWORD = "a brand new passphrase"


async def second_token(api: Factory, actor: Actor) -> dict[str, str]:
    """Headers with another bearer token of the same user."""
    response = await api.client.post("/auth/token", json={"email": actor.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def me(api: Factory, headers: dict[str, str]) -> httpx.Response:
    return await api.client.get("/me", headers=headers)


async def test_me_shows_the_caller(api: Factory) -> None:
    user = await api.user("reviewer", discipline="pathology", name="Dr. Me")
    body = (await me(api, user.headers)).json()
    assert {k: body[k] for k in ("id", "email", "full_name", "roles", "discipline")} == {
        "id": str(user.id),
        "email": user.email,
        "full_name": "Dr. Me",
        "roles": ["reviewer"],
        "discipline": "pathology",
    }


async def test_changing_the_password_ends_the_other_tokens_and_keeps_the_callers(api: Factory) -> None:
    user = await api.user("presenter")
    other = await second_token(api, user)
    response = await api.client.post(
        "/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user.headers,
    )
    assert response.status_code == 204, response.text
    assert (await me(api, user.headers)).status_code == 200
    assert (await me(api, other)).status_code == 401
    old = await api.client.post("/auth/token", json={"email": user.email, "password": PASSWORD})
    new = await api.client.post("/auth/token", json={"email": user.email, "password": NEW_PASSWORD})
    assert old.status_code == 401 and new.status_code == 200
    row = await api.pool.fetchrow(
        "SELECT outcome, credential_id FROM audit_event WHERE action = 'change_password' AND subject_id = $1",
        user.id,
    )
    assert row["outcome"] == "allowed" and row["credential_id"] is not None


async def test_a_weak_new_password_is_refused_naming_the_field(api: Factory) -> None:
    user = await api.user("presenter", name="Dr. Ada Lovelace")
    for weak in ("password1234", "Password1234!", "qwertyqwertyqwerty", user.email, "dr. ada lovelace"):
        response = await api.client.post(
            "/me/password", json={"current_password": PASSWORD, "new_password": weak}, headers=user.headers
        )
        assert response.status_code == 400, (weak, response.text)
        assert response.json()["extra"][0]["key"] == "new_password"
        assert weak not in response.text
    short = await api.client.post(
        "/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=user.headers
    )
    assert short.status_code == 400 and short.json()["extra"][0]["key"] == "new_password"


async def test_creating_a_user_with_a_common_password_is_refused(api: Factory) -> None:
    admin = await api.user("admin")
    body = {
        "email": "new@example.org",
        "full_name": "Dr. New",
        "password": "iloveyou1234",
        "roles": ["presenter"],
    }
    response = await api.client.post("/users", json=body, headers=admin.headers)
    assert response.status_code == 400 and response.json()["extra"][0]["key"] == "password"


async def test_an_admin_edits_a_users_name_roles_and_discipline(api: Factory) -> None:
    admin, user = await api.user("admin"), await api.user("presenter")
    response = await api.client.patch(
        f"/users/{user.id}",
        json={"full_name": "Dr. Renamed", "roles": ["presenter", "reviewer"], "discipline": "radiology"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["full_name"] == "Dr. Renamed" and body["roles"] == ["presenter", "reviewer"]
    assert body["discipline"] == "radiology" and body["active"] is True
    # The user's own token sees the change at once (their cached account is dropped).
    assert (await me(api, user.headers)).json()["roles"] == ["presenter", "reviewer"]
    clear = await api.client.patch(f"/users/{user.id}", json={"discipline": None}, headers=admin.headers)
    assert clear.status_code == 400 and clear.json()["extra"][0]["key"] == "discipline"
    unknown = await api.client.patch(f"/users/{uuid.uuid4()}", json={"active": False}, headers=admin.headers)
    assert unknown.status_code == 404


async def test_only_admins_change_users_and_refusals_are_audited(api: Factory) -> None:
    coordinator, user = await api.user("coordinator"), await api.user("presenter")
    for path, body in (
        (f"/users/{user.id}", {"active": False}),
        (f"/users/{user.id}/password-reset", {"temporary_password": "a temporary passphrase"}),
    ):
        method = "PATCH" if path.endswith(str(user.id)) else "POST"
        response = await api.client.request(method, path, json=body, headers=coordinator.headers)
        assert response.status_code == 403
    denied = await api.pool.fetch(
        "SELECT action, status_code FROM audit_event"
        " WHERE actor_id = $1 AND subject_id = $2 AND outcome = 'denied'",
        coordinator.id,
        user.id,
    )
    assert {row["action"] for row in denied} == {"update", "reset_password"}
    assert {row["status_code"] for row in denied} == {403}
    assert (await me(api, user.headers)).status_code == 200


async def test_deactivating_ends_every_token_at_once_and_sign_in_fails(api: Factory) -> None:
    admin, user = await api.user("admin"), await api.user("presenter")
    other = await second_token(api, user)
    for _ in range(3):  # warm this process's token cache
        assert (await me(api, other)).status_code == 200
    response = await api.client.patch(f"/users/{user.id}", json={"active": False}, headers=admin.headers)
    assert response.status_code == 200 and response.json()["active"] is False
    assert (await me(api, user.headers)).status_code == 401
    assert (await me(api, other)).status_code == 401
    assert await api.pool.fetchval("SELECT count(*) FROM access_token WHERE user_id = $1", user.id) == 0
    signing_in = await api.client.post("/auth/token", json={"email": user.email, "password": PASSWORD})
    assert signing_in.status_code == 401
    listed = await api.client.get("/users", params={"limit": 200}, headers=admin.headers)
    assert {u["id"]: u["active"] for u in listed.json()["items"]}[str(user.id)] is False
    # And back: the user may sign in again.
    await api.client.patch(f"/users/{user.id}", json={"active": True}, headers=admin.headers)
    assert (await second_token(api, user))["Authorization"]


async def test_an_admin_cannot_lock_themselves_out(api: Factory) -> None:
    admin = await api.user("admin")
    for body in ({"active": False}, {"roles": ["coordinator"]}):
        response = await api.client.patch(f"/users/{admin.id}", json=body, headers=admin.headers)
        assert response.status_code == 409, response.text
    assert (await me(api, admin.headers)).json()["roles"] == ["admin"]


async def test_a_reset_forces_a_new_password_before_anything_else(api: Factory) -> None:
    admin, user = await api.user("admin"), await api.user("presenter")
    reset = await api.client.post(
        f"/users/{user.id}/password-reset",
        json={"temporary_password": "a temporary passphrase"},
        headers=admin.headers,
    )
    assert reset.status_code == 204, reset.text
    assert (await me(api, user.headers)).status_code == 401  # its sessions and tokens ended
    token = await api.client.post(
        "/auth/token", json={"email": user.email, "password": "a temporary passphrase"}
    )
    assert token.status_code == 200 and token.json()["password_change_required"] is True
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for method, path in (("GET", "/me"), ("GET", "/cases"), ("POST", "/cases"), ("GET", "/meetings")):
        refused = await api.client.request(
            method, path, json={} if method == "POST" else None, headers=headers
        )
        assert refused.status_code == 403, (path, refused.text)
        assert "Change your password first" in refused.json()["detail"]
    changed = await api.client.post(
        "/me/password",
        json={"current_password": "a temporary passphrase", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await me(api, headers)).status_code == 200
    assert (await me(api, headers)).json()["password_change_required"] is False


async def test_signing_out_is_allowed_while_a_change_is_required(api: Factory) -> None:
    admin, user = await api.user("admin"), await api.user("presenter")
    await api.client.post(
        f"/users/{user.id}/password-reset",
        json={"temporary_password": "a temporary passphrase"},
        headers=admin.headers,
    )
    token = await api.client.post(
        "/auth/token", json={"email": user.email, "password": "a temporary passphrase"}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await api.client.delete("/auth/token", headers=headers)).status_code == 204


async def test_signing_out_ends_the_token_and_is_audited(api: Factory) -> None:
    user = await api.user("presenter")
    assert (await me(api, user.headers)).status_code == 200
    response = await api.client.delete("/auth/token", headers=user.headers)
    assert response.status_code == 204
    assert (await me(api, user.headers)).status_code == 401
    assert (await api.client.delete("/auth/token", headers=user.headers)).status_code == 401
    row = await api.pool.fetchrow(
        "SELECT outcome, credential_id FROM audit_event WHERE action = 'sign_out' AND actor_id = $1", user.id
    )
    assert row is not None and row["outcome"] == "allowed" and row["credential_id"] is not None


async def test_revocations_reach_every_web_process_at_once(api: Factory, service_env: dict[str, str]) -> None:
    """Each web process caches tokens; a sign-out, a deactivation or a password change made through one
    process stops the token in another at once."""
    admin, leaving, changing = (
        await api.user("admin"),
        await api.user("presenter"),
        await api.user("presenter"),
    )
    signing_out = await second_token(api, leaving)
    other_session = await second_token(api, changing)
    with web_server(service_env) as other_url:
        async with httpx.AsyncClient(base_url=f"{other_url}/api/v1", timeout=30) as other:
            for headers in (leaving.headers, signing_out, changing.headers, other_session):
                for _ in range(3):  # cached in the other process now
                    assert (await other.get("/me", headers=headers)).status_code == 200
            assert (await api.client.delete("/auth/token", headers=signing_out)).status_code == 204
            assert (await other.get("/me", headers=signing_out)).status_code == 401
            assert (await other.get("/me", headers=leaving.headers)).status_code == 200
            await api.client.patch(f"/users/{leaving.id}", json={"active": False}, headers=admin.headers)
            assert (await other.get("/me", headers=leaving.headers)).status_code == 401
            await api.client.post(
                "/me/password",
                json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                headers=changing.headers,
            )
            assert (await other.get("/me", headers=other_session)).status_code == 401
            assert (await other.get("/me", headers=changing.headers)).status_code == 200
            # Even a change made by hand in the database reaches the cache.
            await api.pool.execute("DELETE FROM access_token WHERE user_id = $1", changing.id)
            assert (await other.get("/me", headers=changing.headers)).status_code == 401


async def test_long_and_unicode_passphrases_work_and_over_128_characters_are_refused(api: Factory) -> None:
    user = await api.user("presenter")
    passphrase = "Lange Tumorkonferenz am Dienstag — früh, mit Kaffee ☕ und Geduld, 2026"
    assert 64 <= len(passphrase) <= 128
    changed = await api.client.post(
        "/me/password", json={"current_password": PASSWORD, "new_password": passphrase}, headers=user.headers
    )
    assert changed.status_code == 204, changed.text
    token = await api.client.post("/auth/token", json={"email": user.email, "password": passphrase})
    assert token.status_code == 200
    truncated = await api.client.post("/auth/token", json={"email": user.email, "password": passphrase[:-1]})
    assert truncated.status_code == 401
    too_long = await api.client.post(
        "/me/password", json={"current_password": passphrase, "new_password": "x" * 129}, headers=user.headers
    )
    assert too_long.status_code == 400 and too_long.json()["extra"][0]["key"] == "new_password"
