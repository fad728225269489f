"""A real API + portal app on a real database, and helpers to seed it through the services (shared with the
browser tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from lora_city.api import create_app
from lora_city.codec.registry import CodecRegistry
from lora_city.portal import PortalExtras, mount_portal
from lora_city.portal.users import create_user
from lora_city.services import tenants
from lora_city.services.principal import Principal, Role
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade

SECRET = "portal-test-secret"
ADMIN_TOKEN = "portal-admin-token"
PASSWORD = "correct horse battery"
ROOT = Principal(Role.ADMIN, None)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Portal:
    app: FastAPI
    factory: SessionFactory
    vault: KeyVault
    clock: Clock

    def tenant(self, slug: str, kind: str = "lessee") -> str:
        with self.factory() as s:
            return tenants.create_tenant(s, ROOT, tenants.TenantCreate(name=slug.title(), slug=slug, kind=kind)).id

    def user(self, email: str, role: Role, tenant_slug: str, language: str = "fr") -> str:
        with self.factory() as s:
            return create_user(s, email=email, password=PASSWORD, role=role, tenant_slug=tenant_slug,
                               now=self.clock(), language=language).id


def build_portal(database_url: str, *, clock: Clock | None = None, secure_cookies: bool = True,
                 extras: PortalExtras = PortalExtras(), migrations: Sequence[Path] = (),
                 codecs: CodecRegistry | None = None) -> Portal:
    """``migrations``: plugin migration folders (tenants/, billing/) to apply besides the core's."""
    upgrade(database_url, migrations)
    factory = make_session_factory(make_engine(database_url))
    vault = KeyVault(SECRET)
    clock = clock or Clock()
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, secret_key=SECRET)
    app = create_app(settings, factory, vault, clock=clock, codecs=codecs)
    mount_portal(app, settings=settings, session_factory=factory, vault=vault, clock=clock,
                 secure_cookies=secure_cookies, extras=extras, codecs=codecs)
    with factory() as s:
        from lora_city.storage.bootstrap import ensure_city_tenant

        ensure_city_tenant(s)
        s.commit()
    return Portal(app, factory, vault, clock)


def seed_device(portal: Portal, tenant_id: str, dev_eui: str, name: str, **extra: object) -> None:
    from lora_city.services.devices import DeviceCreate, register_device

    with portal.factory() as s:
        register_device(s, ROOT, portal.vault, DeviceCreate(
            dev_eui=dev_eui, name=name, tenant_id=tenant_id, app_key="00" * 16, **extra),  # type: ignore[arg-type]
            now=portal.clock())


def seed_uplinks(
    portal: Portal, tenant_id: str, dev_eui: str, points: list[tuple[datetime, float]], *,
    gateways: tuple[tuple[str, float, float], ...] = (("aa555a0000000001", -97.0, 6.5),), spreading_factor: int = 9,
    joined: bool = True,
) -> None:
    """Uplinks written by the readings store sink's own batch writer (the path the network server feeds), a join
    event first, and the device's last-heard time as the session store would record it."""
    import uuid

    from lora_city.sinks.events import DeviceInfo, GatewayRx, JoinEvent, UplinkEvent
    from lora_city.sinks.store import write_batch
    from lora_city.storage.db import transaction
    from lora_city.storage.models import Device

    info = DeviceInfo(dev_eui=dev_eui, tenant_id=tenant_id, codec_id="test", family="flood")
    rx = [GatewayRx(gateway_id=g, rssi=rssi, snr=snr) for g, rssi, snr in gateways]
    events: list[object] = []
    if joined and points:
        events.append(JoinEvent(time=points[0][0] - timedelta(seconds=5), device=info, dev_addr="01020304", rx=rx))
    for i, (when, level) in enumerate(points):
        events.append(UplinkEvent(
            uplink_id=str(uuid.uuid4()), time=when, device=info, dev_addr="01020304", f_cnt=i, f_port=1,
            confirmed=False, adr=True, payload=bytes([i % 256, 1]), data={"level": level},
            measurements={"water_level": (level, "cm")}, codec_errors=[], codec_warnings=[], rx=rx,
            frequency=868_100_000, spreading_factor=spreading_factor, bandwidth=125_000, dr=12 - spreading_factor,
            airtime_ms=185.3, phy_size=15, copies=len(rx)))
    with transaction(portal.factory) as s:
        write_batch(s, events)  # type: ignore[arg-type]
        device = s.get(Device, dev_eui)
        assert device is not None
        if points:
            device.last_seen_at = max(p[0] for p in points)
        if joined:
            device.dev_addr = "01020304"
