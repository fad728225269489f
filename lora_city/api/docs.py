"""API documentation pages (Swagger UI and ReDoc) served from assets shipped in the installed packages.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which leaves a blank page in a server room without
internet. ``fastapi-offline`` (in the lock) ships the same bundles; they are served under ``{prefix}/docs-assets``
and both pages point at them, so the documentation needs no host but this one.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"

# validatorUrl: Swagger UI would otherwise send the document to validator.swagger.io for its badge.
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True}


def install_docs(app: FastAPI, prefix: str) -> None:
    """Serve ``{prefix}/docs`` (Swagger UI), ``{prefix}/redoc`` (ReDoc) and their assets from this host."""
    assets = f"{prefix}/docs-assets"
    oauth2_redirect = f"{prefix}/docs/oauth2-redirect"
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
