"""What the registry needs from a codec, whatever it is written in, and how a raw TS013 answer becomes a result.

A codec runtime returns the TS013 object as plain Python (``{"data", "warnings", "errors"}`` for decoding,
``{"bytes"|"f_port"|"fPort", ...}`` for encoding). ``uplink_result`` / ``downlink_result`` check its shape, so a
codec that returns garbage gives an ``errors`` result like one that raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any, Protocol

from lora_city.codec.contract import DownlinkResult, UplinkResult
from lora_city.codec.mapping import EMPTY, MappingTable, extract_measurements


class CodecRuntime(Protocol):
    """A loaded codec. Methods may raise; callers go through ``run_*`` below, which never do."""

    def decode_uplink(self, f_port: int, payload: bytes, recv_time: datetime | None) -> Any: ...

    def encode_downlink(self, data: dict[str, Any]) -> Any: ...

    def decode_downlink(self, f_port: int, payload: bytes) -> Any: ...


class CodecFailure(Exception):
    """An expected, already well-described failure of a codec call (its message is the whole story)."""


class NotSupported(CodecFailure):
    """The codec has no such function (e.g. no downlink encoder)."""


class PythonCodec:
    """A native codec: an object (usually a module) with module-level TS013 functions in snake_case."""

    __slots__ = ("_decode_downlink", "_decode_uplink", "_encode_downlink")

    def __init__(self, source: ModuleType | object) -> None:
        self._decode_uplink: Callable[[int, bytes], Any] | None = getattr(source, "decode_uplink", None)
        self._encode_downlink: Callable[[dict[str, Any]], Any] | None = getattr(
            source, "encode_downlink", None
        )
        self._decode_downlink: Callable[[int, bytes], Any] | None = getattr(source, "decode_downlink", None)
        if not callable(self._decode_uplink):
            raise TypeError("a codec must define decode_uplink(f_port, payload)")

    def decode_uplink(self, f_port: int, payload: bytes, recv_time: datetime | None) -> Any:
        assert self._decode_uplink is not None
        return self._decode_uplink(f_port, payload)

    def encode_downlink(self, data: dict[str, Any]) -> Any:
        if self._encode_downlink is None:
            raise NotSupported("this codec has no downlink encoder")
        return self._encode_downlink(data)

    def decode_downlink(self, f_port: int, payload: bytes) -> Any:
        if self._decode_downlink is None:
            raise NotSupported("this codec has no downlink decoder")
        return self._decode_downlink(f_port, payload)


def _message_text(item: Any) -> str:
    """A warning or error that is not a string, as JSON text (what a JavaScript host would show), never repr."""
    if type(item) is str:
        return item
    try:
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return str(item)


def _messages(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key)
    if not value:  # None or empty: the common case, kept cheap
        return []
    if isinstance(value, list):
        return [item if type(item) is str else _message_text(item) for item in value]
    return [_message_text(value)]


def _failure(exc: BaseException) -> str:
    if isinstance(exc, CodecFailure):
        return str(exc)
    return f"codec failed: {type(exc).__name__}: {exc}"


def uplink_result(raw: Any, mappings: MappingTable) -> UplinkResult:
    """Check a TS013 decode answer's shape and add measurements (only when the codec reported no errors)."""
    if not isinstance(raw, dict):
        return UplinkResult(None, errors=[f"codec returned {type(raw).__name__}, not an object"])
    # Empty warnings and errors are the common case: test before calling _messages.
    warnings = _messages(raw, "warnings") if raw.get("warnings") else []
    errors = _messages(raw, "errors") if raw.get("errors") else []
    data = raw.get("data")
    if data is not None and type(data) is not dict and not isinstance(data, dict):
        return UplinkResult(None, warnings, [*errors, "codec returned data that is not an object"])
    if data is None and not errors:
        errors.append("codec returned no data")
    measurements = extract_measurements(data, mappings, warnings) if data is not None and not errors else []
    return UplinkResult(data, warnings, errors, measurements)


def downlink_result(raw: Any) -> DownlinkResult:
    if not isinstance(raw, dict):
        return DownlinkResult(None, None, errors=[f"codec returned {type(raw).__name__}, not an object"])
    warnings = _messages(raw, "warnings")
    errors = _messages(raw, "errors")
    if errors:
        return DownlinkResult(None, None, warnings, errors)
    f_port = raw.get("f_port", raw.get("fPort"))
    payload = raw.get("bytes")
    if isinstance(payload, list | tuple):
        if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in payload):
            return DownlinkResult(None, None, warnings, ["codec returned bytes outside 0..255"])
        payload = bytes(payload)
    if not isinstance(payload, bytes | bytearray):
        return DownlinkResult(None, None, warnings, ["codec returned no bytes"])
    # LoRaWAN application ports are 1..223 (LoRaWAN 1.0.4 §4.3.2); 0 is MAC-only and 224+ are reserved.
    if isinstance(f_port, bool) or not isinstance(f_port, int) or not 1 <= f_port <= 223:
        return DownlinkResult(None, None, warnings, [f"codec returned an invalid fPort: {f_port!r}"])
    return DownlinkResult(f_port, bytes(payload), warnings, [])


def run_decode_uplink(
    codec: CodecRuntime,
    f_port: int,
    payload: bytes,
    mappings: MappingTable = EMPTY,
    recv_time: datetime | None = None,
) -> UplinkResult:
    try:
        raw = codec.decode_uplink(f_port, payload, recv_time)
    except Exception as exc:  # the codec boundary: any failure is this uplink's error, never the server's
        return UplinkResult(None, errors=[_failure(exc)])
    return uplink_result(raw, mappings)


def run_decode_downlink(
    codec: CodecRuntime, f_port: int, payload: bytes, mappings: MappingTable = EMPTY
) -> UplinkResult:
    try:
        raw = codec.decode_downlink(f_port, payload)
    except Exception as exc:
        return UplinkResult(None, errors=[_failure(exc)])
    return uplink_result(raw, mappings)


def run_encode_downlink(codec: CodecRuntime, data: dict[str, Any]) -> DownlinkResult:
    if not isinstance(data, dict):
        return DownlinkResult(None, None, errors=["downlink data must be an object"])
    try:
        raw = codec.encode_downlink(data)
    except Exception as exc:
        return DownlinkResult(None, None, errors=[_failure(exc)])
    return downlink_result(raw)
