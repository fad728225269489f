"""An operator chooses a device model from the catalogue (issue 20), in French and in English, through the pages
only: searches the imported device repository, opens the water meter, reads its firmware profiles and the import's
check of its documented examples, decodes the documented example with the vendor's script (measurements from the
city's mapping file), and makes a device profile from the model with the keyboard. Screenshots at 1366 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lora_city.codec.catalogue.importer import import_repository
from lora_city.codec.catalogue.mappings import CITY_FOLDER, catalogue_mappings
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import CodecRegistry
from lora_city.services.principal import Role
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import DeviceProfile
from tests.browser.conftest import Site, serving
from tests.browser.helpers import keyboard_fill, shots
from tests.support.device_repository import sample_repository
from tests.unit.portal.build import build_portal

MAPPING = """family: water
codecs: [aquameter/meter-codec]
measurements:
  - {name: volume, path: index_l, unit: L}
  - {name: leak, path: leak}
  - {name: battery, path: battery_v, unit: V}
"""


@pytest.fixture(scope="module")
def catalogue_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A portal whose catalogue holds our own small repository (imported as lora-city codec import-repository
    does), with the city's mapping file for the water meter."""
    tmp = tmp_path_factory.mktemp("catalogue")
    url = f"sqlite:///{tmp / 'portal.db'}"
    upgrade(url, ())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    import_repository(sample_repository(tmp / "repo").save(), factory, limits=JsLimits(), now=datetime.now(UTC))
    (tmp / "codecs" / CITY_FOLDER).mkdir(parents=True)
    (tmp / "codecs" / CITY_FOLDER / "aquameter.yaml").write_text(MAPPING)
    registry = CodecRegistry([], CatalogueCodecs(factory, JsLimits(), mappings=catalogue_mappings(tmp / "codecs")))
    portal = build_portal(url, codecs=registry)
    portal.user("otto@city.test", Role.OPERATOR, "city")
    portal.user("olga@city.test", Role.OPERATOR, "city", language="en")
    with serving(portal) as site:
        yield site
    engine.dispose()



def test_operator_chooses_a_model_and_makes_a_profile_in_french(catalogue_site: Site, page: Page,
                                                               screenshots: Path) -> None:
    site = catalogue_site
    site.login(page, "otto@city.test")
    page.get_by_role("navigation").get_by_role("link", name="Catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue des équipements")
    page.get_by_label("Rechercher un modèle").fill("water meter")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#models-table tbody tr")).to_have_count(1)
    expect(page.locator('#models-table tr[data-model="aquameter/am-100"]')).to_contain_text("micrologiciel 1.2")
    shots(page, screenshots, "catalogue-search-fr")

    page.get_by_role("link", name="AM-100 Water Meter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aqua Meters SA AM-100 Water Meter")
    expect(page.locator("#firmware-table")).to_contain_text("0A110007")
    expect(page.locator("#examples-summary")).to_have_text(
        "Exemples documentés : 4 sur 4 donnent la sortie documentée.")

    # The preview form offers the codec's documented example; decoding it shows the vendor's object and the
    # measurements the city's mapping file makes of it (1,000 litres = 1 m³, no leak, 3.6 V).
    expect(page.get_by_label("Trame (hexadécimal)")).to_have_value("e803000000 0168".replace(" ", ""))
    page.get_by_role("button", name="Décoder").click()
    result = page.locator("#preview-result")
    expect(result).to_contain_text('"index_l": 1000')
    expect(page.locator("#preview-measurements")).to_contain_text("3,6")
    shots(page, screenshots, "catalogue-model-fr")

    # A device profile from the model, with the keyboard alone.
    keyboard_fill(page, [(page.get_by_label("Micrologiciel", exact=True), "1.2"), (page.get_by_label("Nom du profil"),
                                                                        "Compteurs d'eau")],
                  submit=page.get_by_role("button", name="Créer le profil"))
    expect(page.locator("#profile-created")).to_have_text("Profil « Compteurs d'eau » créé.")
    with site.portal.factory() as db:
        made = db.query(DeviceProfile).filter_by(name="Compteurs d'eau").one()
        assert (made.codec_id, made.mac_version, made.device_class, made.catalogue_model, made.firmware_version) == (
            "aquameter/meter-codec", "1.0.4", "A", "aquameter/am-100", "1.2")

    # A model whose documented example is wrong: the page says which and where it differs.
    page.goto(f"{site.url}/portal/console/catalogue/citylevel/cl-level")
    expect(page.locator("#examples-summary")).to_contain_text("1 sur 2")
    page.get_by_text("Exemple en échec : Documented wrong").click()
    expect(page.locator("#codec-report")).to_contain_text("data.distance_mm: expected 15, got 16")


def test_operator_chooses_a_model_in_english_on_a_phone(catalogue_site: Site, browser: Browser,
                                                        screenshots: Path) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        catalogue_site.login_en(page, "olga@city.test")
        page.goto(f"{catalogue_site.url}/portal/console/catalogue")
        expect(page.get_by_role("heading", level=1)).to_have_text("Device catalogue")
        page.get_by_label("Vendor").select_option("citylevel")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#models-table tbody tr")).to_have_count(3)
        page.get_by_role("link", name="CL Lamp Controller").click()
        expect(page.locator("#firmware-table")).to_contain_text("A, C")
        page.get_by_label("Payload (hex)").fill("01")
        page.get_by_role("button", name="Decode").click()
        expect(page.locator("#preview-result")).to_contain_text('"on": true')
        page.get_by_role("button", name="Create the profile").click()
        expect(page.locator("#profile-created")).to_have_text("Profile “City Level GmbH CL Lamp Controller” created.")
        shots(page, screenshots, "catalogue-model-en")
    finally:
        ctx.close()
