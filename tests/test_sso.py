"""Single sign-on through a real OpenID Connect provider: the pages' code flow with PKCE, matching and
provisioning users from the provider's groups, refusals, audit, and the API's token exchange."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.browser.support import text_of
from tests.factories import Factory
from tests.sso_support import (
    CLIENT_ID,
    PROVIDER_NAME,
    IdentityProvider,
    id_token_for,
    sign_in_as_client,
)


def _email() -> str:
    return f"sso-{uuid.uuid4().hex[:10]}@hospital.test"


@pytest.fixture
async def browser(sso_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the server that signs in through the provider."""
    async with httpx.AsyncClient(base_url=sso_server, timeout=30) as client:
        yield client


async def _sign_in(browser: httpx.AsyncClient, subject: str, next_page: str = "/") -> httpx.Response:
    """Click "Sign in with ...", authorize at the provider, and follow its redirect back to us."""
    start = await browser.get("/auth/oidc/login", params={"next": next_page})
    assert start.status_code == 303
    authorize = httpx.URL(start.headers["location"])
    assert authorize.params["code_challenge_method"] == "S256"
    assert len(authorize.params["code_challenge"]) == 43
    assert authorize.params["client_id"] == CLIENT_ID
    assert authorize.params["redirect_uri"] == str(browser.base_url.join("/auth/oidc/callback"))
    at_provider = await browser.post(authorize, data={"sub": subject})
    assert at_provider.status_code == 302, at_provider.text
    return await browser.get(at_provider.headers["location"])


async def _audit(pool: asyncpg.Pool, user_id: object) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT action, outcome FROM audit_event WHERE subject_type = 'user' AND subject_id = $1 ORDER BY id",
        user_id,
    )
    return [(row["action"], row["outcome"]) for row in rows]


async def test_the_sign_in_page_offers_the_provider(browser: httpx.AsyncClient, server: str) -> None:
    page = await browser.get("/login?next=/cases")
    assert f"Sign in with {PROVIDER_NAME}" in text_of(page)
    assert 'href="/auth/oidc/login?next=/cases"' in page.text.replace("%2F", "/")
    async with httpx.AsyncClient(base_url=server) as plain:  # not configured: no button, no routes
        assert "Sign in with" not in text_of(await plain.get("/login"))
        assert (await plain.get("/auth/oidc/login")).status_code == 404


async def test_a_first_sign_in_provisions_the_user_from_their_groups(
    browser: httpx.AsyncClient, identity_provider: IdentityProvider, pool: asyncpg.Pool
) -> None:
    email, subject = _email(), f"sub-{uuid.uuid4().hex}"
    identity_provider.person(
        subject, email=email, name="Dr. Noor Haddad", groups=["tb-medical-oncology", "x"]
    )
    back = await _sign_in(browser, subject, next_page="/cases")
    assert back.status_code == 303 and back.headers["location"] == "/cases"
    home = await browser.get("/")
    assert home.status_code == 200
    assert "Signed in as Dr. Noor Haddad" in text_of(home)
    user = await pool.fetchrow(
        "SELECT id, roles, discipline, password_hash FROM app_user WHERE email = $1", email
    )
    assert sorted(user["roles"]) == ["presenter", "reviewer"]
    assert user["discipline"] == "medical_oncology"
    assert user["password_hash"] is None  # no local password: only the provider signs them in
    linked = await pool.fetchval("SELECT subject FROM user_identity WHERE user_id = $1", user["id"])
    assert linked == subject
    assert await _audit(pool, user["id"]) == [("create", "allowed"), ("sign_in", "allowed")]


async def test_an_existing_user_is_matched_by_email_and_their_roles_follow_the_groups(
    browser: httpx.AsyncClient, identity_provider: IdentityProvider, api: Factory, pool: asyncpg.Pool
) -> None:
    local = await api.user("presenter", discipline="medical_oncology")
    subject = f"sub-{uuid.uuid4().hex}"
    identity_provider.person(subject, email=local.email.upper(), name="Someone", groups=["tb-coordinators"])
    back = await _sign_in(browser, subject)
    assert back.status_code == 303
    assert (await browser.get("/")).status_code == 200
    user = await pool.fetchrow("SELECT id, roles, full_name FROM app_user WHERE email = $1", local.email)
    assert user["id"] == local.id
    assert user["roles"] == ["coordinator"]
    # The second sign-in finds them by the provider's subject, even after their email changed there.
    identity_provider.person(subject, email=_email(), groups=["tb-coordinators"])
    async with httpx.AsyncClient(base_url=browser.base_url, timeout=30) as again:
        assert (await _sign_in(again, subject)).status_code == 303
    assert await _audit(pool, user["id"]) == [
        ("update", "allowed"),
        ("sign_in", "allowed"),
        ("sign_in", "allowed"),
    ]


@pytest.mark.parametrize(
    ("groups", "deactivated", "message"),
    [
        (["visitors"], False, "grants no Tumorboard role"),
        (["tb-coordinators"], True, "This account is deactivated"),
    ],
)
async def test_a_refused_sign_in_starts_no_session_and_is_audited(
    browser: httpx.AsyncClient,
    identity_provider: IdentityProvider,
    api: Factory,
    pool: asyncpg.Pool,
    groups: list[str],
    deactivated: bool,
    message: str,
) -> None:
    local = await api.user("coordinator")
    if deactivated:
        await pool.execute("UPDATE app_user SET is_active = false WHERE id = $1", local.id)
    subject = f"sub-{uuid.uuid4().hex}"
    identity_provider.person(subject, email=local.email, groups=groups)
    back = await _sign_in(browser, subject)
    assert back.status_code == 303 and back.headers["location"] == "/login"
    shown = await browser.get("/login")
    assert message in text_of(shown)
    assert (await browser.get("/")).headers.get("location", "").startswith("/login")
    assert await _audit(pool, local.id) == [("sign_in", "denied")]
    assert await pool.fetchval("SELECT count(*) FROM user_identity WHERE subject = $1", subject) == 0


async def test_a_callback_from_another_browser_is_refused(
    browser: httpx.AsyncClient, identity_provider: IdentityProvider, pool: asyncpg.Pool
) -> None:
    subject = f"sub-{uuid.uuid4().hex}"
    identity_provider.person(subject, email=_email(), groups=["tb-coordinators"])
    start = await browser.get("/auth/oidc/login")
    at_provider = await browser.post(start.headers["location"], data={"sub": subject})
    # The attacker's sign-in link, opened in a victim's browser that never started it:
    async with httpx.AsyncClient(base_url=browser.base_url, timeout=30) as victim:
        refused = await victim.get(at_provider.headers["location"])
        assert refused.status_code == 303 and refused.headers["location"] == "/login"
        assert "expired" in text_of(await victim.get("/login"))
        assert "tumorboard_session" not in victim.cookies
    assert await pool.fetchval("SELECT count(*) FROM user_identity WHERE subject = $1", subject) == 0


async def test_signing_out_continues_at_the_provider(
    browser: httpx.AsyncClient, identity_provider: IdentityProvider
) -> None:
    subject = f"sub-{uuid.uuid4().hex}"
    identity_provider.person(subject, email=_email(), groups=["tb-coordinators"])
    await _sign_in(browser, subject)
    home = await browser.get("/")
    csrf = browser.cookies["tumorboard_csrf"]
    out = await browser.post("/logout", data={"_csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/auth/oidc/signed-out"
    signed_out = await browser.get("/auth/oidc/signed-out")
    end_session = httpx.URL(identity_provider.issuer + "/oauth2/end_session")
    assert f'content="0; url={end_session}?client_id={CLIENT_ID}' in signed_out.text
    assert "You have signed out" in text_of(signed_out)
    assert (await browser.get("/")).status_code == 303  # the session is over here
    assert home.status_code == 200


async def test_the_api_exchanges_an_authorization_code_for_a_token(
    sso_server: str, identity_provider: IdentityProvider, pool: asyncpg.Pool
) -> None:
    email, subject = _email(), f"sub-{uuid.uuid4().hex}"
    identity_provider.person(subject, email=email, name="Dr. Api Client", groups=["tb-surgeons"])
    signed_in = await sign_in_as_client(identity_provider, subject)
    async with httpx.AsyncClient(base_url=f"{sso_server}/api/v1", timeout=30) as api:
        wrong = await api.post(
            "/auth/oidc/token",
            json={
                "code": signed_in.code,
                "code_verifier": "x" * 64,  # PKCE: the provider refuses a verifier that is not the one
                "redirect_uri": signed_in.redirect_uri,
            },
        )
        assert wrong.status_code == 401
        signed_in = await sign_in_as_client(identity_provider, subject)
        body = {
            "code": signed_in.code,
            "code_verifier": signed_in.code_verifier,
            "redirect_uri": signed_in.redirect_uri,
            "nonce": signed_in.nonce,
        }
        token = await api.post("/auth/oidc/token", json=body)
        assert token.status_code == 200, token.text
        assert {"access_token", "token_type", "expires_at"} <= token.json().keys()
        me = await api.get("/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert me.status_code == 200
        assert me.json()["full_name"] == "Dr. Api Client"
        assert me.json()["roles"] == ["reviewer"] and me.json()["discipline"] == "surgical_oncology"
        replayed = await api.post("/auth/oidc/token", json=body)  # a code works once
        assert replayed.status_code == 401
    user_id = await pool.fetchval("SELECT id FROM app_user WHERE email = $1", email)
    assert await _audit(pool, user_id) == [("create", "allowed"), ("sign_in", "allowed")]


async def test_the_api_exchanges_an_id_token_issued_to_this_service_only(
    sso_server: str, identity_provider: IdentityProvider, pool: asyncpg.Pool
) -> None:
    email, subject = _email(), f"sub-{uuid.uuid4().hex}"
    identity_provider.person(subject, email=email, name="Dr. Id Token", groups=["tb-admins"])
    id_token = await id_token_for(identity_provider, await sign_in_as_client(identity_provider, subject))
    for_another = await id_token_for(
        identity_provider,
        await sign_in_as_client(identity_provider, subject, client_id="other-app"),
        "other-app",
    )
    forged_key = RSAKey.generate_key(2048)
    forged = jwt.encode(
        {"alg": "RS256", "kid": "forged"},
        {"iss": identity_provider.issuer, "sub": subject, "aud": CLIENT_ID, "exp": 4102444800, "iat": 1},
        forged_key,
    )
    async with httpx.AsyncClient(base_url=f"{sso_server}/api/v1", timeout=30) as api:
        for refused in (for_another, forged, id_token[:-4] + "AAAA"):
            answer = await api.post("/auth/oidc/token", json={"id_token": refused})
            assert answer.status_code == 401, answer.text
            assert answer.json()["detail"] == "The identity provider's token is not valid"
        token = await api.post("/auth/oidc/token", json={"id_token": id_token})
        assert token.status_code == 200, token.text
        me = await api.get("/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert me.json()["roles"] == ["admin"]
    denied = await pool.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE action = 'sign_in' AND outcome = 'denied' AND subject_id IS NULL"
    )
    assert denied >= 3


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id_token": "a.b.c", "code": "x", "code_verifier": "v" * 43, "redirect_uri": "http://x"},
        {"code": "x"},
        {"id_token": "a.b.c", "password": "no"},
    ],
)
async def test_the_api_names_a_malformed_exchange(sso_server: str, body: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=f"{sso_server}/api/v1", timeout=30) as api:
        answer = await api.post("/auth/oidc/token", json=body)
    assert answer.status_code == 400
    assert answer.json()["extra"][0]["key"] in {"body", "id_token", "password"}


async def test_the_api_without_single_sign_on_answers_404(server: str) -> None:
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=30) as api:
        answer = await api.post("/auth/oidc/token", json={"id_token": "a.b.c"})
    assert answer.status_code == 404


def test_serve_explains_a_malformed_group_map(service_env: dict[str, str]) -> None:
    env = {
        **service_env,
        "TUMORBOARD_OIDC_ISSUER": "https://login.hospital.test",
        "TUMORBOARD_OIDC_CLIENT_ID": "tb",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tumorboard.cli", "serve"],
        env={**env, "TUMORBOARD_OIDC_GROUP_MAP": '{"tb-admins": {"roles": ["root"]}}'},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "TUMORBOARD_OIDC_GROUP_MAP" in result.stderr and "Traceback" not in result.stderr
