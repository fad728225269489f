"""An operator adds a device from a model of the device catalogue (issue 20 §3), from an empty database: imports a
small device repository of our own with ``lora-city codec import-repository``, then, through the pages only,
searches the catalogue from the device form, chooses the model, and saves the device; the device's page shows the
codec, class and MAC version the model's profile gives. In French at 1366 px with the keyboard, in English on a
390 px phone. Screenshots at 1366 and 390 px.

The expected values come from the repository the test writes (tests/support/device_repository.py): the water
meter's EU868 profile says macVersion 1.0.4, no class B/C and codec meter-codec; the lamp controller's says
macVersion 1.0.3 with supportsClassC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from lora_city.cli.main import app as cli
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import CodecRegistry
from lora_city.services.principal import Role
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.models import Device, DeviceProfile
from tests.browser.conftest import Site, serving
from tests.browser.helpers import keyboard_fill, shots
from tests.support.device_repository import sample_repository
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import PASSWORD, build_portal

APP_KEY = "2b7e151628aed2a6abf7158809cf4f3c"


@pytest.fixture(scope="module")
def model_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A new database made by the operator's commands, as the README says: ``lora-city migrate``, then
    ``lora-city codec import-repository`` of a checkout (here our own small repository)."""
    tmp = tmp_path_factory.mktemp("device-from-model")
    url = f"sqlite:///{tmp / 'portal.db'}"
    env = {"LORA_CITY_DATABASE_URL": url, "LORA_CITY_CONFIG": ""}
    migrated = CliRunner().invoke(cli, ["migrate"], env=env)
    assert migrated.exit_code == 0, migrated.output
    imported = CliRunner().invoke(cli, ["codec", "import-repository", str(sample_repository(tmp / "repo").save())],
                                  env=env)
    assert imported.exit_code == 0, imported.output
    assert "aquameter/meter-codec@1" in imported.output
    engine = make_engine(url)
    factory = make_session_factory(engine)
    portal = build_portal(url, codecs=CodecRegistry([], CatalogueCodecs(factory, JsLimits())),
                          migrations=all_migration_locations())
    with portal.factory() as db:
        assert db.query(Device).count() == 0 and db.query(DeviceProfile).count() == 0
    portal.user("otto@city.test", Role.OPERATOR, "city")
    portal.user("olga@city.test", Role.OPERATOR, "city", language="en")
    with serving(portal) as site:
        yield site
    engine.dispose()


def test_operator_adds_a_water_meter_from_its_model_in_french(model_site: Site, page: Page,
                                                             screenshots: Path) -> None:
    site = model_site
    site.login(page, "otto@city.test")
    page.get_by_role("navigation").get_by_role("link", name="Capteurs").click()
    page.get_by_role("link", name="Ajouter un capteur").click()
    expect(page.get_by_role("heading", level=2, name="À partir d'un modèle du catalogue")).to_be_visible()

    keyboard_fill(page, [(page.get_by_label("Rechercher dans le catalogue"), "water meter")],
                  submit=page.locator("#model-search").get_by_role("button", name="Rechercher"))
    expect(page.locator("#model-results li")).to_have_count(1)
    expect(page.locator('#model-results li[data-model="aquameter/am-100"]')).to_contain_text(
        "Aqua Meters SA AM-100 Water Meter · micrologiciel 1.2")
    shots(page, screenshots, "device-from-model-search-fr")

    page.get_by_role("link", name="Aqua Meters SA AM-100 Water Meter").click()
    chosen = page.locator("#chosen-model")
    expect(chosen).to_contain_text("aquameter/meter-codec")
    expect(chosen).to_contain_text("1.0.4")
    expect(chosen).to_contain_text("RP002-1.0.1")
    expect(page.get_by_label("Profil", exact=True)).to_have_count(0)  # the model's profile, not a chosen one
    expect(page.get_by_label("Micrologiciel")).to_have_value("1.2")  # newest EU868 firmware first

    # The older firmware, chosen with the keyboard like every other field
    keyboard_fill(page, [
        (page.get_by_label("DevEUI"), "70b3d57ed0000101"),
        (page.get_by_label("Nom", exact=True), "Compteur rue de la Madeleine"),
        (page.get_by_label("AppKey"), APP_KEY),
    ])
    page.get_by_label("Micrologiciel").select_option("1.0")
    shots(page, screenshots, "device-from-model-form-fr")
    page.get_by_role("button", name="Enregistrer le capteur").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Compteur rue de la Madeleine")
    facts = page.locator("#device-facts")
    expect(facts).to_contain_text("aquameter/meter-codec")
    expect(page.locator("#device-mac")).to_have_text("1.0.4")
    expect(facts.locator("div").filter(has_text="Classe")).to_contain_text("A")
    shots(page, screenshots, "device-from-model-created-fr")
    with site.portal.factory() as db:
        device = db.get(Device, "70b3d57ed0000101")
        assert device is not None and device.device_profile_id is not None
        profile = db.get(DeviceProfile, device.device_profile_id)
        assert profile is not None
        assert (profile.catalogue_model, profile.firmware_version, profile.codec_id, profile.device_class,
                profile.mac_version) == ("aquameter/am-100", "1.0", "aquameter/meter-codec", "A", "1.0.4")

    # From the catalogue's own model page, the same form starts with that model chosen.
    page.get_by_role("navigation").get_by_role("link", name="Catalogue").click()
    page.get_by_label("Rechercher un modèle").fill("radar")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="CL Level Radar").click()
    page.get_by_role("link", name="Ajouter un capteur de ce modèle").click()
    expect(page.locator("#chosen-model")).to_contain_text("City Level GmbH CL Level Radar")
    expect(page.locator("#chosen-model")).to_contain_text("citylevel/level-codec")
    expect(page.locator("#chosen-model")).to_contain_text("1.0.2")


def test_operator_adds_a_lamp_controller_from_its_model_on_a_phone_in_english(
    model_site: Site, browser: Browser, screenshots: Path,
) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        page.goto(f"{model_site.url}/portal/login")
        page.get_by_label("E-mail address").fill("olga@city.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda u: "/login" not in u)
        page.goto(f"{model_site.url}/portal/devices/new")
        page.get_by_label("Search the catalogue").fill("nothing-like-this")
        page.locator("#model-search").get_by_role("button", name="Search").click()
        expect(page.locator("#model-results")).to_contain_text("No model matches.")
        page.get_by_label("Search the catalogue").fill("lamp")
        page.locator("#model-search").get_by_role("button", name="Search").click()
        page.get_by_role("link", name="City Level GmbH CL Lamp Controller").click()
        expect(page.locator("#chosen-model")).to_contain_text("citylevel/lamp-codec")
        page.get_by_label("DevEUI").fill("70b3d57ed0000202")
        page.get_by_label("Name", exact=True).fill("Lamp, Avenue Jean Jaurès 12")
        page.get_by_label("AppKey").fill(APP_KEY)
        page.get_by_role("button", name="Save the device").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Lamp, Avenue Jean Jaurès 12")
        expect(page.locator("#device-facts")).to_contain_text("citylevel/lamp-codec")
        expect(page.locator("#device-facts div").filter(has_text="Class")).to_contain_text("C")
        expect(page.locator("#device-mac")).to_have_text("1.0.3")
        shots(page, screenshots, "device-from-model-created-en")
    finally:
        ctx.close()
