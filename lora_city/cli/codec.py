"""``lora-city codec``: list the codecs, decode an uplink or encode a downlink from the command line.

The CLI is a composition root: it builds Settings and the registry itself. ``--js FILE`` runs a TS013 JavaScript
codec file (e.g. a vendor's or one exported from ChirpStack) instead of a registered codec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lora_city.cli.config import load_settings
from lora_city.codec.contract import DownlinkResult, UplinkResult
from lora_city.codec.js import JsCodec
from lora_city.codec.registry import CodecRegistry, js_limits_from
from lora_city.codec.runtime import run_decode_uplink, run_encode_downlink
from lora_city.errors import ConfigurationError, NotFound
from lora_city.settings import Settings

app = typer.Typer(help="Device payload codecs: list, decode, encode.", no_args_is_help=True)

JsOption = Annotated[
    Path | None, typer.Option("--js", help="Run this TS013 JavaScript file instead of a registered codec.")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _registry(settings: Settings, codec_id: str | None = None) -> CodecRegistry:
    """Every codec, or only ``codec_id``'s when it is a folder (one decode need not load the others)."""
    limits = js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb)
    try:
        if codec_id is not None:
            return CodecRegistry.load_one(settings.codecs_path, codec_id, js_limits=limits)
        return CodecRegistry.load(settings.codecs_path, js_limits=limits)
    except ConfigurationError as exc:
        raise _fail(exc.message) from exc


def _js(path: Path, settings: Settings) -> JsCodec:
    try:
        return JsCodec.from_file(path, js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb))
    except ConfigurationError as exc:
        raise _fail(exc.message) from exc


def _json(document: dict[str, Any], indent: int | None = 2) -> str:
    text = json.dumps(document, indent=indent, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # text UTF-8 cannot carry (a native codec's lone surrogate): escape it
        text = json.dumps(document, indent=indent, ensure_ascii=True, default=str)
    return text


def _print(document: dict[str, Any], ok: bool) -> None:
    typer.echo(_json(document))
    if not ok:
        raise typer.Exit(1)


def uplink_document(result: UplinkResult) -> dict[str, Any]:
    """The TS013 decode result plus the normalised measurements, as printed by ``codec decode``."""
    return {
        "data": result.data,
        "warnings": result.warnings,
        "errors": result.errors,
        "measurements": [
            {
                "name": m.name,
                "value": m.value,
                "unit": m.unit,
                **({"channel": m.channel} if m.channel else {}),
            }
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


@app.command("list")
def list_codecs(ctx: typer.Context) -> None:
    """Every codec: id, vendor, model, family and where it was loaded from."""
    registry = _registry(load_settings(ctx))
    rows = [
        (i.id, i.manifest.vendor, i.manifest.model, i.manifest.family.value, i.source)
        for i in registry.list()
    ]
    header = ("ID", "VENDOR", "MODEL", "FAMILY", "SOURCE")
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(4)]
    for row in [header, *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        )


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(" ", "").removeprefix("0x"))
    except ValueError as exc:
        raise _fail(f"not a hex payload: {text!r}") from exc


@app.command()
def decode(
    ctx: typer.Context,
    codec_id: Annotated[str | None, typer.Argument(help="Registered codec id (omit with --js).")] = None,
    payload_hex: Annotated[str | None, typer.Argument(metavar="HEX", help="Payload as hex.")] = None,
    f_port: Annotated[int, typer.Option("--f-port", help="The uplink's fPort.")] = 1,
    js: JsOption = None,
) -> None:
    """Decode an uplink payload and print the TS013 result with its measurements."""
    settings = load_settings(ctx)
    if js is not None:
        text = payload_hex or codec_id
        if text is None:
            raise _fail("give the payload as HEX")
        result = run_decode_uplink(_js(js, settings), f_port, _hex(text))
    else:
        if codec_id is None or payload_hex is None:
            raise _fail("give CODEC_ID and HEX (or --js FILE and HEX)")
        payload = _hex(payload_hex)
        try:
            result = _registry(settings, codec_id).decode_uplink(codec_id, f_port, payload)
        except NotFound as exc:
            raise _fail(exc.message) from exc
    _print(uplink_document(result), result.ok)


@app.command()
def encode(
    ctx: typer.Context,
    codec_id: Annotated[str | None, typer.Argument(help="Registered codec id (omit with --js).")] = None,
    data_json: Annotated[
        str | None, typer.Argument(metavar="JSON", help="The downlink's data object.")
    ] = None,
    js: JsOption = None,
) -> None:
    """Encode a downlink from a JSON object and print fPort and bytes."""
    settings = load_settings(ctx)
    text = (data_json or codec_id) if js is not None else data_json
    if text is None or (js is None and codec_id is None):
        raise _fail("give CODEC_ID and JSON (or --js FILE and JSON)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _fail("the downlink data must be a JSON object")
    if js is not None:
        result = run_encode_downlink(_js(js, settings), data)
    else:
        assert codec_id is not None
        try:
            result = _registry(settings, codec_id).encode_downlink(codec_id, data)
        except NotFound as exc:
            raise _fail(exc.message) from exc
    _print(downlink_document(result), result.ok)
