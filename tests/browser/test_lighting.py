"""The street-lighting console (issue 24) in a real browser, from an empty database seeded through the services:
an operator opens "Éclairage", sees the groups with their schedule, the step in force and the next one, the lamps
on the map with their state (lit, off, fault), the schedules and the month's estimated savings per district; types
an impossible level (refused beside the field, nothing queued), dims the group now (one multicast item encoded by
the lamps' codec), dims one lamp, and triggers then releases the crisis override. In French, and the same
journey in English, with screenshots at 1366 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from lora_city.codec.registry import CodecRegistry
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.scheduler import LightingScheduler
from lora_city.lighting.steps import Place, Step
from lora_city.services import lighting, multicast
from lora_city.services.devices import DeviceCreate, register_device
from lora_city.services.principal import Role
from lora_city.settings import Settings
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import (
    DeviceQueueItem,
    MulticastGroup,
    MulticastGroupDevice,
    MulticastQueueItem,
    Reading,
)
from lora_city.storage.models.lighting import LightingException, LightingOverride, LightingSchedule
from tests.browser.conftest import Site, serving
from tests.browser.helpers import shots, tab_to
from tests.unit.lighting.solar import civil_twilight
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
    with serving(portal) as site:
        yield site


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
        # what was sent, by whom, and how many lamps have confirmed it so far
        commands = page.locator("#commands-table tbody tr")
        expect(commands).to_have_count(2)
        lamp_row = commands.filter(has_text="Lampadaire Maison Carrée 2")
        expect(lamp_row).to_contain_text("ordre manuel")
        expect(lamp_row.locator("td").nth(3)).to_have_text("0 %")
        expect(lamp_row.locator("td").nth(5)).to_have_text("0 sur 1")
        group_row = commands.filter(has_text="Quartier de l'Écusson")
        expect(group_row.locator("td").nth(3)).to_have_text("30 %")
        expect(group_row.locator("td").nth(4)).to_have_text("envoyé")
        expect(group_row.locator("td").nth(5)).to_have_text("0 sur 3")

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


# --- the schedules themselves, written through the pages ------------------------------------------------------

NIMES = (Settings().lighting_latitude, Settings().lighting_longitude)


@pytest.fixture(scope="module")
def schedule_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Three lamps registered, nothing else. 21:50 UTC on 15 January: 22:50 in Nîmes (winter time). A real
    scheduler pass runs whenever a page says a schedule changed (the wake-up the composition root wires)."""
    clock = Clock(datetime(2026, 1, 15, 21, 50, tzinfo=UTC))
    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    portal = build_portal(f"sqlite:///{tmp_path_factory.mktemp('schedules') / 'portal.db'}", clock=clock,
                          codecs=codecs)
    portal.user("sami@city.test", Role.OPERATOR, "city")
    portal.user("sue@city.test", Role.OPERATOR, "city", language="en")
    with portal.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        for dev_eui, name, lat, lon, district, *_ in LAMPS:
            register_device(s, ROOT, portal.vault, DeviceCreate(
                dev_eui=dev_eui, name=name, tenant_id=city, codec="nas-ul20x2", device_class="C", latitude=lat,
                longitude=lon, tags={"district": district, "lamp_power_w": "90"}), now=clock())
    scheduler = LightingScheduler(portal.factory, CommandSender(codecs), clock=clock,
                                  default_place=Place(*NIMES))
    portal.app.state.lighting_wake = scheduler.tick
    with serving(portal) as site:
        yield site


def _tonight(page: Page) -> list[tuple[str, str, str]]:
    rows = page.locator("#tonight-table tbody tr")
    return [tuple(c.strip() for c in rows.nth(i).locator("td").all_inner_texts())  # type: ignore[misc]
            for i in range(rows.count())]


def _paris(t: datetime) -> str:
    return t.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def test_operator_writes_a_schedule_assigns_it_and_adds_a_festival_night_in_french(
        schedule_site: Site, browser: Browser, screenshots: Path) -> None:
    """The whole schedule task in French at 1366 px: write the night's steps (mistakes refused beside their
    step, nothing saved), see tonight's times (dusk checked against NOAA's civil twilight, computed apart),
    make the district's group follow it (the scheduler sends the step in force at once: one multicast frame),
    add a festival exception for tonight (the lamps go back to 100 %), remove it, edit, delete."""
    site = schedule_site
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        _login(site, page, "sami@city.test", "Mot de passe", "Se connecter", "Adresse e-mail")
        page.get_by_role("navigation").get_by_role("link", name="Éclairage").click()

        # the district's lamps become one multicast group (class C at RX2), one lamp added then taken out again
        expect(page.locator("#groups")).to_have_text("Aucun groupe de lampadaires.")
        page.get_by_role("link", name="Nouveau groupe").click()
        page.get_by_label("Lampadaire Maison Carrée 1").check()
        page.get_by_role("button", name="Créer le groupe").click()
        expect(page.locator("#f-name-error")).to_have_text("Ce champ est obligatoire.")
        expect(page.get_by_label("Lampadaire Maison Carrée 1")).to_be_checked()  # the ticks are kept
        page.get_by_label("Nom du groupe").fill("Quartier de l'Écusson")
        page.get_by_label("Lampadaire Maison Carrée 2").check()
        page.get_by_role("button", name="Créer le groupe").click()
        expect(page.get_by_role("status")).to_have_text("Groupe créé.")
        expect(page.locator("#group-facts")).to_contain_text("869,525 MHz · DR0")  # RP002-1.0.4 EU868 RX2
        expect(page.locator("#members-table tbody tr")).to_have_count(2)
        page.get_by_role("button", name="Ajouter au groupe").click()
        expect(page.locator("#members-error")).to_have_text("Cochez au moins un lampadaire.")
        page.get_by_label("Lampadaire Arènes").check()
        page.get_by_role("button", name="Ajouter au groupe").click()
        expect(page.get_by_role("status")).to_have_text("Lampadaires ajoutés au groupe.")
        expect(page.locator("#members-table tbody tr")).to_have_count(3)
        page.get_by_role("button", name="Retirer Lampadaire Arènes").click()
        expect(page.get_by_role("status")).to_have_text("Lampadaire retiré du groupe.")
        expect(page.locator('#members-table tr[data-dev-eui="70b3d54750000003"]')).to_have_count(0)
        with site.portal.factory() as s:
            group = s.scalars(select(MulticastGroup)).one()
            assert (group.name, group.group_class, group.frequency, group.dr) == (
                "Quartier de l'Écusson", "C", 869_525_000, 0)
            assert sorted(s.scalars(select(MulticastGroupDevice.dev_eui))) == [x[0] for x in LAMPS[:2]]
        shots(page, screenshots, "lighting-group-fr")
        page.get_by_role("link", name="← Éclairage public").click()
        expect(page.locator("section[aria-labelledby=h-schedules] p.muted")).to_have_text("Aucun programme.")
        page.get_by_role("link", name="Nouveau programme").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau programme")
        # the form starts from a typical night; the operator names it and moves the 23:00 step
        expect(page.locator("#step-0-at")).to_have_value("dusk")
        page.get_by_label("Nom du programme").fill("")
        page.locator("#step-1-time").fill("")
        page.locator("#step-2-level").fill("150")
        page.get_by_role("button", name="Enregistrer le programme").click()
        expect(page.locator("#f-name-error")).to_have_text("Ce champ est obligatoire.")
        expect(page.locator("#step-1-error")).to_have_text("Heure attendue, de 00:00 à 23:59.")
        expect(page.locator("#step-2-error")).to_have_text("Le niveau doit être un nombre entier de 0 à 100.")
        expect(page.locator("#step-2-level")).to_have_value("150")  # what was typed is kept
        with site.portal.factory() as s:
            assert s.scalar(select(LightingSchedule.id)) is None
        shots(page, screenshots, "lighting-schedule-errors-fr")
        page.get_by_label("Nom du programme").fill("Nuit de l'Écusson")
        page.locator("#step-1-time").fill("22:45")
        page.locator("#step-2-level").fill("0")
        page.locator("#step-5-at").select_option(label="lever du soleil")
        page.locator("#step-5-offset").fill("-20")
        page.locator("#step-5-level").fill("0")
        page.get_by_role("button", name="Enregistrer le programme").click()
        expect(page.get_by_role("status")).to_have_text("Programme créé.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Nuit de l'Écusson")
        expect(page.locator("#schedule-steps li")).to_have_text(
            ["crépuscule → 100 %", "22:45 → 50 %", "01:00 → 0 %", "05:00 → 100 %", "aube → 0 %",
             "lever du soleil -20 min → 0 %"])
        with site.portal.factory() as s:
            saved = s.scalars(select(LightingSchedule)).one()
            assert saved.steps[1] == {"at": "22:45", "offset_min": 0, "level": 50}
            assert saved.steps[5] == {"at": "sunrise", "offset_min": -20, "level": 0}

        # tonight's times, Paris time: dusk where NOAA's series put it (to 3 min), then the fixed hours
        expect(page.locator("#h-tonight")).to_have_text("La nuit du 15 janv. 2026")
        tonight = _tonight(page)
        assert [(moment, level) for _, moment, level in tonight] == [
            ("crépuscule", "100 %"), ("22:45", "50 %"), ("01:00", "0 %"), ("05:00", "100 %"), ("aube", "0 %"),
            ("lever du soleil -20 min", "0 %")]
        dusk = _paris(civil_twilight(date(2026, 1, 15), *NIMES, evening=True))
        dawn = _paris(civil_twilight(date(2026, 1, 16), *NIMES, evening=False))
        assert abs(_minutes(tonight[0][0]) - _minutes(dusk)) <= 3, (tonight[0], dusk)
        assert abs(_minutes(tonight[4][0]) - _minutes(dawn)) <= 3, (tonight[4], dawn)
        assert [t for t, _, _ in tonight[1:4]] == ["22:45", "01:00", "05:00"]
        assert _queued(site) == ([], [])  # nobody follows it yet

        # the district's group follows it: the step in force (22:45, 50 %) goes out at once, as one frame
        page.get_by_role("button", name="Affecter").click()
        expect(page.locator("#f-target-error")).to_have_text("Choisissez un groupe ou un lampadaire.")
        page.get_by_label("Appliquer à").select_option(label="Quartier de l'Écusson")
        page.get_by_role("button", name="Affecter").click()
        expect(page.get_by_role("status")).to_have_text(
            "Affectation enregistrée : le programme s'applique dès la prochaine étape.")
        expect(page.locator("#followers")).to_contain_text("Groupe : Quartier de l'Écusson")
        assert _queued(site) == (["01fe32"], [])
        # a lamp outside the group, assigned then removed
        page.get_by_label("Appliquer à").select_option(label="Lampadaire Arènes (70b3d54750000003)")
        page.get_by_role("button", name="Affecter").click()
        expect(page.locator('#followers li[data-target="device:70b3d54750000003"]')).to_contain_text(
            "Lampadaire Arènes")
        assert _queued(site) == (["01fe32"], ["01fe32"])
        page.get_by_role("button", name="Retirer Lampadaire Arènes").click()
        expect(page.get_by_role("status")).to_have_text("Affectation retirée.")
        expect(page.locator('#followers li[data-target="device:70b3d54750000003"]')).to_have_count(0)

        # a festival tonight: all lit from dusk to dawn (the form's default steps for an exception)
        page.get_by_label("Première nuit").fill("2026-01-15")
        page.get_by_label("Dernière nuit").fill("2026-01-14")
        page.get_by_label("Motif (fête, événement…)").fill("Fête des Lumières")
        page.get_by_role("button", name="Ajouter une exception").last.click()
        expect(page.locator("#f-end_date-error")).to_have_text("La date de fin précède la date de début.")
        with site.portal.factory() as s:
            assert s.scalar(select(LightingException.id)) is None
        page.get_by_label("Dernière nuit").fill("2026-01-16")
        page.get_by_role("button", name="Ajouter une exception").last.click()
        expect(page.get_by_role("status")).to_have_text("Exception ajoutée.")
        expect(page.locator("#exceptions")).to_contain_text("15/01/2026 – 16/01/2026 · Fête des Lumières")
        expect(page.locator("#exceptions")).to_contain_text("crépuscule → 100 % ; aube → 0 %")
        expect(page.locator("#tonight-exception")).to_contain_text("Fête des Lumières")
        assert [(m, lv) for _, m, lv in _tonight(page)] == [("crépuscule", "100 %"), ("aube", "0 %")]
        assert _queued(site) == (["01fe32", "01fe64"], ["01fe32"])  # the group back to 100 % at once
        shots(page, screenshots, "lighting-schedule-fr")

        # back on the lighting page: the group with its schedule and the step in force
        page.get_by_role("link", name="← Éclairage public").click()
        card = page.locator("article.group-card", has_text="Quartier de l'Écusson")
        expect(card).to_contain_text("Nuit de l'Écusson")
        expect(card.locator(".now-step")).to_contain_text("100 %")
        steps_sent = page.locator("#commands-table tbody tr", has_text="étape du programme")
        expect(steps_sent).to_have_count(3)  # the group's 50 % then 100 % (festival), the lamp's 50 % while assigned
        card.get_by_role("link", name="Nuit de l'Écusson").click()

        page.get_by_role("button", name="Supprimer 15/01/2026").click()
        expect(page.get_by_role("status")).to_have_text("Exception supprimée.")
        expect(page.locator("#exceptions")).to_contain_text("Aucune exception.")
        assert len(_tonight(page)) == 6
        assert _queued(site)[0] == ["01fe32", "01fe64", "01fe32"]  # the schedule's 50 % restored at once

        # edit: the 22:45 step now dims to 30 %
        page.get_by_role("link", name="Modifier les étapes").click()
        expect(page.get_by_label("Nom du programme")).to_have_value("Nuit de l'Écusson")
        page.locator("#step-1-level").fill("30")
        page.get_by_role("button", name="Enregistrer le programme").click()
        expect(page.get_by_role("status")).to_have_text(
            "Programme enregistré : il s'applique dès la prochaine étape.")
        expect(page.locator("#schedule-steps li").nth(1)).to_have_text("22:45 → 30 %")
        assert _queued(site)[0][-1] == "01fe1e"  # the changed step in force, sent at once

        # the group's queue: each frame the schedule sent, newest first
        page.get_by_role("link", name="← Éclairage public").click()
        page.get_by_role("link", name="Quartier de l'Écusson").click()
        expect(page.locator("#queue-table tbody tr td code")).to_have_text(
            ["60 · 01fe1e", "60 · 01fe32", "60 · 01fe64", "60 · 01fe32"])
        expect(page.locator("#queue-table tbody tr").first).to_contain_text("en attente")
        page.get_by_role("link", name="Nuit de l'Écusson").click()

        # delete, after a confirmation
        page.get_by_role("link", name="Supprimer le programme").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer « Nuit de l'Écusson »")
        page.get_by_role("button", name="Supprimer le programme").click()
        expect(page.get_by_role("status")).to_have_text("Programme supprimé.")
        expect(page.locator("article.group-card", has_text="Quartier de l'Écusson")).to_contain_text("aucun")
        with site.portal.factory() as s:
            assert s.scalar(select(LightingSchedule.id)) is None
    finally:
        ctx.close()


def test_the_schedule_journey_in_english_on_a_phone(schedule_site: Site, browser: Browser,
                                                     screenshots: Path) -> None:
    site = schedule_site
    ctx = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        _login(site, page, "sue@city.test", "Password", "Log in", "E-mail address")
        page.goto(f"{site.url}/portal/console/lighting")
        page.get_by_role("link", name="New group").click()
        page.get_by_label("Group name").fill("Arènes")
        page.get_by_label("Group class").select_option("B")
        page.get_by_label("Lampadaire Arènes").check()
        page.get_by_role("button", name="Create the group").click()
        expect(page.get_by_role("status")).to_have_text("Group created.")
        expect(page.locator("#group-facts")).to_contain_text("B: beacon-synchronised receive slots")
        expect(page.locator("#queue-table")).to_contain_text("Nothing has been sent to this group yet.")
        shots(page, screenshots, "lighting-group-en")
        page.get_by_role("link", name="Delete the group").click()
        page.get_by_role("button", name="Delete the group").click()
        expect(page.get_by_role("status")).to_have_text("Group deleted.")
        page.get_by_role("link", name="New schedule").click()
        page.get_by_label("Schedule name").fill("Arènes, late events")
        page.locator("#step-4-offset").fill("400")
        page.get_by_role("button", name="Save the schedule").click()
        expect(page.locator("#step-4-error")).to_have_text(
            "The offset must be a whole number of minutes from -360 to 360.")
        page.locator("#step-4-offset").fill("15")
        page.get_by_role("button", name="Save the schedule").click()
        expect(page.get_by_role("status")).to_have_text("Schedule created.")
        expect(page.locator("#schedule-steps li").nth(4)).to_have_text("dawn +15 min → 0 %")
        expect(page.locator("#h-tonight")).to_have_text("The night of 15 Jan 2026")
        assert [m for _, m, _ in _tonight(page)] == ["dusk", "23:00", "01:00", "05:00", "dawn +15 min"]
        page.get_by_label("Apply to").select_option(label="Lampadaire Arènes (70b3d54750000003)")
        page.get_by_role("button", name="Assign").click()
        expect(page.get_by_role("status")).to_have_text("Assigned: the schedule applies from the next step.")
        expect(page.locator("#followers")).to_contain_text("Lamp: Lampadaire Arènes")
        page.get_by_label("First night").fill("2026-07-13")
        page.get_by_label("Reason (festival, event…)").fill("Bastille Day")
        page.get_by_role("button", name="Add an exception").last.click()
        expect(page.get_by_role("status")).to_have_text("Exception added.")
        expect(page.locator("#exceptions")).to_contain_text("13 Jul 2026 · Bastille Day")
        shots(page, screenshots, "lighting-schedule-en")
    finally:
        ctx.close()
