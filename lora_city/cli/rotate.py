"""``lora-city rotate-secret``: re-encrypt every key at rest under a new master key (see docs/operations.md)."""

from __future__ import annotations

import typer

from lora_city.cli.config import load_settings, open_database
from lora_city.storage.db import make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.rotate import rotate_secret


def rotate_secret_command(
    ctx: typer.Context,
    new_secret: str = typer.Option(..., "--new-secret", envvar="LORA_CITY_NEW_SECRET_KEY",
                                   help="The new master key (prefer the environment variable to the command line)"),
) -> None:
    """Re-encrypt device keys, session keys and integration secrets from LORA_CITY_SECRET_KEY to the new key,
    in one transaction. Then set LORA_CITY_SECRET_KEY to the new key and restart."""
    settings = load_settings(ctx)
    if new_secret == settings.secret_key:
        raise typer.BadParameter("the new secret equals the current one")
    engine = open_database(settings)
    try:
        count = rotate_secret(make_session_factory(engine), KeyVault(settings.secret_key), KeyVault(new_secret))
    finally:
        engine.dispose()
    typer.echo(f"re-encrypted {count} secret(s); now set LORA_CITY_SECRET_KEY to the new key and restart")
