"""CSRF protection for the pages and the secret that signs its tokens and the flash messages.

Every page form carries Litestar's signed double-submit token (`_csrf_token`, checked against an
HttpOnly cookie). The JSON API is excluded: it changes state only for bearer tokens, which a
browser never sends on its own (see `tumorboard.web.provide_credential`). The sign-in form is excluded
too, so scripts and the contract's plain `email`/`password` post keep working; a sign-in posted from
another site is refused by its Sec-Fetch-Site or Origin header instead.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig

from tumorboard.settings import Settings

log = logging.getLogger(__name__)

CSRF_COOKIE = "tumorboard_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
# Paths without a page form: the API (bearer tokens), sign-in (Origin check), health probes, assets.
CSRF_EXCLUDE = ["^/api/", "^/login$", "^/health/", "^/static/"]


def resolve_secret(settings: Settings) -> str:
    """TUMORBOARD_SECRET_KEY, or a random key for this process (development only)."""
    if settings.secret_key:
        return settings.secret_key
    log.warning(
        "TUMORBOARD_SECRET_KEY is not set: using a random key for this process. Forms opened before a "
        "restart, or served by another web process, will be refused. Set it in production."
    )
    return secrets.token_urlsafe(32)


def csrf_config(settings: Settings) -> CSRFConfig:
    """CSRF protection for every page form; its secret also signs the flash messages."""
    return CSRFConfig(
        secret=resolve_secret(settings),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=CSRF_EXCLUDE,
    )


def posted_from_this_site(request: Request[Any, Any, Any]) -> bool:
    """Whether a form post came from one of this site's pages (or from a client that is not a browser).

    Browsers say where a request comes from in Sec-Fetch-Site. Older ones only send Origin, which our
    `Referrer-Policy: no-referrer` turns into "null" for our own forms, so "null" is let through there.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return secrets.compare_digest(origin.lower(), own.lower())
