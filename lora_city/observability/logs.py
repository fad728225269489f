"""Structured logs. One JSON object per line in production (``LORA_CITY_LOG_JSON=true``), carrying the frame's
context (``dev_eui``, ``gateway_id``, ``uplink_id``) so an operator can follow one uplink through every stage.

Context comes from ``extra={...}`` on the call or from ``log_context(...)``, a contextvar that asyncio tasks
inherit, so the pipeline sets it once per frame instead of passing it to every log call.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

CONTEXT_KEYS = ("dev_eui", "gateway_id", "uplink_id", "tenant_id", "request_id")
# An immutable default (the mapping is replaced, never mutated), so tasks never share one dict.
_EMPTY: dict[str, str] = {}
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "lora_city_log_context", default=_EMPTY
)


@contextmanager
def log_context(**values: str | int | None) -> Iterator[None]:
    merged = {**_context.get(), **{k: str(v) for k, v in values.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(_context.get())
        for key in CONTEXT_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                out[key] = str(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class _ContextTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ctx = {**_context.get(), **{k: record.__dict__[k] for k in CONTEXT_KEYS if record.__dict__.get(k)}}
        return text + ("  " + " ".join(f"{k}={v}" for k, v in ctx.items()) if ctx else "")


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else _ContextTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
