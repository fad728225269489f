"""Measurement names and values as people read them: ``lamp_on:3`` is "Lampe allumée (voie 3)", ``True`` is
"oui", 16.6 is "16,6 dB" in a French page. Names come from the catalogue (codec/measurements.py) and are
translated in the message catalogues (``measure.<name>``); a name the catalogue lacks shows as written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lora_city.codec.measurements import CATALOGUE, Kind
from lora_city.portal.formatting import Formatter

Translate = Callable[..., str]

# Families of measurements: one chart (or one state timeline) per family on the device's page, not one per
# measurement (thirteen stacked charts was a 6,750 px page).
FAMILY_OF: dict[str, str] = {
    "water_level": "level", "distance": "level", "depth": "level", "pressure": "pressure",
    "volume": "metering", "flow_rate": "metering", "pulse_count": "metering",
    "power": "electrical", "energy": "energy", "voltage": "electrical", "current": "electrical",
    "power_factor": "electrical", "dim_level": "lighting", "frequency": "electrical",
    "operating_time": "energy",
    "temperature": "environment", "humidity": "environment", "illuminance": "lighting",
    "battery": "health", "battery_level": "health", "signal_strength": "health",
}
FAMILY_ORDER = ("level", "pressure", "metering", "electrical", "energy", "lighting", "environment", "health",
                "other", "states")


def base_name(key: str) -> tuple[str, str | None]:
    """``lamp_on:3`` -> (``lamp_on``, ``3``): a measurement key and its channel."""
    name, _, channel = key.partition(":")
    return name, channel or None


def is_flag(key: str) -> bool:
    quantity = CATALOGUE.get(base_name(key)[0])
    return quantity is not None and quantity.kind is Kind.FLAG


def family(key: str) -> str:
    name = base_name(key)[0]
    if is_flag(key):
        return "states"
    return FAMILY_OF.get(name, "other")


def label(t: Translate, key: str) -> str:
    name, channel = base_name(key)
    msg = f"measure.{name}"
    text = t(msg)
    if text == msg:
        text = name.replace("_", " ")
    return t("measure.channel", name=text, channel=channel) if channel else text


def unit_label(t: Translate, unit: str | None) -> str | None:
    if not unit:
        return unit
    msg = f"unit.{unit}"
    text = t(msg)
    return unit if text == msg else text


def value(t: Translate, fmt: Formatter, item: Any) -> str:
    """A stored measurement (``{"value", "unit"}`` or a bare value) as text: booleans as yes/no words."""
    raw = item.get("value") if isinstance(item, dict) else item
    unit = item.get("unit") if isinstance(item, dict) else None
    if isinstance(raw, bool):
        return t("flag.on") if raw else t("flag.off")
    if isinstance(raw, int | float):
        return fmt.quantity(raw, unit_label(t, unit))
    return "—" if raw is None else str(raw)
