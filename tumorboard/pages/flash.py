"""Flash messages: the confirmation shown on the page an action redirects to.

The message travels in a short-lived, HttpOnly cookie signed with the app's secret, so it survives
the redirect, is shown once, and cannot be planted by another site. Messages are fixed texts and
domain messages, never patient data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Literal

import msgspec
from litestar import Request
from litestar.datastructures import Cookie

FLASH_COOKIE = "tumorboard_flash"
FLASH_SECONDS = 60
MAX_MESSAGE = 300

Kind = Literal["success", "error"]


class Flash(msgspec.Struct, frozen=True):
    """A one-time message for the next page."""

    message: str
    kind: Kind = "success"


def _secret(request: Request[Any, Any, Any]) -> bytes:
    config = request.app.csrf_config
    assert config is not None, "the pages need the app's CSRF config (its secret signs flash messages)"
    return config.secret.encode()


def _sign(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, b"flash:" + payload, hashlib.sha256).hexdigest()


def flash_cookie(request: Request[Any, Any, Any], message: str, kind: Kind = "success") -> Cookie:
    """A cookie carrying a message to the next page."""
    # Unpadded base64url: every character is legal in a cookie value without quoting.
    payload = base64.urlsafe_b64encode(msgspec.json.encode(Flash(message[:MAX_MESSAGE], kind))).rstrip(b"=")
    value = f"{payload.decode()}.{_sign(_secret(request), payload)}"
    return _cookie(request, value, FLASH_SECONDS)


def clear_flash_cookie(request: Request[Any, Any, Any]) -> Cookie:
    """A cookie that removes the flash message once shown."""
    return _cookie(request, "", 0)


def read_flash(request: Request[Any, Any, Any]) -> Flash | None:
    """The message a previous action left for this page, if it is genuine."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    payload, _, signature = raw.rpartition(".")
    if not hmac.compare_digest(signature, _sign(_secret(request), payload.encode())):
        return None
    try:
        return msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)), type=Flash)
    except (ValueError, msgspec.DecodeError):
        return None


def _cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    return Cookie(
        key=FLASH_COOKIE,
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )
