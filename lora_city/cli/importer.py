"""``lora-city import``: bulk imports.

``lora-city import devices.csv`` is short for ``lora-city import devices devices.csv``: ``import`` is a command
group whose first argument, when it is not a sub-command name, is taken as the CSV file of ``devices``. Other
importers (``lora-city import chirpstack ...``) are added as sub-commands of ``import_app`` beside ``devices``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from lora_city.cli.config import load_settings, open_database
from lora_city.errors import LoraCityError
from lora_city.services.device_import import ImportRejected, Mapping, decode_csv, import_devices, import_text
from lora_city.services.principal import Principal, Role

DEFAULT_COMMAND = "devices"


class _DefaultToDevices(TyperGroup):
    """A group that runs ``devices`` when its first argument is not one of its sub-commands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors its own click Context
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


import_app = typer.Typer(cls=_DefaultToDevices, no_args_is_help=True, help="Bulk imports (devices from CSV).")


@import_app.command(DEFAULT_COMMAND)
def devices(
    ctx: typer.Context,
    csv_path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="devices CSV")],
    tenant: Annotated[str | None, typer.Option(help="Tenant id for rows without a tenant column")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row, import nothing")] = False,
) -> None:
    """Import devices from CSV: every problem of every line is reported; nothing is imported unless all are good.

    Columns: dev_eui, name (required), join_eui, app_key, nwk_key, codec, device_class, application_id,
    device_profile_id, latitude, longitude, description, tenant (id or slug); the usual French and English names
    (DevEUI, AppKey, Nom, Classe ...) too. Separator ',' ';' or tab; UTF-8, UTF-16 or Windows-1252.
    --dry-run shows how each column was read.
    """
    from datetime import UTC, datetime

    from lora_city.codec.registry import CodecRegistry, js_limits_from
    from lora_city.storage.db import make_session_factory
    from lora_city.storage.keys import KeyVault

    settings = load_settings(ctx)
    console = Console(stderr=True)
    try:
        text = decode_csv(csv_path.read_bytes())
    except LoraCityError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    total = max(text.count("\n") - 1, 1)
    engine = open_database(settings)  # the server's database, checked: never a new empty one
    codecs = CodecRegistry.load(
        settings.codecs_path, js_limits=js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb)
    )
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console) as bar, make_session_factory(engine)() as session:
            task = bar.add_task("checking", total=total)

            def progress(phase: str, done: int, of: int) -> None:
                bar.update(task, description=phase, completed=done, total=of)

            # The CLI runs with direct database access, hence as the built-in administrator.
            result = import_devices(
                session, Principal(Role.ADMIN, None), KeyVault(settings.secret_key), import_text(text),
                codecs=codecs, tenant_id=tenant, dry_run=dry_run, now=datetime.now(UTC), progress=progress,
                total=total,
            )
            bar.update(task, completed=bar.tasks[0].total)
    except ImportRejected as exc:
        if exc.mapping is not None:
            _print_mapping(console, exc.mapping)
        for row in exc.details:
            # soft_wrap: one problem per line, as compilers print them (a long path is never folded mid-line)
            console.print(f"{csv_path}:{row['line']}: {row['reason']}", markup=False, highlight=False,
                          soft_wrap=True)
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    except LoraCityError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if result.dry_run and result.mapping is not None:
        _print_mapping(Console(), result.mapping)
    verb = "would import" if result.dry_run else "imported"
    typer.echo(f"{verb} {result.imported} devices")


def _print_mapping(console: Console, mapping: Mapping) -> None:
    """Which column became which field: a French file's "Nom" read as name, "Adresse" not recognised."""
    separator = {"\t": "tab"}.get(mapping.separator, repr(mapping.separator))
    console.print(f"separator {separator}; columns:", markup=False, highlight=False)
    for column, name in mapping.columns:
        console.print(f"  {column} -> {name or 'NOT RECOGNISED'}", markup=False, highlight=False)


# --- other importers (one line each) ----------------------------------------------------------------------
from lora_city.cli.chirpstack_import import chirpstack  # noqa: E402

import_app.command("chirpstack")(chirpstack)
