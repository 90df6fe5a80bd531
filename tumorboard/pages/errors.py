"""Which errors a browser sees as pages, and who they are shown to.

A browser gets the pages' HTML error page (with the site's header and navigation for whoever is
signed in) for every error, on a page or not: an address no route matches (a malformed id such as
`/cases/not-a-uuid`), a method a route does not take, and the API's documents a page links to (the
care plan, the agenda) when it navigates to them. API clients keep the contract's JSON errors: under
`/api/` a request gets a page only when it asks for HTML before JSON (a browser's navigation does),
and elsewhere only a request asking for JSON before HTML gets JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.types import Scope
from litestar.utils.scope.state import ScopeState

from tumorboard.auth.schemas import User
from tumorboard.auth.service import SESSION, resolve_token
from tumorboard.db import queries
from tumorboard.errors import DomainError, ServiceUnavailable
from tumorboard.pages.security import CSRF_COOKIE
from tumorboard.web import API_PREFIX, DATABASE_DOWN, session_from

log = logging.getLogger(__name__)

HTML = "text/html"
JSON = "application/json"
ExceptionHandler = Callable[[Request[Any, Any, Any], Any], Response[Any]]
# Seconds the error page waits for a connection to find who is signed in, before showing no navigation.
VIEWER_LOOKUP_TIMEOUT = 2.0


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """Whether an error is answered with a page rather than the contract's JSON."""
    if request.scope["path"].startswith(API_PREFIX):
        return request.accept.best_match([JSON, HTML], default=JSON) == HTML
    return request.accept.best_match([HTML, JSON], default=HTML) == HTML


def viewer(request: Request[Any, Any, Any]) -> User | None:
    """Who the error page is shown to (its header's navigation), as `note_viewer` found them."""
    found = request.state.get("viewer")
    return found if isinstance(found, User) else None


async def note_viewer(exc: Exception, scope: Scope) -> None:
    """Before an error page is drawn (exception handlers cannot wait on the database), find who is
    signed in from the session cookie, without sliding their session. The error may have come before
    any handler ran (no route matched), so nothing else has looked."""
    if scope["type"] != "http":
        return
    request: Request[Any, Any, Any] = Request(scope)
    if "viewer" in request.state or not wants_page(request):
        return
    request.state.viewer = None
    state = ScopeState.from_scope(scope)
    if not isinstance(state.csrf_token, str) and CSRF_COOKIE in request.cookies:
        state.csrf_token = request.cookies[CSRF_COOKIE]  # the header's sign-out form needs it
    token = session_from(request)
    if token is None or isinstance(exc, (ServiceUnavailable, *DATABASE_DOWN)):
        return
    try:
        async with request.app.state.pool.acquire(timeout=VIEWER_LOOKUP_TIMEOUT) as conn:
            credential = await resolve_token(conn, token, SESSION)
            if credential.user.password_change_required:
                return
            if "unread_notifications" not in request.state:  # the header's inbox badge
                request.state.unread_notifications = await queries.notifications.count_unread_notifications(
                    conn, user_id=credential.user.id
                )
    except DomainError:  # the session has ended: the page shows no navigation
        return
    except DATABASE_DOWN:
        log.warning("could not find who is signed in for an error page: the database is unavailable")
        return
    request.state.viewer = credential.user


def negotiated(
    api_handlers: Mapping[type[Exception], ExceptionHandler],
    page_handlers: Mapping[int | type[Exception], ExceptionHandler],
) -> dict[int | type[Exception], ExceptionHandler]:
    """The app's exception handlers: each answers with the page handler for the same error when the
    request wants a page (`wants_page`), and with the API's JSON handler otherwise."""

    def choose(api_handler: ExceptionHandler) -> ExceptionHandler:
        def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
            if wants_page(request):
                page_handler = next(
                    (page_handlers[cls] for cls in type(exc).__mro__ if cls in page_handlers), None
                )
                if page_handler is not None:
                    return page_handler(request, exc)
            return api_handler(request, exc)

        handle.__doc__ = api_handler.__doc__
        return handle

    return {exc_type: choose(handler) for exc_type, handler in api_handlers.items()}
