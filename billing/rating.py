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
    # Graduated overage (the month's excess uplinks / started seconds); when given, they replace the flat price.
    overage_uplink_tiers: Sequence[dict[str, Any]] = ()
    overage_airtime_tiers: Sequence[dict[str, Any]] = ()


# What each line says, in the invoice's language (an invoice is written once, in its customer's language).
WORDING: dict[str, dict[str, str]] = {
    "en": {"plan": "Plan {plan}: monthly fee", "devices": "Active devices (tier {span})",
           "overage_uplinks": "Uplinks beyond the daily allowance",
           "overage_airtime": "Airtime beyond the daily allowance (s)", "tier": " (tier {span})",
           "credit": "Credit: {line}"},
    "fr": {"plan": "Forfait {plan} : abonnement mensuel", "devices": "Capteurs actifs (tranche {span})",
           "overage_uplinks": "Messages au-delà de l'allocation journalière",
           "overage_airtime": "Temps d'émission au-delà de l'allocation journalière (s)",
           "tier": " (tranche {span})", "credit": "Avoir : {line}"},
}


def wording(language: str) -> dict[str, str]:
    return WORDING.get(language, WORDING["fr"])


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


def _tiers(tiers: Sequence[dict[str, Any]], quantity: int) -> list[tuple[str, int, int]]:
    """Graduated tiers: the units from each tier's ``from`` (exclusive count) up to the next tier's are priced at
    that tier's price. (span "1-10" / "11+", count, unit price) for every tier that holds units."""
    ordered = sorted(tiers, key=lambda t: int(t["from"]))
    out: list[tuple[str, int, int]] = []
    for i, tier in enumerate(ordered):
        start = int(tier["from"])
        end = int(ordered[i + 1]["from"]) if i + 1 < len(ordered) else None
        count = max(0, (quantity if end is None else min(quantity, end)) - start)
        if count:
            out.append((f"{start + 1}+" if end is None else f"{start + 1}-{end}", count, int(tier["millicents"])))
    return out


def device_tier_lines(tiers: Sequence[dict[str, Any]], devices: int, language: str = "en") -> list[Line]:
    """One line per device tier that holds devices."""
    text = wording(language)["devices"]
    return [_line("devices", text.format(span=span), count, unit) for span, count, unit in _tiers(tiers, devices)]


def _overage(code: str, tiers: Sequence[dict[str, Any]], flat: int, quantity: int, language: str) -> list[Line]:
    words = wording(language)
    if not quantity:
        return []
    if not tiers:
        return [_line(code, words[code], quantity, flat)] if flat else []
    split = [(span, count, unit) for span, count, unit in _tiers(tiers, quantity) if unit]
    if len(tiers) == 1:
        return [_line(code, words[code], count, unit) for _span, count, unit in split]
    return [_line(code, words[code] + words["tier"].format(span=span), count, unit) for span, count, unit in split]


def rate(plan_name: str, prices: Prices, usage: PeriodUsage, language: str = "en") -> list[Line]:
    lines: list[Line] = []
    if prices.monthly_fee_cents:
        lines.append(_line("plan", wording(language)["plan"].format(plan=plan_name), 1,
                           prices.monthly_fee_cents * 1000))
    lines.extend(device_tier_lines(prices.device_tiers, usage.active_devices, language))
    lines.extend(_overage("overage_uplinks", prices.overage_uplink_tiers, prices.overage_uplink_millicents,
                          usage.excess_uplinks, language))
    seconds = -(-usage.excess_airtime_us // US_PER_S)  # every started second
    lines.extend(_overage("overage_airtime", prices.overage_airtime_tiers, prices.overage_airtime_s_millicents,
                          seconds, language))
    return lines
