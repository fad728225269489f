"""A city administrator lets a locked-out colleague back in, in a real browser, French and English: wrong
passwords lock the account (10 failures: 15 minutes, OWASP Authentication Cheat Sheet "Protect against automated
attacks"), the right one is then refused too; the administrator finds the lock in the console (who, how many
failures, until when, in Europe/Paris time), releases it with the keyboard, and the colleague logs in at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from lora_city.services.principal import Role
from tests.browser.conftest import Site
from tests.browser.helpers import shots, tab_to
from tests.unit.portal.build import PASSWORD

TEXT = {
    "fr": {"locale": "fr-FR", "email": "Adresse e-mail", "password": "Mot de passe", "login": "Se connecter",
           "too_many": "Trop de tentatives", "nav": "Verrous de connexion", "account": "Compte",
           "locked": "Verrouillé", "release": "Libérer", "released": "Verrou libéré", "none": "Aucun compte"},
    "en": {"locale": "en-GB", "email": "E-mail address", "password": "Password", "login": "Log in",
           "too_many": "Too many failed attempts", "nav": "Login locks", "account": "Account",
           "locked": "Locked", "release": "Release", "released": "Lock released", "none": "No account"},
}


def log_in(page: Page, site: Site, text: dict[str, str], email: str, password: str) -> None:
    page.goto(f"{site.url}/portal/login")
    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"]).fill(password)
    page.get_by_role("button", name=text["login"]).click()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_administrator_releases_a_locked_account(site: Site, browser: Browser, lang: str,
                                                    screenshots: Path) -> None:
    text = TEXT[lang]
    clock = site.portal.clock
    user, admin = f"lea-{lang}@acme.test", f"root-{lang}@city.test"
    site.portal.user(user, Role.TENANT_ADMIN, "acme", language=lang)
    site.portal.user(admin, Role.ADMIN, "city", language=lang)

    guesser = browser.new_context(locale=text["locale"])
    try:
        page = guesser.new_page()
        for n in range(10):  # ten wrong passwords, each after the growing delay has passed
            clock.now += timedelta(seconds=120)
            log_in(page, site, text, user, f"wrong-{n}-password")
            expect(page.get_by_role("alert")).to_be_visible()
        log_in(page, site, text, user, PASSWORD)  # the right one, now refused too
        expect(page.get_by_role("alert")).to_contain_text(text["too_many"])
        expect(page.get_by_role("alert")).to_contain_text("900")
        locked_until = clock.now + timedelta(seconds=900)
        shots(page, screenshots, f"login-locked-{lang}")

        clock.now += timedelta(seconds=120)  # the address's own short delay (10 failures) has passed
        staff = browser.new_context(locale=text["locale"])
        try:
            console = staff.new_page()
            log_in(console, site, text, admin, PASSWORD)
            console.wait_for_url(lambda u: "/login" not in u)
            console.get_by_role("navigation").get_by_role("link", name=text["nav"]).click()
            expect(console.get_by_role("heading", level=1)).to_have_text(text["nav"])
            row = console.locator("#locks-table tbody tr", has_text=user)
            expect(row).to_have_count(1)
            expect(row).to_contain_text(text["account"])
            expect(row.locator("td").nth(2)).to_have_text("10")
            expect(row).to_contain_text(text["locked"])
            paris = locked_until.astimezone(ZoneInfo("Europe/Paris"))
            expect(row.locator("time")).to_contain_text(f"{paris:%H:%M}")
            expect(console.locator("#failures-table tbody tr", has_text=user)).to_have_count(10)
            shots(console, screenshots, f"console-locks-{lang}")

            release = row.get_by_role("button", name=f"{text['release']} {user}")
            tab_to(console, release)  # the keyboard alone: Tab to the row's button, Enter
            console.keyboard.press("Enter")
            expect(console.get_by_role("status")).to_contain_text(text["released"])
            expect(console.locator("#locks-table tbody tr", has_text=user)).to_have_count(0)
            shots(console, screenshots, f"console-locks-released-{lang}")
        finally:
            staff.close()

        log_in(page, site, text, user, PASSWORD)  # released: in at once, no waiting out the 15 minutes
        page.wait_for_url(lambda u: "/login" not in u)
        expect(page.get_by_role("alert")).to_have_count(0)
    finally:
        guesser.close()
