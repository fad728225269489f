"""A lessee on a phone (390 x 844) reads its invoices and downloads its files in its own language (issue 17: one
language per page, CSV headers included), in French and in English, with billing installed (what a city runs):
the invoice list's totals and due dates are written as the browser's own CLDR data writes them for that language
(Chromium's Intl is the outside reference), the invoice's CSV and the month's usage CSV name their columns in the
reader's language while every value row stays what billing wrote for the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from billing.documents import invoice_csv
from billing.exports import device_day_usage_csv
from billing.issuer import IssuerIn, save_issuer
from billing.meter import UsageMeter
from billing.models import Invoice, InvoiceLine
from billing.portal_extras import billing_extras
from billing.prices import PricesIn, set_prices
from billing.run import run_billing
from lora_city.metrics import Metrics
from lora_city.services.principal import Role
from lora_city.sinks.events import DeviceInfo, UplinkEvent
from lora_city.storage.db import make_engine, make_session_factory
from tenants.plans import PlanCreate, assign_plan, create_plan
from tenants.quota import PlanQuotaPolicy
from tests.browser.conftest import Site, serving
from tests.browser.helpers import shots
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import PASSWORD, ROOT, Clock, build_portal, seed_device

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DEVICE = "70b3d57ed0000b01"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def files_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('lessee-files') / 'portal.db'}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock(NOW)
    policy = PlanQuotaPolicy(Metrics(), emit=lambda _event: None)
    portal = build_portal(url, clock=clock, migrations=all_migration_locations(),
                          extras=billing_extras(factory, clock, policy))
    acme = portal.tenant("acme")
    portal.user("lea@acme.test", Role.TENANT_ADMIN, "acme", language="fr")
    portal.user("liam@acme.test", Role.TENANT_ADMIN, "acme", language="en")
    seed_device(portal, acme, DEVICE, "Compteur halle")
    with portal.factory() as s:
        plan = create_plan(s, ROOT, PlanCreate(name="pro", max_devices=50, uplinks_per_device_day=2,
                                               airtime_s_per_device_day=120, downlinks_per_device_day=20))
        set_prices(s, ROOT, plan.id, PricesIn.model_validate({"monthly_fee_cents": 123456}))
        save_issuer(s, IssuerIn(legal_name="Ville de Rivebourg", address="1 place de la Mairie\n30000 Rivebourg",
                                siret="21300189700019", vat_number="FR33213001897",
                                iban="FR76 3000 6000 0112 3456 7890 189", late_penalty="3 x le taux légal"))
        s.commit()
        assign_plan(s, ROOT, acme, plan.id)
    meter = UsageMeter(factory, Metrics())
    for n in range(4):  # 4 uplinks on 5 October, 2 over the daily allowance
        meter.submit(UplinkEvent(
            uplink_id=f"files-{n}", time=datetime(2026, 10, 5, 12, n, tzinfo=UTC),
            device=DeviceInfo(dev_eui=DEVICE, tenant_id=acme), dev_addr="01020304", f_cnt=n, f_port=1,
            confirmed=False, adr=True, payload=b"\x01\x02", data=None, measurements={}, codec_errors=[],
            codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000, dr=5,
            airtime_ms=60.0, phy_size=20, copies=1))
    meter.flush()
    run_billing(factory, "2026-10", today=date(2026, 11, 3))
    with serving(portal) as site:
        yield site
    engine.dispose()


WORDS = {
    "fr": {"login": ("Adresse e-mail", "Mot de passe", "Se connecter"), "invoices": "Factures", "usage": "Consommation",
           "month": "Mois", "download": "Télécharger (CSV)", "due": "échéance le",
           "invoice_columns": ["Numéro", "Type de document", "Période", "Date d'émission", "Ligne", "Code",
                               "Désignation", "Quantité", "Prix unitaire HT (EUR)", "Montant (EUR)",
                               "Taux de TVA (%)"],
           "usage_columns": ["Jour", "DevEUI", "Nom", "Messages montants", "Copies en double",
                             "Messages descendants", "Temps d'émission montant (ms)",
                             "Temps d'émission descendant (ms)", "Octets montants", "Octets descendants"],
           "locale": "fr-FR", "date": {"day": "2-digit", "month": "2-digit", "year": "numeric"}},
    "en": {"login": ("E-mail address", "Password", "Log in"), "invoices": "Invoices", "usage": "Usage",
           "month": "Month", "download": "Download (CSV)", "due": "due on",
           "invoice_columns": ["Number", "Document type", "Period", "Issue date", "Line", "Code", "Description",
                               "Quantity", "Unit price excl. VAT (EUR)", "Amount (EUR)", "VAT rate (%)"],
           "usage_columns": ["Day", "DevEUI", "Name", "Uplinks", "Duplicates", "Downlinks", "Uplink airtime (ms)",
                             "Downlink airtime (ms)", "Uplink bytes", "Downlink bytes"],
           "locale": "en-GB", "date": {"day": "numeric", "month": "short", "year": "numeric"}},
}


def _menu(page: Page, name: str) -> None:
    """On a phone the navigation folds behind "Menu"."""
    if not page.get_by_role("navigation").get_by_role("link", name=name).is_visible():
        page.locator("label.menu-label").click()
    page.get_by_role("navigation").get_by_role("link", name=name).click()


def _download(page: Page, click: object, target: Path) -> str:
    with page.expect_download() as info:
        click()  # type: ignore[operator]
    info.value.save_as(target)
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_lessee_reads_invoices_and_downloads_files_in_its_language_on_a_phone(
    files_site: Site, browser: Browser, screenshots: Path, tmp_path: Path, language: str,
) -> None:
    site, words = files_site, WORDS[language]
    with site.portal.factory() as s:
        invoice = s.scalars(select(Invoice)).one()
        lines = list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                               .order_by(InvoiceLine.position)))
        api_csv = invoice_csv(invoice, lines).decode()
        api_usage = device_day_usage_csv(s, invoice.tenant_id, date(2026, 10, 1), date(2026, 11, 1)).decode()
        number, total_cents, due_on = invoice.number, invoice.total_cents, invoice.due_on
    assert total_cents > 100_000 and due_on is not None  # thousands in the total: the grouping is seen
    ctx = browser.new_context(viewport=PHONE, locale=words["locale"], is_mobile=True, accept_downloads=True)
    ctx.set_default_timeout(30_000)
    try:
        page = ctx.new_page()
        email = "lea@acme.test" if language == "fr" else "liam@acme.test"
        page.goto(f"{site.url}/portal/login")
        email_label, password_label, button = words["login"]
        page.get_by_label(email_label).fill(email)
        page.get_by_label(password_label).fill(PASSWORD)
        page.get_by_role("button", name=button).click()
        page.wait_for_url(lambda u: "/login" not in u)
        expect(page.locator("html")).to_have_attribute("lang", language)

        # The invoice list: the total and the due date as the browser's CLDR writes them in this language.
        _menu(page, words["invoices"])
        row = page.locator(f'#invoices-table tr[data-number="{number}"]')
        expect(row).to_be_visible()
        total = page.evaluate("([c, l]) => new Intl.NumberFormat(l, {style: 'currency', currency: 'EUR'})"
                              ".format(c / 100)", [total_cents, words["locale"]])
        due = page.evaluate("([d, l, o]) => new Intl.DateTimeFormat(l, Object.assign({timeZone: 'UTC'}, o))"
                            ".format(new Date(d))", [due_on.isoformat(), words["locale"], words["date"]])
        expect(row.locator("td.total")).to_have_text(total)
        expect(row).to_contain_text(f"{words['due']} {due}")
        shots(page, screenshots, f"lessee-files-invoices-{language}")

        # The invoice's CSV: columns named in this language, every value row as billing wrote it for the API.
        text = _download(page, lambda: row.get_by_role("link", name=f"CSV {number}").click(), tmp_path / "inv.csv")
        header, _, body = text.partition("\n")
        assert next(csv.reader([header])) == words["invoice_columns"]
        assert body == api_csv.partition("\n")[2]

        # The month's usage CSV from the usage page.
        _menu(page, words["usage"])
        page.get_by_label(words["month"], exact=True).fill("2026-10")
        text = _download(page, lambda: page.get_by_role("button", name=words["download"]).click(),
                         tmp_path / "usage.csv")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == words["usage_columns"]
        assert [r[1] for r in rows[1:]] == [DEVICE] and rows[1][3] == "4"  # the 4 metered uplinks
        assert text.partition("\n")[2] == api_usage.partition("\n")[2]
        shots(page, screenshots, f"lessee-files-usage-{language}")
    finally:
        ctx.close()
