"""The one table from the product's error tree to HTTP statuses, and the handlers that give every error the
same JSON body: ``{"error": {"code": "...", "message": "..."}}``."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from lora_city import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.LoraCityError], int] = {
    errors.InvalidInput: 422,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.QuotaExceeded: 429,
    errors.TooManyRequests: 429,
    errors.ConfigurationError: 500,
}

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type"}


def status_for(exc: errors.LoraCityError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, details: Any = None,
) -> JSONResponse:
    body = error_body(code, message)
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


async def _product_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LoraCityError)
    status = status_for(exc)
    if status >= 500:
        log.error("request failed: %s", exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, errors.TooManyRequests):
        headers = {"Retry-After": str(retry_after(exc.retry_after_s))}
    return _response(status, exc.code, exc.message, headers, getattr(exc, "details", None))


def retry_after(seconds: float) -> int:
    """Whole seconds, rounded up and at least 1: a client that waits that long is let through."""
    return max(1, math.ceil(seconds))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    found = exc.errors()
    for err in found[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return _response(422, _validation_code(found), "; ".join(parts) or "invalid request")


def _validation_code(found: Sequence[Any]) -> str:
    """``invalid_<field>`` when the one problem is a field's pattern (a malformed DevEUI, key, slug …): the code
    the services gave before the schema carried the pattern, so clients keep telling these cases apart."""
    if len(found) == 1 and found[0].get("type") == "string_pattern_mismatch":
        loc = found[0].get("loc", ())
        if loc and isinstance(loc[-1], str):
            return f"invalid_{loc[-1]}"
    return "validation_error"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return _response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail),
                     headers or None)


def _allowed_methods(request: Request) -> str:
    """Every method of the path (RFC 9110 §15.5.6). Starlette names only the first route's, but FastAPI makes
    one route per method."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods - {"HEAD", "OPTIONS"}))


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    # Two requests racing to create the same thing (the services check first, the database decides last).
    log.info("integrity error: %s", exc)
    return _response(409, "conflict", "the request conflicts with the current state (a concurrent change?)")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # The last line: a bug must still answer in the error shape (and is logged with its traceback).
    log.exception("unhandled error", exc_info=exc)
    return _response(500, "internal_error", "internal error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.LoraCityError, _product_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _unexpected)

