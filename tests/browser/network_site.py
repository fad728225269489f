"""The portal and the real network server on one database, for browser tests where devices join and send:
mosquitto, the MQTT gateway backend, virtual gateways and virtual OTAA devices (the network flow tests'
harness), the readings store sink, uvicorn serving the portal. Used by the technician's and the live log's
tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from lora_city.services.principal import Role
from lora_city.simulate.gateways import VirtualMqttGateway
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import Gateway
from tests.browser.conftest import ServerThread, Site
from tests.integration.network.harness import Harness, codecs
from tests.unit.portal.build import SECRET, Clock, build_portal

T = TypeVar("T")
GATEWAY_NAMES = ("Mairie - toit", "Château d'eau")


class WallClock(Clock):
    """The portal on the same clock as the network server: bindings and readings are compared in time."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


class LoopThread:
    """The network server's asyncio loop in a thread, beside uvicorn's and Playwright's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="network-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def portal_site(database_path: str, users: dict[str, tuple[Role, str, str]]) -> Iterator[Site]:
    """``users``: e-mail -> (role, tenant slug, language). The portal has the codec catalogue."""
    portal = build_portal(f"sqlite:///{database_path}", codecs=codecs(), clock=WallClock())
    for email, (role, slug, language) in users.items():
        if slug != "city" and slug not in _slugs(portal):
            portal.tenant(slug)
        portal.user(email, role, slug, language=language)
    server = ServerThread(portal.app)
    server.start()
    try:
        yield Site(portal, server.url)
    finally:
        server.stop()


def _slugs(portal: Any) -> set[str]:
    from sqlalchemy import select

    from lora_city.storage.models import Tenant

    with portal.factory() as s:
        return set(s.scalars(select(Tenant.slug)))


@contextmanager
def network(site: Site, mqtt_url: str, gateways: int = 2) -> Iterator[tuple[LoopThread, Harness, list[VirtualMqttGateway]]]:
    engine = site.portal.factory.kw["bind"]
    loop = LoopThread()
    # the portal's key vault: devices registered through the pages must decrypt in the network server
    harness = Harness(engine.url.render_as_string(hide_password=False), mqtt_url, secret_key=SECRET)
    loop.run(harness.start())
    gws = [loop.run(harness.gateway()) for _ in range(gateways)]
    with site.portal.factory() as s:  # registered gateways have names: pages show them, not raw EUIs
        city = ensure_city_tenant(s).id
        for gw, name in zip(gws, GATEWAY_NAMES, strict=False):
            row = s.get(Gateway, gw.gateway_id)  # the harness registers its gateways (unknown ones are dropped)
            if row is None:
                s.add(Gateway(gateway_id=gw.gateway_id, tenant_id=city, name=name))
            else:
                row.name = name
        s.commit()
    try:
        yield loop, harness, gws
    finally:
        loop.run(harness.stop())
        loop.run(harness.close())
        loop.stop()


async def drain(gateway: VirtualMqttGateway, settle_s: float = 1.5) -> None:
    """Forget the downlinks a gateway carried so far (class-A answers of earlier uplinks)."""
    await asyncio.sleep(settle_s)
    while not gateway.downlinks.empty():
        gateway.downlinks.get_nowait()
