"""JavaScript number semantics for native codecs that must reproduce a vendor's TS013 JavaScript codec exactly.

The vendor codecs in TheThingsNetwork/lorawan-devices run in a JavaScript engine, where every number is an IEEE-754
double and JSON prints ``10.0`` as ``10``; their published examples therefore carry integers where Python division
gives floats, and ``Number.prototype.toFixed`` rounds ties away from zero where Python's ``round`` rounds to even.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def js_number(value: float) -> int | float:
    """A float as JSON.stringify would print it: integral values become ``int`` (``10.0`` -> ``10``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def js_to_fixed(value: float, digits: int) -> str:
    """``value.toFixed(digits)`` (ECMA-262 Number.prototype.toFixed): rounds the exact binary value, ties away
    from zero, so ``(0.25).toFixed(1)`` is ``"0.3"`` where ``round(0.25, 1)`` gives ``0.2``."""
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))


def js_parse_fixed(value: float, digits: int) -> int | float:
    """``parseFloat(value.toFixed(digits))``, the vendor idiom for rounding a reading."""
    return js_number(float(js_to_fixed(value, digits)))


def utc_from_unix(seconds: int) -> datetime:
    """A Unix time as an aware UTC datetime; works for negative (pre-1970) values too, unlike some platforms'
    ``datetime.fromtimestamp``."""
    return _EPOCH + timedelta(seconds=seconds)


def js_iso_string(seconds: int) -> str:
    """``new Date(seconds * 1000).toISOString()``: ``YYYY-MM-DDTHH:MM:SS.000Z``."""
    return utc_from_unix(seconds).strftime("%Y-%m-%dT%H:%M:%S.000Z")
