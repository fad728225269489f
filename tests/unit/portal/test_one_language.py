"""One language per page (issue 17): every page of the portal, for every role, in French and in English, holds
none of the other language's give-away words (tests/support/one_language.py, word list kept with the
translations in lora_city/portal/messages/words.json), says its language in <html lang>, and every template is
rendered by the walk.

The walk takes the portal's routes from the app itself: a page added by anyone is walked without touching this
file, and a new path parameter fails the walk until a seeded value is given for it in PARAMS. Seeded names are
language-neutral (a device is "Q7"), so what is found is the pages' own words.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from billing.issuer import IssuerIn, save_issuer
from billing.meter import UsageMeter
from billing.portal_extras import billing_extras
from billing.prices import PricesIn, set_prices
from billing.run import run_billing
from lora_city.alerts.engine import AlertChange, ChangeKind
from lora_city.alerts.rules import Level, Rule, RuleKind, Severity
from lora_city.alerts.service import AlertService
from lora_city.codec.catalogue.importer import import_repository
from lora_city.codec.js import JsLimits
from lora_city.fuota import service as fuota_service
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.steps import Step
from lora_city.lorawan.tr005 import QRCode
from lora_city.metrics import Metrics
from lora_city.portal import accounts
from lora_city.portal.formatting import Formatter
from lora_city.portal.i18n import translate
from lora_city.services import api_keys, lighting, multicast
from lora_city.services import integrations as core_integrations
from lora_city.services.devices import DeviceCreate, register_device
from lora_city.services.live_log import Entry, GatewaySeen
from lora_city.services.principal import Principal, Role
from lora_city.services.profiles import ProfileCreate, create_profile
from lora_city.sinks.deliveries import Attempt, write_attempts
from lora_city.sinks.events import DeviceInfo, GatewayRx, UplinkEvent
from lora_city.sinks.store import write_batch
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.models import AlertRule, Asset, AssetDevice, Gateway, Reading, User
from tenants.plans import PlanCreate, assign_plan, create_plan
from tenants.quota import PlanQuotaPolicy
from tests.integration.network.harness import codecs
from tests.support.device_repository import DeviceRepo
from tests.support.one_language import foreign_words, give_away_words
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import PASSWORD, Clock, Portal, build_portal, seed_device

pytestmark = pytest.mark.slow
ROOT = Principal(Role.ADMIN, None)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
LAMP, SPARE = "70b3d57ed0000a01", "70b3d57ed0000a02"
GW = "aa555a0000000a01"
ROLES = {Role.ADMIN: "city", Role.OPERATOR: "city", Role.TECHNICIAN: "city", Role.TENANT_ADMIN: "acme",
         Role.TENANT_VIEWER: "acme"}
# Accounts named without words of either language (the header shows the account's name).
LOGIN = {Role.ADMIN: "adm", Role.OPERATOR: "opr", Role.TECHNICIAN: "tec", Role.TENANT_ADMIN: "ta", Role.TENANT_VIEWER: "tv"}
# Responses that are not pages (files, JSON, event streams): requested, not read.
NOT_PAGES = re.compile(r"(\.csv|\.zip|\.json|\.geojson|\.\{fmt\}|/photo|/live/stream)$")
STREAMED_TEMPLATES = {"_live_entry.html"}  # sent by the SSE streams; rendered below with sample entries


@dataclass
class World:
    portal: Portal
    params: dict[str, str]
    queries: dict[str, dict[str, str]]


def _seed_others(portal: Portal, factory: Any, city: str, acme: str, catalogue_root: Path) -> dict[str, str]:
    """What the other consoles show: a portal account and an invitation, a device profile running the FUOTA
    packages and a campaign on one of its devices, a catalogue vendor and model (our own neutral repository)."""
    with portal.factory() as s:
        account = s.query(User).filter(User.email == "taen@x.example").one().id
        _row, token = accounts.invite(s, ROOT, accounts.InviteIn(email="inv@x.example", role=Role.TENANT_VIEWER,
                                                                  tenant="acme"), actor="admfr@x.example", now=NOW)
        s.commit()
        profile = create_profile(s, ROOT, ProfileCreate.model_validate({
            "name": "PR1", "tenant_id": city, "device_class": "C", "mac_version": "1.0.4",
            "app_layer": {"clock_sync": 2, "multicast_setup": 2, "fragmentation": 2}}))
        register_device(s, ROOT, portal.vault, DeviceCreate.model_validate({
            "dev_eui": "70b3d57ed0000a03", "name": "L3", "tenant_id": city, "device_profile_id": profile.id,
            "app_key": "00" * 16, "gen_app_key": "11" * 16}), now=NOW)
        campaign = fuota_service.create_campaign(s, ROOT, fuota_service.CampaignCreate(
            name="C1", tenant_id=city, image_base64=base64.b64encode(bytes(range(256)) * 2).decode(),
            dev_euis=["70b3d57ed0000a03"]), max_image_bytes=1 << 20, now=NOW)
        profile_id, campaign_id = profile.id, campaign.campaign.id
    repo = DeviceRepo(catalogue_root)
    repo.vendor("zeta", "Zeta", 0x0C33)
    repo.profile("zeta", "zp-eu868", vendor_profile_id=1, mac="1.0.3", regional="RP002-1.0.1")
    repo.script("zeta", "z.js", "function decodeUplink(input) { return { data: { v: input.bytes[0] } }; }\n")
    repo.codec("zeta", "z-codec", uplink="z.js", uplink_examples=[
        {"description": "Z1", "input": {"fPort": 1, "bytes": [1]}, "output": {"data": {"v": 1}}}])
    repo.device("zeta", "z-1", "Z-1", sensors=["level"], firmware=[("1.0", {"EU863-870": ("zp-eu868", "z-codec")})])
    import_repository(repo.save(), factory, limits=JsLimits(), now=NOW)
    lamps = _seed_lighting(portal, city)
    integration_id = _seed_integration(portal, acme)
    return {"integration_id": integration_id, **lamps, "user_id": account, "token": token, "profile_id": profile_id, "campaign_id": campaign_id,
            "vendor": "zeta", "model": "z-1"}


def _seed_integration(portal: Portal, acme: str) -> str:
    """A lessee's webhook with one delivered event and one failed (the sender's own words for the failure)."""
    with portal.factory() as s:
        row, _secret = core_integrations.create(s, portal.vault, ROOT, core_integrations.IntegrationCreate(
            kind="webhook", url="https://hooks.x.example/in", name="H1", tenant_id=acme))
        write_attempts(s, [Attempt(row.id, "up", True, dev_eui=LAMP, status=204, duration_ms=41.0, time=NOW),
                           Attempt(row.id, "up", False, dev_eui=LAMP, status=503, attempt=2, duration_ms=87.0,
                                   error="HTTP 503 from https://hooks.x.example/in", time=NOW)])
        s.commit()
        return row.id


def _seed_lighting(portal: Portal, city: str) -> dict[str, str]:
    """What the lighting console shows: a lamp on the map with its last status, a group on a schedule with the
    step in force, the next one and the last command, and the month's savings for the lamp's district; the
    schedule has an exception for tonight. The group's and the schedule's ids."""
    registry = codecs()
    with portal.factory() as s:
        register_device(s, ROOT, portal.vault, DeviceCreate(
            dev_eui="70b3d57ed0000a04", name="L4", tenant_id=city, codec="nas-ul20x2", device_class="C",
            latitude=43.61, longitude=3.88, tags={"district": "Z1", "lamp_power_w": "90"}), now=NOW)
        s.add(Reading(uplink_id="walk-lamp", dev_eui="70b3d57ed0000a04", tenant_id=city, family="streetlight",
                      codec_id="nas-ul20x2", time=NOW - timedelta(minutes=20), f_cnt=1, f_port=23,
                      measurements={"dim_level": {"value": 50, "unit": "%"}, "lamp_on": {"value": True, "unit": None},
                                    "lamp_failure": {"value": False, "unit": None}}))
        s.commit()
        group = multicast.create_group(s, ROOT, portal.vault, multicast.GroupCreate(name="G1"), net_id="000000",
                                       codecs=registry, now=NOW)
        multicast.add_members(s, ROOT, group.group.id, multicast.MembersAdd(dev_euis=["70b3d57ed0000a04"]), now=NOW)
        schedule = lighting.create_schedule(s, ROOT, lighting.ScheduleCreate(name="S1", steps=[
            Step.model_validate(x) for x in ({"at": "dusk", "level": 100}, {"at": "23:00", "level": 50},
                                             {"at": "dawn", "offset_min": -30, "level": 0})]), now=NOW)
        lighting.assign(s, ROOT, schedule.id, lighting.Target(group_id=group.group.id), now=NOW)
        lighting.dim_now(s, ROOT, lighting.DimNow(group_id=group.group.id, level=30), CommandSender(registry),
                         now=NOW)
        lighting.add_exception(s, ROOT, schedule.id, lighting.ExceptionCreate(
            start_date=date(2026, 11, 19), end_date=date(2026, 11, 20), note="N1",
            steps=[Step.model_validate({"at": "sunset", "offset_min": 15, "level": 80})]), now=NOW)
        return {"schedule_id": schedule.id, "group_id": group.group.id}


def _seed(portal: Portal, factory: Any, catalogue_root: Path) -> World:
    with transaction(portal.factory) as s:
        city = ensure_city_tenant(s)
        city.name = "Rivebourg"  # "Ville" would be a French word in English pages
        city_id = city.id
        s.add(Gateway(gateway_id=GW, tenant_id=city_id, name="GW-1", latitude=43.6, longitude=3.87, online=True,
                      last_seen_at=NOW))
    acme = portal.tenant("acme")
    for role, slug in ROLES.items():
        for language in ("fr", "en"):
            portal.user(f"{LOGIN[role]}{language}@x.example", role, slug, language=language)
    seed_device(portal, acme, LAMP, "Q7", codec="milesight-ws558")
    seed_device(portal, acme, SPARE, "Q8", codec="milesight-ws558")
    info = DeviceInfo(dev_eui=LAMP, tenant_id=acme, codec_id="milesight-ws558", family="streetlight")
    with transaction(portal.factory) as s:
        write_batch(s, [UplinkEvent(
            uplink_id=f"walk-{i}", time=NOW - timedelta(minutes=30 * i), device=info, dev_addr="01020304", f_cnt=i,
            f_port=85, confirmed=False, adr=True, payload=b"\x01", data={"voltage": 230.1, "switch_1": i % 2 == 0},
            measurements={"voltage": (230.1, "V"), "lamp_on:1": (i % 2 == 0, None)}, codec_errors=[],
            codec_warnings=[], rx=[GatewayRx(GW, -99.0, 5.5)], frequency=868_100_000, spreading_factor=9,
            bandwidth=125_000, dr=3, airtime_ms=185.3, phy_size=15, copies=1) for i in range(6)])
        tech = s.query(User).filter(User.email == "tecfr@x.example").one()
        asset = Asset(tenant_id=acme, external_ref="P-12", name="P-12", kind="pole", latitude=43.6, longitude=3.87,
                      created_at=NOW - timedelta(days=1))
        s.add(asset)
        s.flush()
        s.add(AssetDevice(asset_id=asset.id, dev_eui=LAMP, bound_at=NOW - timedelta(days=1),
                          bound_by=f"user:{tech.id}"))
        asset_id = asset.id
        rule = AlertRule(tenant_id=acme, name="V", kind="threshold", measurement="voltage",
                         params={"levels": [{"name": "L1", "value": 250.0, "severity": "warning"}]})
        s.add(rule)
        s.flush()
        rule_id = rule.id
    AlertService(portal.factory, portal.clock).record([AlertChange(
        ChangeKind.RAISED, f"{rule_id}:{LAMP}", Rule(id=rule_id, name="V", kind=RuleKind.THRESHOLD, tenant_id=acme,
                                                     measurement="voltage", levels=(Level("L1", 250.0, Severity.WARNING),)),
        LAMP, acme, Severity.WARNING, "L1", 251.0, "voltage 251 on Q7: level L1", NOW)])
    with portal.factory() as s:
        key_id = api_keys.create_key(s, ROOT, name="K1", role=Role.TENANT_VIEWER, tenant_id=acme, now=NOW).row.id
        plan = create_plan(s, ROOT, PlanCreate(name="P500", max_devices=500, uplinks_per_device_day=2880,
                                               airtime_s_per_device_day=120, downlinks_per_device_day=20))
        set_prices(s, ROOT, plan.id, PricesIn.model_validate({"monthly_fee_cents": 4900}))
        save_issuer(s, IssuerIn(legal_name="Rivebourg", address="1 Place X\n30000 Rivebourg", siret="21300189700019",
                                vat_number="FR33213001897", iban="FR76 3000 6000 0112 3456 7890 189",
                                late_penalty="3 x"))
        s.commit()
        assign_plan(s, ROOT, acme, plan.id)
        plan_id = plan.id
    meter = UsageMeter(factory, Metrics())
    meter.submit(UplinkEvent(
        uplink_id="walk-usage", time=datetime(2026, 10, 5, 12, tzinfo=UTC), device=info, dev_addr="01020304",
        f_cnt=1, f_port=85, confirmed=False, adr=True, payload=b"", data=None, measurements={}, codec_errors=[],
        codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000, dr=5,
        airtime_ms=60.0, phy_size=20, copies=1))
    meter.flush()
    run_billing(factory, "2026-10", today=date(2026, 11, 20))
    with portal.factory() as s:
        from billing.models import Invoice

        invoice_id = s.query(Invoice).filter(Invoice.tenant_id == acme).one().id
    unknown = QRCode(join_eui="0000000000000000", dev_eui="70b3d57ed0000aff", profile_id="00000000").to_string()
    others = _seed_others(portal, factory, city_id, acme, catalogue_root)
    return World(portal, params={
        "dev_eui": LAMP, "gateway_id": GW, "asset_id": asset_id, "tenant_id": acme, "invoice_id": invoice_id,
        "fmt": "pdf", "plan_id": plan_id, "key_id": key_id, "rest": "no/such/page", "rule_id": rule_id, **others,
    }, queries={
        "/portal/install/register": {"qr": unknown},
        "/portal/install/assets/{asset_id}/replace": {"old": LAMP},
        "/portal/install/assets/{asset_id}/swap": {"old": LAMP, "new": SPARE},
        "/portal/usage.csv": {"period": "2026-10"},
    })


class RecordingLoader(jinja2.BaseLoader):
    """Names of the templates the walk rendered (includes and imports too)."""

    def __init__(self, inner: jinja2.BaseLoader) -> None:
        self.inner = inner
        self.loaded: set[str] = set()

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        self.loaded.add(template)
        return self.inner.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('walk') / 'portal.db'}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock(NOW)
    policy = PlanQuotaPolicy(Metrics(), emit=lambda _event: None)
    portal = build_portal(url, clock=clock, migrations=all_migration_locations(), codecs=codecs(),
                          extras=billing_extras(factory, clock, policy, None,
                                                export_dir=tmp_path_factory.mktemp("exports")))
    world = _seed(portal, factory, tmp_path_factory.mktemp("catalogue"))
    with factory() as s:
        policy.load(s)  # the plan's quotas on the dashboard's gauges
    yield world
    engine.dispose()


def _routes(routes: Any, prefix: str = "") -> Iterator[APIRoute | tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI's lazily included routers
            yield from _routes(route.original_router.routes, prefix + route.include_context.prefix)


def _pages(world: World) -> list[tuple[str, dict[str, str]]]:
    pages, missing = [], set()
    for path, route in _routes(world.portal.app.routes):  # type: ignore[misc]
        if not path.startswith("/portal") or "GET" not in route.methods or NOT_PAGES.search(path):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
        missing |= {n for n in names if n not in world.params}
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: world.params.get(m[1], ""), path)
        pages.append((url, world.queries.get(path, {})))
    assert not missing, f"give a seeded value for path parameter(s) {sorted(missing)} in the walk's PARAMS"
    return pages


def _login(portal: Portal, email: str) -> TestClient:
    client = TestClient(portal.app, base_url="https://testserver", follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/portal/login").text)[1]  # type: ignore[index]
    r = client.post("/portal/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text
    return client


def test_every_page_speaks_one_language(world: World) -> None:
    env = world.portal.app.state.portal.templates
    recorder = RecordingLoader(env.loader)
    env.loader = recorder  # a new loader: templates compiled before are not reused, each first load is seen
    forbidden = give_away_words()
    problems: list[str] = []
    walked = 0
    clients = {(None, "fr"): TestClient(world.portal.app, base_url="https://testserver", follow_redirects=False,
                                        headers={"Accept-Language": "fr-FR"}),
               (None, "en"): TestClient(world.portal.app, base_url="https://testserver", follow_redirects=False,
                                        headers={"Accept-Language": "en-GB,en;q=0.9"})}
    for role in ROLES:
        for language in ("fr", "en"):
            clients[(role, language)] = _login(world.portal, f"{LOGIN[role]}{language}@x.example")
    for (role, language), client in clients.items():
        refused = 0
        for url, query in _pages(world):
            r = client.get(url, params=query)
            if not r.headers.get("content-type", "").startswith("text/html"):
                continue
            if r.status_code == 403:  # one refusal page per account is enough: they are the same page
                refused += 1
                if refused > 1:
                    continue
            walked += 1
            who = f"{role.value if role else 'anonymous'}/{language} {url} ({r.status_code})"
            lang = re.search(r'<html lang="(\w+)"', r.text)
            if "<html" in r.text and (lang is None or lang[1] != language):  # fragments have no <html>
                problems.append(f"{who}: <html lang> is {lang[1] if lang else None}")
            problems += [f"{who}: {w}" for w in foreign_words(r.text, language, forbidden)]
    # what the live streams send, in both languages
    for language in ("fr", "en"):
        html = env.get_template("_live_entry.html").render(
            e=_sample_entry(), show_device=True, t=partial(translate, language),
            fmt=Formatter(language), url=lambda p="": "/portal" + p, measure_label=env.globals["measure_label"],
            measure_value=env.globals["measure_value"])
        problems += [f"live entry/{language}: {w}" for w in foreign_words(f'<html lang="{language}">{html}',
                                                                          language, forbidden)]
    assert walked > 100
    assert not problems, f"{len(problems)} word(s) of the other language:\n" + "\n".join(sorted(set(problems)))
    every = {name for name in env.loader.list_templates() if name.endswith(".html")}
    unrendered = every - recorder.loaded - STREAMED_TEMPLATES
    assert not unrendered, f"templates no walked page rendered: {sorted(unrendered)} (seed what shows them)"


def test_the_walk_sees_the_lighting_console_filled(world: World) -> None:
    """The seed is what the walk reads: the console's group card with its last command, the lamp's row, the
    district's savings and the schedule's steps are on the page, and the schedule's page shows tonight's
    exception (an empty console would hide their words)."""
    for language, command in (("fr", "envoyé"), ("en", "sent")):
        html = _login(world.portal, f"opr{language}@x.example").get("/portal/console/lighting").text
        assert 'data-group="' in html and 'data-dev-eui="70b3d57ed0000a04"' in html
        assert 'data-district="Z1"' in html and 'class="last-command"' in html and 'data-schedule="' in html
        assert command in html.split('class="last-command">')[1].split("</dd>")[0]
        client = _login(world.portal, f"opr{language}@x.example")
        html = client.get(f"/portal/console/lighting/schedules/{world.params['schedule_id']}").text
        assert 'id="tonight-exception"' in html and 'data-exception="' in html


def _sample_entry() -> Entry:
    return Entry(kind="up", time=NOW, dev_eui=LAMP, key="r1", f_cnt=7, f_port=85, dr=3, frequency=868_100_000,
                 spreading_factor=9, bandwidth=125_000, gateways=[GatewaySeen(GW, "GW-1", -99.0, 5.5, 18.0)],
                 mac_commands=[{"cid": 6, "name": "DevStatusAns", "battery": 200, "margin": 9}], payload_hex="01",
                 decoded={"voltage": 230.1}, measurements={"voltage": {"value": 230.1, "unit": "V"},
                                                           "lamp_on:1": {"value": True, "unit": None}},
                 details={"adr": True, "confirmed": False, "airtime_ms": 185.3})


def test_the_checker_finds_words_of_the_other_language() -> None:
    """The tool itself: visible text and read attributes count; code, scripts and translate="no" do not."""
    page = ('<html lang="fr"><body><p>Capteur <code>the device</code></p><input placeholder="Search">'
            '<script>var the = 1;</script><select translate="no"><option>English</option></select>'
            '<div data-msg="Sent to the gateway"></div><span title="État">x</span></body></html>')
    found = foreign_words(page, "fr")
    assert [w.split(" ")[0] for w in found] == ["Search", "to", "the", "gateway"]
    assert foreign_words('<html lang="en"><p>Aucune donnée : l\'équipement est hors ligne</p></html>', "en") \
        and not foreign_words('<html lang="en"><p>The device is offline</p></html>', "en")
    assert Path(__file__).name  # keeps the module importable as a tool's test
