"""The demo city that ``lora-city serve --demo`` builds: Nîmes, three gateways on its landmarks, the city's
streetlights and flood sensors, a water company renting the network for its meters, and one login for each kind
of person who uses the product.

``seed_demo`` writes it through the services (as an operator would through the API), idempotently: a second
start finds it there, gives the demo users new passwords and carries on. On the first start it also records a
day of readings, so charts, maps and the open-data export have something to show before the live fleet has
spoken. What belongs to leasing (the lessee's plan, its prices, last month's usage and invoice) is done by a
``LeasingSeed`` the composition root passes in: the core does not know tenants/ or billing/.
"""

from __future__ import annotations

import logging
import random
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.alerts.service import rule_from_row
from lora_city.codec.registry import CodecRegistry
from lora_city.lorawan.airtime import time_on_air
from lora_city.portal.users import create_user, normalise_email
from lora_city.services import gateways, onboarding, tenants
from lora_city.services.devices import DeviceCreate, register_device
from lora_city.services.passwords import hash_password
from lora_city.services.principal import Principal, Role
from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.readings import (
    BuildingWaterMeter,
    DistanceGauge,
    PayloadSource,
    Streetlight,
    WaterLevel,
    WaterMeter,
)
from lora_city.sinks.events import GatewayRx, UplinkEvent
from lora_city.sinks.store import write_batch
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import AlertRule, Device, Gateway, Tenant, User
from lora_city.storage.sessions import device_info

log = logging.getLogger(__name__)

ROOT = Principal(Role.ADMIN, None)  # the demo is set up as the built-in administrator would
HISTORY = timedelta(hours=24)
HISTORY_STEP = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class DemoGateway:
    gateway_id: str
    name: str
    latitude: float
    longitude: float
    altitude: float


@dataclass(frozen=True, slots=True)
class DemoDevice:
    name: str
    owner: str  # "city" or "lessee"
    asset_ref: str
    asset_kind: str  # pole | meter | gauge
    latitude: float
    longitude: float
    district: str
    source: Callable[[random.Random], PayloadSource]


# Landmarks of Nîmes (positions to a few metres).
GATEWAYS = (
    DemoGateway("7076ff0056080a01", "Hôtel de ville", 43.83660, 4.36010, 75.0),
    DemoGateway("7076ff0056080a02", "Tour Magne", 43.84050, 4.34640, 140.0),
    DemoGateway("7076ff0056080a03", "Gare de Nîmes", 43.83230, 4.36630, 60.0),
)

DEVICES = (
    DemoDevice("Lampadaires boulevard Victor-Hugo", "city", "LP-VH-012", "pole", 43.83705, 4.35700, "Écusson",
               lambda r: Streetlight(43.83705, 4.35700, lamps=2, watts=70.0, energy_base_wh=1_250_000, rng=r)),
    DemoDevice("Lampadaires avenue Feuchères", "city", "LP-FE-004", "pole", 43.83350, 4.36400, "Feuchères",
               lambda r: Streetlight(43.83350, 4.36400, lamps=2, watts=100.0, energy_base_wh=2_040_000, rng=r)),
    # A low battery (15 %) is the demo's one open alert: the kind of job a technician is sent to do.
    DemoDevice("Limnimètre cadereau d'Uzès", "city", "LM-UZ-01", "gauge", 43.84600, 4.36500, "Cadereau d'Uzès",
               lambda r: WaterLevel(level_cm=42.0, battery=15, rng=r)),
    DemoDevice("Capteur de hauteur cadereau de Valdegour", "city", "HT-VG-02", "gauge", 43.83900, 4.33000,
               "Valdegour", lambda r: DistanceGauge(distance_mm=2350.0, battery_mv=3350, rng=r)),
    DemoDevice("Compteur rue de la Madeleine", "lessee", "CPT-0412", "meter", 43.83720, 4.35920, "Écusson",
               lambda r: WaterMeter(litres_per_day=310.0, index_base=84_000, battery=88)),
    DemoDevice("Compteur quai de la Fontaine", "lessee", "CPT-0587", "meter", 43.83950, 4.35200, "Jean-Jaurès",
               lambda r: WaterMeter(litres_per_day=420.0, index_base=126_500, battery=93)),
    DemoDevice("Compteur avenue Jean-Jaurès", "lessee", "CPT-0633", "meter", 43.83200, 4.35300, "Jean-Jaurès",
               lambda r: WaterMeter(litres_per_day=265.0, index_base=51_200, battery=79)),
    # The city's own buildings of the Écusson: five meters in one district, the least the open-data export
    # publishes a district's water consumption for (lora_city/opendata/export.py, MIN_HOUSEHOLDS).
    DemoDevice("Compteur d'eau hôtel de ville", "city", "EAU-HDV", "meter", 43.83672, 4.36030, "Écusson",
               lambda r: BuildingWaterMeter(litres_per_day=3_200.0, index_base=1_254_000)),
    DemoDevice("Compteur d'eau Maison Carrée", "city", "EAU-MC", "meter", 43.83840, 4.35620, "Écusson",
               lambda r: BuildingWaterMeter(litres_per_day=450.0, index_base=212_300)),
    DemoDevice("Compteur d'eau Arènes", "city", "EAU-ARN", "meter", 43.83480, 4.35970, "Écusson",
               lambda r: BuildingWaterMeter(litres_per_day=1_800.0, index_base=980_450)),
    DemoDevice("Compteur d'eau Carré d'Art", "city", "EAU-CDA", "meter", 43.83860, 4.35560, "Écusson",
               lambda r: BuildingWaterMeter(litres_per_day=2_600.0, index_base=1_530_900)),
    DemoDevice("Compteur d'eau halles centrales", "city", "EAU-HAL", "meter", 43.83770, 4.35910, "Écusson",
               lambda r: BuildingWaterMeter(litres_per_day=5_400.0, index_base=3_402_700)),
)

LESSEE = tenants.TenantCreate(
    name="Aquaréseau Nîmes", slug="aquareseau", kind="lessee", legal_name="Aquaréseau Nîmes SAS (démo)",
    siret="12345678900017", vat_number="FR12123456789", address="12 rue de la République\n30000 Nîmes",
    email="facturation@aquareseau.example",
)

# (what the person is, e-mail, display name, role, owner)
USERS = (
    ("city administrator", "admin@ville-nimes.example", "Camille Martin (DSI)", Role.ADMIN, "city"),
    ("lessee administrator", "admin@aquareseau.example", "Louis Bernard (Aquaréseau)", Role.TENANT_ADMIN, "lessee"),
    ("technician", "technicien@ville-nimes.example", "Inès Garcia (terrain)", Role.TECHNICIAN, "city"),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    who: str
    email: str
    password: str


@dataclass
class DemoWorld:
    city_id: str
    lessee_id: str
    gateway_ids: list[str]
    devices: list[VirtualDevice]
    lessee_devices: list[str]
    logins: list[DemoLogin] = field(default_factory=list)
    first_start: bool = False


class LeasingSeed(Protocol):
    """Sets up what the lessee leases under (plan, prices, past usage, last month's invoice); idempotent."""

    def __call__(self, factory: SessionFactory, world: DemoWorld, now: datetime) -> None: ...


def demo_devices(count: int | None = None) -> list[tuple[DemoDevice, VirtualDevice]]:
    """The demo's devices with keys that stay the same from one start to the next (the database keeps them);
    beyond the twelve of the demo, copies a little further along the same streets. A fresh DevNonce each start
    (LoRaWAN 1.0.4 §6.2.4: a DevNonce is never used twice)."""
    out = []
    for i in range(len(DEVICES) if count is None else count):
        spec, copy = DEVICES[i % len(DEVICES)], i // len(DEVICES)
        if copy:
            shift = 0.0015 * copy
            spec = DemoDevice(f"{spec.name} ({copy + 1})", spec.owner, f"{spec.asset_ref}-{copy + 1}", spec.asset_kind,
                              spec.latitude + shift, spec.longitude + shift, spec.district, spec.source)
        rng = random.Random(f"lora-city-demo-{i}")
        device = VirtualDevice(f"70b3d57ed00{rng.getrandbits(20):05x}", "70b3d57ed0000000",
                               rng.getrandbits(128).to_bytes(16, "big"), dev_nonce=secrets.randbelow(1 << 16))
        device.source = spec.source(rng)
        device.codec = device.source.codec
        out.append((spec, device))
    return out


def seed_demo(factory: SessionFactory, vault: KeyVault, codecs: CodecRegistry, *, now: datetime,
              devices: int | None = None, leasing: LeasingSeed | None = None) -> DemoWorld:
    fleet = demo_devices(devices)
    with factory() as s:
        city = ensure_city_tenant(s)
        s.commit()
        lessee = s.scalar(select(Tenant).where(Tenant.slug == LESSEE.slug)) or tenants.create_tenant(s, ROOT, LESSEE)
        world = DemoWorld(city.id, lessee.id, [g.gateway_id for g in GATEWAYS], [d for _, d in fleet],
                          [d.dev_eui for spec, d in fleet if spec.owner == "lessee"])
        _gateways(s, city.id)
        world.first_start = _devices(s, vault, codecs, world, fleet, now)
        _alert_rules(s, world)
        world.logins = _users(s, world, now)
    if world.first_start:
        _history(factory, codecs, world, fleet, now)
    if leasing is not None:
        leasing(factory, world, now)
    return world


def _gateways(s: Session, city_id: str) -> None:
    for g in GATEWAYS:
        if s.get(Gateway, g.gateway_id) is None:
            gateways.create_gateway(s, ROOT, gateways.GatewayCreate(
                gateway_id=g.gateway_id, name=g.name, latitude=g.latitude, longitude=g.longitude, altitude=g.altitude,
                tenant_id=city_id))


def _devices(s: Session, vault: KeyVault, codecs: CodecRegistry, world: DemoWorld,
             fleet: list[tuple[DemoDevice, VirtualDevice]], now: datetime) -> bool:
    """Register the missing devices, each on its asset (pole, meter, gauge) at its position; True when any was
    new (a first start)."""
    created = False
    for spec, dev in fleet:
        if s.get(Device, dev.dev_eui) is not None:
            continue
        created = True
        tenant_id = world.city_id if spec.owner == "city" else world.lessee_id
        register_device(s, ROOT, vault, DeviceCreate(
            dev_eui=dev.dev_eui, join_eui=dev.join_eui, app_key=dev.app_key.hex(), name=spec.name, codec=dev.codec,
            tenant_id=tenant_id, latitude=spec.latitude, longitude=spec.longitude,
            tags={"district": spec.district}), codecs=codecs, now=now)
        onboarding.bind(s, ROOT, onboarding.BindRequest(dev_eui=dev.dev_eui, asset=onboarding.AssetRef(
            external_ref=spec.asset_ref, name=spec.name, kind=spec.asset_kind,  # type: ignore[arg-type]
            latitude=spec.latitude, longitude=spec.longitude)), idem=None, now=now)
        s.commit()
    return created


def demo_rules(city_id: str, lessee_id: str) -> list[AlertRule]:
    """Rules a city would have. Hysteresis and steady readings keep each alert one alert (issue 21: random
    readings made a flood rule flap 29 times in 6 minutes)."""
    rules = [
        AlertRule(tenant_id=city_id, name="Crue des cadereaux (vigilance)", kind="threshold",
                  service="flood_cell", scope_kind="family", scope_value="flood", measurement="water_level",
                  params={"levels": [{"name": "yellow", "value": 1.0, "severity": "warning"},
                                     {"name": "orange", "value": 1.8, "severity": "major"},
                                     {"name": "red", "value": 2.5, "severity": "critical"}],
                          "direction": "above", "hysteresis": 0.1}),
        AlertRule(tenant_id=city_id, name="Batterie faible", kind="threshold", service="supervision",
                  scope_kind="tenant", scope_value=city_id, measurement="battery_level",
                  params={"levels": [{"name": "low", "value": 20, "severity": "warning"}], "direction": "below",
                          "hysteresis": 5}),
        AlertRule(tenant_id=city_id, name="Lampadaire allumé en plein jour", kind="day_burning",
                  service="streetlights", scope_kind="family", scope_value="streetlight",
                  params={"severity": "warning"}),
        AlertRule(tenant_id=lessee_id, name="Compteur silencieux", kind="absence", service="supervision",
                  scope_kind="tenant", scope_value=lessee_id, params={"max_silence_s": 3 * 3600.0,
                                                                       "severity": "warning"}),
    ]
    for rule in rules:
        rule.enabled = True
    return rules


def _alert_rules(s: Session, world: DemoWorld) -> None:
    for rule in demo_rules(world.city_id, world.lessee_id):
        exists = s.scalar(select(AlertRule.id).where(AlertRule.tenant_id == rule.tenant_id,
                                                     AlertRule.name == rule.name))
        if exists is None:
            rule_from_row(rule)  # what the engine will read back
            s.add(rule)
    s.commit()


def _users(s: Session, world: DemoWorld, now: datetime) -> list[DemoLogin]:
    """One login per kind of person; a new password at every start (printed once, never stored in clear)."""
    logins = [DemoLogin(who, email, secrets.token_urlsafe(12)) for who, email, *_ in USERS]
    existing = {u.email: u for u in s.scalars(select(User).where(
        User.email.in_([normalise_email(email) for _, email, *_ in USERS])))}
    for (_, email, name, role, owner), login in zip(USERS, logins, strict=True):
        if normalise_email(email) not in existing:
            slug = "city" if owner == "city" else LESSEE.slug
            create_user(s, email=email, password=login.password, role=role, tenant_slug=slug, now=now,
                        display_name=name)
    again = [(existing[normalise_email(login.email)], login.password) for login in logins
             if normalise_email(login.email) in existing]
    with ThreadPoolExecutor(max(len(again), 1)) as pool:  # argon2id is slow on purpose; it releases the GIL
        hashes = list(pool.map(hash_password, [password for _, password in again]))
    for (user, _), password_hash in zip(again, hashes, strict=True):
        user.password_hash = password_hash
        user.is_active = True
    s.commit()
    return logins


def _history(factory: SessionFactory, codecs: CodecRegistry, world: DemoWorld,
             fleet: list[tuple[DemoDevice, VirtualDevice]], now: datetime) -> None:
    """A day of readings every 15 minutes, decoded by the devices' codecs as the network server would, heard by
    the gateways with steady link margins; written by the readings store's own batch writer."""
    def family_of(codec_id: str | None) -> str | None:
        return str(codecs.get(codec_id).manifest.family.value) if codec_id and codec_id in codecs else None

    rng = random.Random("lora-city-demo-history")
    events: list[UplinkEvent] = []
    start = now - HISTORY
    with factory() as s:
        for _, dev in fleet:
            found = device_info(s, dev.dev_eui, family_of)
            if found is None or dev.source is None:
                continue
            info = found[0]
            links = [(g.gateway_id, rng.uniform(-110.0, -80.0), rng.uniform(-4.0, 9.0)) for g in GATEWAYS]
            steps = int(HISTORY / HISTORY_STEP)
            for n in range(steps):
                when = start + n * HISTORY_STEP + timedelta(seconds=rng.uniform(0, 60))
                f_port, payload = dev.source.payload(when)
                result = codecs.decode_uplink(info.codec_id or dev.codec, f_port, payload, recv_time=when)
                airtime_ms = time_on_air(13 + len(payload), 7, 125_000) * 1000
                events.append(UplinkEvent(
                    uplink_id=str(uuid.uuid4()), time=when, device=info, dev_addr="00000000", f_cnt=n,
                    f_port=f_port, confirmed=False, adr=True, payload=payload, data=result.data,
                    measurements={m.key: (m.value, m.unit) for m in result.measurements},
                    codec_errors=list(result.errors), codec_warnings=list(result.warnings),
                    rx=[GatewayRx(gateway_id=g, rssi=round(rssi + rng.gauss(0, 1.5)), snr=round(snr, 1))
                        for g, rssi, snr in links],
                    frequency=rng.choice((868_100_000, 868_300_000, 868_500_000)), spreading_factor=7,
                    bandwidth=125_000, dr=5, airtime_ms=airtime_ms, phy_size=13 + len(payload), copies=len(links)))
    with transaction(factory) as s:
        write_batch(s, list(events))
        for _, dev in fleet:
            row = s.get(Device, dev.dev_eui)
            if row is not None:
                row.last_seen_at = max((e.time for e in events if e.device.dev_eui == dev.dev_eui), default=None)
    log.info("demo: %d readings of the last %d hours recorded", len(events), HISTORY // timedelta(hours=1))


def utcnow() -> datetime:
    return datetime.now(UTC)


def welcome(world: DemoWorld, http_listen: str, admin_token: str) -> str:
    """What ``serve --demo`` prints once the server answers: where the portal is and how to log in."""
    host, _, port = http_listen.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    base = f"http://{host}:{port}"
    width = max(len(login.who) for login in world.logins)
    lines = [
        f"demo: portal      {base}/portal/",
        "demo: logins (new passwords at each start):",
        *(f"  {login.who:<{width}}  {login.email:<32} {login.password}" for login in world.logins),
        f"demo: API         {base}/api/v1  (docs {base}/api/v1/docs; Authorization: Bearer {admin_token})",
        f"demo: {len(world.gateway_ids)} gateways in Nîmes, {len(world.devices)} devices "
        f"({len(world.lessee_devices)} of the lessee Aquaréseau Nîmes) joining over Semtech UDP...",
    ]
    return "\n".join(lines)


async def run_fleet(world: DemoWorld, *, api_url: str, admin_token: str, udp_server: tuple[str, int],
                    rate: float) -> None:
    """The demo's gateways and devices on the air: join, then send readings at ``rate`` uplinks/s (whole
    fleet) until cancelled."""
    from lora_city.simulate.fleet import Fleet, FleetConfig

    fleet = Fleet(FleetConfig(api_url=api_url, admin_token=admin_token, gateways=len(world.gateway_ids),
                              devices=len(world.devices), rate=rate, transport="udp", udp_server=udp_server,
                              confirmed_ratio=0.05),
                  devices=world.devices, gateway_ids=world.gateway_ids, register=False)
    try:
        await fleet.start()
        joined = await fleet.join_all()
        print(f"demo: {joined}/{len(world.devices)} devices joined; readings arrive every "
              f"{len(world.devices) / max(rate, 0.001):.0f} s per device", flush=True)
        while True:
            await fleet.run(60.0)
    finally:
        await fleet.stop()
