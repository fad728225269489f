"""Alerts, alert rules, supervision-feed subscriptions and the open-data export.

Tenant admins see and acknowledge their own alerts and manage their own rules; the directorate sees all and
manages the feed subscriptions of the city's services.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from lora_city.alerts.rules import RuleKind, Severity
from lora_city.alerts.service import AlertService, rule_from_row
from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep
from lora_city.api.schemas import ERROR_RESPONSES, Out, UtcTime
from lora_city.codec.measurements import CATALOGUE
from lora_city.errors import InvalidInput, NotFound
from lora_city.opendata.export import build_rows, to_csv, to_geojson
from lora_city.services import measurement_catalogue
from lora_city.services.common import target_tenant
from lora_city.services.measurement_catalogue import MeasurementOut
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import AlertRule, FeedSubscription

router = APIRouter(tags=["alerts"], responses=ERROR_RESPONSES)


class AlertOut(Out):
    id: str
    tenant_id: str
    rule_id: str
    subject: str
    service: str
    state: str
    severity: str
    level: str | None
    value: float | None
    message: str
    raised_at: UtcTime
    acknowledged_at: UtcTime | None
    acknowledged_by: str | None
    escalated_at: UtcTime | None
    resolved_at: UtcTime | None


class AuditOut(Out):
    time: UtcTime
    action: str
    actor: str
    detail: str


class LevelIn(BaseModel):
    name: str = Field(min_length=1, max_length=30)
    value: float
    severity: Severity = Severity.WARNING


class RuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: RuleKind
    tenant_id: str | None = None
    service: str = Field(default="supervision", min_length=1, max_length=50)
    scope_kind: Literal["all", "device", "asset", "group", "family", "tenant"] = "all"
    scope_value: str = Field(default="", max_length=100)
    measurement: str | None = None
    levels: list[LevelIn] = Field(default_factory=list, max_length=10)
    direction: Literal["above", "below"] = "above"
    hysteresis: float = Field(default=0.0, ge=0)
    delta: float = 0.0
    window_s: float = Field(default=0.0, ge=0)
    max_silence_s: float = Field(default=0.0, ge=0)
    severity: Severity = Severity.WARNING
    escalate_after_s: float | None = Field(default=None, gt=0)
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> RuleIn:
        needs_measurement = self.kind in (RuleKind.THRESHOLD, RuleKind.RATE, RuleKind.FLAG)
        if needs_measurement and self.measurement not in CATALOGUE:
            raise ValueError(f"{self.kind.value} rules need a measurement from the catalogue")
        if self.kind is RuleKind.THRESHOLD and not self.levels:
            raise ValueError("threshold rules need at least one level")
        if self.kind is RuleKind.RATE and (self.delta == 0 or self.window_s == 0):
            raise ValueError("rate rules need a non-zero delta and window_s")
        if self.kind is RuleKind.ABSENCE and self.max_silence_s <= 0:
            raise ValueError("absence rules need max_silence_s > 0")
        return self


class RuleOut(Out):
    id: str
    tenant_id: str
    name: str
    kind: str
    service: str
    scope_kind: str
    scope_value: str
    measurement: str | None
    params: dict[str, Any]
    escalate_after_s: float | None
    enabled: bool


class SubscriptionIn(BaseModel):
    service: str = Field(min_length=1, max_length=50)
    kind: Literal["mqtt", "webhook"]
    target: str = Field(min_length=1, max_length=500)
    secret: str | None = Field(default=None, max_length=200)
    families: list[Literal["streetlight", "water", "flood", "other"]] = Field(default_factory=list)
    min_severity: Severity = Severity.INFO


class SubscriptionOut(Out):
    id: str
    service: str
    kind: str
    target: str
    families: list[str]
    min_severity: str
    enabled: bool


def _service(ctx: ContextDep) -> AlertService:
    return AlertService(ctx.session_factory, ctx.clock)


def _actor(principal: Principal) -> str:
    return principal.identity


@router.get("/alerts")
def list_alerts(ctx: ContextDep, principal: CurrentPrincipal,
                state: Annotated[Literal["open", "raised", "acknowledged", "resolved"] | None, Query()] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertOut]:
    principal.require(Perm.ALERTS_READ)
    rows = _service(ctx).list_alerts(tenant_id=principal.tenant_filter(), state=state, limit=limit)
    return [AlertOut.model_validate(a) for a in rows]


@router.get("/alerts/{alert_id}/audit")
def alert_audit(ctx: ContextDep, principal: CurrentPrincipal, alert_id: str) -> list[AuditOut]:
    principal.require(Perm.ALERTS_READ)
    return [AuditOut.model_validate(a) for a in _service(ctx).audit(alert_id, tenant_id=principal.tenant_filter())]


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(ctx: ContextDep, principal: CurrentPrincipal, alert_id: str) -> dict[str, str]:
    principal.require(Perm.ALERTS_WRITE)
    msg = _service(ctx).acknowledge(alert_id, _actor(principal), tenant_id=principal.tenant_filter())
    return {"id": msg.alert_id, "state": msg.state}


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(ctx: ContextDep, principal: CurrentPrincipal, alert_id: str) -> dict[str, str]:
    principal.require(Perm.ALERTS_WRITE)
    msg = _service(ctx).resolve(alert_id, _actor(principal), tenant_id=principal.tenant_filter())
    return {"id": msg.alert_id, "state": msg.state}


@router.get("/measurements")
def list_measurements(ctx: ContextDep, principal: CurrentPrincipal) -> list[MeasurementOut]:
    """The names alert rules (and dashboards) use: unit, number or flag, meaning, and the device families whose
    codecs write each one."""
    principal.require(Perm.ALERTS_READ)
    return measurement_catalogue.catalogue(ctx.codecs.list() if ctx.codecs is not None else [])


@router.get("/alert-rules")
def list_rules(session: SessionDep, principal: CurrentPrincipal) -> list[RuleOut]:
    principal.require(Perm.ALERTS_READ)
    q = select(AlertRule).order_by(AlertRule.created_at)
    if (tenant := principal.tenant_filter()) is not None:
        q = q.where(AlertRule.tenant_id == tenant)
    return [RuleOut.model_validate(r) for r in session.scalars(q)]


@router.post("/alert-rules", status_code=201)
def create_rule(session: SessionDep, principal: CurrentPrincipal, body: RuleIn) -> RuleOut:
    principal.require(Perm.ALERTS_WRITE)
    # by id or slug, the caller's own by default, the city's for the built-in administrator (as every route)
    tenant_id = target_tenant(session, principal, body.tenant_id)
    params: dict[str, Any] = {
        "levels": [lv.model_dump(mode="json") for lv in body.levels], "direction": body.direction,
        "hysteresis": body.hysteresis, "delta": body.delta, "window_s": body.window_s,
        "max_silence_s": body.max_silence_s, "severity": body.severity.value,
    }
    row = AlertRule(tenant_id=tenant_id, name=body.name, kind=body.kind.value, service=body.service,
                    scope_kind=body.scope_kind, scope_value=body.scope_value, measurement=body.measurement,
                    params=params, escalate_after_s=body.escalate_after_s, enabled=body.enabled)
    rule_from_row(row)  # the engine must be able to read what we store
    session.add(row)
    session.commit()
    return RuleOut.model_validate(row)


@router.delete("/alert-rules/{rule_id}", status_code=204)
def delete_rule(session: SessionDep, principal: CurrentPrincipal, rule_id: str) -> Response:
    principal.require(Perm.ALERTS_WRITE)
    row = session.get(AlertRule, rule_id)
    if row is None:
        raise NotFound("alert rule not found")
    principal.check_visible(row.tenant_id, "alert rule")
    session.delete(row)
    session.commit()
    return Response(status_code=204)


@router.get("/feed-subscriptions")
def list_subscriptions(session: SessionDep, principal: CurrentPrincipal) -> list[SubscriptionOut]:
    principal.require(Perm.FEED_ADMIN)
    return [SubscriptionOut.model_validate(r) for r in session.scalars(select(FeedSubscription))]


@router.post("/feed-subscriptions", status_code=201)
def create_subscription(session: SessionDep, principal: CurrentPrincipal, body: SubscriptionIn) -> SubscriptionOut:
    principal.require(Perm.FEED_ADMIN)
    row = FeedSubscription(service=body.service, kind=body.kind, target=body.target, secret=body.secret,
                           families=list(body.families), min_severity=body.min_severity.value)
    session.add(row)
    session.commit()
    return SubscriptionOut.model_validate(row)


@router.delete("/feed-subscriptions/{subscription_id}", status_code=204)
def delete_subscription(session: SessionDep, principal: CurrentPrincipal, subscription_id: str) -> Response:
    principal.require(Perm.FEED_ADMIN)
    row = session.get(FeedSubscription, subscription_id)
    if row is None:
        raise NotFound("feed subscription not found")
    session.delete(row)
    session.commit()
    return Response(status_code=204)


@router.get("/opendata/daily", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/geo+json": {}}}})
def opendata_daily(ctx: ContextDep, principal: CurrentPrincipal,
                   day: Annotated[str, Query(alias="date", pattern=r"^\d{4}-\d{2}-\d{2}$",
                                             description="Local day (Europe/Paris), YYYY-MM-DD")],
                   format: Literal["csv", "geojson"] = "csv") -> Response:
    principal.require(Perm.OVERVIEW_READ)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(f"{day!r} is not a calendar date") from None
    rows = build_rows(ctx.session_factory, when)
    if format == "geojson":
        return Response(to_geojson(rows), media_type="application/geo+json")
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8")
