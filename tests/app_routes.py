"""The application's HTTP routes, from Litestar's own route table, for the tests that must cover
every route (the authorization matrix, the browser walk of every page)."""

from __future__ import annotations

import warnings

from litestar.exceptions import LitestarDeprecationWarning
from litestar.routes import HTTPRoute

from tumorboard.app import create_app
from tumorboard.settings import Settings


def http_routes() -> list[HTTPRoute]:
    """Every HTTP route of an app built as the web process builds it (nothing is connected)."""
    with warnings.catch_warnings():
        # Litestar 2.25 warns, once per handler, that Litestar 3 will no longer infer dependencies
        # such as `conn`; here it would only drown the results.
        warnings.simplefilter("ignore", LitestarDeprecationWarning)
        app = create_app(Settings(database_url="postgresql://unused/x", redis_url="redis://unused"))
    return [route for route in app.routes if isinstance(route, HTTPRoute)]
