from datetime import UTC, datetime, timedelta

from lora_city.alerts.engine import AlertEngine, ChangeKind
from lora_city.alerts.rules import Level, Rule, RuleKind, Scope, Severity
from tests.unit.alerts.factories import T0, device, uplink

VIGICRUES = (
    Level("yellow", 1.0, Severity.WARNING),
    Level("orange", 2.0, Severity.MAJOR),
    Level("red", 3.0, Severity.CRITICAL),
)


def flood_rule(**kw: object) -> Rule:
    base: dict[str, object] = dict(id="r1", name="Vistre level", kind=RuleKind.THRESHOLD, tenant_id="city",
                                   scope=Scope("family", "flood"), service="flood_cell", measurement="water_level",
                                   levels=VIGICRUES, hysteresis=0.2)
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def test_rising_flood_walks_up_the_vigicrues_levels_once_each() -> None:
    engine = AlertEngine([flood_rule()])
    gauge = device()
    kinds = []
    for i, level in enumerate([0.5, 1.1, 1.3, 2.2, 2.5, 3.4, 3.6]):
        kinds += [(c.kind, c.level) for c in engine.on_uplink(uplink(gauge, i * 60, water_level=level))]
    assert kinds == [
        (ChangeKind.RAISED, "yellow"),
        (ChangeKind.LEVEL_CHANGED, "orange"),
        (ChangeKind.LEVEL_CHANGED, "red"),
    ]


def test_hysteresis_prevents_flapping_on_a_line() -> None:
    engine = AlertEngine([flood_rule()])
    gauge = device()
    changes = []
    # hovering around the yellow line (1.0) within the 0.2 m hysteresis band
    for i, level in enumerate([1.05, 0.95, 1.02, 0.85, 1.01, 0.9]):
        changes += engine.on_uplink(uplink(gauge, i * 60, water_level=level))
    assert [c.kind for c in changes] == [ChangeKind.RAISED]
    # clearly below the band: resolved, once
    resolved = engine.on_uplink(uplink(gauge, 600, water_level=0.7))
    assert [c.kind for c in resolved] == [ChangeKind.RESOLVED]
    assert engine.on_uplink(uplink(gauge, 660, water_level=0.6)) == []


def test_falling_level_steps_down_with_hysteresis() -> None:
    engine = AlertEngine([flood_rule()])
    gauge = device()
    engine.on_uplink(uplink(gauge, 0, water_level=3.5))
    assert engine.on_uplink(uplink(gauge, 60, water_level=2.9)) == []  # red kept: inside the band
    lowered = engine.on_uplink(uplink(gauge, 120, water_level=2.7))
    assert [(c.kind, c.level) for c in lowered] == [(ChangeKind.LEVEL_CHANGED, "orange")]


def test_threshold_below_direction() -> None:
    rule = Rule(id="low", name="low pressure", kind=RuleKind.THRESHOLD, tenant_id="city", measurement="battery",
                direction="below", levels=(Level("low", 3.3, Severity.WARNING), Level("empty", 3.0, Severity.MAJOR)))
    engine = AlertEngine([rule])
    dev = device()
    assert engine.on_uplink(uplink(dev, 0, battery=3.6)) == []
    assert [c.level for c in engine.on_uplink(uplink(dev, 1, battery=3.2))] == ["low"]
    assert [c.level for c in engine.on_uplink(uplink(dev, 2, battery=2.9))] == ["empty"]


def test_rate_of_change_water_rising_fast() -> None:
    rule = Rule(id="rise", name="rising fast", kind=RuleKind.RATE, tenant_id="city", measurement="water_level",
                delta=0.3, window_s=30 * 60, severity=Severity.MAJOR)
    engine = AlertEngine([rule])
    gauge = device()
    # 5 cm per 10 minutes: slow, no alert
    slow = [engine.on_uplink(uplink(gauge, i * 600, water_level=1.0 + 0.05 * i)) for i in range(4)]
    assert not any(slow)
    # then 20 cm per 10 minutes: 0.4 m within 30 minutes
    fast = []
    for i in range(1, 4):
        fast += engine.on_uplink(uplink(gauge, 1800 + i * 600, water_level=1.15 + 0.2 * i))
    assert [c.kind for c in fast] == [ChangeKind.RAISED]
    assert fast[0].severity is Severity.MAJOR


def test_absence_during_event_raises_and_resolves_on_return() -> None:
    rule = Rule(id="silent", name="silent gauge", kind=RuleKind.ABSENCE, tenant_id="city",
                scope=Scope("family", "flood"), max_silence_s=900, severity=Severity.CRITICAL)
    engine = AlertEngine([rule])
    gauge, lamp = device("00000000000000aa"), device("00000000000000bb", family="streetlight")
    engine.on_uplink(uplink(gauge, 0, water_level=1.2))
    engine.on_uplink(uplink(lamp, 0, power=40.0))
    assert engine.tick(T0 + timedelta(seconds=600)) == []
    raised = engine.tick(T0 + timedelta(seconds=1000))
    assert [(c.kind, c.subject) for c in raised] == [(ChangeKind.RAISED, "00000000000000aa")]  # not the lamp
    assert engine.tick(T0 + timedelta(seconds=2000)) == []  # still one open alert
    back = engine.on_uplink(uplink(gauge, 2100, water_level=1.3))
    assert [c.kind for c in back] == [ChangeKind.RESOLVED]


def test_lamp_failure_flag_is_deduplicated() -> None:
    rule = Rule(id="fail", name="lamp failure", kind=RuleKind.FLAG, tenant_id="city", measurement="lamp_failure",
                scope=Scope("family", "streetlight"), service="streetlights")
    engine = AlertEngine([rule])
    lamp = device("0000000000000010", family="streetlight")
    changes = []
    for i in range(5):
        changes += engine.on_uplink(uplink(lamp, i * 60, lamp_failure=True))
    changes += engine.on_uplink(uplink(lamp, 400, lamp_failure=False))
    assert [c.kind for c in changes] == [ChangeKind.RAISED, ChangeKind.RESOLVED]
    # a flood sensor is out of the rule's scope
    assert engine.on_uplink(uplink(device(), 500, lamp_failure=True)) == []


def test_day_burning_only_in_daylight() -> None:
    rule = Rule(id="day", name="day burning", kind=RuleKind.DAY_BURNING, tenant_id="city")
    engine = AlertEngine([rule])
    lamp = device("0000000000000011", family="streetlight")
    night = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert engine.on_uplink(uplink(lamp, night, lamp_on=True)) == []
    noon = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # 12:00 in Paris
    assert [c.kind for c in engine.on_uplink(uplink(lamp, noon, lamp_on=True))] == [ChangeKind.RAISED]


def test_gateway_offline_and_back() -> None:
    rule = Rule(id="gw", name="gateway offline", kind=RuleKind.GATEWAY_OFFLINE, tenant_id="city")
    engine = AlertEngine([rule])
    down = engine.on_gateway_state("aa55000000000001", "city", False, T0)
    assert [c.kind for c in down] == [ChangeKind.RAISED]
    assert engine.on_gateway_state("aa55000000000001", "city", False, T0) == []
    up = engine.on_gateway_state("aa55000000000001", "city", True, T0)
    assert [c.kind for c in up] == [ChangeKind.RESOLVED]


def test_restored_open_alert_is_not_raised_again() -> None:
    engine = AlertEngine([flood_rule()])
    gauge = device()
    engine.restore_open("r1:" + gauge.dev_eui, "orange", Severity.MAJOR)
    assert engine.on_uplink(uplink(gauge, 0, water_level=2.3)) == []


def test_multi_channel_device_gets_one_alert_per_channel() -> None:
    # A WS50x with several switches reports lamp_on:1, lamp_on:2...: a rule on "lamp_on" watches each channel.
    rule = Rule(id="day", name="day burning", kind=RuleKind.DAY_BURNING, tenant_id="city")
    engine = AlertEngine([rule])
    panel = device("0000000000000012", family="streetlight")
    noon = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    raised = engine.on_uplink(uplink(panel, noon, **{"lamp_on:1": True, "lamp_on:2": False, "lamp_on:3": True}))
    assert sorted(c.cause for c in raised) == ["day:0000000000000012:1", "day:0000000000000012:3"]
    assert all(c.kind is ChangeKind.RAISED for c in raised)
    assert "channel 3" in next(c.message for c in raised if c.cause.endswith(":3"))
    # channel 1 switches off: only its alert resolves; the exact name still wins over channels
    later = engine.on_uplink(uplink(panel, noon + timedelta(minutes=5),
                                    **{"lamp_on:1": False, "lamp_on:2": False, "lamp_on:3": True}))
    assert [(c.kind, c.cause) for c in later] == [(ChangeKind.RESOLVED, "day:0000000000000012:1")]
    assert engine.is_open("day:0000000000000012:3")
