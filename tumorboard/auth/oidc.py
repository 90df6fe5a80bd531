"""OpenID Connect with a hospital's identity provider: authorization code with PKCE, and ID tokens
checked against the provider's published keys.

authlib supplies the protocol's rules (the authorization request, the S256 code challenge, the ID token's
claims: issuer, audience, authorized party, expiry, nonce, access token hash); joserfc, which authlib
itself builds on, checks the signature against the provider's keys; httpx makes the few requests. Our
code keeps the provider's metadata and keys per process and maps the claims to who the person is.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken, IDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from tumorboard.enums import Discipline, Role
from tumorboard.settings import Settings

CALLBACK_PATH = "/auth/oidc/callback"
_METADATA_SECONDS = 3600.0
_HTTP_TIMEOUT = httpx.Timeout(5.0)
_LEEWAY_SECONDS = 60
# The signature algorithms accepted when the provider does not list its own (never "none").
_DEFAULT_ALGORITHMS = ["RS256"]


class OidcConfigError(Exception):
    """The single sign-on settings are incomplete or malformed."""


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered nonsense."""


class InvalidSignIn(Exception):
    """The provider's answer does not prove who the person is (bad code, token or claims)."""


class GroupGrant(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """What membership of one provider group grants in Tumorboard."""

    roles: list[Role] = []
    discipline: Discipline | None = None


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """Single sign-on as configured by the environment."""

    issuer: str
    client_id: str
    client_secret: str | None
    provider_name: str
    scopes: str
    groups_claim: str
    group_map: dict[str, GroupGrant]
    provision_users: bool
    redirect_uri: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """The configuration, or None when single sign-on is off; OidcConfigError when malformed."""
        if not settings.oidc_issuer and not settings.oidc_client_id:
            return None
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise OidcConfigError("set both TUMORBOARD_OIDC_ISSUER and TUMORBOARD_OIDC_CLIENT_ID")
        if "openid" not in settings.oidc_scopes.split():
            raise OidcConfigError("TUMORBOARD_OIDC_SCOPES must include openid")
        try:
            group_map = msgspec.json.decode(settings.oidc_group_map or "{}", type=dict[str, GroupGrant])
        except msgspec.DecodeError as error:
            raise OidcConfigError(f"TUMORBOARD_OIDC_GROUP_MAP: {error}") from None
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            provider_name=settings.oidc_provider_name,
            scopes=settings.oidc_scopes,
            groups_claim=settings.oidc_groups_claim,
            group_map=group_map,
            provision_users=settings.oidc_provision_users,
            redirect_uri=settings.public_url + CALLBACK_PATH,
        )


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool | None
    full_name: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the browser, and what the callback must check."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class Provider:
    """One identity provider: its discovered endpoints and signing keys, kept for the process."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def authorization_request(self) -> AuthorizationRequest:
        """A fresh authorization request: code flow, PKCE (S256), state and nonce."""
        metadata = await self._endpoints()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            client_id=self.config.client_id,
            response_type="code",
            redirect_uri=self.config.redirect_uri,
            scope=self.config.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def redeem_code(
        self, code: str, code_verifier: str, *, redirect_uri: str | None = None, nonce: str | None = None
    ) -> Identity:
        """Exchange an authorization code (with its PKCE verifier) for the person's verified identity."""
        metadata = await self._endpoints()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri or self.config.redirect_uri,
        }
        auth = None
        if self.config.client_secret:  # client_secret_basic, each part form-encoded first (RFC 6749 2.3.1)
            auth = httpx.BasicAuth(
                quote(self.config.client_id, safe=""), quote(self.config.client_secret, safe="")
            )
        else:
            form["client_id"] = self.config.client_id
        try:
            async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT, auth=auth) as client:
                response = await client.post(
                    metadata["token_endpoint"], data=form, headers={"Accept": "application/json"}
                )
            token = response.json()
        except (httpx.HTTPError, json.JSONDecodeError) as error:
            raise ProviderUnavailable(f"token request failed: {type(error).__name__}") from None
        if response.status_code in (400, 401) and isinstance(token, dict) and "error" in token:
            raise InvalidSignIn(f"the provider refused the code ({str(token['error'])[:50]})")
        if response.status_code != 200 or not isinstance(token, dict):
            raise ProviderUnavailable(f"token request answered {response.status_code}")
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise InvalidSignIn("the provider's answer has no ID token")
        access_token = token.get("access_token")
        return await self.verify_id_token(
            id_token, nonce=nonce, access_token=access_token if isinstance(access_token, str) else None
        )

    async def verify_id_token(
        self, id_token: str, *, nonce: str | None = None, access_token: str | None = None
    ) -> Identity:
        """The identity in an ID token issued to us, once its signature and claims are checked."""
        metadata = await self._endpoints()
        algorithms = metadata.get("id_token_signing_alg_values_supported") or _DEFAULT_ALGORITHMS
        algorithms = [alg for alg in algorithms if alg != "none"]
        try:
            try:
                decoded = jwt.decode(id_token, await self._signing_keys(), algorithms=algorithms)
            except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
                decoded = jwt.decode(id_token, await self._signing_keys(refresh=True), algorithms=algorithms)
            claims_class = CodeIDToken if access_token else IDToken
            claims = claims_class(
                decoded.claims,
                decoded.header,
                {"iss": {"essential": True, "value": self.config.issuer}, "aud": {"essential": True}},
                {"client_id": self.config.client_id, "nonce": nonce, "access_token": access_token},
            )
            claims.validate(leeway=_LEEWAY_SECONDS)
        except (JoseError, ValueError) as error:
            raise InvalidSignIn(f"the ID token is not valid ({type(error).__name__})") from None
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if self.config.client_id not in audience:
            raise InvalidSignIn("the ID token was issued to another client")
        return self._identity(dict(claims))

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to sign out at the provider too, when it offers that."""
        try:
            endpoint = (await self._endpoints()).get("end_session_endpoint")
        except ProviderUnavailable:
            return None
        if not isinstance(endpoint, str):
            return None
        query = httpx.QueryParams(
            client_id=self.config.client_id, post_logout_redirect_uri=post_logout_redirect_uri
        )
        return str(httpx.URL(endpoint).copy_merge_params(query))

    def _identity(self, claims: dict[str, Any]) -> Identity:
        email = claims.get("email")
        name = claims.get("name") or " ".join(
            str(part) for part in (claims.get("given_name"), claims.get("family_name")) if part
        )
        verified = claims.get("email_verified")
        return Identity(
            issuer=self.config.issuer,
            subject=str(claims["sub"]),
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
            email_verified=verified if isinstance(verified, bool) else None,
            full_name=str(name).strip() or None,
            groups=_groups(claims, self.config.groups_claim),
        )

    async def _endpoints(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > _METADATA_SECONDS:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            metadata = await _get_json(url)
            if metadata.get("issuer") != self.config.issuer:
                raise ProviderUnavailable("the provider's metadata names another issuer")
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(endpoint), str):
                    raise ProviderUnavailable(f"the provider's metadata has no {endpoint}")
            self._metadata, self._metadata_at, self._keys = metadata, time.monotonic(), None
        return self._metadata

    async def _signing_keys(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            jwks = await _get_json((await self._endpoints())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError):
                raise ProviderUnavailable("the provider's signing keys cannot be read") from None
        return self._keys


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
    except (httpx.HTTPError, json.JSONDecodeError) as error:
        raise ProviderUnavailable(f"{type(error).__name__} fetching the provider's metadata") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("the provider's metadata is not a JSON object")
    return body


def _groups(claims: dict[str, Any], claim: str) -> tuple[str, ...]:
    """The groups in a claim, which may be nested (realm_access.roles) and a list or one string."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
