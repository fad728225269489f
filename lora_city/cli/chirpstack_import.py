"""``lora-city import chirpstack --url host:port --token T [--dry-run]``: move a ChirpStack v4 into lora_city.

Reads tenants, applications, device profiles (with their JavaScript codecs), devices with keys and activation,
and gateways through ChirpStack's gRPC API with an admin API key, then creates what lora_city lacks. Imported
codecs are written as codec folders into ``--codecs-dir`` (default ``LORA_CITY_CODECS_PATH``, the folder
``serve`` loads), so a restart picks them up. Safe to run twice; ``--dry-run`` writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import grpc
import typer

from lora_city.cli.config import load_settings, open_database
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import js_limits_from
from lora_city.errors import LoraCityError
from lora_city.migration.chirpstack import ChirpStackImporter, Report
from lora_city.migration.source import PAGE, ChirpStackSource
from lora_city.storage.db import SessionFactory, make_session_factory
from lora_city.storage.keys import KeyVault


def run_import(
    factory: SessionFactory, vault: KeyVault, url: str, token: str, *, codecs_dir: Path, dry_run: bool = False,
    tls: bool = False, js_limits: JsLimits | None = None, now: datetime | None = None, page: int = PAGE,
    tenant_ids: Sequence[str] = (),
) -> Report:
    """Read everything first (a ChirpStack that fails half-way leaves lora_city untouched), then import."""
    channel = grpc.secure_channel(url, grpc.ssl_channel_credentials()) if tls else grpc.insecure_channel(url)
    try:
        export = ChirpStackSource(channel, token, page=page).read(tenant_ids)
    finally:
        channel.close()
    importer = ChirpStackImporter(factory, vault, codecs_dir=codecs_dir, now=now or datetime.now(UTC),
                                  dry_run=dry_run, js_limits=js_limits)
    return importer.run(export)


def chirpstack(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="ChirpStack gRPC API, host:port")],
    token: Annotated[str, typer.Option(help="ChirpStack admin API key", envvar="CHIRPSTACK_API_TOKEN")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Match and check everything, write nothing")] = False,
    codecs_dir: Annotated[
        Path | None, typer.Option(help="Where imported JavaScript codecs go (default: LORA_CITY_CODECS_PATH)")
    ] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Connect with TLS")] = False,
    tenant_id: Annotated[
        list[str] | None, typer.Option("--tenant-id", help="Only this ChirpStack tenant (repeatable; for a tenant key)")
    ] = None,
) -> None:
    """Import tenants, applications, device profiles and codecs, devices (keys, activation) and gateways."""
    settings = load_settings(ctx)
    engine = open_database(settings)  # created by ``lora-city migrate`` first, like the server's
    try:
        report = run_import(
            make_session_factory(engine), KeyVault(settings.secret_key), url, token, dry_run=dry_run, tls=tls,
            tenant_ids=tenant_id or (),
            codecs_dir=codecs_dir or settings.codecs_path,
            js_limits=js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb),
        )
    except grpc.RpcError as exc:
        typer.echo(f"ChirpStack at {url} answered {exc.code().name}: {exc.details()}", err=True)
        raise typer.Exit(2) from None
    except LoraCityError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if dry_run:
        typer.echo("dry run: nothing was written")
    for line in report.lines():
        typer.echo(line)
