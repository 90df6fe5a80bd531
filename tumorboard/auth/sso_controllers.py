"""The API's single sign-on: a client that signed the person in at the identity provider exchanges the
ID token, or the authorization code with its PKCE verifier, for a Tumorboard bearer token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, post
from litestar.datastructures import State

from tumorboard.auth import service
from tumorboard.auth.oidc import InvalidSignIn, Provider, ProviderUnavailable
from tumorboard.auth.schemas import Token
from tumorboard.auth.sso import sign_in_with_provider
from tumorboard.errors import AuditNote, NotAuthenticated, NotFound, NotReady
from tumorboard.validation import safe_message

_ONE_OF = safe_message("send either id_token, or code with code_verifier and redirect_uri")
_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"^[\x21-\x7e]+$")]
# RFC 7636: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_CodeVerifier = Annotated[str, msgspec.Meta(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]


class OidcTokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /auth/oidc/token: an ID token, or an authorization code to redeem."""

    id_token: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=r"^[\x21-\x7e]+$")] | None
    ) = None
    code: _Text | None = None
    code_verifier: _CodeVerifier | None = None
    redirect_uri: _Text | None = None
    nonce: _Text | None = None

    def __post_init__(self) -> None:
        by_code = self.code is not None and self.code_verifier is not None and self.redirect_uri is not None
        if (self.id_token is not None) == (self.code is not None) or (self.code is not None and not by_code):
            raise ValueError(_ONE_OF)


class OidcTokenController(Controller):
    """Bearer tokens for people signed in at the hospital's identity provider."""

    tags = ["auth"]

    @post("/auth/oidc/token", operation_id="CreateTokenFromIdentityProvider", status_code=200)
    async def create_token(self, conn: asyncpg.Connection, state: State, data: OidcTokenRequest) -> Token:
        """Exchange an ID token issued to this service, or an authorization code and its PKCE verifier,
        for a bearer token (the same answer as POST /auth/token)."""
        provider: Provider | None = state.oidc
        if provider is None:
            raise NotFound("Single sign-on is not configured")
        try:
            if data.id_token is not None:
                identity = await provider.verify_id_token(data.id_token, nonce=data.nonce)
            else:
                assert data.code is not None and data.code_verifier is not None
                identity = await provider.redeem_code(
                    data.code, data.code_verifier, redirect_uri=data.redirect_uri, nonce=data.nonce
                )
        except InvalidSignIn:
            raise NotAuthenticated(
                "The identity provider's token is not valid", audit=AuditNote("sign_in", "user")
            ) from None
        except ProviderUnavailable:
            raise NotReady("The identity provider cannot be reached; try again shortly") from None
        user_id = await sign_in_with_provider(conn, provider.config, identity)
        return await service.issue_token(
            conn, user_id, service.API, timedelta(hours=state.settings.token_ttl_hours)
        )
