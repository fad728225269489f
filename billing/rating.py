"""Rating: a month of usage and a price table become invoice lines. Pure integer arithmetic, no database.

Unit prices are millicents; a line's amount is rounded half-up to the cent once, per line (as printed), and VAT
once on the subtotal (the French rule: VAT is computed on the total excluding tax per rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

US_PER_S = 1_000_000


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """A tenant's metered month. The excess figures sum, per device and day, what passed the allowance."""

    active_devices: int = 0
    uplinks: int = 0
    copies: int = 0
    downlinks: int = 0
    airtime_up_us: int = 0
    airtime_down_us: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    excess_uplinks: int = 0
    excess_airtime_us: int = 0


@dataclass(frozen=True, slots=True)
class Prices:
    monthly_fee_cents: int = 0
    device_tiers: Sequence[dict[str, Any]] = ()  # graduated: [{"from": 0, "millicents": 100000}, …]
    overage_uplink_millicents: int = 0
    overage_airtime_s_millicents: int = 0


@dataclass(frozen=True, slots=True)
class Line:
    code: str
    description: str
    quantity: int
    unit_price_millicents: int
    amount_cents: int


def line_amount(quantity: int, unit_price_millicents: int) -> int:
    """quantity x unit price in cents, rounded half away from zero (credit notes are negative)."""
    product = quantity * unit_price_millicents
    sign = -1 if product < 0 else 1
    return sign * ((abs(product) + 500) // 1000)


def vat_of(subtotal_cents: int, rate_bp: int) -> int:
    product = subtotal_cents * rate_bp
    sign = -1 if product < 0 else 1
    return sign * ((abs(product) + 5000) // 10000)


def _line(code: str, description: str, quantity: int, unit: int) -> Line:
    return Line(code, description, quantity, unit, line_amount(quantity, unit))


def device_tier_lines(tiers: Sequence[dict[str, Any]], devices: int) -> list[Line]:
    """Graduated tiers: the devices from each tier's ``from`` (exclusive count) up to the next tier's are priced
    at that tier's price. One line per tier that holds devices."""
    ordered = sorted(tiers, key=lambda t: int(t["from"]))
    lines: list[Line] = []
    for i, tier in enumerate(ordered):
        start = int(tier["from"])
        end = int(ordered[i + 1]["from"]) if i + 1 < len(ordered) else None
        count = max(0, (devices if end is None else min(devices, end)) - start)
        if count == 0:
            continue
        span = f"{start + 1}+" if end is None else f"{start + 1}-{end}"
        lines.append(_line("devices", f"Active devices (tier {span})", count, int(tier["millicents"])))
    return lines


def rate(plan_name: str, prices: Prices, usage: PeriodUsage) -> list[Line]:
    lines: list[Line] = []
    if prices.monthly_fee_cents:
        lines.append(_line("plan", f"Plan {plan_name}: monthly fee", 1, prices.monthly_fee_cents * 1000))
    lines.extend(device_tier_lines(prices.device_tiers, usage.active_devices))
    if prices.overage_uplink_millicents and usage.excess_uplinks:
        lines.append(_line("overage_uplinks", "Uplinks beyond the daily allowance", usage.excess_uplinks,
                           prices.overage_uplink_millicents))
    if prices.overage_airtime_s_millicents and usage.excess_airtime_us:
        seconds = -(-usage.excess_airtime_us // US_PER_S)  # every started second
        lines.append(_line("overage_airtime", "Airtime beyond the daily allowance (s)", seconds,
                           prices.overage_airtime_s_millicents))
    return lines
