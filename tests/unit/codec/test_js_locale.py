"""Dates and numbers formatted for people, and local time, as node gives them: toLocaleString and friends,
Intl.DateTimeFormat/NumberFormat in en-US, String(date), dates built from local fields around daylight-saving
changes (TZ=Europe/Berlin), each compared with node's vm in the same run (tests/unit/codec/corpus/locale.js,
local-time.js). What the subset leaves out answers a RangeError naming it, never a different text."""

from __future__ import annotations

import random
import struct
from datetime import UTC, datetime

import pytest

from lora_city.codec.js import JsCodec
from lora_city.codec.runtime import run_decode_uplink
from tests.unit.codec.node_oracle import (
    assert_same,
    corpus,
    node_answers,
    quickjs_answers,
    quickjs_answers_in,
    uplink,
)

BERLIN = {"TZ": "Europe/Berlin"}


def _floats(values: list[float]) -> bytes:
    return b"".join(struct.pack(">d", v) for v in values)


def _ms(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp() * 1000.0  # type: ignore[misc]


def _times(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    edges = [0.0, -1.0, _ms(2028, 8, 3, 9, 3, 6) + 45, _ms(2028, 1, 1, 0, 5), _ms(2028, 1, 1, 12, 5),
             _ms(2024, 3, 31, 0, 59, 59), _ms(2024, 3, 31, 1), _ms(2024, 10, 27, 0, 30), _ms(2024, 10, 27, 1, 30),
             _ms(1999, 12, 31, 23, 59, 59) + 999, _ms(2100, 2, 28, 23)]
    return edges + [float(rng.randrange(int(_ms(1996, 1, 1)), int(_ms(2099, 12, 31)))) for _ in range(n)]


def _numbers(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    edges = [0.0, -0.0, 1.0, -1.0, 0.5, 1.005, 2.5, -2.5, 1234.5678, 1234567.891, -1234567.891, 0.000001234, 1e21,
             123456789012345680000.0, 0.1 + 0.2, 999.9995, float("nan"), float("inf"), float("-inf"), 5e-324, 1e-7,
             12.3456, -0.0001, 0.125, 1.45, 99.995, 1e-10, 4.35, 21.5]
    rand = [rng.uniform(-1e6, 1e6) for _ in range(n)] + [round(rng.uniform(-100, 100), rng.randrange(0, 4)) for _ in range(n)]
    return edges + rand + [rng.uniform(0, 1) * 10 ** rng.randrange(-8, 22) for _ in range(n)]


def test_dates_formatted_as_node_formats_them() -> None:
    scripts = corpus("locale.js")
    times = _times(20, 60)
    calls = [uplink("locale.js", port, _floats(times[i:i + 8])) for port in (1, 2, 3) for i in range(0, len(times), 8)]
    ours = quickjs_answers(scripts, calls)
    assert_same(calls, ours, node_answers(scripts, calls))
    texts = ours[0]["answer"]["data"]["texts"]
    assert texts[1] == "1/1/1970" and texts[2] == "1/1/1970"  # undefined and {}: the date alone


def test_numbers_formatted_as_node_formats_them() -> None:
    scripts = corpus("locale.js")
    xs = _numbers(21, 40)
    calls = [uplink("locale.js", port, _floats(xs[i:i + 10])) for port in (4, 5) for i in range(0, len(xs), 10)]
    assert_same(calls, quickjs_answers(scripts, calls), node_answers(scripts, calls))


@pytest.mark.slow
def test_dates_and_local_time_in_a_zone_with_daylight_saving_as_node_gives_them() -> None:
    """TZ=Europe/Berlin for both: String(date) with the zone's name, toLocale* in local time, and local date-times
    at and around the spring-forward and fall-back changes (QuickJS resolved them with the wrong offset)."""
    scripts = corpus("locale.js", "local-time.js")
    times = _times(22, 40)
    calls = [uplink("locale.js", port, _floats(times[i:i + 8])) for port in (1, 2, 3) for i in range(0, len(times), 8)]
    stamps = []
    for year in (24, 25, 31):  # 2024, 2025, 2031: March and October changes, hour by hour, and ordinary days
        for month, day in ((2, 31), (2, 30), (9, 27), (9, 26), (2, 29), (9, 25), (6, 1), (0, 15)):
            for hour in (0, 1, 2, 3, 4):
                for minute in (0, 30, 59):
                    stamps.append(bytes([year, month, day, hour, minute, 7]))
    for port in range(1, 8):
        calls += [uplink("local-time.js", port, b"".join(stamps[i:i + 40])) for i in range(0, len(stamps), 40)]
    ours = quickjs_answers_in(BERLIN, scripts, calls)
    assert_same(calls, ours, node_answers(scripts, calls, env=BERLIN))
    # The case: 02:30 on the spring-forward night does not exist in Berlin; node (ES2024) reads it with
    # the offset before the change, 01:30 UTC, shown as 03:30 CEST.
    local = next(a for c, a in zip(calls, ours, strict=True) if c["script"] == "local-time.js" and c["fPort"] == 1)
    spring = [d for d in local["answer"]["data"]["dates"] if d[1:5] == [2024, 2, 31, 3]]
    assert any(d[0] == _ms(2024, 3, 31, 1, 30, 7) for d in spring)


def test_other_locales_are_formatted_as_en_us() -> None:
    """The subset is node's en-US; another locale falls back to it (as a node built with small-icu does)."""
    source = """function decodeUplink(input) {
      return { data: { n: (1234.5).toLocaleString("de-DE"), d: new Date(0).toLocaleDateString("fr-FR"),
                       f: new Intl.NumberFormat(["fr-FR", "de"]).resolvedOptions().locale } };
    }"""
    result = run_decode_uplink(JsCodec.from_source(source, "locales"), 1, b"")
    assert result.data == {"n": "1,234.5", "d": "1/1/1970", "f": "en-US"}


def test_outside_the_subset_a_clear_error_never_a_different_text() -> None:
    source = """function decodeUplink(input) {
      var d = new Date(0), out = [];
      [function () { return (1234).toLocaleString("en-US", { notation: "compact" }); },
       function () { return d.toLocaleString("en-US", { timeZone: "Asia/Tokyo" }); },
       function () { return d.toLocaleString("en-US", { dayPeriod: "short", hour: "numeric" }); },
       function () { return (5).toLocaleString("en-US", { style: "unit", unit: "kilowatt-hour" }); }
      ].forEach(function (f) { try { out.push(f()); } catch (e) { out.push(e.name + ": " + e.message); } });
      return { data: { out: out } };
    }"""
    result = run_decode_uplink(JsCodec.from_source(source, "subset"), 1, b"")
    assert result.data is not None
    out = result.data["out"]
    assert out[0] == "RangeError: lora_city Intl subset: notation compact is not supported"
    assert out[1].startswith("RangeError: lora_city Intl subset: time zone Asia/Tokyo (only UTC, the process zone ")
    assert out[2] == "RangeError: lora_city Intl subset: dayPeriod is not supported"
    assert out[3] == "RangeError: lora_city Intl subset: unit kilowatt-hour is not supported"
