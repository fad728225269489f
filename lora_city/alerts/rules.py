"""Alert rules. A rule watches one normalised measurement (see lora_city.codec.measurements) on the devices of
its scope, or the silence of devices, or gateways going offline.

Kinds:
- ``threshold``: ordered levels (e.g. the Vigicrues colours yellow < orange < red for a flood gauge) with
  hysteresis: a level is entered at ``value >= level`` (``<=`` for ``below``) and left only once the value is
  back past ``level - hysteresis``, so a reading hovering on a line does not flap.
- ``rate``: the value rose (or fell, with a negative ``delta``) by at least ``delta`` within ``window_s``.
- ``absence``: the device has been silent longer than ``max_silence_s`` (a flood sensor that stops reporting in
  a storm is an alert, not a gap).
- ``flag``: a boolean measurement (leak, backflow, lamp_failure, tamper, low_battery, flood …) is true;
  ``day_burning`` is the special flag "lamp on in daylight" (``lamp_on`` between ``day_start_h`` and ``day_end_h``).
- ``gateway_offline``: a gateway of the scope went offline.

Every kind shares three timings (lora_city/alerts/engine.py applies them):
- ``hold_s``: the condition must hold that long before the alert is raised (Prometheus' ``for``, Grafana's
  "pending period"); a reading back to normal meanwhile starts the wait again.
- ``clear_s``: the condition must be gone that long before the alert resolves (Prometheus' ``keep_firing_for``,
  Grafana's "keep firing for"); the condition coming back meanwhile keeps the alert open, unchanged.
- ``flap_window_s``: raised again within this time of resolving, the alert is the same one reopened, its count
  incremented (a flapping sensor is one alert "raised 29 times", not 29 alerts); 0 turns reopening off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lora_city.sinks.events import DeviceInfo


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    RATE = "rate"
    ABSENCE = "absence"
    FLAG = "flag"
    DAY_BURNING = "day_burning"
    GATEWAY_OFFLINE = "gateway_offline"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}
# One hour: long enough that a sensor hovering on a line all afternoon stays one alert with a count, short enough
# that the next morning's flood is a new alert of its own (see docs/alerts.md, "Flapping").
DEFAULT_FLAP_WINDOW_S = 3600.0
MAX_DELAY_S = 86_400.0  # hold and clear delays: up to a day
MAX_FLAP_WINDOW_S = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class Level:
    name: str  # e.g. "yellow", "orange", "red"
    value: float
    severity: Severity


@dataclass(frozen=True, slots=True)
class Scope:
    """Which subjects a rule applies to: ``device`` (a DevEUI), ``asset`` (asset id tag), ``group`` (a device
    tag ``group``), ``family`` (streetlight, water, flood), ``tenant`` or ``all``."""

    kind: str = "all"
    value: str = ""

    def matches(self, device: DeviceInfo) -> bool:
        match self.kind:
            case "all":
                return True
            case "device":
                return device.dev_eui == self.value
            case "family":
                return device.family == self.value
            case "tenant":
                return device.tenant_id == self.value
            case "asset":
                return device.tags.get("asset_id") == self.value
            case "group":
                return device.tags.get("group") == self.value
        return False


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    kind: RuleKind
    tenant_id: str
    scope: Scope = field(default_factory=Scope)
    service: str = "supervision"  # the city service that receives it: flood_cell, streetlights, water, crisis
    measurement: str | None = None
    levels: tuple[Level, ...] = ()  # threshold: ascending for "above", descending for "below"
    direction: str = "above"  # threshold: above | below
    hysteresis: float = 0.0
    delta: float = 0.0  # rate: change that raises (negative: falling)
    window_s: float = 0.0  # rate
    max_silence_s: float = 0.0  # absence
    severity: Severity = Severity.WARNING  # flag / rate / absence / gateway_offline
    day_start_h: int = 10  # day_burning: local hours considered full daylight all year round in France
    day_end_h: int = 16
    escalate_after_s: float | None = None  # not acknowledged within this: escalated
    hold_s: float = 0.0  # the condition held this long before raising
    clear_s: float = 0.0  # the condition gone this long before resolving
    flap_window_s: float = DEFAULT_FLAP_WINDOW_S  # raised again within this of resolving: the same alert reopened
    enabled: bool = True
    # A lessee's rule watches the lessee's own devices and gateways whatever its scope says ("all", a family, a
    # DevEUI typed by hand): its alerts would otherwise land on another tenant's things. The city's rules
    # supervise the whole network. Set by the service from the rule's tenant kind.
    tenant_only: bool = False

    def covers_tenant(self, tenant_id: str) -> bool:
        return not self.tenant_only or tenant_id == self.tenant_id

    def applies_to(self, device: DeviceInfo) -> bool:
        return self.enabled and self.covers_tenant(device.tenant_id) and self.scope.matches(device)
