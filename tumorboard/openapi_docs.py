"""The OpenAPI documentation pages (Swagger UI, ReDoc) with their assets served from /static.

Litestar's own render plugins load the assets from a CDN and start them with an inline script,
which our Content-Security-Policy (`script-src 'self'`) blocks. These pages load the vendored
copies (`tumorboard/static/openapi/`, from the npm packages swagger-ui-dist and redoc; licences
beside them) and start them from small scripts of ours, so the policy stays strict.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

ASSETS = "/static/openapi"


class _VendoredPage(OpenAPIRenderPlugin):
    """An HTML page that loads vendored assets and an init script of ours."""

    scripts: tuple[str, ...] = ()
    stylesheets: tuple[str, ...] = ()
    container = ""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        """The page; the schema's URL travels in a data attribute, never in inline script."""
        schema_url = escape(self.get_openapi_json_route(request), quote=True)
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        links = "".join(f'<link rel="stylesheet" href="{ASSETS}/{name}">' for name in self.stylesheets)
        scripts = "".join(f'<script src="{ASSETS}/{name}" defer></script>' for name in self.scripts)
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><link rel='icon' href='/static/favicon.svg' type='image/svg+xml'>"
            f"{links}{scripts}</head>"
            f"<body data-schema-url='{schema_url}'>{self.container}</body></html>"
        ).encode()


class SwaggerPage(_VendoredPage):
    """Swagger UI at <schema path>/swagger."""

    scripts = ("swagger-ui-bundle.js", "swagger-init.js")
    stylesheets = ("swagger-ui.css",)
    container = "<div id='swagger-ui'></div>"

    def __init__(self) -> None:
        super().__init__(path="/swagger")


class RedocPage(_VendoredPage):
    """ReDoc at <schema path>/redoc."""

    scripts = ("redoc.standalone.js", "redoc-init.js")
    container = "<div id='redoc'></div>"

    def __init__(self) -> None:
        super().__init__(path="/redoc")
