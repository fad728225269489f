"""The alert lifecycle, stored: raised → acknowledged by a person → resolved, escalation when nobody
acknowledges in time, and every transition in the audit log and on the supervision feed.

The engine decides (pure); this service records and announces. Database work is synchronous SQLAlchemy, run
by the caller in a worker thread (``AlertSink``) or an API request's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.alerts.engine import AlertChange, AlertEngine, ChangeKind
from lora_city.alerts.feed import AlertMessage
from lora_city.alerts.rules import (
    DEFAULT_FLAP_WINDOW_S,
    MAX_FLAP_WINDOW_S,
    Level,
    Rule,
    RuleKind,
    Scope,
    Severity,
)
from lora_city.errors import Conflict, NotFound
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.generations import read_generation
from lora_city.storage.models import Alert, AlertAudit, AlertRule, Tenant

Clock = Callable[[], datetime]
RULES_GENERATION = "alert_rules"  # bumped by every rule change (lora_city/storage/generations.py)


def rule_from_row(row: AlertRule, tenant_kind: str = "city") -> Rule:
    """``tenant_kind``: the kind of the rule's tenant; any other than the city's limits the rule to its tenant's
    own devices and gateways (``Rule.tenant_only``)."""
    p: dict[str, Any] = row.params or {}
    return Rule(
        id=row.id, name=row.name, kind=RuleKind(row.kind), tenant_id=row.tenant_id,
        scope=Scope(row.scope_kind, row.scope_value), service=row.service, measurement=row.measurement,
        levels=tuple(Level(lv["name"], float(lv["value"]), Severity(lv.get("severity", "warning")))
                     for lv in p.get("levels", [])),
        direction=p.get("direction", "above"), hysteresis=float(p.get("hysteresis", 0.0)),
        delta=float(p.get("delta", 0.0)), window_s=float(p.get("window_s", 0.0)),
        max_silence_s=float(p.get("max_silence_s", 0.0)), severity=Severity(p.get("severity", "warning")),
        day_start_h=int(p.get("day_start_h", 10)), day_end_h=int(p.get("day_end_h", 16)),
        escalate_after_s=row.escalate_after_s, enabled=row.enabled, tenant_only=tenant_kind != "city",
        hold_s=float(row.hold_s or 0.0), clear_s=float(row.clear_s or 0.0),
        flap_window_s=DEFAULT_FLAP_WINDOW_S if row.flap_window_s is None else float(row.flap_window_s),
    )


def _rules(s: Session) -> list[Rule]:
    """Every stored rule, each told whether its tenant is the city (a rule whose tenant row is gone keeps to
    that tenant: it can reach nothing)."""
    rows = s.execute(select(AlertRule, Tenant.kind).outerjoin(Tenant, Tenant.id == AlertRule.tenant_id)).all()
    return [rule_from_row(rule, kind or "unknown") for rule, kind in rows]


def _message(alert: Alert, transition: str, rule_name: str, time: datetime, actor: str = "system") -> AlertMessage:
    return AlertMessage(
        alert_id=alert.id, transition=transition, service=alert.service, tenant_id=alert.tenant_id,
        severity=Severity(alert.severity), state=alert.state, subject=alert.subject, level=alert.level,
        value=alert.value, message=alert.message, rule_id=alert.rule_id, rule_name=rule_name, time=time, actor=actor,
        count=alert.raise_count or 1,
    )


def _aware(when: datetime) -> datetime:
    """SQLite gives back naive UTC datetimes."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _reopen(s: Session, change: AlertChange) -> Alert | None:
    """The cause's latest resolved alert, raised again by a flapping condition: the same alert, open again, its
    count incremented. None when none is stored (its rows were purged): the caller raises a new one."""
    alert = s.scalar(select(Alert).where(Alert.cause == change.cause, Alert.state == "resolved")
                     .order_by(Alert.resolved_at.desc()).limit(1))
    if alert is None:
        return None
    alert.first_raised_at = alert.first_raised_at or alert.raised_at
    alert.raise_count = (alert.raise_count or 1) + 1
    alert.state, alert.resolved_at, alert.raised_at, alert.updated_at = "raised", None, change.time, change.time
    # someone must look again: the acknowledgement and escalation of the previous episode no longer hold
    alert.acknowledged_at = alert.acknowledged_by = alert.escalated_at = None
    alert.severity, alert.level, alert.value, alert.message = (change.severity.value, change.level, change.value,
                                                               change.message)
    return alert


class AlertService:
    def __init__(self, session_factory: SessionFactory, clock: Clock) -> None:
        self._sessions = session_factory
        self._clock = clock

    def load_rules(self) -> list[Rule]:
        with self._sessions() as s:
            return _rules(s)

    def rules_generation(self) -> int:
        with self._sessions() as s:
            return read_generation(s, RULES_GENERATION)

    def rules_if_changed(self, known: int | None) -> tuple[int, list[Rule]] | None:
        """(generation, every rule) when the rules changed since generation ``known``; None when they did not.
        One small read when nothing changed; the counter and the rules come from one transaction."""
        with self._sessions() as s, s.begin():
            generation = read_generation(s, RULES_GENERATION)
            if generation == known:
                return None
            return generation, _rules(s)

    def build_engine(self) -> AlertEngine:
        """An engine with every enabled rule, its open alerts restored (a restart raises nothing twice) and the
        recently resolved ones remembered (raised again within their rule's flap window, they reopen)."""
        since = self._clock() - timedelta(seconds=MAX_FLAP_WINDOW_S)
        with self._sessions() as s:
            engine = AlertEngine(_rules(s))
            for alert in s.scalars(select(Alert).where(Alert.state == "resolved", Alert.resolved_at >= since)
                                   .order_by(Alert.resolved_at)):  # the latest of a cause last: it wins
                if alert.resolved_at is not None:
                    engine.restore_closed(alert.cause, _aware(alert.resolved_at), alert.raise_count or 1)
            for alert in s.scalars(select(Alert).where(Alert.state != "resolved")):
                engine.restore_open(alert.cause, alert.level, Severity(alert.severity), alert.raise_count or 1)
        return engine

    def record(self, changes: Iterable[AlertChange]) -> list[AlertMessage]:
        """Store the engine's changes; returns what the feed should announce."""
        out: list[AlertMessage] = []
        with transaction(self._sessions) as s:
            for change in changes:
                alert = s.scalar(select(Alert).where(Alert.cause == change.cause, Alert.state != "resolved"))
                if change.kind is ChangeKind.RAISED:
                    if alert is not None:
                        continue  # already open (restart race): deduplicated
                    alert = _reopen(s, change) if change.count > 1 else None
                    if alert is None:
                        alert = Alert(tenant_id=change.tenant_id, rule_id=change.rule.id, cause=change.cause,
                                      subject=change.subject, service=change.rule.service,
                                      severity=change.severity.value, level=change.level, value=change.value,
                                      message=change.message, raised_at=change.time, updated_at=change.time,
                                      raise_count=1)
                        s.add(alert)
                        s.flush()
                elif alert is None:
                    continue
                elif change.kind is ChangeKind.LEVEL_CHANGED:
                    alert.severity, alert.level = change.severity.value, change.level
                    alert.value, alert.message, alert.updated_at = change.value, change.message, change.time
                else:
                    alert.state, alert.resolved_at, alert.updated_at = "resolved", change.time, change.time
                    alert.value = change.value if change.value is not None else alert.value
                action = "reopened" if change.kind is ChangeKind.RAISED and alert.raise_count > 1 else change.kind.value
                s.add(AlertAudit(alert_id=alert.id, time=change.time, action=action, detail=change.message))
                # the feed keeps its transitions ("raised"); its optional "count" says it is a reopening
                out.append(_message(alert, change.kind.value, change.rule.name, change.time))
        return out

    def acknowledge(self, alert_id: str, actor: str, *, tenant_id: str | None = None) -> AlertMessage:
        return self._transition(alert_id, actor, tenant_id, "acknowledged")

    def resolve(self, alert_id: str, actor: str, *, tenant_id: str | None = None) -> AlertMessage:
        return self._transition(alert_id, actor, tenant_id, "resolved")

    def _transition(self, alert_id: str, actor: str, tenant_id: str | None, target: str) -> AlertMessage:
        now = self._clock()
        with transaction(self._sessions) as s:
            alert = self._get(s, alert_id, tenant_id)
            if alert.state == "resolved" or alert.state == target:
                raise Conflict(f"alert {alert_id} is already {alert.state}")
            alert.state, alert.updated_at = target, now
            if target == "acknowledged":
                alert.acknowledged_at, alert.acknowledged_by = now, actor
            else:
                alert.resolved_at = now
            s.add(AlertAudit(alert_id=alert.id, time=now, action=target, actor=actor))
            return _message(alert, target, self._rule_name(s, alert.rule_id), now, actor)

    def escalate_due(self) -> list[AlertMessage]:
        """Alerts still unacknowledged past their rule's ``escalate_after_s``: escalated once, announced."""
        now = self._clock()
        out: list[AlertMessage] = []
        with transaction(self._sessions) as s:
            rows = s.execute(
                select(Alert, AlertRule).join(AlertRule, AlertRule.id == Alert.rule_id).where(
                    Alert.state == "raised", Alert.escalated_at.is_(None), AlertRule.escalate_after_s.is_not(None))
            ).all()
            for alert, rule in rows:
                assert rule.escalate_after_s is not None
                raised = alert.raised_at if alert.raised_at.tzinfo else alert.raised_at.replace(tzinfo=now.tzinfo)
                if (now - raised).total_seconds() >= rule.escalate_after_s:
                    alert.escalated_at, alert.updated_at = now, now
                    s.add(AlertAudit(alert_id=alert.id, time=now, action="escalated",
                                     detail=f"not acknowledged within {int(rule.escalate_after_s)} s"))
                    out.append(_message(alert, "escalated", rule.name, now))
        return out

    def list_alerts(self, *, tenant_id: str | None = None, state: str | None = None, limit: int = 100) -> list[Alert]:
        with self._sessions() as s:
            q = select(Alert).order_by(Alert.raised_at.desc()).limit(limit)
            if tenant_id is not None:
                q = q.where(Alert.tenant_id == tenant_id)
            if state == "open":
                q = q.where(Alert.state != "resolved")
            elif state is not None:
                q = q.where(Alert.state == state)
            return list(s.scalars(q))

    def audit(self, alert_id: str, *, tenant_id: str | None = None) -> list[AlertAudit]:
        with self._sessions() as s:
            self._get(s, alert_id, tenant_id)
            return list(s.scalars(select(AlertAudit).where(AlertAudit.alert_id == alert_id).order_by(AlertAudit.id)))

    @staticmethod
    def _get(s: Session, alert_id: str, tenant_id: str | None) -> Alert:
        alert = s.get(Alert, alert_id)
        if alert is None or (tenant_id is not None and alert.tenant_id != tenant_id):
            raise NotFound(f"alert {alert_id} not found")  # another tenant's alert does not exist for you
        return alert

    @staticmethod
    def _rule_name(s: Session, rule_id: str) -> str:
        rule = s.get(AlertRule, rule_id)
        return rule.name if rule else rule_id
