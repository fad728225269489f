"""What every command reads first: the one Settings object (config file, then ``LORA_CITY_*``; ``--config`` on the
root command names the file) and, for commands that touch the database, that database, checked.

Only ``migrate`` and ``serve`` create or upgrade a database; every other command prints which database it uses
and refuses one that does not exist or is not migrated, instead of writing into a new empty file of whatever
directory it was started from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lora_city.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from lora_city.settings import Settings


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def config_path(ctx: typer.Context) -> Path | None:
    """The root command's ``--config`` value (None: LORA_CITY_CONFIG or the default file)."""
    value = ctx.find_root().params.get("config")
    return Path(value) if value else None


def load_settings(ctx: typer.Context) -> Settings:
    from lora_city.settings import Settings

    try:
        return Settings.load(config_path(ctx))
    except ConfigurationError as exc:
        raise fail(exc.message) from None


def describe_database(settings: Settings) -> str:
    from lora_city.storage.migrate import display_url

    source = f"config {settings.config_file}" if settings.config_file else "no config file"
    return f"database: {display_url(settings.database_url)} ({source})"


def open_database(settings: Settings) -> Engine:
    """Say which database (on stderr: stdout stays the command's output), check it is there and migrated."""
    from lora_city.storage.db import make_engine
    from lora_city.storage.migrate import check_ready

    typer.echo(describe_database(settings), err=True)
    try:
        check_ready(settings.database_url)
    except ConfigurationError as exc:
        where = (f"database_url in {settings.config_file}" if settings.config_file
                 else "LORA_CITY_DATABASE_URL or database_url in a config file (--config, LORA_CITY_CONFIG)")
        raise fail(f"{exc.message}.\n  Create or upgrade it with 'lora-city migrate' (or 'lora-city serve'), "
                   f"or point {where} at the server's database.") from None
    return make_engine(settings.database_url)
