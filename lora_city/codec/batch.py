"""Batch decoding and encoding of JSON lines (``lora-city codec decode|encode`` without a payload argument): check
a codec against a file of captured payloads, one JSON answer per input line, in order.

Decode input, one object per line: ``{"f_port": 1, "bytes_hex": "0a0b"}`` (also ``fPort``, ``bytes`` as a list
of integers, ``recv_time`` as RFC 3339). Encode input: ``{"data": {...}}``. Blank lines are skipped; a line that
is not such an object gets an answer with its error and the next line is read: nothing is lost or crashes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from lora_city.codec.contract import DownlinkResult, UplinkResult

Decode = Callable[[int, bytes, datetime | None], UplinkResult]
Encode = Callable[[dict[str, Any]], DownlinkResult]


class BadLine(ValueError):
    pass


def uplink_document(result: UplinkResult) -> dict[str, Any]:
    """The TS013 decode result plus the normalised measurements."""
    return {
        "data": result.data,
        "warnings": result.warnings,
        "errors": result.errors,
        "measurements": [
            {"name": m.name, "value": m.value, "unit": m.unit, **({"channel": m.channel} if m.channel else {})}
            for m in result.measurements
        ],
    }


def downlink_document(result: DownlinkResult) -> dict[str, Any]:
    payload = result.payload or b""
    return {
        "fPort": result.f_port,
        "bytes": list(payload),
        "hex": payload.hex() if result.payload is not None else None,
        "warnings": result.warnings,
        "errors": result.errors,
    }


def dumps(document: dict[str, Any], indent: int | None = None) -> str:
    """JSON text UTF-8 can carry (a native codec's lone surrogate is escaped instead of crashing the writer)."""
    text = json.dumps(document, indent=indent, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(document, indent=indent, ensure_ascii=True, default=str)
    return text


def _object(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise BadLine("not a JSON object")
    return value


def _uplink_input(value: dict[str, Any], default_f_port: int) -> tuple[int, bytes, datetime | None]:
    f_port = value.get("f_port", value.get("fPort", default_f_port))
    if isinstance(f_port, bool) or not isinstance(f_port, int) or not 0 <= f_port <= 255:
        raise BadLine(f"f_port must be an integer 0..255, not {f_port!r}")
    if "bytes_hex" in value:
        text = value["bytes_hex"]
        if not isinstance(text, str):
            raise BadLine("bytes_hex must be a string of hex digits")
        try:
            payload = bytes.fromhex(text.replace(" ", "").removeprefix("0x"))
        except ValueError:
            raise BadLine(f"bytes_hex is not hex: {text[:40]!r}") from None
    elif isinstance(value.get("bytes"), list):
        items = value["bytes"]
        if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in items):
            raise BadLine("bytes must be a list of integers 0..255")
        payload = bytes(items)
    else:
        raise BadLine("give bytes_hex (or bytes as a list of integers)")
    recv_time = None
    if value.get("recv_time") is not None:
        try:
            recv_time = datetime.fromisoformat(str(value["recv_time"]).replace("Z", "+00:00"))
        except ValueError:
            raise BadLine(f"recv_time is not RFC 3339: {value['recv_time']!r}") from None
        if recv_time.tzinfo is None:
            raise BadLine("recv_time needs an offset (Z or +hh:mm)")
    return f_port, payload, recv_time


def decode_lines(lines: Iterable[str], decode: Decode, default_f_port: int = 1) -> Iterator[tuple[str, bool]]:
    """One (JSON answer, ok) per non-blank input line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            f_port, payload, recv_time = _uplink_input(_object(line), default_f_port)
        except BadLine as exc:
            yield dumps({"line": number, "errors": [f"line {number}: {exc}"]}), False
            continue
        result = decode(f_port, payload, recv_time)
        yield dumps({"line": number, **uplink_document(result)}), result.ok


def encode_lines(lines: Iterable[str], encode: Encode) -> Iterator[tuple[str, bool]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = _object(line)
            data = value.get("data")
            if not isinstance(data, dict):
                raise BadLine('give the downlink as {"data": {...}}')
        except BadLine as exc:
            yield dumps({"line": number, "errors": [f"line {number}: {exc}"]}), False
            continue
        result = encode(data)
        yield dumps({"line": number, **downlink_document(result)}), result.ok
