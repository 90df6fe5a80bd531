"""What every page shares: the signed-in user, rendering with the flash message, redirects that
confirm an action, refusals shown in the form, and error pages instead of JSON."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import asyncpg
from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template

from tumorboard import audit
from tumorboard.db import WebPool
from tumorboard.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotReady,
    PasswordChangeRequired,
    ServiceUnavailable,
    TooSlow,
)
from tumorboard.pages.errors import viewer
from tumorboard.pages.flash import FLASH_COOKIE, Kind, clear_flash_cookie, flash_cookie, read_flash
from tumorboard.validation import InvalidBody
from tumorboard.web import AUDITED_STATUSES, DATABASE_DOWN, request_context

log = logging.getLogger(__name__)
T = TypeVar("T")

ERROR_TEMPLATE = "pages/error.html"
PREPARING_TEMPLATE = "pages/preparing.html"
# Refusals a form shows next to what was typed. Denials (403) and unknown records (404) are not
# caught: they reach the request's transaction, which rolls back and audits them, then an error page.
FORM_REFUSALS = (InvalidBody, InvalidInput, Conflict, NotReady)
NO_STORE = {"Cache-Control": "no-store"}
# Marks a browser session that began at the identity provider: signing out then continues there.
SSO_SESSION_COOKIE = "tumorboard_sso"
SSO_SIGNED_OUT_PATH = "/auth/oidc/signed-out"


def page(
    request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any
) -> Template:
    """A page, with the confirmation the previous action left for it (shown once).

    Pages show patient data: browsers must not keep them (no disk cache, no back button after
    signing out).
    """
    cookies = [clear_flash_cookie(request)] if FLASH_COOKIE in request.cookies else []
    ends_at: datetime | None = getattr(request.state, "session_ends_at", None)
    if ends_at is not None:  # the page clears the patient data it shows at the latest then
        context["session_ends_in"] = max(0, int((ends_at - datetime.now(UTC)).total_seconds()))
    unread: int | None = getattr(request.state, "unread_notifications", None)
    if unread is not None:  # the header's inbox badge (tumorboard.pages.inbox.provide_page_user)
        context["unread_notifications"] = unread
    return Template(
        template,
        context={**context, "flash": read_flash(request)},
        status_code=status_code,
        cookies=cookies,
        headers=NO_STORE,
    )


def done(request: Request[Any, Any, Any], url: str, message: str, kind: Kind = "success") -> Redirect:
    """Go to a page after an action and confirm it there."""
    return Redirect(url, status_code=303, cookies=[flash_cookie(request, message, kind)])


def done_or_refused(request: Request[Any, Any, Any], url: str, result: object, message: str) -> Redirect:
    """Go to a page after an attempted action: confirm it there, or say why it was refused."""
    if isinstance(result, DomainError):
        return done(request, url, result.detail, "error")
    return done(request, url, message)


async def attempt(conn: asyncpg.Connection, change: Callable[[], Awaitable[T]]) -> T | DomainError:
    """Run a service call in a savepoint; a refusal a form can show is returned and leaves nothing behind."""
    try:
        async with conn.transaction():
            return await change()
    except FORM_REFUSALS as refused:
        if refused.status_code in AUDITED_STATUSES:
            await audit.record_request_refusal(conn, refused.status_code)
        return refused


def field_errors(refused: DomainError) -> dict[str, str]:
    """The bad fields of a refusal by input name, each with its message."""
    if isinstance(refused, InvalidBody):
        pairs = [(error.key, error.message) for error in refused.errors]
    elif isinstance(refused, InvalidInput):
        pairs = [(refused.field, refused.message)]
    else:
        return {}
    errors: dict[str, str] = {}
    for key, message in pairs:
        # "birth_date must not be in the future" under the birth date field reads "must not be ...".
        name = key.rsplit(".", 1)[-1]
        errors.setdefault(key, message.removeprefix(f"{name} "))
    return errors


def form_error(refused: DomainError) -> str:
    """The sentence shown at the top of a refused form."""
    if isinstance(refused, InvalidBody | InvalidInput):
        return "Some fields need attention; each is marked below."
    return refused.detail


def began_at_provider(request: Request[Any, Any, Any]) -> bool:
    """Whether this browser's session started at the identity provider (single sign-on)."""
    return request.cookies.get(SSO_SESSION_COOKIE) == "1" and request.app.state.oidc is not None


def safe_next(target: str | None) -> str:
    """A local path to return to after signing in; anything else goes home."""
    if not target:
        return "/"
    parts = urlsplit(target)
    # Browsers read "/\\host" as "//host", another site; control characters have no place in a path.
    foreign = parts.scheme or parts.netloc or target.startswith("//") or not target.startswith("/")
    if foreign or any(char == "\\" or ord(char) < 32 for char in target):
        return "/"
    return target


# ---------------------------------------------------------------------------------------------------------
# Exception handlers of the pages router: HTML and redirects where the API answers JSON.


def sign_in_redirect(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Send a visitor without a session to the sign-in form, and back here afterwards."""
    location = "/login"
    path = request.url.path
    if request.method == "GET" and path != "/":
        query = f"?{request.url.query}" if request.url.query else ""
        location += "?next=" + quote(path + query, safe="")
    return Redirect(location, status_code=303)


def _error_page(
    request: Request[Any, Any, Any],
    status_code: int,
    title: str,
    message: str,
    background: BackgroundTask | None = None,
    template: str = ERROR_TEMPLATE,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """The error page, with the header and navigation of whoever is signed in."""
    context = {"title": title, "message": message, "status_code": status_code, "flash": None}
    if headers and "Retry-After" in headers:
        context["retry_after"] = headers["Retry-After"]
    user = viewer(request)
    if user is not None and (unread := request.state.get("unread_notifications")) is not None:
        context["unread_notifications"] = unread
    return Template(
        template,
        context={**context, "user": user},
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        background=background,
    )


def being_prepared_page(request: Request[Any, Any, Any], exc: NotReady) -> Response[Any]:
    """A document a worker is still rendering (a care plan, an agenda): a page that says so and
    reloads itself when it may be ready, instead of the API's JSON 503."""
    retry_after = str(exc.retry_after or NotReady.retry_after)
    return _error_page(
        request,
        503,
        "Being prepared",
        exc.detail.split(";")[0] + ".",
        template=PREPARING_TEMPLATE,
        headers={"Retry-After": retry_after},
    )


def password_change_redirect(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A user who must change their password is sent to the form that does it."""
    return Redirect("/account/password", status_code=303)


def unavailable_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL cannot be reached: a 503 page that says to try again shortly."""
    retry_after = ServiceUnavailable.retry_after
    response = _error_page(
        request,
        503,
        "Temporarily unavailable",
        "The service cannot reach its database. Try again in a moment.",
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def domain_error_page(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """A domain refusal as a page: denied, not found, or a conflict with its reason."""
    if isinstance(exc, NotAuthenticated):
        return sign_in_redirect(request, exc)
    if isinstance(exc, ServiceUnavailable):
        return unavailable_page(request, exc)
    if isinstance(exc, NotReady) and not isinstance(exc, TooSlow):
        return being_prepared_page(request, exc)
    titles = {403: "Not allowed", 404: "Not found", 409: "Not possible right now"}
    return _error_page(request, exc.status_code, titles.get(exc.status_code, "Not possible"), exc.detail)


async def _record_csrf_failure(pool: WebPool, context: audit.RequestContext) -> None:
    """Write the audit row of a form refused by the CSRF check (after the answer was sent)."""
    audit.begin_request(context)
    try:
        async with pool.acquire(timeout=5) as conn:
            await audit.record(conn, None, "csrf_check", "request", outcome="denied", status_code=403)
    except DATABASE_DOWN:
        log.warning("could not record a CSRF refusal: the database is unavailable")


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Routing and protocol errors as pages, with fixed messages only."""
    if isinstance(exc, PermissionDeniedException):
        message = (
            "This form has expired or was sent from another site. Go back, reload the page and try again."
        )
        record = BackgroundTask(_record_csrf_failure, request.app.state.pool, request_context(request.scope))
        return _error_page(request, 403, "Form expired", message, background=record)
    if isinstance(exc, NotFoundException):
        return _error_page(request, 404, "Not found", "There is no such page.")
    if isinstance(exc, MethodNotAllowedException):
        return _error_page(request, 405, "Not possible", "This page cannot be used that way.")
    if isinstance(exc, ValidationException):
        return _error_page(request, 400, "Invalid address", "The address of this page is not valid.")
    return _error_page(request, exc.status_code, "Error", str(exc.detail))


def unreadable_form_page(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """A form whose text fields are not text (a binary part sent without a file name)."""
    return _error_page(request, 400, "Not possible", "The form could not be read. Go back and try again.")


def internal_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An unexpected failure: logged by type and code location only, since messages may hold data."""
    where = "".join(traceback.format_tb(exc.__traceback__, limit=-8))
    log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.scope["path"], where)
    return _error_page(request, 500, "Something went wrong", "The error was logged. Please try again.")


EXCEPTION_HANDLERS: dict[int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]] = {
    PasswordChangeRequired: password_change_redirect,
    **dict.fromkeys(DATABASE_DOWN, unavailable_page),
    DomainError: domain_error_page,
    HTTPException: http_error_page,
    ValidationException: http_error_page,  # the app maps it to JSON; the most specific handler wins
    UnicodeDecodeError: unreadable_form_page,  # raised while reading a multipart form (litestar)
    Exception: internal_error_page,
}
