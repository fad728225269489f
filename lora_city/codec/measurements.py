"""The catalogue of normalised measurements: one canonical name and one SI unit per quantity.

Dashboards, alerts and billing read these names, so they work the same across vendors. A codec manifest maps
fields of its vendor object onto these names, giving the unit the vendor uses; ``to_canonical`` converts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):  # noqa: UP042 -- str() of members stays as the lead wrote it
    NUMBER = "number"
    FLAG = "flag"  # boolean alarm or state


@dataclass(frozen=True, slots=True)
class Quantity:
    name: str
    unit: str | None  # canonical unit; None for flags and dimensionless counts
    kind: Kind
    description: str


def _q(name: str, unit: str | None, description: str) -> Quantity:
    return Quantity(name, unit, Kind.NUMBER, description)


def _flag(name: str, description: str) -> Quantity:
    return Quantity(name, None, Kind.FLAG, description)


CATALOGUE: dict[str, Quantity] = {
    q.name: q
    for q in (
        # water level and flood
        _q("water_level", "m", "height of water above the sensor's reference (gauge zero)"),
        _q("distance", "m", "distance from the sensor to the surface it measures"),
        _q("depth", "m", "water depth measured by a pressure probe"),
        _q("pressure", "Pa", "pressure (water or air)"),
        # water metering
        _q("volume", "m³", "cumulative volume (meter index)"),
        _q("flow_rate", "m³/h", "instantaneous or averaged flow"),
        _q("pulse_count", None, "cumulative pulse counter"),
        # electrical (streetlights, switches)
        _q("power", "W", "active power"),
        _q("energy", "Wh", "cumulative active energy"),
        _q("voltage", "V", "mains or supply voltage"),
        _q("current", "A", "electric current"),
        _q("power_factor", None, "power factor (0..1)"),
        _q("dim_level", "%", "lamp dimming level, 0 = off, 100 = full"),
        _q("frequency", "Hz", "mains frequency"),
        _q("operating_time", "s", "cumulative lamp or relay operating time"),
        _q("burning_time", "s", "cumulative time the lamp has been lit (burning hours)"),
        # environment and device health
        _q("temperature", "°C", "temperature"),
        _q("humidity", "%", "relative humidity"),
        _q("battery", "V", "battery voltage"),
        _q("battery_level", "%", "battery state of charge"),
        _q("signal_strength", "dBm", "signal strength the device reports of itself"),
        _q("illuminance", "lx", "illuminance"),
        # states and alarms
        _flag("lamp_on", "lamp or relay output is on"),
        _flag("leak", "leak detected"),
        _flag("backflow", "reverse flow detected"),
        _flag("lamp_failure", "lamp or driver failure"),
        _flag("flood", "water detected / flood alarm"),
        _flag("tamper", "tamper or removal detected"),
        _flag("low_battery", "battery low"),
        _flag("burst", "pipe burst / abnormal high flow"),
        _flag("sensor_error", "the sensor reports it could not measure"),
        _flag("digital_input", "state of a digital input"),
    )
}

# Conversion factors from a vendor unit to the catalogue's canonical unit (value_si = value * factor).
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    # length
    "m": ("m", 1.0),
    "cm": ("m", 0.01),
    "mm": ("m", 0.001),
    # volume
    "m³": ("m³", 1.0),
    "m3": ("m³", 1.0),
    "L": ("m³", 0.001),
    "l": ("m³", 0.001),
    "dm3": ("m³", 0.001),
    # flow
    "m³/h": ("m³/h", 1.0),
    "m3/h": ("m³/h", 1.0),
    "L/h": ("m³/h", 0.001),
    "L/min": ("m³/h", 0.06),
    "L/s": ("m³/h", 3.6),
    # electrical
    "W": ("W", 1.0),
    "kW": ("W", 1000.0),
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1000.0),
    "V": ("V", 1.0),
    "mV": ("V", 0.001),
    "A": ("A", 1.0),
    "mA": ("A", 0.001),
    "Hz": ("Hz", 1.0),
    # pressure
    "Pa": ("Pa", 1.0),
    "hPa": ("Pa", 100.0),
    "kPa": ("Pa", 1000.0),
    "bar": ("Pa", 100000.0),
    "mbar": ("Pa", 100.0),
    # time
    "s": ("s", 1.0),
    "min": ("s", 60.0),
    "h": ("s", 3600.0),
    # others
    "°C": ("°C", 1.0),
    "%": ("%", 1.0),
    "dBm": ("dBm", 1.0),
    "lx": ("lx", 1.0),
}


def to_canonical(name: str, value: float, unit: str | None) -> tuple[float, str | None]:
    """Convert ``value`` given in ``unit`` to the catalogue unit of ``name``.

    Raises ``KeyError`` for a name not in the catalogue and ``ValueError`` for a unit that does not convert to it.
    """
    quantity = CATALOGUE[name]
    if quantity.unit is None or unit is None:
        if quantity.unit is not None and unit is None:
            raise ValueError(f"measurement {name!r} needs a unit (canonical {quantity.unit})")
        return value, quantity.unit
    target, factor = UNIT_FACTORS.get(unit, (None, 0.0))
    if target != quantity.unit:
        raise ValueError(f"unit {unit!r} does not convert to {quantity.unit!r} for {name!r}")
    return value * factor, quantity.unit
