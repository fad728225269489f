"""A plan's prices changed and a plan deleted from the console, in English with the keyboard (issue 21 item 1:
"plans with prices … create, edit and delete"): the fee edited is what the next invoice reads; a plan a
tenant still uses is not deleted and the confirmation page names the tenant; an unused plan is deleted after
its confirmation page, its prices with it; a plan with a fee and no per-device price is accepted (the form's
prefilled "tier 1 after 0" made it "Give this tier's price"). Pages saved at 1366 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from billing.models import PriceTable
from billing.portal_extras import billing_extras
from lora_city.metrics import Metrics
from lora_city.services.principal import Role
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Tenant
from tenants.models import Plan
from tenants.quota import PlanQuotaPolicy
from tests.browser.conftest import Site, english_context, serving
from tests.browser.helpers import keyboard_fill, shots
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import PASSWORD, SECRET, Clock, build_portal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plans_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'portal.db'}"
    clock = Clock(datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    portal = build_portal(url, clock=clock, migrations=all_migration_locations(),
                          extras=billing_extras(factory, clock, PlanQuotaPolicy(Metrics(), emit=lambda _e: None),
                                                KeyVault(SECRET), export_dir=tmp_path_factory.mktemp("exports")))
    portal.tenant("acme")
    portal.user("eve@city.test", Role.ADMIN, "city", language="en")
    with serving(portal) as site:
        yield site
    engine.dispose()




def test_operator_edits_a_plans_fee_and_deletes_only_an_unused_plan(plans_site: Site, browser: Browser,
                                                                      screenshots: Path) -> None:
    site = plans_site
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{site.url}/portal/login")
    keyboard_fill(page, [(page.get_by_label("E-mail address"), "eve@city.test"),
                         (page.get_by_label("Password"), PASSWORD)], page.get_by_role("button", name="Log in"))
    nav = page.get_by_role("navigation")
    # A tier started (after 5 devices) without its price is refused beside it; the "after 0" the form
    # prefills, left without a price, is no tier at all (a fee-only plan was refused for it).
    nav.get_by_role("link", name="Plans").click()
    page.get_by_role("link", name="New plan").click()
    keyboard_fill(page, [(page.get_by_label("Plan name"), "half"),
                         (page.locator("#f-device_tier_from_0"), "5")],
                  page.get_by_role("button", name="Save the plan"))
    expect(page.locator("#f-device_tier_price_0-error")).to_have_text("Give this tier's price.")
    for name, fee in (("basic", "10.00"), ("spare", "5.00")):
        nav.get_by_role("link", name="Plans").click()
        page.get_by_role("link", name="New plan").click()
        keyboard_fill(page, [(page.get_by_label("Plan name"), name),
                             (page.get_by_label("Monthly fee excl. VAT (€)"), fee)],
                      page.get_by_role("button", name="Save the plan"))
        expect(page.get_by_role("status")).to_have_text("Plan saved.")

    # The fee of "basic" changed: the list and the stored prices say 12.50.
    page.locator("#plans-table").get_by_role("link", name="basic", exact=True).click()
    expect(page.get_by_label("Monthly fee excl. VAT (€)")).to_have_value("10.00")
    keyboard_fill(page, [(page.get_by_label("Monthly fee excl. VAT (€)"), "12.50")],
                  page.get_by_role("button", name="Save the plan"))
    expect(page.get_by_role("status")).to_have_text("Plan saved.")
    expect(page.locator('#plans-table tr[data-plan="basic"]')).to_contain_text("12.50")
    shots(page, screenshots, "plans-edited-en")
    with site.portal.factory() as s:
        basic = s.scalar(select(Plan).where(Plan.name == "basic"))
        assert basic is not None
        prices = s.get(PriceTable, basic.id)
        assert prices is not None and prices.monthly_fee_cents == 1250

    # acme takes "basic": that plan cannot be deleted, and the page says who uses it.
    nav.get_by_role("link", name="Tenants").click()
    page.get_by_role("link", name="Acme").click()
    keyboard_fill(page, [(page.get_by_label("Plan", exact=True), "basic")],
                  page.get_by_role("button", name="Change plan"))
    expect(page.get_by_role("status")).to_have_text("Plan changed.")
    page.goto(f"{site.url}/portal/console/plans/{basic.id}/delete")
    expect(page.locator("main")).to_contain_text("1 tenant(s) use this plan: Acme. Move them to another plan first.")
    expect(page.get_by_role("button", name="Delete the plan")).to_have_count(0)
    shots(page, screenshots, "plans-in-use-en")

    # "spare" is unused: deleted after its confirmation page, its prices with it.
    nav.get_by_role("link", name="Plans").click()
    page.locator("#plans-table").get_by_role("link", name="spare", exact=True).click()
    page.get_by_role("link", name="Delete the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “spare”")
    keyboard_fill(page, [], page.get_by_role("button", name="Delete the plan"))
    expect(page.get_by_role("status")).to_have_text("Plan “spare” deleted.")
    expect(page.locator('#plans-table tr[data-plan="spare"]')).to_have_count(0)
    with site.portal.factory() as s:
        assert s.scalar(select(Plan).where(Plan.name == "spare")) is None
        assert s.scalar(select(Plan).where(Plan.name == "basic")) is not None
        assert s.scalar(select(PriceTable).where(PriceTable.monthly_fee_cents == 500)) is None
    ctx.close()


def test_operator_corrects_a_lessees_identity_and_suspends_then_resumes_it(
        plans_site: Site, browser: Browser, screenshots: Path) -> None:
    """Issue 21 item 1, tenants: the identity edited (a wrong SIRET refused beside its field, what was typed
    kept), the lessee suspended (its administrator may then read, not manage, as its API keys are refused) and resumed."""
    site = plans_site
    site.portal.tenant("rival")
    site.portal.user("ian@city.test", Role.ADMIN, "city", language="en")
    site.portal.user("ro@rival.test", Role.TENANT_ADMIN, "rival", language="en")
    ctx = english_context(browser)
    page = ctx.new_page()
    site.login_en(page, "ian@city.test")
    page.get_by_role("navigation").get_by_role("link", name="Tenants").click()
    page.get_by_role("link", name="Rival", exact=True).click()
    keyboard_fill(page, [(page.locator("#f-name"), "Rival Parkings"),
                         (page.locator("#f-legal_name"), "Rival Parkings SARL"), (page.locator("#f-siret"), "1234")],
                  page.get_by_role("button", name="Save", exact=True))
    expect(page.locator("#f-siret-error")).to_have_text("A SIRET number has 14 digits.")
    expect(page.locator("#f-legal_name")).to_have_value("Rival Parkings SARL")
    keyboard_fill(page, [(page.locator("#f-siret"), "98765432100019")], page.get_by_role("button", name="Save", exact=True))
    expect(page.get_by_role("status")).to_have_text("Tenant saved.")
    with site.portal.factory() as s:
        rival = s.query(Tenant).filter(Tenant.slug == "rival").one()
        assert (rival.name, rival.legal_name, rival.siret) == ("Rival Parkings", "Rival Parkings SARL", "98765432100019")

    ro_ctx = english_context(browser)
    ro = ro_ctx.new_page()
    site.login_en(ro, "ro@rival.test")
    keyboard_fill(page, [], page.get_by_role("button", name="Suspend"))
    expect(page.get_by_role("status")).to_have_text("Tenant suspended: its messages and API keys are refused.")
    expect(page.locator("#tenant-status")).to_have_text("suspended")
    shots(page, screenshots, "corrections-tenant-suspended-en")
    with site.portal.factory() as s:
        assert s.query(Tenant).filter(Tenant.slug == "rival").one().status == "suspended"
    # While suspended its administrator reads (invoices, usage) but no longer manages: its keys page is refused,
    # as its API keys are.
    refused = ro.goto(f"{site.url}/portal/keys")
    assert refused is not None and refused.status == 403
    keyboard_fill(page, [], page.get_by_role("button", name="Resume"))
    expect(page.get_by_role("status")).to_have_text("Tenant resumed.")
    expect(page.locator("#tenant-status")).to_have_text("active")
    opened = ro.goto(f"{site.url}/portal/keys")
    assert opened is not None and opened.status == 200
    ro_ctx.close()
    ctx.close()
