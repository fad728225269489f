"""Input that means exactly what the published OpenAPI document says, no more and no less.

* JSON bodies: JSON Schema (OpenAPI 3.1) counts ``2.0`` as an integer, pydantic's strict mode does not; the
  ``IntegralNumbers`` middleware turns integral float literals into integers before validation, so a client
  sending ``"f_port": 2.0`` is not refused what the schema allows. Non-integral numbers are left alone.
* Query strings: pydantic's lax parsing takes ``?to=0.5`` as a Unix time and ``?online=0`` as false, neither of
  which the schema (``format: date-time``, ``boolean``) allows. ``QueryDateTime`` takes RFC 3339 date-times
  only (seconds and offset included), ``QueryDate`` a calendar ``YYYY-MM-DD``, ``QueryBool`` ``true``/``false``.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# RFC 3339 §5.6 date-time; "T"/"Z" may be lower case (§5.6 NOTE)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-05-04T10:00:00Z")
    return value


def _calendar_date(value: Any) -> Any:
    if isinstance(value, str):
        if not _DATE.fullmatch(value):
            raise ValueError("must be a date YYYY-MM-DD")
        return date.fromisoformat(value)  # ValueError for 2026-02-30, which pydantic reports as invalid
    return value


def _true_false(value: Any) -> Any:
    if isinstance(value, str):
        if value == "true":
            return True
        if value == "false":
            return False
        raise ValueError("must be true or false")
    return value


QueryDateTime = Annotated[datetime, BeforeValidator(_rfc3339)]
QueryDate = Annotated[date, BeforeValidator(_calendar_date)]
QueryBool = Annotated[bool, BeforeValidator(_true_false)]


class _Integral:
    changed = False

    def __call__(self, text: str) -> float | int:
        number = float(text)
        if number.is_integer():
            self.changed = True
            return int(number)
        return number


def integral_numbers(body: bytes) -> bytes:
    """The body with integral float literals as integers; the same bytes when there are none (or it is not JSON)."""
    if b"." not in body and b"e" not in body and b"E" not in body:
        return body
    hook = _Integral()
    try:
        document = json.loads(body, parse_float=hook)
    except (ValueError, RecursionError):
        return body  # not JSON: the route reports it
    if not hook.changed:
        return body
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class IntegralNumbers:
    """Pure ASGI middleware (no body copy unless the request is JSON with a float literal in it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to rewrite
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        rewritten = integral_numbers(body)
        if rewritten is not body:
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            headers.append((b"content-length", str(len(rewritten)).encode()))
            scope = {**scope, "headers": headers}
        await self.app(scope, _replay([{"type": "http.request", "body": rewritten, "more_body": False}], receive),
                       send)


def _is_json(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
