"""``lora-city``: the command line and the composition root for ``serve``.

Commands are imported when they run, not when the program starts: ``lora-city --help`` or ``frame decode`` must
not pay for the API, the portal and the database layer (issue 15: under 0.3 s). Each command or group is one line
of ``COMMANDS``: its name, the module and attribute that define it, and the one-line help ``--help`` shows
without importing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

# name: (module, attribute: a Typer group or a command function, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("lora_city.cli.serve", "serve", "Run the network server, gateway connectors, API and portal."),
    "migrate": ("lora_city.cli.serve", "migrate", "Create the database or bring its schema to the newest revision."),
    "simulate": ("lora_city.cli.serve", "simulate", "Virtual gateways and OTAA devices that join and send."),
    "frame": ("lora_city.cli.frame", "frame_app", "Decode and encode LoRaWAN PHYPayloads (JSON <-> hex)."),
    "codec": ("lora_city.cli.codec", "app", "Device payload codecs: list, decode, encode."),
    "import": ("lora_city.cli.importer", "import_app", "Bulk imports (devices from CSV, a ChirpStack v4)."),
    "user": ("lora_city.cli.users", "users_app", "Portal user accounts."),
    "opendata": ("lora_city.cli.opendata", "opendata_app", "Open-data exports (aggregated, non-personal)."),
    "broker-config": ("lora_city.cli.broker", "broker_config_command", "Write the MQTT broker's access file "
                      "(mosquitto dynamic security) from the database."),
    "rotate-secret": ("lora_city.cli.rotate", "rotate_secret_command", "Re-encrypt every key at rest under a new "
                      "master key."),
    # billing/ builds on the core; this module is the CLI's composition root, so it may name it (as a string).
    "billing": ("billing.cli", "billing_app", "Metering, invoices and usage exports of the leased network."),
}


class LazyGroup(TyperGroup):
    """The root group: commands listed from ``COMMANDS`` and imported only when one is run (or its own help
    shown). The root help lists them with their one-line help, importing none."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        if getattr(self, "_listing", False):  # root --help: a stand-in carrying the help line
            return typer.main.get_command(_stand_in(cmd_name))
        command = _load(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _load(name: str) -> Any:
    import importlib

    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)  # a group even with one sub-command (user create)
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def _stand_in(name: str) -> typer.Typer:
    stand_in = typer.Typer()

    @stand_in.command(name, help=COMMANDS[name][2])
    def _never_run() -> None:  # pragma: no cover - only its help line is shown
        pass

    return stand_in


app = typer.Typer(
    cls=LazyGroup,
    name="lora-city",
    help="LoRaWAN network server and sensor manager for a city.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich alone costs ~0.1 s of start-up
)


@app.callback()
def _root(
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE",
        help="Configuration file (TOML), read by every command; default $LORA_CITY_CONFIG, else "
             "/etc/lora-city/lora-city.toml when it exists. LORA_CITY_* variables override it.")] = None,
) -> None:
    """LoRaWAN network server and sensor manager for a city."""


@app.command()
def version() -> None:
    """Print the version."""
    from lora_city import __version__

    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
