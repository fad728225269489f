"""Alert rules in the portal (issue 21, Alerts): a lessee writes rules for its own devices (the engine keeps a
lessee's rule to the lessee's devices whatever it says), the city's staff for the network. The measurement is
picked from the catalogue, with its unit and the device families whose codecs write it; a threshold has a warning
and/or a critical level. Deleting asks first. Each mistake is shown beside its field, in the page's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.alerts.rules import MAX_DELAY_S, RuleKind, Severity
from lora_city.errors import InvalidInput, NotFound
from lora_city.portal import forms, measures
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import alert_rules, measurement_catalogue
from lora_city.services.alert_rules import LevelIn, RuleIn
from lora_city.services.measurement_catalogue import MeasurementOut
from lora_city.services.principal import Perm, Role
from lora_city.storage.models import Device, Tenant

router = APIRouter(route_class=PortalRoute)
RulesDep = Annotated[PortalUser, Depends(roles(Role.TENANT_ADMIN, Role.TENANT_VIEWER, Role.ADMIN, Role.OPERATOR))]
KINDS = ("threshold", "flag", "absence", "gateway_offline")
FIELDS: dict[str, forms.Kind] = {
    "name": forms.REQUIRED_TEXT, "kind": forms.TEXT, "measurement": forms.TEXT, "direction": forms.TEXT,
    "warning": forms.FLOAT, "critical": forms.FLOAT, "hysteresis": forms.FLOAT, "silence_min": forms.FLOAT,
    "severity": forms.TEXT, "device": forms.TEXT, "hold_min": forms.FLOAT, "clear_min": forms.FLOAT,
}
MAX_DELAY_MIN = MAX_DELAY_S / 60  # a day
DEVICE_CHOICES = 500


def _devices(db: Session, user: PortalUser) -> list[tuple[str, str]]:
    q = select(Device.dev_eui, Device.name).order_by(Device.name).limit(DEVICE_CHOICES)
    if not user.principal.sees_all_tenants:
        q = q.where(Device.tenant_id == user.tenant_id)
    return [(eui, f"{name} ({eui})") for eui, name in db.execute(q).all()]


def _render(page: Page, db: Session, user: PortalUser, values: dict[str, str], errors: dict[str, str],
            status: int = 200, notice: str = "") -> Response:
    rules = alert_rules.list_rules(db, user.principal)
    tenants = {t.id: t.name for t in db.scalars(select(Tenant))} if user.principal.sees_all_tenants else {}
    codecs = page.ctx.codecs.list() if page.ctx.codecs is not None else []
    options = [(m.name, _label(page, m)) for m in measurement_catalogue.catalogue(codecs)]
    names = {m: measures.label(page.t, m) for m in {r.measurement for r in rules if r.measurement}}
    return page.render("alert_rules.html", status=status, rules=rules, tenants=tenants, values=values, names=names,
                       errors=errors, notice=notice, measurement_options=options,
                       devices=_devices(db, user), can_write=user.principal.can(Perm.ALERTS_WRITE),
                       staff=user.is_city_staff, kinds=KINDS, severities=[s.value for s in Severity])


def _label(page: Page, m: MeasurementOut) -> str:
    """"Niveau d'eau (m) · nombre · inondation": the measurement in the page's language, its unit, and who
    sends it (the catalogue name itself is the option's value)."""
    name = measures.label(page.t, m.name)
    unit = measures.unit_label(page.t, m.unit)
    parts = [f"{name} ({unit})" if unit else name, page.t(f"rules.kind_{m.kind}")]
    if m.families:
        parts.append(", ".join(page.t(f"family.{f}") for f in m.families))
    return " · ".join(parts)


@router.get("/alert-rules")
def rules_page(page: PageDep, user: RulesDep, db: DbDep, notice: str = "") -> Response:
    defaults = {"kind": "threshold", "direction": "above", "severity": "warning", "hysteresis": "0", "hold_min": "0",
                "clear_min": "0"}
    return _render(page, db, user, defaults, {}, notice=notice if notice in ("created", "deleted") else "")


def _check(page: Page, db: Session, user: PortalUser, form: forms.FormResult) -> RuleIn | None:
    """The rule the form describes, or None with each problem beside its field."""
    data, errors, t = form.data, form.errors, page.t
    if not data.get("name"):
        errors.setdefault("name", t("rules.name_required"))
    kind = data.get("kind", "")
    if kind not in KINDS:
        errors["kind"] = t("rules.kind_unknown")
    quantity = {m.name: m for m in measurement_catalogue.catalogue([])}.get(data.get("measurement", ""))
    levels: list[LevelIn] = []
    if kind == "threshold":
        if quantity is None or quantity.kind != "number":
            errors["measurement"] = t("rules.measurement_number")
        direction = data.get("direction", "above")
        if direction not in ("above", "below"):
            errors["direction"] = t("rules.kind_unknown")
        warning, critical = data.get("warning"), data.get("critical")
        if warning is None and critical is None and "warning" not in errors and "critical" not in errors:
            errors["warning"] = t("rules.level_required")
        elif warning is not None and critical is not None and (
                warning >= critical if direction == "above" else warning <= critical):
            errors["critical"] = t("rules.levels_order_" + ("above" if direction == "above" else "below"))
        levels = [LevelIn(name=name, value=value, severity=Severity(name))
                  for name, value in (("warning", warning), ("critical", critical)) if value is not None]
        if direction == "below":
            levels.sort(key=lambda lv: -lv.value)  # the engine wants them in the order they are crossed
        else:
            levels.sort(key=lambda lv: lv.value)
        if (data.get("hysteresis") or 0) < 0:
            errors["hysteresis"] = t("rules.hysteresis_negative")
    elif kind == "flag" and (quantity is None or quantity.kind != "flag"):
        errors["measurement"] = t("rules.measurement_flag")
    elif kind == "absence" and not (data.get("silence_min") or 0) > 0:
        errors["silence_min"] = t("rules.silence_required")
    if data.get("severity", "warning") not in {s.value for s in Severity}:
        errors["severity"] = t("rules.kind_unknown")
    for delay in ("hold_min", "clear_min"):
        minutes = data.get(delay) or 0.0
        if not 0 <= minutes <= MAX_DELAY_MIN and delay not in errors:
            errors[delay] = t("rules.delay_bounds", max=int(MAX_DELAY_MIN))
    # a gateway rule watches every gateway the rule's owner sees (a lessee: its own); a device scope makes no sense
    device = data.get("device", "").lower() if kind != "gateway_offline" else ""
    if device and device not in {eui for eui, _ in _devices(db, user)}:
        errors["device"] = t("rules.device_unknown")
    if errors:
        return None
    return RuleIn(
        name=data["name"], kind=RuleKind(kind), measurement=data.get("measurement") if kind in ("threshold", "flag") else None,
        levels=levels, direction=data.get("direction", "above"), hysteresis=data.get("hysteresis") or 0.0,
        max_silence_s=(data.get("silence_min") or 0.0) * 60, severity=Severity(data.get("severity", "warning")),
        scope_kind="device" if device else "all", scope_value=device,
        hold_s=(data.get("hold_min") or 0.0) * 60, clear_s=(data.get("clear_min") or 0.0) * 60)


@router.post("/alert-rules", dependencies=[CsrfChecked])
def create_rule(page: PageDep, user: RulesDep, db: DbDep, posted: forms.PostedDep) -> Response:
    form = forms.read_form(posted, FIELDS, page.t)
    body = _check(page, db, user, form)
    if body is None:
        return _render(page, db, user, form.values, form.errors, 422)
    try:
        alert_rules.create_rule(db, user.principal, body)
    except (InvalidInput, NotFound) as exc:
        db.rollback()
        forms.field_error(form, exc, {}, page.t)
        return _render(page, db, user, form.values, form.errors, 422)
    return page.redirect("/alert-rules?notice=created")


@router.get("/alert-rules/{rule_id}/delete")
def confirm_delete(page: PageDep, user: RulesDep, db: DbDep, rule_id: str) -> Response:
    rule = alert_rules.get_rule(db, user.principal, rule_id)
    return page.render("confirm.html", title=page.t("rules.delete_title"),
                       question=page.t("rules.delete_question", name=rule.name),
                       action=page.url(f"/alert-rules/{rule.id}/delete"), confirm=page.t("rules.delete"),
                       cancel=page.url("/alert-rules"), allowed=user.principal.can(Perm.ALERTS_WRITE), error="")


@router.post("/alert-rules/{rule_id}/delete", dependencies=[CsrfChecked])
def delete_rule(page: PageDep, user: RulesDep, db: DbDep, rule_id: str) -> Response:
    alert_rules.delete_rule(db, user.principal, rule_id)
    return page.redirect("/alert-rules?notice=deleted")
