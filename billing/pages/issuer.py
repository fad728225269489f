"""The issuer's page (what ``lora-city billing config`` sets): the city's legal identity on invoices, the VAT
rate, payment terms and how customers pay (IBAN, or the public accountant's details)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from billing.issuer import FIELDS, IssuerIn, save_issuer
from billing.pages.common import StaffDep
from billing.pages.money import edit_percent
from billing.run import find_config
from lora_city.portal import forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, PageDep

SPEC: dict[str, forms.Kind] = {
    "legal_name": forms.REQUIRED_TEXT, "address": forms.REQUIRED_TEXT, "siret": forms.REQUIRED_TEXT,
    "vat_number": forms.REQUIRED_TEXT, "email": forms.TEXT, "vat_rate": forms.PERCENT_BP,
    "payment_days": forms.INT, "late_penalty": forms.TEXT, "payment_method": forms.TEXT, "iban": forms.TEXT,
    "bic": forms.TEXT, "payment_details": forms.TEXT,
}
WHERE = {"vat_rate_bp": "vat_rate"}


def issuer_router() -> APIRouter:
    router = APIRouter(route_class=PortalRoute, prefix="/console/billing/issuer")

    @router.get("")
    def issuer_page(page: PageDep, user: StaffDep, db: DbDep, saved: int = 0) -> Response:
        config = find_config(db)
        values: dict[str, str] = {"payment_method": "transfer", "payment_days": "30", "vat_rate": "20",
                                  "late_penalty": IssuerIn.model_fields["late_penalty"].default}
        if config is not None:
            values = {name: str(getattr(config, name)) for name in FIELDS}
            values["vat_rate"] = edit_percent(config.vat_rate_bp, page.language)
        return page.render("billing/issuer.html", values=values, errors={}, saved=bool(saved),
                           configured=config is not None)

    @router.post("", dependencies=[CsrfChecked])
    def save(page: PageDep, user: StaffDep, db: DbDep, posted: forms.PostedDep) -> Response:
        form = forms.read_form(posted, SPEC, page.t)
        if "vat_rate" in form.data:
            form.data["vat_rate_bp"] = form.data.pop("vat_rate")
        data = forms.validate(IssuerIn, form, page.t, where=lambda loc: WHERE.get(str(loc[0]), str(loc[0]))
                              if loc else "_form", formats={"siret": "form.siret"})
        if data is None:
            return page.render("billing/issuer.html", status=422, values=form.values, errors=form.errors,
                               saved=False, configured=find_config(db) is not None)
        save_issuer(db, data)
        db.commit()
        return page.redirect("/console/billing/issuer?saved=1")

    return router
