"""Sign-in throttling (POST /auth/token, docs/security.md): per account and per client address, 429 with
Retry-After, the same answer whether the account exists, kept in PostgreSQL across processes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.support import page_client, text_of
from tests.factories import PASSWORD, Factory
from tests.web_process import web_server

LOCK_SECONDS = 15 * 60


async def sign_in(api: Factory, email: str, password: str) -> httpx.Response:
    return await api.client.post("/auth/token", json={"email": email, "password": password})


def comparable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """What a client sees of an answer, without what differs per request (date, request id)."""
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in ("date", "retry-after", "x-request-id")
    }
    return response.status_code, response.json(), headers


async def test_five_failures_lock_the_account_even_for_the_right_password(api: Factory) -> None:
    user = await api.user("presenter")
    first_event = await api.pool.fetchval("SELECT coalesce(max(id), 0) FROM audit_event")
    for _ in range(5):
        assert (await sign_in(api, user.email, "not the password")).status_code == 401
    locked = await sign_in(api, user.email, PASSWORD)
    assert locked.status_code == 429, locked.text
    assert locked.json() == {
        "status_code": 429,
        "detail": "Too many failed sign-in attempts; try again later",
    }
    assert LOCK_SECONDS - 5 <= int(locked.headers["retry-after"]) <= LOCK_SECONDS
    assert "access_token" not in locked.text
    # The lock runs 15 minutes from the failure that completed the count, and is audited.
    lock = await api.pool.fetchrow(
        "SELECT locked_from, locked_until FROM sign_in_lock WHERE key = $1", user.email
    )
    last_failure = await api.pool.fetchval(
        "SELECT max(failed_at) FROM sign_in_failure WHERE scope = 'account' AND key = $1", user.email
    )
    assert lock["locked_from"] == last_failure
    assert (lock["locked_until"] - lock["locked_from"]).total_seconds() == LOCK_SECONDS
    actions = await api.pool.fetch(
        "SELECT action, outcome, status_code, host(source_address) AS address FROM audit_event"
        " WHERE id > $1 AND action LIKE 'sign_in%' ORDER BY id",
        first_event,
    )
    assert [row["action"] for row in actions].count("sign_in") == 5
    assert "sign_in_locked" in [row["action"] for row in actions]
    assert actions[-1]["action"] == "sign_in_throttled" and actions[-1]["status_code"] == 429
    assert all(row["outcome"] == "denied" and row["address"] == "127.0.0.1" for row in actions)


async def test_an_unknown_account_is_throttled_the_same_way(api: Factory) -> None:
    user = await api.user("presenter")
    for _ in range(5):
        await sign_in(api, user.email, "not the password")
        await sign_in(api, "nobody@example.org", "not the password")
    known, unknown = (
        await sign_in(api, user.email, PASSWORD),
        await sign_in(api, "nobody@example.org", PASSWORD),
    )
    assert comparable(known) == comparable(unknown)
    assert known.status_code == 429 and known.headers["retry-after"] and unknown.headers["retry-after"]


async def test_attempts_during_a_lock_are_not_counted_and_the_lock_ends(api: Factory) -> None:
    user = await api.user("presenter")
    for _ in range(5):
        await sign_in(api, user.email, "not the password")
    for _ in range(3):
        assert (await sign_in(api, user.email, "still not it")).status_code == 429
    count = "SELECT count(*) FROM sign_in_failure WHERE scope = 'account' AND key = $1"
    assert await api.pool.fetchval(count, user.email) == 5  # no password was checked during the lock
    # Fifteen minutes later (moved back in the database), the right password works again...
    await api.pool.execute(
        "UPDATE sign_in_lock SET locked_from = locked_from - interval '16 minutes',"
        " locked_until = locked_until - interval '16 minutes'"
    )
    await api.pool.execute("UPDATE sign_in_failure SET failed_at = failed_at - interval '16 minutes'")
    assert (await sign_in(api, user.email, PASSWORD)).status_code == 200
    # ...and the failures before the lock do not count again: one more failure does not lock.
    assert (await sign_in(api, user.email, "not the password")).status_code == 401
    assert (await sign_in(api, user.email, PASSWORD)).status_code == 200


async def test_twenty_failures_from_one_address_lock_it_for_every_account(api: Factory) -> None:
    users = [await api.user("presenter") for _ in range(5)]
    for attempt in range(20):
        email = users[attempt % 5].email if attempt % 2 else f"guess{attempt}@example.org"
        response = await sign_in(api, email, "not the password")
        assert response.status_code in (401, 429)
    fresh = await api.user("presenter")
    refused = await sign_in(api, fresh.email, PASSWORD)
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= LOCK_SECONDS
    assert await api.pool.fetchval("SELECT count(*) FROM sign_in_lock WHERE scope = 'address'") == 1


async def test_a_wrong_current_password_counts_toward_the_lock(api: Factory) -> None:
    user = await api.user("presenter")
    for _ in range(5):
        response = await api.client.post(
            "/me/password",
            json={"current_password": "not the password", "new_password": "a brand new passphrase"},
            headers=user.headers,
        )
        assert response.status_code == 401, response.text
    assert (await sign_in(api, user.email, PASSWORD)).status_code == 429
    # Locked, the password is not even checked: the right one is refused too, and nothing changed.
    right = await api.client.post(
        "/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=user.headers,
    )
    assert right.status_code == 429 and right.headers["retry-after"]
    assert await api.pool.fetchval("SELECT password_changed_at FROM app_user WHERE id = $1", user.id) is None


async def test_a_deactivated_account_answers_exactly_like_a_wrong_password(api: Factory) -> None:
    active, deactivated = await api.user("presenter"), await api.user("presenter")
    await api.pool.execute("UPDATE app_user SET is_active = false WHERE id = $1", deactivated.id)
    wrong = await sign_in(api, active.email, "not the password")
    right_but_deactivated = await sign_in(api, deactivated.email, PASSWORD)
    assert comparable(wrong) == comparable(right_but_deactivated)
    assert wrong.status_code == 401


async def test_the_sign_in_page_is_throttled_too(server: str, api: Factory) -> None:
    user = await api.user("presenter")
    async with page_client(server) as browser:
        for _ in range(5):
            refused = await browser.sign_in(user, "not the password")
            assert refused.status_code == 401 and "Invalid email or password" in text_of(refused)
        locked = await browser.sign_in(user)
        assert locked.status_code == 429
        assert "Too many failed attempts. Try again in 15 minutes." in text_of(locked)
        assert int(locked.headers["retry-after"]) > 0
        assert "tumorboard_session" not in locked.headers.get("set-cookie", "")
    # The API shares the lock: it is the account that is locked, not the form.
    assert (await sign_in(api, user.email, PASSWORD)).status_code == 429


async def test_the_lock_holds_in_a_process_started_after_it(
    api: Factory, service_env: dict[str, str]
) -> None:
    """The lock lives in PostgreSQL: a web process started after the failures (as after a restart)
    refuses the right password all the same."""
    user = await api.user("presenter")
    for _ in range(5):
        await sign_in(api, user.email, "not the password")
    with web_server(service_env) as fresh:
        async with httpx.AsyncClient(base_url=f"{fresh}/api/v1", timeout=30) as other:
            response = await other.post("/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429 and response.headers["retry-after"]
