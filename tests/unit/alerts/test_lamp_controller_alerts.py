"""The NAS UL20x2 controller's vendor-documented uplinks drive the streetlight alerts (issue 24): a DALI lamp
failure raises a ``lamp_failure`` alert and the next healthy status resolves it; a lamp lit at full daylight
raises ``day_burning``. The measurements come from the real codec (codecs/nas-ul20x2), not from the test."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from lora_city.alerts.engine import AlertEngine, ChangeKind
from lora_city.alerts.rules import Rule, RuleKind, Scope
from lora_city.codec.registry import CodecRegistry
from lora_city.settings import Settings
from lora_city.sinks.events import GatewayRx, UplinkEvent
from tests.unit.alerts.factories import device

# docs.nasys.no/en/lcu/payloads-uplinks examples
STATUS_25_PERCENT = "01F37F205E8244320916200701D20294550401FE50190012501900"
DALI_LAMP_FAILURE = "83200202"


@cache
def codecs() -> CodecRegistry:
    return CodecRegistry.load(Settings().codecs_path, entry_points=False)


def decoded(f_port: int, hex_payload: str, when: datetime) -> UplinkEvent:
    result = codecs().decode_uplink("nas-ul20x2", f_port, bytes.fromhex(hex_payload))
    assert not result.errors, result.errors
    return UplinkEvent(
        uplink_id="u", time=when, device=device("70b3d50000000001", family="streetlight"), dev_addr="01020304",
        f_cnt=1, f_port=f_port, confirmed=False, adr=True, payload=b"", data=result.data,
        measurements={m.key: (m.value, m.unit) for m in result.measurements}, codec_errors=[], codec_warnings=[],
        rx=[GatewayRx("aa00000000000001", -90.0, 5.0)], frequency=868100000, spreading_factor=7, bandwidth=125000,
        dr=5, airtime_ms=41.2, phy_size=20, copies=1,
    )


def test_dali_lamp_failure_raises_then_a_healthy_status_resolves() -> None:
    engine = AlertEngine([Rule("r-fail", "lamp failure", RuleKind.FLAG, "city", Scope("family", "streetlight"),
                               service="streetlights", measurement="lamp_failure")])
    night = datetime(2026, 1, 10, 22, 0, tzinfo=UTC)
    raised = engine.on_uplink(decoded(61, DALI_LAMP_FAILURE, night))
    assert [c.kind for c in raised] == [ChangeKind.RAISED]
    assert engine.on_uplink(decoded(61, DALI_LAMP_FAILURE, night)) == []  # one alert per cause
    resolved = engine.on_uplink(decoded(23, STATUS_25_PERCENT, night))
    assert [c.kind for c in resolved] == [ChangeKind.RESOLVED]


def test_a_lit_lamp_at_noon_is_day_burning_but_not_at_night() -> None:
    engine = AlertEngine([Rule("r-day", "day burning", RuleKind.DAY_BURNING, "city", Scope("family", "streetlight"),
                               service="streetlights")])
    assert engine.on_uplink(decoded(23, STATUS_25_PERCENT, datetime(2026, 1, 10, 21, 0, tzinfo=UTC))) == []
    noon = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)  # 13:00 in Paris
    assert [c.kind for c in engine.on_uplink(decoded(23, STATUS_25_PERCENT, noon))] == [ChangeKind.RAISED]
