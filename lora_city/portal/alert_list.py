"""The alerts page's rows: open alerts or the history, filtered, each with its rule's name and what it is about
(a device or a gateway, by name, so the page can link to it).

The engine stores an alert's subject as a bare EUI; a person looks for "Limnimètre du Vistre", so the search
matches names, EUIs, rule names and messages alike (ChirpStack and The Things Stack search devices by name or
EUI the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lora_city.alerts.rules import Severity
from lora_city.codec.measurements import CATALOGUE
from lora_city.storage.models import Alert, AlertRule, Device, Gateway

StateFilter = Literal["open", "resolved", "all"]
STATES: tuple[StateFilter, ...] = ("open", "resolved", "all")
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
PAGE_SIZE = 200
MAX_QUERY = 100


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """What the person asked for, already checked: anything unknown falls back to the default view."""

    state: StateFilter = "open"
    severity: str = ""
    q: str = ""

    @classmethod
    def parse(cls, state: str, severity: str, q: str) -> AlertQuery:
        checked: StateFilter = "open"
        for known in STATES:
            if state == known:
                checked = known
        return cls(checked, severity if severity in SEVERITIES else "", q.strip()[:MAX_QUERY])

    @property
    def is_default(self) -> bool:
        return self == AlertQuery()


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert: Alert
    rule_name: str
    subject_kind: Literal["device", "gateway", ""]
    subject_name: str | None
    unit: str | None  # of the rule's measurement, for the value shown


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_rows(db: Session, tenant_id: str | None, query: AlertQuery, limit: int = PAGE_SIZE) -> list[AlertRow]:
    """Newest first. ``tenant_id`` None: every tenant's alerts (the city's staff)."""
    stmt = (select(Alert, AlertRule.name, AlertRule.measurement, Device.name, Gateway.name)
            .outerjoin(AlertRule, AlertRule.id == Alert.rule_id)
            .outerjoin(Device, Device.dev_eui == Alert.subject)
            .outerjoin(Gateway, Gateway.gateway_id == Alert.subject)
            .order_by(Alert.raised_at.desc(), Alert.id).limit(limit))
    if tenant_id is not None:
        stmt = stmt.where(Alert.tenant_id == tenant_id)
    if query.state == "open":
        stmt = stmt.where(Alert.state != "resolved")
    elif query.state == "resolved":
        stmt = stmt.where(Alert.state == "resolved")
    if query.severity:
        stmt = stmt.where(Alert.severity == query.severity)
    if query.q:
        pattern = _like(query.q.lower())
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            Alert.subject, Alert.message, AlertRule.name, Device.name, Gateway.name))))
    rows: list[AlertRow] = []
    for alert, rule_name, measurement, device_name, gateway_name in db.execute(stmt).all():
        kind: Literal["device", "gateway", ""] = "device" if device_name is not None else (
            "gateway" if gateway_name is not None else "")
        quantity = CATALOGUE.get(measurement or "")
        rows.append(AlertRow(alert, rule_name or alert.rule_id, kind, device_name or gateway_name,
                             quantity.unit if quantity else None))
    return rows
