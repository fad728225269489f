"""Vendor JavaScript codecs (LoRa Alliance TS013) run unmodified in embedded QuickJS (PyPI ``quickjs-ng``).

Isolation: a QuickJS context has only the ECMAScript built-ins (no ``require``, ``process``, ``std``, ``os``,
no I/O, no timers) and the host shims of ``js_host/`` (console, the ``Intl``/``toLocale*String`` subset, local
time and ``Math`` as node computes them); each call runs under a time limit and the context's heap under a memory
limit. A call that hits a limit gives an error result for that uplink, and the context is rebuilt before the next
call when its heap may be exhausted.

Exactness with node: every answer crosses to Python as one flat JSON string (``js_host/prelude.js`` explains the
rope defect this avoids), a thrown value or a non-string warning arrives as JSON text, lone surrogates become
U+FFFD with a warning (``js_text``), and the stack is as deep as the calling thread allows (``js_stack``).

One warm context per codec *per thread*: quickjs-ng contexts must not be used from another thread than the one
that created them, so each thread that decodes gets its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import quickjs

from lora_city.codec.js_stack import thread_stack_room
from lora_city.codec.js_text import may_hold_surrogates, surrogate_warning, well_formed
from lora_city.codec.runtime import CodecFailure
from lora_city.errors import ConfigurationError

HOST_DIR = Path(__file__).resolve().parent / "js_host"
HOST_FILES = ("prelude.js", "math.js", "local_time.js")
LAZY_FILE = "intl.js"  # compiled in a context the first time a codec formats for people (js_host/local_time.js)


@dataclass(frozen=True, slots=True)
class JsLimits:
    """Per-call limits; the defaults match Settings.js_time_limit_ms / js_memory_limit_mb.

    ``max_stack_kb`` caps the C stack a call may use; the thread's own room (``js_stack``) and half the memory
    limit cap it further, so the deepest recursion stays within what the thread and the budget allow."""

    time_limit_ms: int = 100
    memory_limit_mb: int = 32
    max_stack_kb: int = 16 * 1024
    max_console_messages: int = 20
    # The IANA name of the zone local time is in (Intl's default timeZone, String(date)'s zone name); None: the
    # process's own, as QuickJS's local-time functions use it.
    time_zone: str | None = None

    def stack_bytes(self) -> int:
        return min(self.max_stack_kb * 1024, self.memory_limit_mb * 1024 * 1024 // 2, thread_stack_room())


class JsCodecError(CodecFailure):
    """A JavaScript codec threw, or hit a time or memory limit."""


# Global names the wrapper reads; top-level ``function``/``var`` declarations of a script land on globalThis,
# but ``let``/``const``/``class`` ones do not, so they are copied over after the codec is evaluated.
_EXPORTS = """
(function (g) {
  var names = ['decodeUplink', 'decodeDownlink', 'encodeDownlink', 'Decoder', 'Decode', 'Encoder', 'Encode'];
  for (var i = 0; i < names.length; i++) {
    try { var f = eval(names[i]); if (typeof f === 'function' && typeof g[names[i]] !== 'function') g[names[i]] = f; }
    catch (e) {}
  }
})(globalThis);
"""

_KINDS = {"t": "ts013", "d": "data", "l": "legacy", "m": "missing"}
_LIMIT_MARKERS = ("interrupted", "out of memory", "stack size exceeded", "stack overflow")


@cache
def local_time_zone() -> str:
    """The process's time zone name, found where the C library (and node) find it: TZ, else /etc/localtime's
    link into the zoneinfo tree, else /etc/timezone; UTC when none says. Read once: QuickJS reads the same
    configuration for its local time, so the name and the offsets agree."""
    tz = os.environ.get("TZ", "").lstrip(":").strip()
    if tz:
        return tz.split("zoneinfo/", 1)[1] if "zoneinfo/" in tz else tz
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


@cache
def host_source() -> str:
    """The host shims, read once per process."""
    return "\n;\n".join((HOST_DIR / name).read_text(encoding="utf-8") for name in HOST_FILES)


@cache
def intl_source() -> str:
    return (HOST_DIR / LAZY_FILE).read_text(encoding="utf-8")


class _Context:
    """One QuickJS context with the codec loaded; the wrapper functions are looked up once."""

    __slots__ = ("console", "context", "decode_downlink", "decode_uplink", "encode_downlink")

    def __init__(self, source: str, name: str, limits: JsLimits) -> None:
        context = quickjs.Context()
        context.set_memory_limit(limits.memory_limit_mb * 1024 * 1024)
        context.set_time_limit(limits.time_limit_ms / 1000.0)
        context.set_max_stack_size(limits.stack_bytes())
        config = {"maxConsole": limits.max_console_messages, "timeZone": limits.time_zone or local_time_zone()}
        context.eval("var __lc_config = " + json.dumps(config) + ";")
        context.set("__lc_intl_text", intl_source())  # a Python str handed over as is: no parsing
        context.eval(host_source())
        try:
            context.eval(source)
            context.eval(_EXPORTS)
        except (quickjs.JSException, quickjs.StackOverflow, TypeError, UnicodeError) as exc:
            raise ConfigurationError(f"JavaScript codec {name}: {_first_line(exc)}") from exc
        self.context = context
        self.decode_uplink = context.get("__lc_decode_uplink")
        self.decode_downlink = context.get("__lc_decode_downlink")
        self.encode_downlink = context.get("__lc_encode_downlink")
        self.console = context.get("__lc_console")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class JsCodec:
    """A TS013 JavaScript codec. Implements the ``CodecRuntime`` protocol (methods raise on failure).

    The interface other parts build on (registry, catalogue, gRPC device profiles): ``from_source``,
    ``from_file``, ``decode_uplink(f_port, payload, recv_time)``, ``decode_downlink(f_port, payload)``,
    ``encode_downlink(data, f_port=1)``; each returns the TS013 answer as plain Python."""

    def __init__(self, source: str, name: str, limits: JsLimits) -> None:
        self.source = source
        self.name = name
        self.limits = limits
        self._local = threading.local()
        self._get()  # evaluate once now, so a codec that does not even load is a startup error

    @classmethod
    def from_source(cls, source: str, name: str, limits: JsLimits | None = None) -> JsCodec:
        return cls(source, name, limits or JsLimits())

    @classmethod
    def from_file(cls, path: Path, limits: JsLimits | None = None) -> JsCodec:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"JavaScript codec {path}: cannot read: {exc}") from exc
        return cls(source, str(path), limits or JsLimits())

    def _get(self) -> _Context:
        ctx: _Context | None = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = _Context(self.source, self.name, self.limits)
            self._local.ctx = ctx
        return ctx

    def _call(self, function: str, *args: Any) -> tuple[str, Any, list[str], bool]:
        """(kind, value, console messages, whether lone surrogates may be in them)."""
        ctx = self._get()
        try:
            text = getattr(ctx, function)(*args)
        except quickjs.StackOverflow as exc:
            raise JsCodecError(f"JavaScript codec hit its stack limit: {_first_line(exc)}") from exc
        except quickjs.JSException as exc:
            # Only what the wrapper cannot catch arrives here: the time limit (uncatchable), or memory so full
            # that even the wrapper's own catch failed.
            message = _first_line(exc)
            if any(marker in message for marker in _LIMIT_MARKERS):
                # Rebuild: the heap may be exhausted or globals half-updated; the next call starts clean.
                self._local.ctx = None
                raise JsCodecError(f"JavaScript codec stopped by a limit: {message}") from exc
            raise JsCodecError(f"JavaScript codec threw: {message}") from exc
        except (TypeError, UnicodeDecodeError) as exc:  # the binding could not convert the answer: never expected
            raise JsCodecError(f"JavaScript codec answer could not be read: {exc}") from exc
        if not isinstance(text, str) or not text:
            raise JsCodecError("JavaScript codec returned a value that cannot be serialised")
        kind = text[0]
        console_text = ctx.console() if kind.isupper() else "[]"
        console: list[str] = json.loads(console_text) if kind.isupper() else []
        lower = kind.lower()
        value = _parse_answer(text)
        odd = may_hold_surrogates(text) or may_hold_surrogates(console_text)
        if lower == "e":
            raise JsCodecError(f"JavaScript codec threw: {_fix_text(value) if odd else value}")
        if lower == "x":
            self._local.ctx = None
            raise JsCodecError(f"JavaScript codec stopped by a limit: {value}")
        return _KINDS[lower], value, console, odd

    def decode_uplink(self, f_port: int, payload: bytes, recv_time: datetime | None) -> Any:
        # Milliseconds since the epoch: cheaper to make and to parse than an ISO string, on every uplink.
        when_ms = (recv_time.timestamp() if recv_time is not None else time.time()) * 1000.0
        kind, value, console, odd = self._call("decode_uplink", _bytes_json(payload), f_port, when_ms)
        answer = _decoded(kind, value, console, "decodeUplink, Decoder or Decode")
        return _fix_text(answer) if odd else answer

    def decode_downlink(self, f_port: int, payload: bytes) -> Any:
        kind, value, console, odd = self._call("decode_downlink", _bytes_json(payload), f_port)
        answer = _decoded(kind, value, console, "decodeDownlink")
        return _fix_text(answer) if odd else answer

    def encode_downlink(self, data: dict[str, Any], f_port: int = 1) -> Any:
        kind, value, console, odd = self._call("encode_downlink", json.dumps(data), f_port)
        if kind == "missing":
            return {"errors": ["this codec has no encodeDownlink, Encoder or Encode"]}
        if kind == "legacy":
            # TTN v2 / ChirpStack v3 encoders return just the byte array; the port is the caller's.
            answer: Any = {"bytes": value, "fPort": f_port, "warnings": console}
        else:
            answer = _with_console(value, console)
        return _fix_text(answer) if odd else answer


_raw_decode = json.JSONDecoder().raw_decode
# orjson reads an answer ~3x faster than json. It refuses lone surrogates (json's path below reads them), and it
# silently turns an integer past 64 bits into a float (JSON.stringify writes integers up to 21 digits before
# switching to exponents, json keeps them exact): a text with a run of 19 or more digits takes json's path. The
# run is looked for in the UTF-8 bytes with every digit mapped to "0": two C passes, ~2 µs for a 650-character
# answer where a regular expression (``\d{19}``) took ~25 µs, more than the decode itself.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else b for b in range(256))
_LONG_NUMBER = b"0" * 19


def _long_number(text: str) -> bool:
    return _LONG_NUMBER in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO)


def _parse_answer(text: str) -> Any:
    if not _long_number(text):
        try:
            return orjson.loads(text[1:])
        except orjson.JSONDecodeError:
            pass  # a lone surrogate, or the codec returned a function (JSON.stringify gave undefined): json says
    try:
        # raw_decode reads after the kind letter in place: no copy of the text, no json.loads wrapper.
        value, end = _raw_decode(text, 1)
    except ValueError:
        raise JsCodecError("JavaScript codec returned a value that is not JSON") from None
    if end != len(text):
        raise JsCodecError("JavaScript codec returned a value that is not JSON")
    return value
_BYTE_TEXT = [str(b) for b in range(256)]  # str(int) per byte costs more than an index into this table


def _bytes_json(payload: bytes) -> str:
    return "[" + ",".join([_BYTE_TEXT[b] for b in payload]) + "]"


def _fix_text(answer: Any) -> Any:
    """Replace lone surrogates (js_text) in the answer a host hands on. Paths name the member of the TS013 answer
    (``data.name``, ``warnings[0]``) whichever way the answer travelled; the warning goes last."""
    found: list[str] = []
    if not isinstance(answer, dict):
        return well_formed(answer, "data", found)
    fixed = {key: well_formed(item, key, found) for key, item in answer.items()}
    if found:
        fixed["warnings"] = [*(fixed.get("warnings") or []), surrogate_warning(found)]
    return fixed


def _with_console(value: Any, console: list[str]) -> Any:
    if console and isinstance(value, dict):
        value = dict(value)
        value["warnings"] = [*(value.get("warnings") or []), *console]
    return value


def _decoded(kind: str, value: Any, console: list[str], wanted: str) -> Any:
    if kind == "data":  # a clean TS013 answer sent as its data alone (see the prelude)
        return {"data": value, "warnings": console} if console else {"data": value}
    if kind == "missing":
        return {"errors": [f"this codec has no {wanted}"]}
    if kind == "legacy":
        # Legacy decoders return the data object itself.
        return {"data": value, "warnings": console}
    return _with_console(value, console)
