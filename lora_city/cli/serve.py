"""``lora-city serve [--demo]``, ``lora-city migrate`` and ``lora-city simulate``.

Each builds the one Settings object (config file, then ``LORA_CITY_*``) and passes it on. These two are the only
commands that create a database or upgrade its schema.
"""

from __future__ import annotations

import asyncio
import contextlib

import typer

from lora_city.cli.config import describe_database, load_settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("migrate")(migrate)
    app.command("simulate")(simulate)


def serve(
    ctx: typer.Context,
    demo: bool = typer.Option(False, "--demo", help="Also set up a demo city (Nîmes: gateways, devices, a lessee "
                              "with its plan and last month's invoice, one login per role) and run its simulated "
                              "gateways and devices; prints the portal's address and the logins."),
    demo_devices: int | None = typer.Option(None, help="Devices in the demo fleet (default: the demo's twelve)."),
    demo_rate: float = typer.Option(0.5, help="Demo uplinks per second (whole fleet)."),
) -> None:
    """Run the network server, the gateway connectors and the HTTP API in one process."""
    from lora_city.main import serve as run
    from lora_city.observability.logs import configure_logging

    settings = load_settings(ctx)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    typer.echo(describe_database(settings), err=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings, demo=demo, demo_devices=demo_devices, demo_rate=demo_rate))


def migrate(ctx: typer.Context) -> None:
    """Create the database or bring its schema to the newest revision (core and every installed plugin)."""
    from lora_city.storage import migrate as m

    settings = load_settings(ctx)
    typer.echo(describe_database(settings), err=True)
    m.upgrade(settings.database_url)
    typer.echo(f"database at newest revision: {m.display_url(settings.database_url)}")


def simulate(
    api_url: str = typer.Option("http://127.0.0.1:8000", help="The server's HTTP API."),
    token: str = typer.Option(..., envvar="LORA_CITY_ADMIN_TOKEN", help="Bearer token used to register devices."),
    gateways: int = typer.Option(3, min=1),
    devices: int = typer.Option(10, min=1),
    rate: float = typer.Option(1.0, help="Uplinks per second for the whole fleet."),
    duration: float = typer.Option(60.0, help="Seconds of traffic after the joins."),
    transport: str = typer.Option("udp", help="udp or mqtt"),
    udp_server: str = typer.Option("127.0.0.1:1700", help="The server's Semtech UDP listener."),
    mqtt_url: str | None = typer.Option(None, help="Broker for MQTT gateways, e.g. mqtt://127.0.0.1:1883"),
    mqtt_prefix: str = typer.Option("eu868"),
    confirmed_ratio: float = typer.Option(0.1, min=0.0, max=1.0),
    seed: int | None = typer.Option(None, help="Seed for reproducible devices and traffic."),
) -> None:
    """Virtual gateways and OTAA devices with real keys: register through the API, join, send payloads."""
    from lora_city.simulate.fleet import Fleet, FleetConfig

    host, _, port = udp_server.rpartition(":")
    config = FleetConfig(
        api_url=api_url, admin_token=token, gateways=gateways, devices=devices, rate=rate, transport=transport,
        udp_server=(host or "127.0.0.1", int(port)), mqtt_url=mqtt_url, mqtt_prefix=mqtt_prefix,
        confirmed_ratio=confirmed_ratio, seed=seed,
    )

    async def run() -> None:
        fleet = Fleet(config)
        await fleet.start()
        try:
            joined = await fleet.join_all()
            typer.echo(f"{fleet.stats.registered} registered, {joined} joined")
            await fleet.run(duration)
            await asyncio.sleep(1.0)
        finally:
            await fleet.stop()
        s = fleet.stats
        typer.echo(f"uplinks {s.uplinks}, downlinks {s.downlinks}, acks {s.acks}, MAC commands {s.mac_commands}")
        for err in s.errors[:10]:
            typer.echo(f"error: {err}", err=True)

    asyncio.run(run())
