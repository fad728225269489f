"""Alerts, alert rules, supervision-feed subscriptions and the open-data export.

Tenant admins see and acknowledge their own alerts and manage their own rules; the directorate sees all and
manages the feed subscriptions of the city's services.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from lora_city.alerts.rules import Severity
from lora_city.alerts.service import AlertService
from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep
from lora_city.api.schemas import ERROR_RESPONSES, Out, UtcTime
from lora_city.api.strict import QueryDate
from lora_city.errors import NotFound
from lora_city.opendata.export import build_rows, to_csv, to_geojson
from lora_city.services import alert_rules, measurement_catalogue
from lora_city.services.alert_rules import RuleIn
from lora_city.services.measurement_catalogue import MeasurementOut
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import FeedSubscription

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
    raised_at: UtcTime  # the latest raise
    raise_count: int  # > 1: reopened after flapping
    first_raised_at: UtcTime | None  # the first raise of a reopened alert
    acknowledged_at: UtcTime | None
    acknowledged_by: str | None
    escalated_at: UtcTime | None
    resolved_at: UtcTime | None


class AuditOut(Out):
    time: UtcTime
    action: str
    actor: str
    detail: str


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
    hold_s: float
    clear_s: float
    flap_window_s: float
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
    return [RuleOut.model_validate(r) for r in alert_rules.list_rules(session, principal)]


@router.post("/alert-rules", status_code=201)
def create_rule(session: SessionDep, principal: CurrentPrincipal, body: RuleIn) -> RuleOut:
    return RuleOut.model_validate(alert_rules.create_rule(session, principal, body))


@router.delete("/alert-rules/{rule_id}", status_code=204)
def delete_rule(session: SessionDep, principal: CurrentPrincipal, rule_id: str) -> Response:
    alert_rules.delete_rule(session, principal, rule_id)
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
                   when: Annotated[QueryDate, Query(alias="date", description="Local day (Europe/Paris), YYYY-MM-DD")],
                   format: Literal["csv", "geojson"] = "csv") -> Response:
    principal.require(Perm.OVERVIEW_READ)
    try:
        rows = build_rows(ctx.session_factory, when)
    except OverflowError:  # 0001-01-01 and 9999-12-31 in Paris fall outside what a datetime holds: no readings
        rows = []
    if format == "geojson":
        return Response(to_geojson(rows), media_type="application/geo+json")
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8")
