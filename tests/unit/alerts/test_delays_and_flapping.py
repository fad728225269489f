"""Hold delay, clear delay and flapping (issue 21, "Alerts"), driven by the test's own clock: the engine takes
time only from the readings and from ``tick(now)``.

The semantics are those of Prometheus' alerting rules (``for``: pending until the condition has held that long,
reset by one evaluation where it does not hold; ``keep_firing_for``: the alert stays firing that long after the
condition went away) and Grafana's (pending period, keep firing for), on which the rule fields are modelled."""

from __future__ import annotations

from datetime import datetime, timedelta

from lora_city.alerts.engine import AlertChange, AlertEngine, ChangeKind
from lora_city.alerts.rules import Level, Rule, RuleKind, Scope, Severity
from tests.unit.alerts.factories import T0, device, uplink


class Clock:
    """The injectable clock: the test moves it; readings and ticks carry its time."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def flood(**kw: object) -> Rule:
    base: dict[str, object] = dict(id="flood", name="Vistre", kind=RuleKind.THRESHOLD, tenant_id="city",
                                   scope=Scope("family", "flood"), measurement="water_level",
                                   levels=(Level("orange", 1.0, Severity.MAJOR),))
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def kinds(changes: list[AlertChange]) -> list[tuple[ChangeKind, int]]:
    return [(c.kind, c.count) for c in changes]


def test_a_condition_raises_only_after_it_has_held_for_the_hold_delay() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(hold_s=300)])
    assert engine.on_uplink(uplink(gauge, clock.now, water_level=1.2)) == []  # pending, not raised
    assert engine.on_uplink(uplink(gauge, clock.advance(120), water_level=1.3)) == []
    assert engine.tick(clock.advance(120)) == []  # 240 s held: not yet
    raised = engine.on_uplink(uplink(gauge, clock.advance(60), water_level=1.25))  # 300 s: now
    assert kinds(raised) == [(ChangeKind.RAISED, 1)]
    assert raised[0].time == clock.now and raised[0].value == 1.25 and raised[0].level == "orange"


def test_a_reading_back_to_normal_during_the_hold_delay_starts_the_wait_again() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(hold_s=300)])
    engine.on_uplink(uplink(gauge, clock.now, water_level=1.2))
    assert engine.on_uplink(uplink(gauge, clock.advance(200), water_level=0.8)) == []  # a dip: the wait resets
    engine.on_uplink(uplink(gauge, clock.advance(60), water_level=1.2))  # pending again from here
    assert engine.tick(clock.advance(280)) == []  # 280 s since the new start, 540 s since the first
    assert kinds(engine.tick(clock.advance(20))) == [(ChangeKind.RAISED, 1)]  # tick completes the wait


def test_the_alert_resolves_only_after_the_clear_delay() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(clear_s=600)])
    assert kinds(engine.on_uplink(uplink(gauge, clock.now, water_level=1.2))) == [(ChangeKind.RAISED, 1)]
    assert engine.on_uplink(uplink(gauge, clock.advance(60), water_level=0.5)) == []  # gone, but not for long
    assert engine.tick(clock.advance(500)) == []
    assert engine.on_uplink(uplink(gauge, clock.advance(30), water_level=1.1)) == []  # back: still the same alert
    assert engine.is_open("flood:" + gauge.dev_eui)
    engine.on_uplink(uplink(gauge, clock.advance(30), water_level=0.4))  # gone again: the clear wait restarts
    assert engine.tick(clock.advance(599)) == []
    resolved = engine.tick(clock.advance(1))
    assert kinds(resolved) == [(ChangeKind.RESOLVED, 1)]
    assert resolved[0].value == 0.4 and resolved[0].time == clock.now


def test_raise_clear_raise_within_the_window_reopens_the_same_alert_with_a_count() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(flap_window_s=3600)])
    seen: list[tuple[ChangeKind, int]] = []
    for _ in range(4):  # up, down, up, down … every 5 minutes
        seen += kinds(engine.on_uplink(uplink(gauge, clock.advance(300), water_level=1.2)))
        seen += kinds(engine.on_uplink(uplink(gauge, clock.advance(300), water_level=0.5)))
    assert seen == [(ChangeKind.RAISED, 1), (ChangeKind.RESOLVED, 1), (ChangeKind.RAISED, 2),
                    (ChangeKind.RESOLVED, 2), (ChangeKind.RAISED, 3), (ChangeKind.RESOLVED, 3),
                    (ChangeKind.RAISED, 4), (ChangeKind.RESOLVED, 4)]


def test_a_raise_after_the_window_is_a_new_alert() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(flap_window_s=3600)])
    engine.on_uplink(uplink(gauge, clock.now, water_level=1.2))
    engine.on_uplink(uplink(gauge, clock.advance(60), water_level=0.5))
    assert kinds(engine.on_uplink(uplink(gauge, clock.advance(3601), water_level=1.2))) == [(ChangeKind.RAISED, 1)]


def test_a_window_of_zero_never_reopens() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(flap_window_s=0)])
    engine.on_uplink(uplink(gauge, clock.now, water_level=1.2))
    engine.on_uplink(uplink(gauge, clock.advance(60), water_level=0.5))
    assert kinds(engine.on_uplink(uplink(gauge, clock.advance(1), water_level=1.2))) == [(ChangeKind.RAISED, 1)]


def test_delays_and_window_together_turn_noise_into_one_alert() -> None:
    """A gauge hovering on its line with sensor noise, a reading a minute for an hour: without delays it would
    raise and resolve dozens of times; with a 2-minute hold, a 5-minute clear and the flap window it is one
    alert, raised a few times at most."""
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(hold_s=120, clear_s=300, flap_window_s=3600)])
    noise = [1.05, 0.95, 1.1, 0.9, 1.02, 0.97, 1.2, 1.3, 1.25, 0.8]
    changes: list[AlertChange] = []
    for minute in range(60):
        changes += engine.on_uplink(uplink(gauge, clock.advance(60), water_level=noise[minute % len(noise)]))
    raised = [c for c in changes if c.kind is ChangeKind.RAISED]
    assert raised and len({c.cause for c in raised}) == 1
    assert [c.count for c in raised] == list(range(1, len(raised) + 1))
    assert len(raised) <= 6  # one per 10-minute noise cycle at most, each reopening the same alert


def test_hold_applies_to_silence_rules_at_tick() -> None:
    clock, dev = Clock(), device(family="water")
    rule = Rule(id="mute", name="mute", kind=RuleKind.ABSENCE, tenant_id="city", max_silence_s=600, hold_s=300)
    engine = AlertEngine([rule])
    engine.on_uplink(uplink(dev, clock.now, volume=1.0))
    assert engine.tick(clock.advance(700)) == []  # silent 700 s: the condition starts holding
    assert engine.tick(clock.advance(200)) == []
    assert kinds(engine.tick(clock.advance(100))) == [(ChangeKind.RAISED, 1)]


def test_a_deleted_rule_forgets_its_pending_condition() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood(hold_s=300)])
    engine.on_uplink(uplink(gauge, clock.now, water_level=1.2))
    engine.set_rules([])
    assert engine.tick(clock.advance(400)) == []


def test_restored_resolved_alert_is_reopened_after_a_restart() -> None:
    clock, gauge = Clock(), device()
    engine = AlertEngine([flood()])
    engine.restore_closed("flood:" + gauge.dev_eui, clock.now, 5)
    assert kinds(engine.on_uplink(uplink(gauge, clock.advance(60), water_level=1.2))) == [(ChangeKind.RAISED, 6)]
