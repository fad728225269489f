"""The street-lighting console (issue 24) in a real browser, from an empty database seeded through the services:
an operator opens "Éclairage", sees the groups with their schedule, the step in force and the next one, the lamps
on the map with their state (lit, off, fault), the schedules and the month's estimated savings per district; types
an impossible level (refused beside the field, nothing queued), dims the group now (one multicast item encoded by
the lamps' codec), dims one lamp, and triggers then releases the crisis override. In French, and the same
journey in English, with screenshots at 1366 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from lora_city.codec.registry import CodecRegistry
from lora_city.lighting.steps import Step
from lora_city.services import lighting, multicast
from lora_city.services.devices import DeviceCreate, register_device
from lora_city.services.principal import Role
from lora_city.settings import Settings
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import DeviceQueueItem, MulticastQueueItem, Reading
from lora_city.storage.models.lighting import LightingOverride
from tests.browser.conftest import ServerThread, Site
from tests.browser.helpers import shots, tab_to
from tests.unit.portal.build import ROOT, Clock, build_portal

NIGHT = [{"at": "dusk", "level": 100}, {"at": "23:00", "level": 50}, {"at": "01:00", "level": 0},
         {"at": "05:00", "level": 100}, {"at": "dawn", "level": 0}]
LAMPS = [("70b3d54750000001", "Lampadaire Maison Carrée 1", 43.8384, 4.3561, "Écusson", 100, True, False),
         ("70b3d54750000002", "Lampadaire Maison Carrée 2", 43.8386, 4.3566, "Écusson", 50, True, False),
         ("70b3d54750000003", "Lampadaire Arènes", 43.8348, 4.3597, "Écusson", 0, False, True)]


@pytest.fixture(scope="module")
def lighting_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # 21:30 UTC on 15 January: 22:30 in Nîmes, after dusk and before the 23:00 step
    clock = Clock(datetime(2026, 1, 15, 21, 30, tzinfo=UTC))
    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    portal = build_portal(f"sqlite:///{tmp_path_factory.mktemp('lighting') / 'portal.db'}", clock=clock,
                          codecs=codecs)
    portal.user("otto@city.test", Role.OPERATOR, "city")
    portal.user("olga@city.test", Role.OPERATOR, "city", language="en")
    with portal.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        for dev_eui, name, lat, lon, district, level, on, fault in LAMPS:
            register_device(s, ROOT, portal.vault, DeviceCreate(
                dev_eui=dev_eui, name=name, tenant_id=city, codec="nas-ul20x2", device_class="C", latitude=lat,
                longitude=lon, tags={"district": district, "lamp_power_w": "90"}), now=clock())
            s.add(Reading(uplink_id=f"u-{dev_eui}", dev_eui=dev_eui, tenant_id=city, family="streetlight",
                          codec_id="nas-ul20x2", time=clock() - timedelta(minutes=20), f_cnt=1, f_port=23,
                          measurements={"dim_level": {"value": level, "unit": "%"},
                                        "lamp_on": {"value": on, "unit": None},
                                        "lamp_failure": {"value": fault, "unit": None}}))
        s.commit()
        group = multicast.create_group(s, ROOT, portal.vault, multicast.GroupCreate(name="Quartier de l'Écusson"),
                                       net_id="000000", codecs=codecs, now=clock())
        multicast.add_members(s, ROOT, group.group.id, multicast.MembersAdd(dev_euis=[x[0] for x in LAMPS]),
                              now=clock())
        schedule = lighting.create_schedule(s, ROOT, lighting.ScheduleCreate(
            name="Nuit économe", steps=[Step.model_validate(x) for x in NIGHT]), now=clock())
        lighting.assign(s, ROOT, schedule.id, lighting.Target(group_id=group.group.id), now=clock())
    server = ServerThread(portal.app)
    server.start()
    yield Site(portal, server.url)
    server.stop()


def _queued(site: Site) -> tuple[list[str], list[str]]:
    with site.portal.factory() as s:
        return ([bytes(i.payload).hex() for i in s.scalars(select(MulticastQueueItem).order_by(MulticastQueueItem.f_cnt))],
                [bytes(i.payload).hex() for i in s.scalars(select(DeviceQueueItem))])


def _login(site: Site, page: Page, email: str, password_label: str, button: str, email_label: str) -> None:
    from tests.unit.portal.build import PASSWORD

    page.goto(f"{site.url}/portal/login")
    page.get_by_label(email_label).fill(email)
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(lambda u: "/login" not in u)


def test_operator_dims_a_group_now_and_sees_the_schedules_in_french(lighting_site: Site, browser: Browser,
                                                                     screenshots: Path) -> None:
    site = lighting_site
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        _login(site, page, "otto@city.test", "Mot de passe", "Se connecter", "Adresse e-mail")
        page.get_by_role("navigation").get_by_role("link", name="Éclairage").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Éclairage public")
        card = page.locator("article.group-card", has_text="Quartier de l'Écusson")
        expect(card).to_contain_text("Nuit économe")
        expect(card.locator(".now-step")).to_contain_text("100 %")  # since dusk
        expect(card.locator(".next-step")).to_contain_text("23:00")  # Paris time
        expect(card.locator(".next-step")).to_contain_text("50 %")
        expect(card).to_contain_text("3")  # lamps
        # the lamps on the map with what they last reported
        expect(page.locator("#map")).to_have_attribute("data-markers", "3")
        expect(page.locator("#map .lamp-on")).to_have_count(2)
        expect(page.locator("#map .lamp-fault")).to_have_count(1)
        expect(page.locator('#lamps-table tr[data-dev-eui="70b3d54750000003"]')).to_contain_text("en défaut")
        expect(page.locator("#map .leaflet-tile")).to_have_count(0)  # no tile server configured: nothing fetched
        schedule = page.locator("article.schedule-card", has_text="Nuit économe")
        expect(schedule).to_contain_text("crépuscule → 100 %")
        expect(schedule).to_contain_text("23:00 → 50 %")
        expect(page.locator('#savings-table tr[data-district="Écusson"]')).to_contain_text("kWh")
        shots(page, screenshots, "lighting-console-fr")

        # an impossible level: refused beside the field, nothing queued
        level = card.get_by_label("Niveau")
        tab_to(page, level)
        page.keyboard.type("150")
        page.keyboard.press("Enter")
        card = page.locator("article.group-card", has_text="Quartier de l'Écusson")
        level = card.get_by_label("Niveau")
        expect(level).to_have_attribute("aria-invalid", "true")
        expect(card.locator(".field-error")).to_have_text("Le niveau doit être un nombre entier de 0 à 100.")
        assert _queued(site) == ([], [])

        # dim the group now: one multicast frame for the three lamps, encoded by their codec (NAS: 01 FE 1E)
        level.fill("30")
        card.get_by_role("button", name="Appliquer maintenant").click()
        expect(page.get_by_role("status")).to_have_text("Ordre envoyé : 30 %.")
        assert _queued(site) == (["01fe1e"], [])
        expect(page.locator("article.group-card .last-command")).to_contain_text("30 %")
        shots(page, screenshots, "lighting-group-dimmed-fr")

        # one lamp alone
        row = page.locator('#lamps-table tr[data-dev-eui="70b3d54750000002"]')
        row.get_by_label("Niveau").fill("0")
        row.get_by_role("button", name="Appliquer maintenant").click()
        expect(page.get_by_role("status")).to_have_text("Ordre envoyé : 0 %.")
        assert _queued(site) == (["01fe1e"], ["01fe00"])

        # the crisis override, triggered then released
        page.get_by_label("Motif").fill("Inondation du Vistre")
        page.get_by_role("button", name="Tout allumer (crise)").click()
        expect(page.get_by_role("status")).to_have_text("Forçage de crise déclenché : les lampadaires s'allument.")
        expect(page.locator("#override-active")).to_contain_text("Inondation du Vistre")
        shots(page, screenshots, "lighting-crisis-fr")
        page.get_by_role("button", name="Lever le forçage").click()
        expect(page.get_by_role("status")).to_have_text("Forçage levé : les programmes reprennent.")
        with site.portal.factory() as s:
            overrides = list(s.scalars(select(LightingOverride)))
        assert len(overrides) == 1 and overrides[0].released_at is not None
    finally:
        ctx.close()


def test_the_same_journey_in_english_on_a_phone(lighting_site: Site, browser: Browser, screenshots: Path) -> None:
    site = lighting_site
    ctx = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        _login(site, page, "olga@city.test", "Password", "Log in", "E-mail address")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.goto(f"{site.url}/portal/console/lighting")
        expect(page.get_by_role("heading", level=1)).to_have_text("Street lighting")
        card = page.locator("article.group-card", has_text="Quartier de l'Écusson")
        expect(card.locator(".next-step")).to_contain_text("50 %")
        expect(page.locator("article.schedule-card")).to_contain_text("dusk → 100 %")
        before = _queued(site)
        card.get_by_label("Level").fill("-3")
        card.get_by_role("button", name="Apply now").click()
        expect(page.locator("article.group-card .field-error")).to_have_text(
            "The level must be a whole number from 0 to 100.")
        assert _queued(site) == before
        page.locator("article.group-card").get_by_label("Level").fill("40")
        page.locator("article.group-card").get_by_role("button", name="Apply now").click()
        expect(page.get_by_role("status")).to_have_text("Command sent: 40 %.")
        assert _queued(site)[0][-1] == "01fe28"
        shots(page, screenshots, "lighting-console-en")
    finally:
        ctx.close()
