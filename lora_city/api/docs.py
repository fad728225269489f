"""API documentation pages (Swagger UI and ReDoc) served from assets shipped in the installed packages.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which leaves a blank page in a server room without
internet. ``fastapi-offline`` (in the lock) ships the same bundles; they are served under ``{prefix}/docs-assets``
and both pages point at them, so the documentation needs no host but this one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
# ReDoc's sidebar footer always shows Redocly's logo from their CDN (no option turns it off); served with an
# empty image in its place, the page asks no other host for anything.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"

# validatorUrl: Swagger UI would otherwise send the document to validator.swagger.io for its badge.
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True}


def install_docs(app: FastAPI, prefix: str) -> None:
    """Serve ``{prefix}/docs`` (Swagger UI), ``{prefix}/redoc`` (ReDoc) and their assets from this host."""
    assets = f"{prefix}/docs-assets"
    oauth2_redirect = f"{prefix}/docs/oauth2-redirect"

    @app.get(f"{assets}/redoc.standalone.js", include_in_schema=False)
    def redoc_bundle() -> Response:  # before the mount: the first matching route answers
        return Response(_redoc_bundle(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.mount(assets, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} — API", oauth2_redirect_url=oauth2_redirect,
            swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js", swagger_css_url=f"{root}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets}/favicon.png", swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(f"{prefix}/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} — API", with_google_fonts=False,
            redoc_js_url=f"{root}{assets}/redoc.standalone.js", redoc_favicon_url=f"{root}{assets}/favicon.png",
        )


@cache
def _redoc_bundle() -> bytes:
    return (ASSETS / "redoc.standalone.js").read_bytes().replace(REDOC_LOGO, EMPTY_SVG)
