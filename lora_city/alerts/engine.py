"""The pure alert engine: feed it uplinks, gateway states and the passing of time; it answers with changes
(raised, escalated to a higher level, lowered, resolved). One open alert per cause (rule + subject), however
many uplinks confirm it. No I/O: ``service.AlertService`` stores the changes and publishes them.

Time comes only from the events and from ``tick(now)``, so tests drive it with their own clock. A rule's
``hold_s`` keeps a condition pending until it has held that long, its ``clear_s`` keeps the alert open until the
condition has been gone that long; ``tick`` completes both waits when no new reading comes (the last reading's
state is taken to last, as Prometheus and Grafana take the last evaluation's). A cause raised again within
``flap_window_s`` of resolving is reported with ``count`` > 1: the service reopens the same alert.
Pending and clearing waits live in memory: a restart starts them again (an alert already open stays open).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from lora_city.alerts.rules import MAX_FLAP_WINDOW_S, Level, Rule, RuleKind, Severity
from lora_city.sinks.events import DeviceInfo, UplinkEvent

PARIS = ZoneInfo("Europe/Paris")


class ChangeKind(StrEnum):
    RAISED = "raised"
    LEVEL_CHANGED = "level_changed"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertChange:
    kind: ChangeKind
    cause: str  # "<rule id>:<subject>", the deduplication key
    rule: Rule
    subject: str  # dev_eui or gateway_id
    tenant_id: str
    severity: Severity
    level: str | None
    value: float | None
    message: str
    time: datetime
    count: int = 1  # raised: how many times this alert has been raised (> 1: reopened after flapping)


@dataclass(slots=True)
class _Open:
    level: Level | None
    severity: Severity
    count: int = 1


@dataclass(slots=True)
class _Waiting:
    """A condition waiting out its rule's hold delay (to raise) or clear delay (to resolve): what to report
    when the wait completes."""

    since: datetime
    rule_id: str
    subject: str
    tenant: str
    level: Level | None
    severity: Severity
    value: float | None
    message: str


class AlertEngine:
    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        self._open: dict[str, _Open] = {}
        self._pending: dict[str, _Waiting] = {}  # condition true, hold delay not over yet
        self._clearing: dict[str, _Waiting] = {}  # condition gone, clear delay not over yet
        self._closed: dict[str, tuple[datetime, int]] = {}  # resolved causes: when, and their count
        self._history: dict[str, deque[tuple[float, float]]] = {}  # rate rules: (epoch s, value)
        self._last_seen: dict[str, tuple[DeviceInfo, datetime]] = {}
        for rule in rules:
            self.add_rule(rule)

    # --- configuration ---------------------------------------------------------------------------------
    def add_rule(self, rule: Rule) -> None:
        self._rules[rule.id] = rule

    def remove_rule(self, rule_id: str) -> None:
        self._rules.pop(rule_id, None)

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """Replace the rules (after an edit through the API) keeping the open alerts and histories."""
        self._rules = {rule.id: rule for rule in rules}

    def restore_open(self, cause: str, level: str | None, severity: Severity, count: int = 1) -> None:
        """Rebuild state from stored open alerts at start-up, so a restart does not raise them again."""
        rule = self._rules.get(cause.split(":", 1)[0])
        lvl = next((lv for lv in rule.levels if lv.name == level), None) if rule else None
        self._open[cause] = _Open(lvl, severity, count)

    def restore_closed(self, cause: str, resolved_at: datetime, count: int) -> None:
        """A stored alert resolved recently: raised again within its rule's flap window, it is reopened."""
        if cause not in self._open:
            self._closed[cause] = (resolved_at, count)

    def watch(self, device: DeviceInfo, last_seen: datetime) -> None:
        """Track a device for absence rules (at start-up, from the stored last_seen_at)."""
        self._last_seen[device.dev_eui] = (device, last_seen)

    def is_open(self, cause: str) -> bool:
        return cause in self._open

    # --- inputs ----------------------------------------------------------------------------------------
    def on_uplink(self, event: UplinkEvent) -> list[AlertChange]:
        device, now = event.device, event.time
        changes: list[AlertChange] = []
        self._last_seen[device.dev_eui] = (device, now)
        for rule in self._rules.values():
            if not rule.applies_to(device):
                continue
            cause = f"{rule.id}:{device.dev_eui}"
            if rule.kind is RuleKind.ABSENCE:
                # a device that speaks again is no longer silent
                changes += self._resolve(cause, rule, device.dev_eui, device.tenant_id, None, now, "reporting again")
                continue
            measurement = "lamp_on" if rule.kind is RuleKind.DAY_BURNING else rule.measurement or ""
            for channel, value in _values(event.measurements, measurement):
                changes += self._evaluate(rule, cause if channel is None else f"{cause}:{channel}", device,
                                          float(value), now, channel)
        return changes

    def on_gateway_state(self, gateway_id: str, tenant_id: str, online: bool, now: datetime) -> list[AlertChange]:
        changes: list[AlertChange] = []
        for rule in self._rules.values():
            if rule.kind is not RuleKind.GATEWAY_OFFLINE or not rule.enabled:
                continue
            if rule.scope.kind not in ("all", "tenant") or (rule.scope.kind == "tenant" and rule.scope.value != tenant_id):
                continue
            if not rule.covers_tenant(tenant_id):
                continue
            cause = f"{rule.id}:{gateway_id}"
            if online:
                changes += self._resolve(cause, rule, gateway_id, tenant_id, None, now, "gateway back online")
            else:
                changes += self._raise(cause, rule, gateway_id, tenant_id, None, rule.severity, None, now,
                                       f"gateway {gateway_id} offline")
        return changes

    def on_gateways_never_seen(self, gateways: list[tuple[str, str, datetime]], now: datetime) -> list[AlertChange]:
        """Registered gateways never heard since registration ``(gateway_id, tenant_id, registered_at)``: each
        gateway-offline rule raises once the gateway has been registered longer than the rule's silence
        (``max_silence_s``; 0: as soon as the network's own silence rule has passed, which the caller applies).
        A new installation that never connects is the first case an operator must hear of (issue 21). The alert
        is the same cause as a gateway going offline, so its first connection resolves it."""
        changes: list[AlertChange] = []
        for gateway_id, tenant_id, registered_at in gateways:
            silent = (now - registered_at).total_seconds()
            for rule in self._gateway_rules(tenant_id):
                if silent >= rule.max_silence_s:
                    changes += self._raise(f"{rule.id}:{gateway_id}", rule, gateway_id, tenant_id, None,
                                           rule.severity, silent, now,
                                           f"gateway {gateway_id} never connected since its registration")
        return changes

    def _gateway_rules(self, tenant_id: str) -> list[Rule]:
        return [rule for rule in self._rules.values()
                if rule.kind is RuleKind.GATEWAY_OFFLINE and rule.enabled and rule.covers_tenant(tenant_id)
                and (rule.scope.kind == "all" or (rule.scope.kind == "tenant" and rule.scope.value == tenant_id))]

    def tick(self, now: datetime) -> list[AlertChange]:
        """Absence rules: called periodically by the service with the current time."""
        changes: list[AlertChange] = []
        for rule in self._rules.values():
            if rule.kind is not RuleKind.ABSENCE or not rule.enabled:
                continue
            for dev_eui, (device, seen) in self._last_seen.items():
                if not rule.applies_to(device):
                    continue
                silent = (now - seen).total_seconds()
                if silent > rule.max_silence_s:
                    changes += self._raise(f"{rule.id}:{dev_eui}", rule, dev_eui, device.tenant_id, None,
                                           rule.severity, silent, now,
                                           f"{device.device_name or dev_eui} silent for {int(silent)} s")
        return changes + self._complete_waits(now)

    def _complete_waits(self, now: datetime) -> list[AlertChange]:
        """Hold and clear delays that ran out with no new reading: the condition last seen still stands."""
        changes: list[AlertChange] = []
        for cause, w in list(self._pending.items()):
            rule = self._rules.get(w.rule_id)
            if rule is None or not rule.enabled:
                del self._pending[cause]  # the rule was deleted or disabled meanwhile
                continue
            changes += self._raise(cause, rule, w.subject, w.tenant, w.level, w.severity, w.value, now, w.message)
        for cause, w in list(self._clearing.items()):
            rule = self._rules.get(w.rule_id)
            if rule is None:
                del self._clearing[cause]
                continue
            changes += self._resolve(cause, rule, w.subject, w.tenant, w.value, now, w.message)
        for cause, (resolved, _count) in list(self._closed.items()):
            if (now - resolved).total_seconds() > MAX_FLAP_WINDOW_S:
                del self._closed[cause]  # past any rule's flap window: forgotten
        return changes

    # --- evaluation ------------------------------------------------------------------------------------
    def _evaluate(self, rule: Rule, cause: str, device: DeviceInfo, value: float, now: datetime,
                  channel: str | None = None) -> list[AlertChange]:
        subject, tenant = device.dev_eui, device.tenant_id
        name = device.device_name or subject
        if channel is not None:
            name = f"{name} (channel {channel})"
        if rule.kind is RuleKind.THRESHOLD:
            return self._threshold(rule, cause, subject, tenant, value, now, name)
        if rule.kind is RuleKind.FLAG:
            if value:
                return self._raise(cause, rule, subject, tenant, None, rule.severity, value, now,
                                   f"{rule.measurement} on {name}")
            return self._resolve(cause, rule, subject, tenant, value, now, f"{rule.measurement} cleared")
        if rule.kind is RuleKind.DAY_BURNING:
            hour = now.astimezone(PARIS).hour
            if value and rule.day_start_h <= hour < rule.day_end_h:
                return self._raise(cause, rule, subject, tenant, None, rule.severity, value, now,
                                   f"lamp of {name} on in daylight")
            if not value:
                return self._resolve(cause, rule, subject, tenant, value, now, "lamp off")
            return []
        if rule.kind is RuleKind.RATE:
            return self._rate(rule, cause, subject, tenant, value, now, name)
        return []

    def _threshold(self, rule: Rule, cause: str, subject: str, tenant: str, value: float, now: datetime,
                   name: str) -> list[AlertChange]:
        sign = 1.0 if rule.direction == "above" else -1.0
        current = self._open.get(cause)
        held = current.level if current else None
        target: Level | None = None
        for level in rule.levels:  # ordered from the least to the most severe
            entered = sign * (value - level.value) >= 0
            # hysteresis: a level already held (or one below it) is kept until the value is clearly back
            kept = held is not None and _rank(rule, level) <= _rank(rule, held) and \
                sign * (value - (level.value - sign * rule.hysteresis)) > 0
            if entered or kept:
                target = level
        if target is None:
            return self._resolve(cause, rule, subject, tenant, value, now, f"{rule.measurement} back to normal")
        message = f"{rule.measurement} {value:g} on {name}: level {target.name}"
        if current is None:
            return self._raise(cause, rule, subject, tenant, target, target.severity, value, now, message)
        self._clearing.pop(cause, None)  # still in alarm: any clear delay starts again next time
        if target != current.level:
            self._open[cause] = _Open(target, target.severity, current.count)
            return [AlertChange(ChangeKind.LEVEL_CHANGED, cause, rule, subject, tenant, target.severity, target.name,
                                value, message, now)]
        return []

    def _rate(self, rule: Rule, cause: str, subject: str, tenant: str, value: float, now: datetime,
              name: str) -> list[AlertChange]:
        t = now.timestamp()
        history = self._history.setdefault(cause, deque())
        history.append((t, value))
        while history and t - history[0][0] > rule.window_s:
            history.popleft()
        # the largest rise (or fall) from any earlier point of the window to now
        change = max(((value - v) * (1 if rule.delta >= 0 else -1) for _, v in history), default=0.0)
        if change >= abs(rule.delta) > 0:
            return self._raise(cause, rule, subject, tenant, None, rule.severity, value, now,
                               f"{rule.measurement} of {name} changed by {change:g} within {int(rule.window_s)} s")
        if change < abs(rule.delta) / 2:  # hysteresis: resolve only once the trend has clearly eased
            return self._resolve(cause, rule, subject, tenant, value, now, "rate back to normal")
        return []

    def _raise(self, cause: str, rule: Rule, subject: str, tenant: str, level: Level | None, severity: Severity,
               value: float | None, now: datetime, message: str) -> list[AlertChange]:
        """The condition holds now: raise once it has held for the rule's hold delay."""
        self._clearing.pop(cause, None)  # back in alarm before the clear delay ran out: the alert stays open
        if cause in self._open:
            return []  # deduplicated: one open alert per cause
        waiting = self._pending.get(cause)
        since = waiting.since if waiting is not None else now
        if (now - since).total_seconds() < rule.hold_s:
            self._pending[cause] = _Waiting(since, rule.id, subject, tenant, level, severity, value, message)
            return []
        self._pending.pop(cause, None)
        count = 1
        closed = self._closed.pop(cause, None)
        if closed is not None and (now - closed[0]).total_seconds() <= rule.flap_window_s:
            count = closed[1] + 1  # flapping: the same alert again, not a new one
        self._open[cause] = _Open(level, severity, count)
        return [AlertChange(ChangeKind.RAISED, cause, rule, subject, tenant, severity,
                            level.name if level else None, value, message, now, count)]

    def _resolve(self, cause: str, rule: Rule, subject: str, tenant: str, value: float | None, now: datetime,
                 message: str) -> list[AlertChange]:
        """The condition is gone now: resolve once it has stayed gone for the rule's clear delay."""
        self._pending.pop(cause, None)  # not held long enough: the hold delay starts again next time
        current = self._open.get(cause)
        if current is None:
            return []
        waiting = self._clearing.get(cause)
        since = waiting.since if waiting is not None else now
        if (now - since).total_seconds() < rule.clear_s:
            self._clearing[cause] = _Waiting(since, rule.id, subject, tenant, current.level, current.severity,
                                             value, message)
            return []
        self._clearing.pop(cause, None)
        del self._open[cause]
        self._closed[cause] = (now, current.count)
        return [AlertChange(ChangeKind.RESOLVED, cause, rule, subject, tenant, current.severity,
                            current.level.name if current.level else None, value, message, now, current.count)]


def _values(measurements: dict[str, tuple[float | bool, str | None]], name: str
            ) -> list[tuple[str | None, float | bool]]:
    """The values a rule on ``name`` watches: the measurement itself, or, on a multi-channel device (a WS50x
    with three switches, an LT-22222 with two relays), each ``name:channel`` separately, one alert per channel."""
    exact = measurements.get(name)
    if exact is not None:
        return [(None, exact[0])]
    prefix = name + ":"
    return [(key[len(prefix):], value) for key, (value, _unit) in measurements.items() if key.startswith(prefix)]


def _rank(rule: Rule, level: Level) -> int:
    return rule.levels.index(level)
