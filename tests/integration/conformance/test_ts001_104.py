"""Conformance to LoRaWAN TS001-1.0.4 (and the 1.0.3 rules a 1.0.3 device still follows), table-driven: each case
is named after the rule and the section it checks.

Devices and gateways are the independent emulator's (tests/support/emulator); frames go over the real Semtech UDP
connector or ChirpStack's MQTT protocol through mosquitto; the device's own checks (MIC, counters, windows,
JoinNonce) are the verdict on what the server sends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from lora_city.sinks.events import AckEvent, LogEvent
from tests.integration.conformance.network import Network, network, wait_until
from tests.support.emulator.device import Device
from tests.support.emulator.forwarder import Transmission
from tests.support.emulator.mac import Command
from tests.support.services import Service

pytestmark = pytest.mark.integration

PAYLOAD = bytes.fromhex("0ce40cb0002a0101")  # Dragino LDDS75 (FPort 2)
GPS_EPOCH_UNIX = 315_964_800  # 1980-01-06T00:00:00Z
GPS_LEAP_SECONDS = 18
Case = Callable[[Network], Awaitable[None]]


async def abp(net: Network, dev_addr: str, *, f_cnt_up: int = 0, version: str = "1.0.4") -> Device:
    dev = Device.generate(version)
    await net.activate_abp(dev, dev_addr, f_cnt_up=f_cnt_up, codec="dragino-ldds75")
    return dev


async def otaa(net: Network, version: str = "1.0.4", device_class: str = "A") -> Device:
    dev = Device.generate(version, device_class=device_class)
    await net.register(dev, codec="dragino-ldds75")
    await net.join(dev)
    return dev


async def drain(net: Network, dev: Device, seconds: float = 0.5) -> list[Transmission]:
    """Every transmission queued at the gateways within ``seconds``, each handed to the device in order."""
    await asyncio.sleep(seconds)
    out = []
    while (tx := await net.air.next_transmission(0.05)) is not None:
        out.append(tx)
        dev.receive(tx.phy)
    return out


# --- frame counters ------------------------------------------------------------------------------------------

async def f_cnt_rolls_from_16_to_32_bits(net: Network) -> None:
    """§4.3.1.5: the device sends the 16 low bits; the server keeps the 32-bit counter across 65,535 -> 65,536."""
    dev = await abp(net, "26011041", f_cnt_up=65_534)
    for _ in range(4):
        net.send(dev.uplink(2, PAYLOAD))
        await asyncio.sleep(0.15)
    readings = await net.wait_readings(dev.dev_eui, 4)
    assert sorted(r["f_cnt"] for r in readings) == [65_534, 65_535, 65_536, 65_537]
    net.send(dev.uplink(2, PAYLOAD + b"\x00", f_cnt=65_535))  # below the counter: a replay
    await wait_until(lambda: net.drops("replay") == 1)


# --- joins ---------------------------------------------------------------------------------------------------

async def dev_nonce_1_0_3_random_not_monotonic(net: Network) -> None:
    """1.0.3 §6.2.4: DevNonce is random; the server refuses only a value already used."""
    dev = Device.generate("1.0.3")
    await net.register(dev, codec="dragino-ldds75")
    for nonce in (500, 20):
        sent = net.send(dev.join_request(dev_nonce=nonce), join=True)
        got = await net.air.receive(dev, sent, timeout=10)
        assert got is not None and got.accepted, nonce
    await asyncio.sleep(0.7)  # the server forwards an accept at once (timed +5 s): wait out the late-copy window
    net.send(dev.join_request(dev_nonce=500), join=True)
    await wait_until(lambda: net.drops("dev_nonce_replay") == 1)


async def dev_nonce_counter_per_join_eui(net: Network, version: str = "1.0.4") -> None:
    """1.0.4 §6.2.5 (1.1 §6.2.2 alike): DevNonce is a counter per JoinEUI; the server ignores one that did not
    grow. Another JoinEUI starts its own counter."""
    dev = Device.generate(version)
    await net.register(dev, codec="dragino-ldds75")
    await net.join(dev)  # DevNonce 0
    await net.join(dev)  # DevNonce 1
    await asyncio.sleep(0.7)  # past the late-copy window: a new transmission
    net.send(dev.join_request(dev_nonce=1), join=True)
    await wait_until(lambda: net.drops("dev_nonce_replay") == 1)
    dev.join_eui = f"{dev.rng.getrandbits(64):016x}"
    r = await net.h.api.patch(f"/api/v1/devices/{dev.dev_eui}", json={"join_eui": dev.join_eui})
    assert r.status_code == 200, r.text
    sent = net.send(dev.join_request(dev_nonce=0), join=True)
    got = await net.air.receive(dev, sent, timeout=10)
    assert got is not None and got.accepted


async def join_nonce_grows_with_every_join(net: Network) -> None:
    """1.0.4 §6.2.6: JoinNonce is a device-specific counter that never repeats; the device checks it grew."""
    dev = await otaa(net)
    first = dev.last_join_nonce
    await net.join(dev)
    assert first is not None and dev.last_join_nonce == first + 1


async def late_copy_of_a_handled_join_is_not_a_replay(net: Network) -> None:
    """A gateway copy arriving after the dedup window of a join it belongs to is counted as a late copy, not
    taken for a replayed join (its DevNonce is the one just accepted): one join-accept, the session intact."""
    slow = await net.udp_gateway()
    fast = net.gateways[0]
    dev = Device.generate("1.0.4")
    await net.register(dev, codec="dragino-ldds75")
    request = dev.join_request()
    sent = net.air.send(request, via=[fast], join=True)
    await asyncio.sleep(0.3)  # past the 100 ms window of the test server
    slow.send(request)
    got = await net.air.receive(dev, sent, timeout=10)
    assert got is not None and got.accepted
    await wait_until(lambda: net.drops("late_copy") == 1)
    assert net.drops("dev_nonce_replay") == 0
    await net.air.silence(0.5)
    net.send(dev.uplink(2, PAYLOAD))
    assert len(await net.wait_readings(dev.dev_eui, 1)) == 1


# --- receive windows ----------------------------------------------------------------------------------------

async def join_accept_in_rx1_at_5_s_rx2_at_6_s(net: Network) -> None:
    """RP002-1.0.4 §3 (JOIN_ACCEPT_DELAY1/2 = 5/6 s) and §2.4.7: RX1 on the uplink channel at its DR (offset 0
    before the join), RX2 on 869.525 MHz DR0."""
    mqtt = await net.mqtt_gateway()
    dev = Device.generate("1.0.4")
    await net.register(dev, codec="dragino-ldds75")
    sent = net.air.send(dev.join_request(dr=3), via=[mqtt], join=True)
    got = await net.air.receive(dev, sent, timeout=10)
    assert got is not None and got.accepted and got.window == "rx1"
    tx = got.transmission
    assert (tx.delay_after(sent.tmsts[mqtt.gateway_id]), tx.frequency, tx.dr) == (5.0, sent.uplink.frequency, 3)
    assert tx.alternatives == ((869_525_000, 0, 6.0),)


async def data_answer_in_rx1_at_1_s_rx2_at_2_s(net: Network) -> None:
    """§3.3.1: RX1 RECEIVE_DELAY1 (1 s) after the uplink on its channel and DR; RX2 one second later."""
    mqtt = await net.mqtt_gateway()
    dev = await abp(net, "26011042")
    sent = net.air.send(dev.uplink(2, PAYLOAD, confirmed=True, dr=4), via=[mqtt])
    got = await net.air.receive(dev, sent)
    assert got is not None and got.window == "rx1" and got.downlink is not None and got.downlink.ack
    assert got.transmission.delay_after(sent.tmsts[mqtt.gateway_id]) == 1.0 and got.transmission.dr == 4
    assert got.transmission.alternatives == ((869_525_000, 0, 2.0),)


# --- retransmissions -----------------------------------------------------------------------------------------

async def confirmed_uplink_repeated_is_acked_again_one_reading(net: Network) -> None:
    """§4.3.1.1 / §18.4: a confirmed uplink repeated (same FCnt, same bytes) because its ACK was lost is ACKed
    again, and the application gets it once."""
    dev = await abp(net, "26011043")
    first = dev.uplink(2, PAYLOAD, confirmed=True)
    net.send(first)
    assert await net.air.next_transmission() is not None  # the ACK, lost
    await asyncio.sleep(0.7)  # after the late-copy window: the device's own retransmission
    got = await net.exchange(dev, dev.uplink(repeat=True))
    assert got is not None and got.downlink is not None and got.downlink.ack
    assert len(await net.wait_readings(dev.dev_eui, 1)) == 1
    assert net.h.counter("lora_city_uplinks_total", kind="retransmission") == 1


async def unconfirmed_repeat_beyond_nb_trans_is_a_replay(net: Network) -> None:
    """§4.3.1.1 with NbTrans 1 (the default, §5.3): the same unconfirmed frame heard again later is a replay."""
    dev = await abp(net, "26011044")
    net.send(dev.uplink(2, PAYLOAD))
    assert len(await net.wait_readings(dev.dev_eui, 1)) == 1
    await asyncio.sleep(0.7)
    net.send(dev.uplink(repeat=True))
    await wait_until(lambda: net.drops("replay") == 1)
    assert len(await net.readings(dev.dev_eui)) == 1


# --- MAC commands --------------------------------------------------------------------------------------------

async def link_adr_req_and_ans(net: Network) -> None:
    """§5.3: with 20 uplinks' worth of margin the server asks a faster DR (LinkADRReq, ChMask of the channels the
    device knows); the device's LinkADRAns accepts it and its next uplinks use the new DR."""
    dev = await abp(net, "26011045")
    dev.dr = 0
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD), snrs=[10.0])
    assert got is not None and got.downlink is not None  # DevStatusReq and the plan's NewChannelReq
    for _ in range(20):
        net.send(dev.uplink(2, PAYLOAD), snrs=[10.0])
        await asyncio.sleep(0.12)
    await drain(net, dev)
    assert any(c.name == "LinkADRReq" for c in dev.received), "no LinkADRReq after 20 uplinks with 10 dB SNR at DR0"
    assert dev.dr == 5 and dev.ch_mask == set(range(8))
    net.send(dev.uplink(2, PAYLOAD), snrs=[10.0])  # carries LinkADRAns, at DR5
    readings = await net.wait_readings(dev.dev_eui, 23)
    assert max(readings, key=lambda r: r["f_cnt"])["tx"]["dr"] == 5
    await wait_until(lambda: net.h.server.sessions.for_dev_eui(dev.dev_eui).dr == 5)  # type: ignore[union-attr]


async def nb_trans_from_adr_repeats_are_retransmissions(net: Network) -> None:
    """§5.3: with about 20 % of frames lost the ADR engine asks NbTrans 2 (LinkADRReq); the device then sends
    every unconfirmed frame twice: the repeat is a retransmission (no second reading), a third copy a replay."""
    dev = await abp(net, "26011052")
    dev.dr = 0
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD), snrs=[10.0]) is not None
    for i in range(24):
        if i % 5 == 4:
            dev.f_cnt_up += 1  # lost on the air
        net.send(dev.uplink(2, PAYLOAD), snrs=[10.0])
        await asyncio.sleep(0.12)
    await drain(net, dev)
    assert dev.nb_trans == 2, [c for c in dev.received if c.name == "LinkADRReq"]
    net.send(dev.uplink(2, PAYLOAD), snrs=[10.0])  # LinkADRAns: the server takes NbTrans 2
    await asyncio.sleep(0.7)
    frame = dev.uplink(2, PAYLOAD)
    net.send(frame, snrs=[10.0])
    await asyncio.sleep(0.7)
    net.send(dev.uplink(repeat=True), snrs=[10.0])  # its NbTrans repeat
    await wait_until(lambda: net.h.counter("lora_city_uplinks_total", kind="retransmission") == 1)
    await asyncio.sleep(0.7)
    net.send(dev.uplink(repeat=True), snrs=[10.0])  # beyond NbTrans
    await wait_until(lambda: net.drops("replay") == 1)
    readings = await net.wait_readings(dev.dev_eui, 1)
    assert [r["f_cnt"] for r in readings].count(frame.f_cnt) == 1


async def adr_ack_req_gets_a_downlink(net: Network) -> None:
    """§4.3.1.1: an uplink with ADRACKReq set must be answered within ADR_ACK_DELAY: any downlink will do."""
    dev = await abp(net, "26011046")
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD)) is not None  # DevStatusReq, NewChannelReq
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None  # their answers: nothing to say
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, adr_ack_req=True))
    assert got is not None and got.accepted and dev.adr_ack_cnt == 0


async def link_check_req_and_ans(net: Network) -> None:
    """§5.2: LinkCheckAns carries the demodulation margin of the best gateway over the DR's floor (SF7:
    -7.5 dB, so 5 dB SNR gives 12) and the number of gateways that heard the frame."""
    await net.udp_gateway()
    dev = await abp(net, "26011047")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=5, commands=[Command("LinkCheckReq")]),
                             snrs=[5.0, 1.0])
    assert got is not None and got.downlink is not None
    [ans] = [c for c in got.downlink.commands if c.name == "LinkCheckAns"]
    assert (ans.payload[0], ans.payload[1]) == (12, 2)


async def device_time_req_and_ans(net: Network) -> None:
    """§5.11: DeviceTimeAns gives the GPS time of the uplink's reception (seconds since 1980-01-06, 1/256 s)."""
    dev = await abp(net, "26011048")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, commands=[Command("DeviceTimeReq")]))
    assert got is not None and got.downlink is not None
    [ans] = [c for c in got.downlink.commands if c.name == "DeviceTimeAns"]
    gps = int.from_bytes(ans.payload[:4], "little") + ans.payload[4] / 256
    expected = time.time() - GPS_EPOCH_UNIX + GPS_LEAP_SECONDS
    assert abs(gps - expected) < 3.0, (gps, expected)


async def network_brings_the_device_to_its_radio_plan(net: Network) -> None:
    """§5.4, §5.5, §5.7, §5.8: an ABP device starts from RP002's defaults; the network (RX1 delay 2 s, RX1DROffset
    1, RX2 DR3, MaxDCycle 2, the five CFList channels) sends DutyCycleReq, RXParamSetupReq, RXTimingSetupReq
    and NewChannelReq; once the device accepts, the server's windows follow: RX1 at +2 s at DR-1, RX2 DR3."""
    dev = await abp(net, "26011049")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=5))
    assert got is not None and got.downlink is not None
    sent_names = [c.name for c in got.downlink.commands]
    for name in ("RXTimingSetupReq", "RXParamSetupReq", "DutyCycleReq", "NewChannelReq"):
        assert name in sent_names, sent_names
    assert (dev.rx1_delay, dev.rx1_dr_offset, dev.rx2_dr, dev.max_duty_cycle) == (2, 1, 3, 2)
    assert sorted(ch.frequency for i, ch in dev.channels.items() if i >= 3) == [
        867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000]
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=5))  # the answers (sticky ones need a downlink)
    assert got is not None and got.window == "rx1" and got.transmission.dr == 4  # DR5 - offset 1
    assert dev.sticky == []
    await net.enqueue(dev, 10, b"\x01")
    sent = net.send(dev.uplink(2, PAYLOAD, dr=5))
    got = await net.air.receive(dev, sent)  # the device's own window check: +2 s, DR4
    assert got is not None and got.window == "rx1" and got.downlink is not None and got.downlink.payload == b"\x01"
    assert got.transmission.delay_after(sent.tmsts[got.transmission.gateway_id]) == 2.0


async def dl_channel_req_moves_rx1(net: Network) -> None:
    """§5.10: with an RX1 frequency set for channel 3 the network sends DlChannelReq (ChIndex, Freq in 100 Hz)
    once the device has the channel (CFList); the device answers DlChannelAns until a downlink comes (sticky),
    and from then on RX1 after an uplink on channel 3 is on 869.1 MHz, on the other channels still the
    uplink's own (RP002-1.0.4 §2.4.7)."""
    dev = await otaa(net)
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, channel=0))
    assert got is not None and got.downlink is not None
    assert [c.payload for c in got.downlink.commands if c.name == "DlChannelReq"] == [
        bytes((3,)) + (869_100_000 // 100).to_bytes(3, "little")]
    assert dev.channels[3].dl_frequency == 869_100_000 and [c.name for c in dev.sticky] == ["DlChannelAns"]
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, channel=0))  # the sticky answer is answered
    assert got is not None and got.accepted and dev.sticky == []
    for channel, rx1 in ((3, 869_100_000), (0, 868_100_000), (4, 867_300_000)):
        sent = net.send(dev.uplink(2, PAYLOAD, confirmed=True, channel=channel))
        got = await net.air.receive(dev, sent)  # the device's own window check: RX1 where it listens
        assert got is not None and got.window == "rx1" and got.downlink is not None and got.downlink.ack, channel
        assert got.transmission.frequency == rx1
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None  # applied: not asked again


# --- confirmed downlinks and classes --------------------------------------------------------------------------

async def confirmed_downlink_retried_then_nacked(net: Network) -> None:
    """§4.3.1.2: a confirmed downlink waits for an uplink with ACK; without it, it goes again on the next
    uplinks' answers (a new FCntDown each time), and after the retries the item is given up (AckEvent with
    acknowledged false: the application's NACK)."""
    dev = await abp(net, "26011050")
    await net.exchange(dev, dev.uplink(2, PAYLOAD))
    await drain(net, dev)
    await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0)  # the plan's answers
    await drain(net, dev)
    await net.enqueue(dev, 10, b"\x55", confirmed=True)
    counters = []
    for _ in range(5):
        sent = net.send(dev.uplink(2, PAYLOAD))
        tx = await net.air.next_transmission(2.0)  # not delivered: the device never hears it
        if tx is not None:
            assert net.air.window_of(dev, sent, tx) == "rx1"
            counters.append(int.from_bytes(tx.phy[6:8], "little"))
        await asyncio.sleep(0.2)
    assert len(counters) == 4 and counters == sorted(set(counters)), counters  # first try + 3 retries
    await wait_until(lambda: [e.acknowledged for e in net.h.recording.of(AckEvent)] == [False])
    r = await net.h.api.get(f"/api/v1/devices/{dev.dev_eui}/queue")
    assert r.json() == []


async def class_c_immediately_after_the_first_uplink(net: Network) -> None:
    """Class C (1.0.4 §6): RX2 open continuously; the server sends a queued item at once, on RX2 parameters, but
    only once the device has sent its first uplink of the session."""
    dev = await otaa(net, device_class="C")
    await net.enqueue(dev, 10, b"\x01")
    await net.air.silence(1.0)
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None and got.downlink.payload == b"\x01"
    await net.enqueue(dev, 10, b"\x02")
    got = await net.air.receive(dev, None)
    assert got is not None and got.window == "class_c" and got.downlink is not None
    assert got.downlink.payload == b"\x02"


async def uplink_over_the_regional_maximum_is_flagged(net: Network) -> None:
    """RP002-1.0.4 §2.4.6: at DR0 a MACPayload holds at most 59 bytes (51 of FRMPayload with no FOpts). A frame
    within it is a plain reading; one over it (the device's answers in FOpts beside 51 bytes) is kept but shown
    as UPLINK_PAYLOAD_SIZE in the device's events."""
    dev = await abp(net, "26011051")
    dev.dr = 0
    got = await net.exchange(dev, dev.uplink(2, bytes(51)))
    assert got is not None  # answers that the device will carry in FOpts
    assert dev.pending
    net.send(dev.uplink(2, bytes(51)))
    assert len(await net.wait_readings(dev.dev_eui, 2)) == 2
    flagged = [e for e in net.h.recording.of(LogEvent) if e.code == "UPLINK_PAYLOAD_SIZE"]
    assert [e.context["f_cnt"] for e in flagged] == ["1"]


async def class_b_mac_commands_both_ways(net: Network) -> None:
    """§13.1 PingSlotInfoReq/Ans, §13.2 PingSlotChannelReq/Ans, §13.4 BeaconFreqReq/Ans. The class B device
    gives its ping-slot periodicity and gets PingSlotInfoAns; the network's ping-slot channel (869.1 MHz DR3)
    and beacon frequency (869.3 MHz) differ from RP002's defaults, so it sends PingSlotChannelReq, then
    BeaconFreqReq. PingSlotChannelAns (Status bit 0 channel frequency ok, bit 1 data rate ok, Table 71) goes in
    every uplink until a class A downlink comes, which the network sends for it; the session takes each value
    the device accepted."""
    dev = Device.generate("1.0.4", device_class="B")
    await net.activate_abp(dev, "26011301", codec="dragino-ldds75")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, commands=[Command("PingSlotInfoReq", b"\x03")]))
    assert got is not None and got.downlink is not None
    names = [c.name for c in got.downlink.commands]
    assert "PingSlotInfoAns" in names and "PingSlotChannelReq" in names, names
    assert (dev.ping_slot_frequency, dev.ping_slot_dr) == (869_100_000, 3)
    assert [c.payload for c in dev.sticky if c.name == "PingSlotChannelAns"] == [b"\x03"]
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))  # the sticky answer gets its downlink
    assert got is not None and got.downlink is not None and dev.sticky == []
    assert "BeaconFreqReq" in [c.name for c in got.downlink.commands]
    assert dev.beacon_frequency == 869_300_000
    net.send(dev.uplink(2, PAYLOAD))  # BeaconFreqAns

    def applied() -> bool:
        s = net.h.server.sessions.for_dev_eui(dev.dev_eui)
        return s is not None and (s.ping_slot_periodicity, s.ping_slot_frequency, s.ping_slot_dr,
                                  s.beacon_frequency) == (3, 869_100_000, 3, 869_300_000)

    await wait_until(applied)
    await drain(net, dev)
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None  # nothing left to ask
    sent = [c.name for c in dev.received]
    assert (sent.count("PingSlotChannelReq"), sent.count("BeaconFreqReq")) == (1, 1), sent


async def ping_slot_channel_ans_gets_a_downlink(net: Network) -> None:
    """§13.2: the device adds PingSlotChannelAns to every uplink until a class A downlink arrives, so the
    network answers the uplink carrying it even with nothing else to say (as for RXTimingSetupAns, issue 23
    defect 8)."""
    dev = Device.generate("1.0.4", device_class="B")
    await net.activate_abp(dev, "26011302", codec="dragino-ldds75")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None
    assert "PingSlotChannelReq" in [c.name for c in got.downlink.commands]
    assert [c.name for c in dev.sticky] == ["PingSlotChannelAns"]
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.accepted and dev.sticky == []
    s = net.h.server.sessions.for_dev_eui(dev.dev_eui)
    assert s is not None and (s.ping_slot_frequency, s.ping_slot_dr) == (869_100_000, 3)


CLASS_B_PLAN = {"class_b_ping_slot_frequency_hz": 869_100_000, "class_b_ping_slot_dr": 3,
                "class_b_beacon_frequency_hz": 869_300_000}

CASES: dict[str, tuple[Case, dict[str, Any]]] = {
    "4.3.1.5 FCnt 16 to 32 bits at 65535": (f_cnt_rolls_from_16_to_32_bits, {}),
    "6.2.4 (1.0.3) DevNonce random, not monotonic": (dev_nonce_1_0_3_random_not_monotonic, {}),
    "6.2.5 DevNonce counter per JoinEUI": (dev_nonce_counter_per_join_eui, {}),
    "6.2.6 JoinNonce grows": (join_nonce_grows_with_every_join, {}),
    "late copy of a handled join is not a replay": (late_copy_of_a_handled_join_is_not_a_replay, {}),
    "RP002 3 join-accept RX1 5 s RX2 6 s": (join_accept_in_rx1_at_5_s_rx2_at_6_s, {}),
    "3.3.1 data RX1 1 s RX2 2 s": (data_answer_in_rx1_at_1_s_rx2_at_2_s, {}),
    "4.3.1.1 confirmed retransmission ACKed again": (confirmed_uplink_repeated_is_acked_again_one_reading, {}),
    "4.3.1.1 repeat beyond NbTrans is a replay": (unconfirmed_repeat_beyond_nb_trans_is_a_replay, {}),
    "5.3 LinkADRReq and LinkADRAns": (link_adr_req_and_ans, {}),
    "4.3.1.1 ADRACKReq gets a downlink": (adr_ack_req_gets_a_downlink, {}),
    "5.3 NbTrans from ADR: repeats are retransmissions": (nb_trans_from_adr_repeats_are_retransmissions, {}),
    "5.2 LinkCheckReq and LinkCheckAns": (link_check_req_and_ans, {}),
    "5.11 DeviceTimeReq and DeviceTimeAns": (device_time_req_and_ans, {}),
    "5.4 5.5 5.7 5.8 radio plan by MAC commands": (
        network_brings_the_device_to_its_radio_plan,
        {"rx1_delay_s": 2, "rx1_dr_offset": 1, "rx2_dr": 3, "max_duty_cycle": 2}),
    "5.10 DlChannelReq moves RX1 of one channel": (dl_channel_req_moves_rx1, {"dl_channels_hz": {3: 869_100_000}}),
    "4.3.1.2 confirmed downlink retried then NACK": (confirmed_downlink_retried_then_nacked, {}),
    "6 class C immediate after the first uplink": (class_c_immediately_after_the_first_uplink, {}),
    "RP002 2.4.6 uplink over the maximum flagged": (uplink_over_the_regional_maximum_is_flagged, {}),
    "13.1 13.2 13.4 class B MAC commands both ways": (class_b_mac_commands_both_ways, CLASS_B_PLAN),
    "13.2 PingSlotChannelAns repeated until a downlink": (ping_slot_channel_ans_gets_a_downlink, {
        "class_b_ping_slot_frequency_hz": 869_100_000}),
}


@pytest.mark.slow
@pytest.mark.parametrize("rule", list(CASES))
def test_ts001_1_0_4(rule: str, sqlite_url: str, mosquitto: Service) -> None:
    case, settings = CASES[rule]

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url, **settings) as net:
            await net.udp_gateway()
            await case(net)

    asyncio.run(run())
