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


def _random_value(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randrange(12)
    if choice < 3:
        return rng.randint(-(10**6), 10**6)
    if choice < 5:
        return round(rng.uniform(-1e3, 1e3), rng.randint(0, 5))
    if choice == 5:
        return rng.choice([True, False, None, "on", "off", "ON", "H", "True", 1, 0, 2])
    if choice == 6:
        return rng.choice([float("nan"), float("inf"), "12", [], {}])
    if choice == 7 and depth < 2:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 2:
        return {k: _random_value(rng, depth + 1) for k in rng.sample(["level", "w", "0", "a"], 2)}
    return rng.random()


def test_generated_extractors_agree_with_the_generic_walk_on_every_codec() -> None:
    from lora_city.codec.mapping import extract_generic
    from lora_city.codec.registry import CodecRegistry
    from tests.unit.codec.support import CODECS

    rng = random.Random(3)
    registry = CodecRegistry.load(CODECS, entry_points=False)
    generated = 0
    for info in registry.list():
        table = info.mappings
        if table.generated is None:
            continue
        generated += 1
        keys = list(table.by_key)
        for _ in range(300):
            data = {k: _random_value(rng) for k in rng.sample(keys, rng.randint(0, len(keys)))}
            data.update({"unmapped": 1})
            fast_warnings: list[str] = []
            slow_warnings: list[str] = []
            fast = sorted(table.generated(data, fast_warnings), key=repr)
            slow = sorted(extract_generic(data, table, slow_warnings), key=repr)
            assert repr(fast) == repr(slow), (info.id, data)  # repr: nan != nan
            assert sorted(fast_warnings) == sorted(slow_warnings), (info.id, data)
    assert generated >= 20


def test_manifest_text_never_becomes_code() -> None:
    key = "x'); raise SystemExit(3); ('\n"  # no dot: a dot splits the path
    table = compile_mappings([MeasurementMapping(name="voltage", path=key, unit="V", channel="\"'")])
    assert table.generated is not None
    assert extract_measurements({key: 230}, table, []) == [Measurement("voltage", 230.0, "V", "\"'")]
