"""Vendor JavaScript codecs (LoRa Alliance TS013) run unmodified in embedded QuickJS (PyPI ``quickjs-ng``).

Isolation: a QuickJS context has only the ECMAScript built-ins (no ``require``, ``process``, ``std``, ``os``,
no I/O, no timers); each call runs under a time limit and the context's heap under a memory limit. A call that
hits a limit raises, which the runtime turns into an error result for that uplink, and the context is rebuilt
before the next call (its heap may be full, or the codec's global state half-updated).

One warm context per codec *per thread*: quickjs-ng contexts must not be used from another thread than the one
that created them, so each thread that decodes gets its own.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import quickjs

from lora_city.codec.runtime import CodecFailure
from lora_city.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class JsLimits:
    """Per-call limits; the defaults match Settings.js_time_limit_ms / js_memory_limit_mb."""

    time_limit_ms: int = 100
    memory_limit_mb: int = 32
    max_stack_kb: int = 256
    max_console_messages: int = 20


class JsCodecError(CodecFailure):
    """A JavaScript codec threw, or hit a time or memory limit."""


# Evaluated before the codec: a console that collects warn/error as warnings (log/info/debug are vendor debug
# noise and are dropped), and captured built-ins so a codec redefining JSON cannot break our wrapper.
_PRELUDE = r"""
(function () {
  var g = globalThis, stringify = JSON.stringify, parse = JSON.parse, msgs = [], limit = %(max_console)d;
  function fmt(args) {
    var out = [];
    for (var i = 0; i < args.length; i++) {
      var a = args[i];
      try { out.push(typeof a === 'string' ? a : stringify(a)); } catch (e) { out.push(String(a)); }
    }
    return out.join(' ').slice(0, 500);
  }
  function keep(level) {
    return function () { if (msgs.length < limit) msgs.push('console.' + level + ': ' + fmt(arguments)); };
  }
  function drop() {}
  g.console = { log: drop, info: drop, debug: drop, trace: drop, warn: keep('warn'), error: keep('error') };
  // One short string back per call: a kind letter (upper case when console messages wait in __lc_console)
  // and the codec's answer as JSON. QuickJS's JSON.stringify has a high fixed cost, so no envelope object.
  function finish(kind, value) {
    return (msgs.length ? kind.toUpperCase() : kind) + stringify(value === undefined ? null : value);
  }
  // A TS013 decode answer with no warnings, errors or console messages (nearly every uplink) goes back as just its
  // data ('d'): less text for QuickJS to write and for Python to read than the whole envelope.
  var isArray = Array.isArray;
  function none(list) { return list === undefined || (isArray(list) && list.length === 0); }
  function decoded(value) {
    if (!msgs.length && value !== null && typeof value === 'object' && typeof value.data === 'object'
        && value.data !== null && none(value.warnings) && none(value.errors))
      return 'd' + stringify(value.data);
    return finish('t', value);
  }
  g.__lc_console = function () { var logs = msgs; msgs = []; return stringify(logs); };
  // The bytes arrive as the text of a JSON array: quickjs-ng converts only str, numbers, bool and None from
  // Python, and JSON.parse (C) builds the array faster than a charCodeAt loop (bytecode) over a latin-1 string.
  g.__lc_decode_uplink = function (bytesJson, fPort, recvTimeMs) {
    var bytes = parse(bytesJson);
    if (typeof g.decodeUplink === 'function')
      return decoded(g.decodeUplink({ bytes: bytes, fPort: fPort, recvTime: new Date(recvTimeMs) }));
    if (typeof g.Decoder === 'function') return finish('l', g.Decoder(bytes, fPort));
    if (typeof g.Decode === 'function') return finish('l', g.Decode(fPort, bytes, {}));
    return finish('m', null);
  };
  g.__lc_decode_downlink = function (bytesJson, fPort) {
    if (typeof g.decodeDownlink !== 'function') return finish('m', null);
    return decoded(g.decodeDownlink({ bytes: parse(bytesJson), fPort: fPort }));
  };
  g.__lc_encode_downlink = function (dataJson, fPort) {
    var data = parse(dataJson);
    if (typeof g.encodeDownlink === 'function') return finish('t', g.encodeDownlink({ data: data }));
    if (typeof g.Encoder === 'function') return finish('l', g.Encoder(data, fPort));
    if (typeof g.Encode === 'function') return finish('l', g.Encode(fPort, data, {}));
    return finish('m', null);
  };
})();
"""

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
_LIMIT_MARKERS = ("interrupted", "out of memory", "stack size exceeded")


class _Context:
    """One QuickJS context with the codec loaded; the wrapper functions are looked up once."""

    __slots__ = ("console", "context", "decode_downlink", "decode_uplink", "encode_downlink")

    def __init__(self, source: str, name: str, limits: JsLimits) -> None:
        context = quickjs.Context()
        context.set_memory_limit(limits.memory_limit_mb * 1024 * 1024)
        context.set_time_limit(limits.time_limit_ms / 1000.0)
        context.set_max_stack_size(limits.max_stack_kb * 1024)
        context.eval(_PRELUDE % {"max_console": limits.max_console_messages})
        try:
            context.eval(source)
            context.eval(_EXPORTS)
        except (quickjs.JSException, quickjs.StackOverflow) as exc:
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
    """A TS013 JavaScript codec. Implements the ``CodecRuntime`` protocol (methods raise on failure)."""

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

    def _call(self, function: str, *args: Any) -> tuple[str, Any, list[str]]:
        ctx = self._get()
        try:
            text = getattr(ctx, function)(*args)
        except quickjs.StackOverflow as exc:
            self._local.ctx = None
            raise JsCodecError(f"JavaScript codec hit its stack limit: {_first_line(exc)}") from exc
        except quickjs.JSException as exc:
            message = _first_line(exc)
            if any(marker in message for marker in _LIMIT_MARKERS):
                # Rebuild: the heap may be exhausted or globals half-updated; the next call starts clean.
                self._local.ctx = None
                raise JsCodecError(f"JavaScript codec stopped by a limit: {message}") from exc
            raise JsCodecError(f"JavaScript codec threw: {message}") from exc
        if not isinstance(text, str) or not text:
            raise JsCodecError("JavaScript codec returned a value that cannot be serialised")
        kind = text[0]
        console: list[str] = json.loads(ctx.console()) if kind.isupper() else []
        try:
            # raw_decode reads after the kind letter in place: no copy of the text, no json.loads wrapper.
            value, end = _raw_decode(text, 1)
        except ValueError:  # e.g. the codec returned a function: JSON.stringify gives undefined
            raise JsCodecError("JavaScript codec returned a value that is not JSON") from None
        if end != len(text):
            raise JsCodecError("JavaScript codec returned a value that is not JSON")
        return _KINDS[kind.lower()], value, console

    def decode_uplink(self, f_port: int, payload: bytes, recv_time: datetime | None) -> Any:
        # Milliseconds since the epoch: cheaper to make and to parse than an ISO string, on every uplink.
        when_ms = (recv_time.timestamp() if recv_time is not None else time.time()) * 1000.0
        kind, value, console = self._call("decode_uplink", _bytes_json(payload), f_port, when_ms)
        return _decoded(kind, value, console, "decodeUplink, Decoder or Decode")

    def decode_downlink(self, f_port: int, payload: bytes) -> Any:
        kind, value, console = self._call("decode_downlink", _bytes_json(payload), f_port)
        return _decoded(kind, value, console, "decodeDownlink")

    def encode_downlink(self, data: dict[str, Any], f_port: int = 1) -> Any:
        kind, value, console = self._call("encode_downlink", json.dumps(data), f_port)
        if kind == "missing":
            return {"errors": ["this codec has no encodeDownlink, Encoder or Encode"]}
        if kind == "legacy":
            # TTN v2 / ChirpStack v3 encoders return just the byte array; the port is the caller's.
            return {"bytes": value, "fPort": f_port, "warnings": console}
        return _with_console(value, console)


_raw_decode = json.JSONDecoder().raw_decode
_BYTE_TEXT = [str(b) for b in range(256)]  # str(int) per byte costs more than an index into this table


def _bytes_json(payload: bytes) -> str:
    return "[" + ",".join([_BYTE_TEXT[b] for b in payload]) + "]"


def _with_console(value: Any, console: list[str]) -> Any:
    if console and isinstance(value, dict):
        value = dict(value)
        value["warnings"] = [*(value.get("warnings") or []), *console]
    return value


def _decoded(kind: str, value: Any, console: list[str], wanted: str) -> Any:
    if kind == "data":  # a clean TS013 answer sent as its data alone (see the prelude)
        return {"data": value}
    if kind == "missing":
        return {"errors": [f"this codec has no {wanted}"]}
    if kind == "legacy":
        # Legacy decoders return the data object itself.
        return {"data": value, "warnings": console}
    return _with_console(value, console)
