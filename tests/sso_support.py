"""A real OpenID Connect provider for the tests (oidc-provider-mock, in a thread of the test process)
that insists on PKCE, and a web server of ours configured to sign in through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import flask
import httpx
import oidc_provider_mock
import pytest
import werkzeug.serving
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge

from tumorboard.embedded import free_port

CLIENT_ID = "tumorboard-tests"
CLIENT_SECRET = "tumorboard-tests-secret"
PROVIDER_NAME = "Hospital Login"
GROUP_MAP = {
    "tb-admins": {"roles": ["admin"]},
    "tb-coordinators": {"roles": ["coordinator"]},
    "tb-medical-oncology": {"roles": ["presenter", "reviewer"], "discipline": "medical_oncology"},
    "tb-surgeons": {"roles": ["reviewer"], "discipline": "surgical_oncology"},
}


@dataclass(frozen=True)
class IdentityProvider:
    """The running provider: its issuer URL, and a way to say who a person is there."""

    issuer: str

    def person(self, subject: str, **claims: Any) -> None:
        """Set the claims the provider issues for this subject (email, name, groups...)."""
        response = httpx.put(f"{self.issuer}/users/{quote(subject, safe='')}", json=claims, timeout=10)
        assert response.status_code == 204, response.text


class _RememberedChallenge(CodeChallenge):
    """PKCE (S256 only) for the mock provider, whose stored codes keep no challenge: each challenge is
    remembered by its request's nonce, which the stored code does keep."""

    def __init__(self) -> None:
        super().__init__(required=True)
        self.by_nonce: dict[str, str] = {}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge_method") != "S256" or not data.get("nonce"):
            raise InvalidRequestError("an S256 code challenge and a nonce are required")
        self.by_nonce[data["nonce"]] = data["code_challenge"]

    def get_authorization_code_challenge(self, authorization_code: Any) -> str | None:
        return self.by_nonce.get(authorization_code.nonce)

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        return "S256"


def _require_pkce(app: flask.Flask) -> None:
    """Make the provider refuse authorization requests without an S256 code challenge, and token
    requests whose code_verifier does not match it (RFC 7636), as a real provider does."""
    patched: list[object] = []

    @app.before_request
    def add_code_challenge() -> None:
        server = flask.g._authlib_authorization_server
        if server in patched:
            return
        extensions = [
            ext for grant, ext in server._authorization_grants if grant.__name__ == "AuthorizationCodeGrant"
        ]
        assert extensions, "the provider's authorization code grant was not found"
        extensions[0].append(_RememberedChallenge())
        patched.append(server)


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    """An OpenID Connect provider on a free local port, for the whole run."""
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider's own check: plain http locally
    app = oidc_provider_mock.app(require_nonce=True)
    _require_pkce(app)
    server = werkzeug.serving.make_server("localhost", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield IdentityProvider(f"http://localhost:{server.server_port}")
    server.shutdown()
    thread.join(timeout=5)


def sso_settings(issuer: str, public_url: str) -> dict[str, str]:
    """The environment that turns single sign-on on against the test provider."""
    return {
        "TUMORBOARD_PUBLIC_URL": public_url,
        "TUMORBOARD_OIDC_ISSUER": issuer,
        "TUMORBOARD_OIDC_CLIENT_ID": CLIENT_ID,
        "TUMORBOARD_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "TUMORBOARD_OIDC_PROVIDER_NAME": PROVIDER_NAME,
        "TUMORBOARD_OIDC_GROUP_MAP": json.dumps(GROUP_MAP),
    }


@pytest.fixture(scope="session")
def sso_server(
    service_env: dict[str, str], identity_provider: IdentityProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`tumorboard serve` (as the app role, on the session's database) with single sign-on on; its URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**service_env, **sso_settings(identity_provider.issuer, base_url)}
    log: Path = tmp_path_factory.mktemp("sso-logs") / "web.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tumorboard.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the single sign-on web server did not start; see {log}")
        time.sleep(0.1)
    yield base_url
    process.terminate()
    process.wait(timeout=10)


@dataclass(frozen=True)
class ClientSignIn:
    """What a client application holds after the person signed in at the provider."""

    code: str
    code_verifier: str
    nonce: str
    redirect_uri: str


async def sign_in_as_client(
    provider: IdentityProvider, subject: str, *, client_id: str = CLIENT_ID
) -> ClientSignIn:
    """Sign a person in at the provider the way a client application does (code flow with PKCE)."""
    verifier, nonce, state = generate_token(64), generate_token(20), generate_token(20)
    redirect_uri = "http://127.0.0.1:9/app/callback"  # never visited: the code is read from the redirect
    async with httpx.AsyncClient(timeout=10) as client:
        metadata = (await client.get(f"{provider.issuer}/.well-known/openid-configuration")).json()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        url = httpx.URL(metadata["authorization_endpoint"], params=query)
        answer = await client.post(url, data={"sub": subject})
    assert answer.status_code == 302, answer.text
    returned = httpx.URL(answer.headers["location"]).params
    assert returned["state"] == state
    return ClientSignIn(returned["code"], verifier, nonce, redirect_uri)


async def id_token_for(
    provider: IdentityProvider, signed_in: ClientSignIn, client_id: str = CLIENT_ID
) -> str:
    """Redeem a client's code at the provider for its ID token, as the client application would."""
    async with httpx.AsyncClient(timeout=10) as client:
        metadata = (await client.get(f"{provider.issuer}/.well-known/openid-configuration")).json()
        answer = await client.post(
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": signed_in.code,
                "redirect_uri": signed_in.redirect_uri,
                "code_verifier": signed_in.code_verifier,
            },
            auth=(client_id, CLIENT_SECRET),
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])
