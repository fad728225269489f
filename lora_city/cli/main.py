"""``lora-city``: the command line and the composition root for ``serve``.

Each command group is a small module that registers itself here; keep one ``add_typer`` line per group.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="lora-city",
    help="LoRaWAN network server and sensor manager for a city.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """LoRaWAN network server and sensor manager for a city."""


@app.command()
def version() -> None:
    """Print the version."""
    from lora_city import __version__

    typer.echo(__version__)


# --- command groups (one line each) -------------------------------------------------------------------
from lora_city.cli.frame import frame_app  # noqa: E402

app.add_typer(frame_app, name="frame")
from lora_city.cli.codec import app as codec_app  # noqa: E402

app.add_typer(codec_app, name="codec")

from lora_city.cli.opendata import opendata_app  # noqa: E402

app.add_typer(opendata_app, name="opendata")

from lora_city.cli.rotate import rotate_secret_command  # noqa: E402

app.command("rotate-secret")(rotate_secret_command)

from lora_city.cli.importer import import_app  # noqa: E402

app.add_typer(import_app, name="import")
from lora_city.cli.users import users_app  # noqa: E402

app.add_typer(users_app, name="user")
from lora_city.cli.serve import register as register_serve  # noqa: E402

register_serve(app)  # serve [--demo], migrate, simulate

from billing.cli import billing_app  # noqa: E402  (this module is the CLI's composition root)

app.add_typer(billing_app, name="billing")

if __name__ == "__main__":  # pragma: no cover
    app()
