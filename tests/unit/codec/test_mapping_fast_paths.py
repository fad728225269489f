"""The mapping walk's fast paths (shared flag measurements, integer scaling without round()) give the same
measurements as the plain rule: value x scale x unit factor, rounded to 9 decimal places."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from lora_city.codec.contract import Measurement, MeasurementMapping
from lora_city.codec.mapping import compile_mappings, extract_measurements


@pytest.mark.parametrize(
    ("unit", "scale"),
    [("mA", 1.0), ("V", 0.01), ("V", 0.1), ("kW", 1.0), ("W", 0.5), ("L/min", 1.0), ("W", 3.0), ("mV", 0.1)],
)
def test_scaled_values_match_the_plain_rule(unit: str, scale: float) -> None:
    name = {
        "mA": "current",
        "V": "voltage",
        "mV": "voltage",
        "kW": "power",
        "W": "power",
        "L/min": "flow_rate",
    }
    table = compile_mappings([MeasurementMapping(name=name[unit], path="x", unit=unit, scale=scale)])
    factor = table.mappings[0].factor
    rng = random.Random(7)
    values: list[int | float] = [0, 1, -1, 95, 1000, 4880, 2**31 - 1, -(2**31)]
    values += [rng.randint(-(10**9), 10**9) for _ in range(500)]
    values += [round(rng.uniform(-1e4, 1e4), rng.randint(0, 4)) for _ in range(500)]
    exact_factor = Fraction(str(factor))  # the decimal the unit table means: 0.001, not its binary neighbour
    whole_or_reciprocal = exact_factor.numerator == 1 or exact_factor.denominator == 1
    for value in values:
        [got] = extract_measurements({"x": value}, table, [])
        expected = value * factor if factor == 1.0 else round(value * factor, 9)
        assert got.value == pytest.approx(expected, rel=1e-15, abs=1e-15), (value, got.value, expected)
        if isinstance(value, int) and whole_or_reciprocal:
            # Integers scaled by k or 1/d: the double nearest the exact decimal, bit for bit (the plain rule
            # keeps a last-bit error on large values: 763673106 x 0.01 gives 7636731.060000001).
            assert got.value == float(value * exact_factor), (value, got.value)


def test_flags_are_shared_immutable_measurements() -> None:
    mapping = MeasurementMapping(name="lamp_on", path="s", true_values=["on"], channel="2")
    table = compile_mappings([mapping])
    first = extract_measurements({"s": "on"}, table, [])
    second = extract_measurements({"s": "on"}, table, [])
    assert first == [Measurement("lamp_on", True, None, "2")] and first[0] is second[0]
    assert first[0].key == "lamp_on:2"
    assert extract_measurements({"s": "off"}, table, []) == [Measurement("lamp_on", False, None, "2")]
