"""Gateway choice by link margin, RX1/RX2 items, duty-cycle fallback and refusal; data downlink frames that a
real (virtual) device opens."""

from __future__ import annotations

import asyncio

from lora_city.downlink.duty_cycle import DutyCycleTracker
from lora_city.downlink.frame import build_data_downlink
from lora_city.downlink.scheduler import (
    DownlinkScheduler,
    Heard,
    class_a_windows,
    class_c_windows,
)
from lora_city.gateway.frames import DownlinkFrame, DownlinkTxAck, TimingKind
from lora_city.lorawan.mac import MacCommand, encode_mac_commands
from lora_city.lorawan.region import EU868
from lora_city.metrics import Metrics
from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import DeviceEvent, DeviceInfo, LogEvent, TxAckEvent
from lora_city.storage.sessions import NetworkSession

DEVICE = DeviceInfo(dev_eui="0102030405060708", tenant_id="t")


class MemoryGateways:
    """An in-memory Transmitter: gateways it can reach, and every frame it was asked to send."""

    def __init__(self, reachable: set[str]) -> None:
        self._reachable = reachable
        self.sent: list[DownlinkFrame] = []

    def reachable(self, gateway_id: str) -> bool:
        return gateway_id in self._reachable

    async def send(self, frame: DownlinkFrame) -> None:
        self.sent.append(frame)


def _scheduler(gws: MemoryGateways, clock: list[float]) -> tuple[DownlinkScheduler, DutyCycleTracker,
                                                                  list[DeviceEvent], Metrics]:
    events: list[DeviceEvent] = []
    metrics = Metrics()
    duty = DutyCycleTracker(clock=lambda: clock[0])
    return DownlinkScheduler(gws, duty, metrics, events.append, clock=lambda: clock[0]), duty, events, metrics


def test_best_margin_gateway_gets_rx1_then_rx2_items() -> None:
    gws = MemoryGateways({"a", "b", "c"})
    sched, duty, events, _ = _scheduler(gws, [0.0])
    heard = [Heard("a", -3.0, b"\x00\x00\x00\x01"), Heard("b", 6.0, b"\x00\x00\x00\x02"), Heard("c", 2.0)]
    windows = class_a_windows(EU868, 5, 868_300_000, 1, 0, 0)
    ok = asyncio.run(sched.transmit("class_a", DEVICE, b"\x60" + bytes(15), heard, 5, windows, f_cnt_down=7))
    assert ok
    frame = gws.sent[0]
    assert frame.gateway_id == "b"
    rx1, rx2 = frame.items
    assert (rx1.modulation.frequency, rx1.modulation.spreading_factor, rx1.delay_s) == (868_300_000, 7, 1)
    assert (rx2.modulation.frequency, rx2.modulation.spreading_factor, rx2.delay_s) == (869_525_000, 12, 2)
    # RP002-1.0.4 §2.4.3 / ETSI: 14 dBm in RX1's g1 sub-band, 27 dBm (500 mW) in g3 where RX2 sits
    assert (rx1.power, rx2.power) == (14, 27)
    assert rx1.context == b"\x00\x00\x00\x02" and rx1.timing is TimingKind.DELAY
    assert duty.used_s("b", 868_300_000) > 0 and duty.used_s("a", 868_300_000) == 0
    sched.on_tx_ack(DownlinkTxAck("b", frame.downlink_id, ("OK", "IGNORED")))
    acks = [e for e in events if isinstance(e, TxAckEvent)]
    assert len(acks) == 1 and acks[0].status == "OK" and acks[0].f_cnt_down == 7


def test_exhausted_rx1_budget_moves_to_rx2_then_other_gateway_then_refuses() -> None:
    gws = MemoryGateways({"a", "b"})
    clock = [0.0]
    sched, duty, events, metrics = _scheduler(gws, clock)
    heard = [Heard("a", 8.0), Heard("b", 0.0)]
    duty.record("a", 868_100_000, 36.0)  # g1 budget of gateway a spent
    windows = class_a_windows(EU868, 0, 868_100_000, 1, 0, 0)
    assert asyncio.run(sched.transmit("class_a", DEVICE, bytes(20), heard, 0, windows))
    only_rx2 = gws.sent[-1]
    assert only_rx2.gateway_id == "a" and [i.modulation.frequency for i in only_rx2.items] == [869_525_000]
    duty.record("a", 869_525_000, 360.0)  # and its RX2 budget
    assert asyncio.run(sched.transmit("class_a", DEVICE, bytes(20), heard, 0, windows))
    assert gws.sent[-1].gateway_id == "b"
    duty.record("b", 868_100_000, 36.0)
    duty.record("b", 869_525_000, 360.0)
    assert not asyncio.run(sched.transmit("class_a", DEVICE, bytes(20), heard, 0, windows))
    assert metrics.registry.get_sample_value("lora_city_downlink_refused_total", {"reason": "duty_cycle"}) == 1
    assert any(isinstance(e, LogEvent) and e.code == "DOWNLINK_GATEWAY" for e in events)
    clock[0] = 3601.0  # an hour later the budgets are back
    assert asyncio.run(sched.transmit("class_a", DEVICE, bytes(20), heard, 0, windows))


def test_unreachable_gateways_are_skipped_and_class_c_is_immediate() -> None:
    gws = MemoryGateways({"b"})
    sched, _, _, _ = _scheduler(gws, [0.0])
    heard = [Heard("a", 9.0), Heard("b", -10.0)]
    assert asyncio.run(sched.transmit("class_c", DEVICE, bytes(12), heard, 5, class_c_windows(EU868, 0)))
    frame = gws.sent[0]
    assert frame.gateway_id == "b"
    assert [i.timing for i in frame.items] == [TimingKind.IMMEDIATELY]
    # RP002-1.0.4 §2.4.6, not repeater compatible: N = 51 at DR0, 242 at DR5
    assert EU868.max_payload_size(0) == (59, 51) and EU868.max_payload_size(5) == (250, 242)


def _session(dev: VirtualDevice) -> NetworkSession:
    assert dev.dev_addr is not None
    return NetworkSession(id="s", dev_addr=dev.dev_addr, mac_version="1.0.3", f_nwk_s_int_key=dev.nwk_s_key,
                          s_nwk_s_int_key=dev.nwk_s_key, nwk_s_enc_key=dev.nwk_s_key, app_s_key=dev.app_s_key,
                          device=DEVICE, n_f_cnt_down=5)


def test_data_downlinks_open_on_the_device() -> None:
    dev = VirtualDevice.generate()
    dev.dev_addr, dev.nwk_s_key, dev.app_s_key = "26011bda", bytes(range(16)), bytes(range(16, 32))
    session = _session(dev)
    mac = encode_mac_commands([MacCommand("LinkCheckAns", {"margin": 12, "gw_cnt": 3}), MacCommand("DevStatusReq")])
    # ACK + MAC commands only: FPort 0, encrypted with the network key.
    built = build_data_downlink(session, ack=True, mac=mac, f_port=None, payload=b"", confirmed=False,
                                f_pending=False)
    got = dev.receive(built.phy_payload)
    assert got is not None and got.ack and got.f_port == 0 and got.f_cnt == 5
    assert [c.name for c in got.mac_commands] == ["LinkCheckAns", "DevStatusReq"]
    assert got.mac_commands[0].fields["gw_cnt"] == 3
    # application data (confirmed) with MAC commands in FOpts
    built = build_data_downlink(session, ack=False, mac=mac, f_port=10, payload=b"\x01\x02", confirmed=True,
                                f_pending=True)
    got = dev.receive(built.phy_payload)
    assert got is not None and got.payload == b"\x01\x02" and got.f_port == 10 and got.confirmed
    assert got.f_pending and got.f_cnt == 6 and len(got.mac_commands) == 2
    assert session.n_f_cnt_down == 7 and built.carries_app_data
    # A tampered frame does not open.
    assert dev.receive(built.phy_payload[:-1] + bytes((built.phy_payload[-1] ^ 1,))) is None
