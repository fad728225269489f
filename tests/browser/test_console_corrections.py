"""The second half of issue 21 item 1 ("create, edit and delete … roles, disable"), through the pages alone, in
English (the first day, tests/browser/test_first_day.py, is French): the city's administrator registers a
gateway, renames it, deletes it after a confirmation page (cancelled once first); edits a lessee's device and
deletes it the same way; changes a lessee's role and disables her account while she is logged in (her next
click lands on the login page and her password no longer opens the portal), then enables it again: her old session stays ended, her password works again. Every form
is filled with the keyboard; every page is saved at 1366 and 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from lora_city.services.principal import Role
from lora_city.storage.models import Device, Gateway, Tenant, User
from tests.browser.conftest import Site, english_context
from tests.browser.helpers import keyboard_fill, shots
from tests.unit.portal.build import PASSWORD, seed_device

pytestmark = pytest.mark.slow
LAMP = "70b3d57ed0000c01"




def test_operator_edits_and_deletes_a_gateway_and_a_device_then_disables_an_account(
        site: Site, browser: Browser, screenshots: Path) -> None:
    portal = site.portal
    portal.user("eve@city.test", Role.ADMIN, "city", language="en")
    portal.user("lou@acme.test", Role.TENANT_ADMIN, "acme", language="en")
    with portal.factory() as s:
        acme = s.query(Tenant).filter(Tenant.slug == "acme").one().id
    seed_device(portal, acme, LAMP, "Lamp 1")
    ctx = english_context(browser)
    page = ctx.new_page()
    site.login_en(page, "eve@city.test")

    # A gateway: registered, renamed, then deleted (the confirmation page cancelled once).
    page.goto(f"{site.url}/portal/console/gateways/new")
    keyboard_fill(page, [(page.locator("#f-gateway_id"), "aa555a0000000c01"), (page.locator("#f-name"), "Depot"),
                         (page.locator("#f-latitude"), "43.8367"), (page.locator("#f-longitude"), "4.3601")],
                  page.get_by_role("button", name="Save the gateway"))
    expect(page.get_by_role("status")).to_have_text("Gateway registered: its frames are accepted from now on.")
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.locator("#f-name")).to_have_value("Depot")
    expect(page.locator("#f-latitude")).to_have_value("43.8367")
    keyboard_fill(page, [(page.locator("#f-name"), "Depot roof")], page.get_by_role("button", name="Save the gateway"))
    expect(page.get_by_role("status")).to_have_text("Gateway saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Depot roof")
    shots(page, screenshots, "corrections-gateway-saved-en")
    page.get_by_role("link", name="Delete the gateway").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “Depot roof”")
    shots(page, screenshots, "corrections-gateway-confirm-en")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Depot roof")
    with portal.factory() as s:
        assert s.get(Gateway, "aa555a0000000c01") is not None  # cancelling deleted nothing
    page.get_by_role("link", name="Delete the gateway").click()
    keyboard_fill(page, [], page.get_by_role("button", name="Delete the gateway"))
    expect(page.get_by_role("status")).to_have_text("Gateway deleted.")
    expect(page.locator("main")).not_to_contain_text("Depot roof")
    with portal.factory() as s:
        assert s.get(Gateway, "aa555a0000000c01") is None

    # A lessee's device: renamed, then deleted after its confirmation page.
    page.goto(f"{site.url}/portal/devices/{LAMP}")
    page.get_by_role("link", name="Edit", exact=True).click()
    keyboard_fill(page, [(page.locator("#f-name"), "Lamp 1 - north")], page.get_by_role("button", name="Save the device"))
    expect(page.locator("p.ok[role=status]")).to_have_text("Device saved: the change applies to its next uplink.")
    with portal.factory() as s:
        device = s.get(Device, LAMP)
        assert device is not None and device.name == "Lamp 1 - north"
    page.get_by_role("link", name="Delete the device").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “Lamp 1 - north”")
    keyboard_fill(page, [], page.get_by_role("button", name="Delete the device"))
    expect(page.locator("p.ok[role=status]")).to_have_text("Device deleted.")
    with portal.factory() as s:
        assert s.get(Device, LAMP) is None

    # An account: the lessee is logged in elsewhere when her role changes and her account is disabled.
    lou_ctx = english_context(browser)
    lou = lou_ctx.new_page()
    site.login_en(lou, "lou@acme.test")
    expect(lou.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.goto(f"{site.url}/portal/users")
    page.get_by_role("link", name="lou@acme.test").click()
    expect(page.locator("#user-state")).to_have_text("active")
    keyboard_fill(page, [(page.get_by_label("Role", exact=True), "tenant_viewer")],
                  page.get_by_role("button", name="Change the role"))
    expect(page.get_by_role("status")).to_have_text("Role changed.")
    expect(page.get_by_label("Role", exact=True)).to_have_value("tenant_viewer")
    keyboard_fill(page, [], page.get_by_role("button", name="Disable the account"))
    expect(page.get_by_role("status")).to_have_text("Account state changed.")
    expect(page.locator("#user-state")).to_have_text("disabled")
    shots(page, screenshots, "corrections-user-disabled-en")
    lou.reload()  # her next action: out
    expect(lou).to_have_url(re.compile(r"/portal/login"))
    lou.get_by_label("E-mail address").fill("lou@acme.test")
    lou.get_by_label("Password").fill(PASSWORD)
    lou.get_by_role("button", name="Log in").click()
    expect(lou.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")
    keyboard_fill(page, [], page.get_by_role("button", name="Enable the account"))
    expect(page.locator("#user-state")).to_have_text("active")
    lou.goto(f"{site.url}/portal/dashboard")  # the session she had before is over for good, not revived
    expect(lou).to_have_url(re.compile(r"/portal/login"))
    site.login_en(lou, "lou@acme.test")
    expect(lou.get_by_role("heading", level=1)).to_have_text("Dashboard")
    lou_ctx.close()
    ctx.close()


def test_a_lessees_administrator_invites_a_colleague_into_its_own_tenant_only(
        site: Site, browser: Browser, screenshots: Path) -> None:
    """Issue 21 item 1: "portal users … of each tenant (invite by link…)": the lessee's administrator invites its
    own staff (no tenant to choose, no city role offered); the colleague opens the link, chooses a password and
    lands read-only in that tenant."""
    site.portal.user("ida@acme.test", Role.TENANT_ADMIN, "acme", language="en")
    ctx = english_context(browser)
    page = ctx.new_page()
    site.login_en(page, "ida@acme.test")
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    expect(page.locator("#f-tenant")).to_have_count(0)  # its own tenant, nothing to choose
    offered = page.get_by_label("Role", exact=True).locator("option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(offered) == ["tenant_admin", "tenant_viewer"]
    keyboard_fill(page, [(page.get_by_label("E-mail address"), "Noe@Acme.test"),
                         (page.get_by_label("Display name"), "Noé"),
                         (page.get_by_label("Role", exact=True), "tenant_viewer"),
                         (page.get_by_label("Portal language for this person"), "en")],
                  page.get_by_role("button", name="Create the account and the link"))
    link = page.locator("#invite-link").input_value()
    expect(page.locator('#users-table tr[data-email="noe@acme.test"]')).to_contain_text("invitation pending")
    shots(page, screenshots, "corrections-lessee-invites-en")
    ctx.close()

    noe_ctx = english_context(browser)
    noe = noe_ctx.new_page()
    noe.goto(link)
    keyboard_fill(noe, [(noe.get_by_label("Choose your password"), "street lights at six"),
                        (noe.get_by_label("Confirm the password"), "street lights at six")],
                  noe.get_by_role("button", name="Save and log in"))
    expect(noe.get_by_role("heading", level=1)).to_have_text("Dashboard")
    with site.portal.factory() as s:
        noe_row = s.query(User).filter(User.email == "noe@acme.test").one()
        acme = s.query(Tenant).filter(Tenant.slug == "acme").one()
        assert (noe_row.role, noe_row.tenant_id) == ("tenant_viewer", acme.id)
    refused = noe.goto(f"{site.url}/portal/users")
    assert refused is not None and refused.status == 403  # read only: no account management
    noe_ctx.close()

