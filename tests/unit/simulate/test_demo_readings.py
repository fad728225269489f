"""The demo's readings are believable (issue 15 §7, issue 21: random readings made a flood rule flap 29 times in
6 minutes): a week of them, decoded by the real codecs and run through the real alert engine with the demo's own
rules, raises exactly the one alert the demo stages (a gauge's low battery) and never clears or re-raises it;
counters only grow; lamps burn at night only; everything decodes without error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lora_city.alerts.engine import AlertEngine, ChangeKind
from lora_city.alerts.service import rule_from_row
from lora_city.codec.registry import CodecRegistry
from lora_city.simulate.demo import DEVICES, GATEWAYS, demo_devices, demo_rules
from lora_city.simulate.readings import dark_hours
from lora_city.sinks.events import DeviceInfo, UplinkEvent

ROOT = Path(__file__).resolve().parents[3]
# A week across the spring change to summer time (29 March 2026), sampled every 5 minutes.
START, STEP, STEPS = datetime(2026, 3, 25, tzinfo=UTC), timedelta(minutes=5), 7 * 24 * 12


@pytest.fixture(scope="module")
def week() -> dict[str, list[tuple[datetime, dict[str, float | bool]]]]:
    codecs = CodecRegistry.load(ROOT / "codecs", entry_points=False)
    out = {}
    for _, dev in demo_devices():
        assert dev.source is not None
        readings = []
        for n in range(STEPS):
            when = START + n * STEP
            f_port, payload = dev.source.payload(when)
            result = codecs.decode_uplink(dev.codec, f_port, payload, recv_time=when)
            assert not result.errors, (dev.codec, payload.hex(), result.errors)
            readings.append((when, {m.key: m.value for m in result.measurements}))
        out[dev.dev_eui] = readings
    return out


def test_a_week_raises_one_steady_alert(week: dict[str, list[tuple[datetime, dict[str, float | bool]]]]) -> None:
    codecs = CodecRegistry.load(ROOT / "codecs", entry_points=False)
    rows = demo_rules("city", "lessee")
    for i, row in enumerate(rows):
        row.id = f"rule-{i}"
    engine = AlertEngine([rule_from_row(r) for r in rows])
    changes = []
    for spec, dev in demo_devices():
        info = DeviceInfo(dev_eui=dev.dev_eui, tenant_id=spec.owner, codec_id=dev.codec,
                          family=codecs.get(dev.codec).manifest.family.value)
        for n, (when, measured) in enumerate(week[dev.dev_eui]):
            changes += engine.on_uplink(UplinkEvent(
                uplink_id=str(uuid.uuid4()), time=when, device=info, dev_addr="01020304", f_cnt=n, f_port=85,
                confirmed=False, adr=True, payload=b"", data={}, measurements={k: (v, None) for k, v in measured.items()},
                codec_errors=[], codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7,
                bandwidth=125_000, dr=5, airtime_ms=41.2, phy_size=20, copies=1))
        changes += engine.tick(START + STEPS * STEP)
    gauge = next(dev.dev_eui for spec, dev in demo_devices() if spec.name == "Limnimètre cadereau d'Uzès")
    assert [(c.kind, c.rule.name, c.subject) for c in changes] == [(ChangeKind.RAISED, "Batterie faible", gauge)]


def test_counters_only_grow_and_lamps_burn_at_night(
    week: dict[str, list[tuple[datetime, dict[str, float | bool]]]],
) -> None:
    for spec, dev in demo_devices():
        readings = week[dev.dev_eui]
        for counter in ("energy", "pulse_count"):
            values = [m[counter] for _, m in readings if counter in m]
            assert values == sorted(values), f"{spec.name}: {counter} went backwards"
            if values:
                assert values[-1] > values[0], f"{spec.name}: {counter} never moved"
        if dev.codec != "milesight-ws558":
            continue
        burning = [when for when, m in readings if m["lamp_on:1"]]
        # Nîmes, end of March: the sun is up from about 05:20 to 18:00 UTC; lamps never burn at 08:00-16:00 UTC
        # and always at 20:00-04:00 UTC, drawing the poles' nominal power.
        assert not [w for w in burning if 8 <= w.hour < 16]
        nights = [(w, m) for w, m in readings if w.hour >= 20 or w.hour < 4]
        assert all(m["lamp_on:1"] and m["lamp_on:2"] and not m["lamp_on:3"] for _, m in nights)
        nominal = {"Lampadaires boulevard Victor-Hugo": 140.0, "Lampadaires avenue Feuchères": 200.0}[spec.name]
        assert all(abs(float(m["power"]) - nominal) <= nominal * 0.02 for _, m in nights)
        day = [m for w, m in readings if 10 <= w.hour < 14]
        assert all(m["power"] == 0 for m in day)


def test_energy_index_is_the_power_over_the_dark_hours() -> None:
    """The WS558's energy index grows by the lamps' power times the hours of darkness (kWh bookkeeping the
    open-data export and the city's energy report rely on)."""
    spec, dev = demo_devices()[0]
    assert dev.source is not None
    a, b = datetime(2026, 6, 1, 12, tzinfo=UTC), datetime(2026, 6, 2, 12, tzinfo=UTC)
    codecs = CodecRegistry.load(ROOT / "codecs", entry_points=False)

    def energy(when: datetime) -> float:
        f_port, payload = dev.source.payload(when)  # type: ignore[union-attr]
        return float(next(m.value for m in codecs.decode_uplink(dev.codec, f_port, payload).measurements
                          if m.key == "energy"))

    night = dark_hours(spec.latitude, spec.longitude, b) - dark_hours(spec.latitude, spec.longitude, a)
    assert 8.0 < night < 9.5  # a June night in Nîmes is about 8 h 50 min from sunset to sunrise
    assert energy(b) - energy(a) == pytest.approx(140.0 * night, abs=1.0)


def test_the_demo_city_is_in_nimes() -> None:
    for place in (*GATEWAYS, *DEVICES):
        assert 43.80 < place.latitude < 43.87 and 4.30 < place.longitude < 4.40, place
    assert len({d.dev_eui for _, d in demo_devices()}) == len(DEVICES)
    assert [d.dev_eui for _, d in demo_devices()] == [d.dev_eui for _, d in demo_devices()]  # same every start
