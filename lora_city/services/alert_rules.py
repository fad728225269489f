"""Alert rules written by people: the input the API and the portal's form share, created in the caller's tenant
(by id or slug; the caller's own by default, the city's for the built-in administrator) and deleted within it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.alerts.rules import DEFAULT_FLAP_WINDOW_S, MAX_DELAY_S, MAX_FLAP_WINDOW_S, RuleKind, Severity
from lora_city.alerts.service import RULES_GENERATION, rule_from_row
from lora_city.codec.measurements import CATALOGUE
from lora_city.errors import NotFound
from lora_city.services.common import target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.storage.generations import bump_generation
from lora_city.storage.models import AlertRule


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
    hold_s: float = Field(default=0.0, ge=0, le=MAX_DELAY_S,
                          description="seconds the condition must hold before the alert is raised")
    clear_s: float = Field(default=0.0, ge=0, le=MAX_DELAY_S,
                           description="seconds the condition must be gone before the alert resolves")
    flap_window_s: float = Field(default=DEFAULT_FLAP_WINDOW_S, ge=0, le=MAX_FLAP_WINDOW_S,
                                 description="raised again within this many seconds of resolving, the alert is "
                                             "reopened with its count incremented (0: never)")
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


def create_rule(session: Session, principal: Principal, body: RuleIn) -> AlertRule:
    principal.require(Perm.ALERTS_WRITE)
    tenant_id = target_tenant(session, principal, body.tenant_id)
    params: dict[str, Any] = {
        "levels": [lv.model_dump(mode="json") for lv in body.levels], "direction": body.direction,
        "hysteresis": body.hysteresis, "delta": body.delta, "window_s": body.window_s,
        "max_silence_s": body.max_silence_s, "severity": body.severity.value,
    }
    row = AlertRule(tenant_id=tenant_id, name=body.name, kind=body.kind.value, service=body.service,
                    scope_kind=body.scope_kind, scope_value=body.scope_value, measurement=body.measurement,
                    params=params, escalate_after_s=body.escalate_after_s, enabled=body.enabled,
                    hold_s=body.hold_s, clear_s=body.clear_s, flap_window_s=body.flap_window_s)
    rule_from_row(row)  # the engine must be able to read what we store
    session.add(row)
    bump_generation(session, RULES_GENERATION)  # every alert engine applies it to its next uplink
    session.commit()
    return row


def list_rules(session: Session, principal: Principal) -> list[AlertRule]:
    principal.require(Perm.ALERTS_READ)
    q = select(AlertRule).order_by(AlertRule.created_at)
    q = visible_only(q, principal, AlertRule.tenant_id)
    return list(session.scalars(q))


def get_rule(session: Session, principal: Principal, rule_id: str) -> AlertRule:
    principal.require(Perm.ALERTS_READ)
    row = session.get(AlertRule, rule_id)
    if row is None:
        raise NotFound("alert rule not found")
    principal.check_visible(row.tenant_id, "alert rule")
    return row


def delete_rule(session: Session, principal: Principal, rule_id: str) -> None:
    principal.require(Perm.ALERTS_WRITE)
    row = get_rule(session, principal, rule_id)
    session.delete(row)
    bump_generation(session, RULES_GENERATION)
    session.commit()
