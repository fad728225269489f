"""Class B MAC exchanges on uplinks (TS001-1.1 §13): PingSlotInfoReq is answered and its periodicity kept; a ping
slot channel or beacon frequency other than the region's is requested once at a time until the device accepts;
FCtrl.ClassB decides whether downlinks may wait for a ping slot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lora_city.downlink.class_b import CLASS_B_MARGIN_S, ping_slot_window
from lora_city.gateway.frames import TimingKind
from lora_city.lorawan import class_b
from lora_city.lorawan.frames import DataFrame, FCtrl, MType
from lora_city.lorawan.mac import MacCommand
from lora_city.lorawan.region import EU868
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.class_b import ClassBPlan, handle_class_b
from lora_city.uplink.context import UplinkContext


def session(device_class: str = "B") -> NetworkSession:
    key = bytes(16)
    return NetworkSession("s", "26011f2a", "1.0.3", key, key, key, key, DeviceInfo("0000000000000001", "t"),
                          device_class=device_class)


def uplink(s: NetworkSession, *commands: MacCommand, class_b_bit: bool = True) -> UplinkContext:
    ctx = UplinkContext(collected=None, uplink_id="u", time=datetime.now(UTC), dr=5,  # type: ignore[arg-type]
                        frequency=868_100_000, airtime_ms=50.0)
    ctx.session = s
    ctx.frame = DataFrame(MType.UNCONFIRMED_DATA_UP, s.dev_addr, FCtrl(f_pending=class_b_bit), 1, b"", None, b"")
    ctx.mac_commands = list(commands)
    return ctx


def names(ctx: UplinkContext) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, dict(c.fields)) for c in ctx.mac_answers]


def test_ping_slot_info_is_answered_and_kept() -> None:
    s = session()
    ctx = uplink(s, MacCommand("PingSlotInfoReq", {"periodicity": 3}))
    handle_class_b(ctx, EU868, ClassBPlan())
    assert names(ctx) == [("PingSlotInfoAns", {})]
    assert s.ping_slot_periodicity == 3 and s.class_b_locked
    handle_class_b(uplink(s, class_b_bit=False), EU868, ClassBPlan())
    assert not s.class_b_locked  # lost the beacon: downlinks wait for class A


def test_ping_slot_channel_then_beacon_frequency_requested_until_accepted() -> None:
    s = session()
    plan = ClassBPlan(ping_slot_frequency=869_300_000, ping_slot_dr=2, beacon_frequency=869_300_000)
    first = uplink(s)
    handle_class_b(first, EU868, plan)
    assert names(first) == [("PingSlotChannelReq", {"frequency": 869_300_000, "data_rate": 2})]
    waiting = uplink(s)
    handle_class_b(waiting, EU868, plan)
    assert names(waiting) == []  # one request at a time
    refused = uplink(s, MacCommand("PingSlotChannelAns", {"data_rate_ok": 1, "channel_frequency_ok": 0}))
    handle_class_b(refused, EU868, plan)
    assert s.ping_slot_frequency is None  # refused: asked again
    assert names(refused) == [("PingSlotChannelReq", {"frequency": 869_300_000, "data_rate": 2})]
    accepted = uplink(s, MacCommand("PingSlotChannelAns", {"data_rate_ok": 1, "channel_frequency_ok": 1}))
    handle_class_b(accepted, EU868, plan)
    assert (s.ping_slot_frequency, s.ping_slot_dr) == (869_300_000, 2)
    assert names(accepted) == [("BeaconFreqReq", {"frequency": 869_300_000})]
    done = uplink(s, MacCommand("BeaconFreqAns", {"beacon_frequency_ok": 1}))
    handle_class_b(done, EU868, plan)
    assert s.beacon_frequency == 869_300_000 and names(done) == []
    # the next downlink waits on the new channel
    window = ping_slot_window(s, EU868, 1_000_000.0)
    assert (window.frequency, window.dr, window.timing) == (869_300_000, 2, TimingKind.GPS_EPOCH)


def test_region_defaults_ask_nothing_and_class_a_devices_are_left_alone() -> None:
    s = session()
    ctx = uplink(s)
    handle_class_b(ctx, EU868, ClassBPlan())
    assert names(ctx) == []
    a = session("A")
    ctx = uplink(a)
    handle_class_b(ctx, EU868, ClassBPlan(ping_slot_frequency=869_300_000))
    assert names(ctx) == []


def test_one_downlink_per_ping_slot() -> None:
    s = session()
    s.ping_slot_periodicity = 0  # 128 slots per period: consecutive slots ~0.96 s apart
    now = 1_400_000_000.0
    first = ping_slot_window(s, EU868, now).gps_time_s
    second = ping_slot_window(s, EU868, now).gps_time_s
    assert first is not None and second is not None
    assert now + CLASS_B_MARGIN_S < first < second
    for t in (first, second):
        assert class_b.is_ping_slot(t, s.dev_addr, 0)
