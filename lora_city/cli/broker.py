"""``lora-city broker-config``: the file of mosquitto's dynamic-security plugin, written from the database: the
product's account (from LORA_CITY_MQTT_URL's user and password), the gateways' account, and each tenant's
account with a role that lets it read its applications' topics only (lora_city/sinks/broker_acl.py).

Run it before the broker's first start (compose/ does, in its ``broker-config`` service); afterwards the
plugin keeps the file and lora-city changes it at run time over ``$CONTROL`` (LORA_CITY_BROKER_DYNSEC=true).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import typer

from lora_city.cli.config import fail, load_settings, open_database


def broker_config_command(
    ctx: typer.Context,
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the plugin's JSON file"),
    gateway_username: str = typer.Option("gateway", "--gateway-username",
                                         help="The account gateways (or the gateway bridge) connect with"),
    gateway_password: str | None = typer.Option(None, "--gateway-password",
                                                envvar="LORA_CITY_BROKER_GATEWAY_PASSWORD",
                                                help="Its password (prefer the environment variable)"),
    if_missing: bool = typer.Option(False, "--if-missing",
                                    help="Leave an existing file alone (the running broker keeps it up to date)"),
    owner: str | None = typer.Option(None, "--chown", help="uid:gid to give the file (the broker's user)"),
) -> None:
    from sqlalchemy import select

    from lora_city.sinks.broker_acl import PasswordHash, TenantAccess, dynsec_config, hash_password
    from lora_city.storage.db import make_session_factory
    from lora_city.storage.models import Application, BrokerAccount

    if if_missing and output.exists():
        typer.echo(f"{output} exists: left as it is")
        return
    settings = load_settings(ctx)
    parts = urlsplit(settings.mqtt_url or "")
    if not parts.username or not parts.password:
        raise fail("LORA_CITY_MQTT_URL must carry the product's account: mqtt://user:password@host:port")
    engine = open_database(settings)
    try:
        with make_session_factory(engine)() as s:
            apps: dict[str, list[str]] = {}
            for app_id, tenant_id in s.execute(select(Application.id, Application.tenant_id)):
                apps.setdefault(tenant_id, []).append(app_id)
            tenants = [TenantAccess(a.tenant_id, a.username, PasswordHash(a.password_hash, a.salt, a.iterations),
                                    tuple(apps.get(a.tenant_id, ())))
                       for a in s.scalars(select(BrokerAccount).order_by(BrokerAccount.username))]
    finally:
        engine.dispose()
    document = dynsec_config(
        product_username=unquote(parts.username), product_secret=hash_password(unquote(parts.password)),
        gateway_username=gateway_username if gateway_password else None,
        gateway_secret=hash_password(gateway_password) if gateway_password else None,
        topic_prefix=settings.mqtt_topic_prefix, tenants=tenants,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(document, fh, indent=2)
    if owner:  # the broker runs as its own user and rewrites the file (and its folder) as accounts change
        uid, _, gid = owner.partition(":")
        for path in (output.parent, output):
            os.chown(path, int(uid), int(gid or uid))
    typer.echo(f"wrote {output}: the product, {'the gateways, ' if gateway_password else ''}"
               f"{len(tenants)} tenant account(s)")
