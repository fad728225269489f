"""Console pages of plans WITH their prices: list, create, edit, delete. One form holds the plan (caps, daily
allowances per device, what happens beyond them, private gateways) and its prices (monthly fee, graduated
prices per active device, overage prices, VAT), so a new plan can be invoiced as soon as it is saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import PriceTable
from billing.pages.common import StaffDep, reload_quotas
from billing.pages.money import edit_cents, edit_millicents, edit_percent, money, unit_money
from billing.prices import PricesIn, set_prices
from lora_city.errors import AlreadyExists, Conflict
from lora_city.portal import forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep
from lora_city.storage.models import Tenant
from tenants import plans
from tenants.models import Plan
from tenants.quota import PlanQuotaPolicy

LIMITS = ("max_devices", "max_gateways", "uplinks_per_device_day", "downlinks_per_device_day",
          "airtime_s_per_device_day")
TIERS = {"device": "device_tiers", "uplink": "overage_uplink_tiers", "airtime": "overage_airtime_tiers"}
MAX_ROWS = 10
SPEC: dict[str, forms.Kind] = {
    "name": forms.REQUIRED_TEXT, **{k: forms.INT for k in LIMITS}, "over_quota_action": forms.TEXT,
    "private_up_allowed": forms.BOOL, "private_down_allowed": forms.BOOL, "monthly_fee": forms.EUROS,
    "vat_rate": forms.PERCENT_BP,
}


def tier_spans(tiers: list[dict[str, int]]) -> list[tuple[str, int]]:
    """("1–100", price), ("101+", price): the units each tier prices, counted from 1."""
    ordered = sorted(tiers, key=lambda t: int(t["from"]))
    out = []
    for i, tier in enumerate(ordered):
        start = int(tier["from"]) + 1
        end = int(ordered[i + 1]["from"]) if i + 1 < len(ordered) else None
        out.append((f"{start}+" if end is None else f"{start}–{end}", int(tier["millicents"])))
    return out


def _rows(values: dict[str, str], kind: str) -> int:
    used = [i for i in range(MAX_ROWS) if values.get(f"{kind}_tier_from_{i}") or values.get(f"{kind}_tier_price_{i}")]
    return min(MAX_ROWS, max(3, (max(used) + 2) if used else 0))


def _spec(posted: dict[str, str]) -> dict[str, forms.Kind]:
    spec = dict(SPEC)
    for kind in TIERS:
        for i in range(MAX_ROWS):
            spec[f"{kind}_tier_from_{i}"] = forms.INT
            spec[f"{kind}_tier_price_{i}"] = forms.EUROS_MILLI
    return spec


def _tiers(form: forms.FormResult, kind: str, t: Callable[..., str]) -> tuple[list[dict[str, int]], list[int]]:
    """The filled rows as tiers, and for each tier the row it came from (to put an error beside it)."""
    tiers: list[dict[str, int]] = []
    rows: list[int] = []
    for i in range(MAX_ROWS):
        start, price = form.data.get(f"{kind}_tier_from_{i}"), form.data.get(f"{kind}_tier_price_{i}")
        if price is None and not start:  # empty, or only the "after 0" the new-plan form prefills: no tier
            continue
        if price is None:
            form.errors.setdefault(f"{kind}_tier_price_{i}", t("form.tier_price_missing"))
            continue
        tiers.append({"from": start if start is not None else 0, "millicents": price})
        rows.append(i)
    return tiers, rows


def _plan_values(plan: Plan | None, prices: PriceTable | None, language: str) -> dict[str, str]:
    if plan is None:
        return {"over_quota_action": "drop", "device_tier_from_0": "0"}
    values: dict[str, str] = {"name": plan.name, "over_quota_action": plan.over_quota_action,
                              "private_up_allowed": "true" if plan.private_up_allowed else "",
                              "private_down_allowed": "true" if plan.private_down_allowed else ""}
    for name in LIMITS:
        value = getattr(plan, name)
        values[name] = "" if value is None else str(value)
    if prices is not None:
        values["monthly_fee"] = edit_cents(prices.monthly_fee_cents, language)
        values["vat_rate"] = edit_percent(prices.vat_rate_bp, language)
        for kind, column in TIERS.items():
            tiers = list(getattr(prices, column) or [])
            if kind == "uplink" and not tiers and prices.overage_uplink_millicents:
                tiers = [{"from": 0, "millicents": prices.overage_uplink_millicents}]
            if kind == "airtime" and not tiers and prices.overage_airtime_s_millicents:
                tiers = [{"from": 0, "millicents": prices.overage_airtime_s_millicents}]
            for i, tier in enumerate(tiers[:MAX_ROWS]):
                values[f"{kind}_tier_from_{i}"] = str(tier["from"])
                values[f"{kind}_tier_price_{i}"] = edit_millicents(int(tier["millicents"]), language)
    return values


def _read(page: Page, posted: dict[str, str]) -> tuple[forms.FormResult, plans.PlanPatch | None, PricesIn | None]:
    form = forms.read_form(posted, _spec(posted), page.t)
    tiers = {kind: _tiers(form, kind, page.t) for kind in TIERS}
    plan_data: dict[str, Any] = {k: form.data.get(k) for k in LIMITS}
    plan_data.update(name=form.data["name"], over_quota_action=form.data.get("over_quota_action", "drop"),
                     private_up_allowed=form.data["private_up_allowed"],
                     private_down_allowed=form.data["private_down_allowed"])
    plan = forms.validate(plans.PlanPatch, forms.FormResult(form.values, plan_data, form.errors), page.t)
    if plan is not None and not plan.name:
        form.errors["name"] = page.t("form.required")
    price_data: dict[str, Any] = {"monthly_fee_cents": form.data.get("monthly_fee", 0),
                                  "vat_rate_bp": form.data.get("vat_rate"),
                                  **{column: tiers[kind][0] for kind, column in TIERS.items()}}

    def where(loc: tuple[Any, ...]) -> str:
        head = str(loc[0]) if loc else "_form"
        if head == "monthly_fee_cents":
            return "monthly_fee"
        if head == "vat_rate_bp":
            return "vat_rate"
        for kind, column in TIERS.items():
            if head == column:
                rows = tiers[kind][1]
                row = rows[loc[1]] if len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(rows) else \
                    (rows[0] if rows else 0)
                field = "from" if len(loc) < 3 or loc[2] in ("from", "from_") else "price"
                return f"{kind}_tier_{field}_{row}"
        return head

    prices = forms.validate(PricesIn, forms.FormResult(form.values, price_data, form.errors), page.t, where=where)
    return form, (plan if form.ok else None), (prices if form.ok else None)


def _render_form(page: Page, plan: Plan | None, values: dict[str, str], errors: dict[str, str],
                 status: int = 200) -> Response:
    rows = {kind: _rows(values, kind) for kind in TIERS}
    return page.render("billing/plan_form.html", status=status, plan=plan, values=values, errors=errors, rows=rows)


def plans_router(policy: PlanQuotaPolicy | None) -> APIRouter:
    router = APIRouter(route_class=PortalRoute, prefix="/console/plans")

    @router.get("")
    def plan_list(page: PageDep, user: StaffDep, db: DbDep, saved: str = "", deleted: str = "") -> Response:
        rows = plans.list_plans(db, user.principal)
        prices = {p.plan_id: p for p in db.scalars(select(PriceTable))}
        counts = dict(db.execute(select(Tenant.plan_id, func.count()).group_by(Tenant.plan_id)).all())
        lang = page.language
        return page.render("billing/plans.html", plans=rows, prices=prices, counts=counts, saved=saved,
                           deleted=deleted, money=lambda c: money(c, lang), unit=lambda m: unit_money(m, lang),
                           spans=tier_spans)

    @router.get("/new")
    def new_plan(page: PageDep, user: StaffDep) -> Response:
        return _render_form(page, None, _plan_values(None, None, page.language), {})

    @router.post("/new", dependencies=[CsrfChecked])
    def create_plan(page: PageDep, user: StaffDep, db: DbDep, posted: forms.PostedDep) -> Response:
        form, data, prices = _read(page, posted)
        if data is None or prices is None:
            return _render_form(page, None, form.values, form.errors, 422)
        try:
            plan = plans.create_plan(db, user.principal, plans.PlanCreate.model_validate(
                {k: v for k, v in data.model_dump().items() if v is not None}))
        except AlreadyExists:
            form.errors["name"] = page.t("plans.name_taken")
            return _render_form(page, None, form.values, form.errors, 422)
        set_prices(db, user.principal, plan.id, prices)
        reload_quotas(policy, db)
        return page.redirect(f"/console/plans?saved={plan.id}")

    @router.get("/{plan_id}")
    def edit_plan(page: PageDep, user: StaffDep, db: DbDep, plan_id: str) -> Response:
        plan = plans.get_plan(db, user.principal, plan_id)
        return _render_form(page, plan, _plan_values(plan, db.get(PriceTable, plan.id), page.language), {})

    @router.post("/{plan_id}", dependencies=[CsrfChecked])
    def save_plan(page: PageDep, user: StaffDep, db: DbDep, plan_id: str, posted: forms.PostedDep) -> Response:
        plan = plans.get_plan(db, user.principal, plan_id)
        form, data, prices = _read(page, posted)
        if data is None or prices is None:
            return _render_form(page, plan, form.values, form.errors, 422)
        try:
            plans.update_plan(db, user.principal, plan.id, data)
        except AlreadyExists:
            db.rollback()
            form.errors["name"] = page.t("plans.name_taken")
            return _render_form(page, plan, form.values, form.errors, 422)
        set_prices(db, user.principal, plan.id, prices)
        reload_quotas(policy, db)
        return page.redirect(f"/console/plans?saved={plan.id}")

    @router.get("/{plan_id}/delete")
    def confirm_delete(page: PageDep, user: StaffDep, db: DbDep, plan_id: str) -> Response:
        plan = plans.get_plan(db, user.principal, plan_id)
        return _confirm(page, db, plan)

    @router.post("/{plan_id}/delete", dependencies=[CsrfChecked])
    def delete_plan(page: PageDep, user: StaffDep, db: DbDep, plan_id: str) -> Response:
        plan = plans.get_plan(db, user.principal, plan_id)
        try:
            plans.delete_plan(db, user.principal, plan.id)
        except Conflict:
            return _confirm(page, db, plan, status=409)
        return page.redirect(f"/console/plans?deleted={plan.name}")

    return router


def _confirm(page: Page, db: Session, plan: Plan, status: int = 200) -> Response:
    users = plans.tenants_on(db, plan.id)
    error = page.t("plans.in_use", n=len(users), tenants=", ".join(t.name for t in users[:10])) if users else None
    return page.render("confirm.html", status=status, title=page.t("plans.delete_title", name=plan.name),
                       question=page.t("plans.delete_question", name=plan.name), error=error,
                       action=page.url(f"/console/plans/{plan.id}/delete"), confirm=page.t("plans.delete"),
                       cancel=page.url(f"/console/plans/{plan.id}"), allowed=not users)

