"""``lora-city codec``: list the codecs, decode an uplink or encode a downlink from the command line (one payload,
or JSON lines from stdin), and import a device repository checkout into the catalogue.

The CLI is a composition root: it builds the registry itself, from the three values a folder codec needs
(lora_city/config_file.py reads them without building Settings, which alone costs more than a decode: issue 15
§5), from Settings when they need its validation, and from Settings for a catalogue codec (the database).
``--js FILE`` runs a TS013 JavaScript codec file (e.g. a vendor's or one exported from ChirpStack) instead of a
registered codec. A codec id with a slash (``vendor/codec``, ``vendor/codec@2``) is a catalogue codec, read from
the database.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from lora_city.cli.config import config_path, load_settings, open_database
from lora_city.codec.batch import (
    Decode,
    Encode,
    decode_lines,
    downlink_document,
    dumps,
    encode_lines,
    uplink_document,
)
from lora_city.codec.catalogue.refs import is_catalogue_ref
from lora_city.codec.js import JsCodec, JsLimits
from lora_city.codec.registry import CodecRegistry, js_limits_from
from lora_city.codec.runtime import run_decode_uplink, run_encode_downlink
from lora_city.config_file import CodecValues, codec_values
from lora_city.errors import ConfigurationError

app = typer.Typer(help="Device payload codecs: list, decode, encode, import a device repository.",
                  no_args_is_help=True)

JsOption = Annotated[
    Path | None, typer.Option("--js", help="Run this TS013 JavaScript file instead of a registered codec.")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


class _JsValues(Protocol):
    @property
    def js_time_limit_ms(self) -> int: ...
    @property
    def js_memory_limit_mb(self) -> int: ...


def _limits(settings: _JsValues) -> JsLimits:
    return js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb)


def _values(ctx: typer.Context) -> CodecValues:
    """The codec folder and JS limits: read plainly when they are plain, else through Settings (its checks and
    error messages)."""
    quick = codec_values(config_path(ctx))
    if quick is not None:
        return quick
    settings = load_settings(ctx)
    return CodecValues(settings.codecs_path, settings.js_time_limit_ms, settings.js_memory_limit_mb)


def _registry(ctx: typer.Context, codec_id: str | None = None) -> CodecRegistry:
    """Every codec folder and entry point; only ``codec_id``'s when it is a folder (one decode need not load the
    others); only the catalogue (from the server's database) when it is a catalogue id ``vendor/codec[@N]``."""
    try:
        if codec_id is not None and is_catalogue_ref(codec_id):
            from lora_city.codec.catalogue.source import CatalogueCodecs
            from lora_city.storage.db import make_session_factory

            settings = load_settings(ctx)
            catalogue = CatalogueCodecs(make_session_factory(open_database(settings)), _limits(settings))
            return CodecRegistry([], catalogue)
        values = _values(ctx)
        if codec_id is not None:
            return CodecRegistry.load_one(values.codecs_path, codec_id, js_limits=_limits(values))
        return CodecRegistry.load(values.codecs_path, js_limits=_limits(values))
    except ConfigurationError as exc:
        raise _fail(exc.message) from exc


def _js(path: Path, ctx: typer.Context) -> JsCodec:
    try:
        return JsCodec.from_file(path, _limits(_values(ctx)))
    except ConfigurationError as exc:
        raise _fail(exc.message) from exc


def _print(document: dict[str, Any], ok: bool) -> None:
    typer.echo(dumps(document, indent=2))
    if not ok:
        raise typer.Exit(1)


@app.command("list")
def list_codecs(ctx: typer.Context) -> None:
    """Every codec folder and entry point: id, vendor, model, family and where it was loaded from."""
    registry = _registry(ctx)
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


def _known(ctx: typer.Context, codec_id: str) -> CodecRegistry:
    registry = _registry(ctx, codec_id)
    if codec_id not in registry:
        raise _fail(f"no codec {codec_id!r}")
    return registry


def _decoder(ctx: typer.Context, codec_id: str | None, js: Path | None) -> Decode:
    if js is not None:
        codec = _js(js, ctx)
        return lambda f_port, payload, when: run_decode_uplink(codec, f_port, payload, recv_time=when)
    assert codec_id is not None
    registry = _known(ctx, codec_id)
    return lambda f_port, payload, when: registry.decode_uplink(codec_id, f_port, payload, recv_time=when)


def _encoder(ctx: typer.Context, codec_id: str | None, js: Path | None) -> Encode:
    if js is not None:
        codec = _js(js, ctx)
        return lambda data: run_encode_downlink(codec, data)
    assert codec_id is not None
    registry = _known(ctx, codec_id)
    return lambda data: registry.encode_downlink(codec_id, data)


def _batch(answers: Iterator[tuple[str, bool]]) -> None:
    """Write each answer as it comes (a long file shows progress); exit 1 if any line had errors."""
    all_ok = True
    out = sys.stdout
    for text, ok in answers:
        out.write(text + "\n")
        all_ok = all_ok and ok
    out.flush()
    if not all_ok:
        raise typer.Exit(1)


@app.command()
def decode(
    ctx: typer.Context,
    codec_id: Annotated[str | None, typer.Argument(
        help="Codec id: a folder codec, or vendor/codec[@version] from the catalogue (omit with --js).")] = None,
    payload_hex: Annotated[str | None, typer.Argument(metavar="HEX", help=(
        'Payload as hex. Without it, JSON lines are read from stdin: {"f_port": 1, "bytes_hex": "..."}, '
        "one JSON answer per line."))] = None,
    f_port: Annotated[int, typer.Option("--f-port", help="The uplink's fPort (lines may give their own).")] = 1,
    js: JsOption = None,
) -> None:
    """Decode an uplink payload and print the TS013 result with its measurements."""
    if js is not None:
        payload_hex, codec_id = payload_hex or codec_id, None
    elif codec_id is None:
        raise _fail("give CODEC_ID (or --js FILE)")
    decode_one = _decoder(ctx, codec_id, js)
    if payload_hex is None:
        _batch(decode_lines(sys.stdin, decode_one, f_port))
        return
    result = decode_one(f_port, _hex(payload_hex), None)
    _print(uplink_document(result), result.ok)


@app.command()
def encode(
    ctx: typer.Context,
    codec_id: Annotated[str | None, typer.Argument(help="Codec id (omit with --js).")] = None,
    data_json: Annotated[str | None, typer.Argument(metavar="JSON", help=(
        'The downlink\'s data object. Without it, JSON lines are read from stdin: {"data": {...}}.'))] = None,
    js: JsOption = None,
) -> None:
    """Encode a downlink from a JSON object and print fPort and bytes."""
    if js is not None:
        data_json, codec_id = data_json or codec_id, None
    elif codec_id is None:
        raise _fail("give CODEC_ID (or --js FILE)")
    encode_one = _encoder(ctx, codec_id, js)
    if data_json is None:
        _batch(encode_lines(sys.stdin, encode_one))
        return
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as exc:
        raise _fail(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _fail("the downlink data must be a JSON object")
    result = encode_one(data)
    _print(downlink_document(result), result.ok)


@app.command("import-repository")
def import_repository_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(exists=True, file_okay=False, help=(
        "A checkout in the LoRaWAN device repository format (vendor/index.yaml, vendor/<vendor>/...)."))],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    recheck: Annotated[bool, typer.Option("--recheck", help="Run every codec's examples again.")] = False,
) -> None:
    """Import vendors, device models, profiles and codecs into the catalogue, checking every codec's examples.

    A codec whose scripts changed gets a new version; devices and profiles naming vendor/codec@N keep N."""
    from datetime import UTC, datetime

    from lora_city.codec.catalogue.importer import import_repository
    from lora_city.storage.db import make_session_factory

    settings = load_settings(ctx)
    engine = open_database(settings)  # the server's database, migrated (lora-city migrate), never a new file
    try:
        report = import_repository(path, make_session_factory(engine), limits=_limits(settings),
                                   now=datetime.now(UTC), recheck=recheck)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(dumps(report.as_dict(), indent=2))
        return
    for codec in report.codecs:
        state = "DID NOT LOAD" if not codec.loaded else f"examples {codec.passed}/{codec.examples} passed"
        pinned = f"; {codec.pinned_to_older} pinned to older versions keep them" if codec.pinned_to_older else ""
        typer.echo(f"{codec.codec_id}@{codec.version}  {codec.status}  {state}{pinned}")
        for error in codec.load_errors:
            typer.echo(f"    load error: {error}")
        for failed in codec.failed:
            typer.echo(f"    FAILED {failed['role']} example \"{failed['description']}\":")
            for difference in failed["differences"]:
                typer.echo(f"      {difference}")
    for problem in report.problems:
        typer.echo(f"problem: {problem.where}: {problem.message}")
    typer.echo(report.summary())
