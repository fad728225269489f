"""Conformance to RP002-1.0.4 EU863-870 (§2.4), table-driven, through the real UDP connector: what an emulated
device and packet forwarder observe of the server's radio decisions, each case named after its section."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from lora_city.sinks.events import LogEvent
from tests.integration.conformance.network import Network, network, wait_until
from tests.support.emulator.device import MAX_MAC_PAYLOAD, Device
from tests.support.emulator.mac import Command
from tests.support.services import Service

pytestmark = pytest.mark.integration

PAYLOAD = bytes.fromhex("0ce40cb0002a0101")
CF_LIST_CHANNELS = [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000]
Case = Callable[[Network], Awaitable[None]]


async def quiet_abp(net: Network, dev_addr: str) -> Device:
    """An ABP device past its first exchanges (DevStatusReq, the plan's NewChannelReq and their answers)."""
    dev = Device.generate("1.0.4")
    await net.activate_abp(dev, dev_addr, codec="dragino-ldds75")
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD)) is not None
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None
    return dev


async def cf_list_in_the_join_accept(net: Network) -> None:
    """§2.4.4: the join-accept's CFList (type 0) gives channels 3..7; the device adds them to the three defaults."""
    dev = Device.generate("1.0.4")
    await net.register(dev, codec="dragino-ldds75")
    await net.join(dev)
    assert [dev.channels[i].frequency for i in range(8)] == [868_100_000, 868_300_000, 868_500_000,
                                                               *CF_LIST_CHANNELS]


async def rx1_on_the_uplink_channel_for_every_channel(net: Network) -> None:
    """§2.4.7: RX1 uses the uplink's channel; each of the eight channels of the plan."""
    dev = Device.generate("1.0.4")
    await net.register(dev, codec="dragino-ldds75")
    await net.join(dev)
    for channel in range(8):
        got = await net.exchange(dev, dev.uplink(2, PAYLOAD, confirmed=True, channel=channel))
        assert got is not None and got.window == "rx1" and got.downlink is not None and got.downlink.ack
        assert got.transmission.frequency == dev.channels[channel].frequency


async def maximum_payload_per_data_rate(net: Network) -> None:
    """§2.4.6 (not repeater compatible): an item of N = M - 8 bytes goes in RX1 at DR0..DR5 with a MACPayload of
    exactly M (59, 59, 59, 123, 250, 250); one byte more fits no window: dropped with DOWNLINK_PAYLOAD_SIZE
    (above the region's largest N, 242, the API refuses it outright)."""
    dev = await quiet_abp(net, "26011060")
    for dr in range(6):
        n = MAX_MAC_PAYLOAD[dr] - 8
        await net.enqueue(dev, 10, bytes(n))
        got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=dr))
        assert got is not None and got.window == "rx1" and got.downlink is not None, dr
        assert (len(got.downlink.payload), got.downlink.mac_payload_size) == (n, MAX_MAC_PAYLOAD[dr])
        if n + 1 > 242:
            r = await net.h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue",
                                     json={"f_port": 10, "data_hex": bytes(n + 1).hex()})
            assert r.status_code == 422, r.text
            continue
        await net.enqueue(dev, 10, bytes(n + 1))
        assert await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=dr), timeout=1.0) is None, dr
        await wait_until(lambda d=dr: len([e for e in net.h.recording.of(LogEvent)
                                           if e.code == "DOWNLINK_PAYLOAD_SIZE"]) == d + 1)


async def maximum_payload_per_data_rate_with_f_opts(net: Network) -> None:
    """§2.4.6: M counts FHDR with its FOpts. With LinkCheckAns (3 bytes of FOpts) to send, an item of N - 3
    bytes goes beside it in one frame of exactly M; an item of N - 2 would exceed M, so the answer goes alone
    (FPending set) and the item on the next uplink (TS001-1.0.4 §4.3.1.4, §5)."""
    dev = await quiet_abp(net, "26011063")
    dev.adr = False  # no LinkADRReq competing for the FOpts in these 18 uplinks
    for dr in range(6):
        n = MAX_MAC_PAYLOAD[dr] - 8
        check = [Command("LinkCheckReq")]
        await net.enqueue(dev, 10, bytes(n - 3))
        got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=dr, commands=check))
        assert got is not None and got.window == "rx1" and got.downlink is not None, dr
        down = got.downlink
        assert (down.f_opts_size, len(down.payload), down.mac_payload_size) == (3, n - 3, MAX_MAC_PAYLOAD[dr]), dr
        await net.enqueue(dev, 10, bytes(n - 2))
        got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=dr, commands=check))
        assert got is not None and got.downlink is not None, dr
        down = got.downlink
        assert "LinkCheckAns" in [c.name for c in down.commands] and down.payload == b"" and down.f_pending, dr
        got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=dr))
        assert got is not None and got.downlink is not None and len(got.downlink.payload) == n - 2, dr
        assert got.downlink.mac_payload_size == MAX_MAC_PAYLOAD[dr] - 2  # FHDR 7 + FPort 1 + N - 2


async def gateway_power_rx1_and_rx2(net: Network) -> None:
    """§2.4.3 with ETSI EN 300 220: the gateway transmits at 14 dBm (25 mW) in RX1's g1 sub-band and 27 dBm
    (500 mW) in g3 where RX2 sits; the forwarder's TOO_LATE on RX1 makes the server offer RX2."""
    late = await net.udp_gateway(tx_ack_errors=["TOO_LATE"])
    dev = Device.generate("1.0.4")
    await net.activate_abp(dev, "26011061", codec="dragino-ldds75")
    sent = net.air.send(dev.uplink(2, PAYLOAD, confirmed=True), via=[late])
    rx1 = await net.air.next_transmission()
    rx2 = await net.air.next_transmission()
    assert rx1 is not None and rx2 is not None
    assert (net.air.window_of(dev, sent, rx1), rx1.power) == ("rx1", 14)
    assert (net.air.window_of(dev, sent, rx2), rx2.power, rx2.frequency) == ("rx2", 27, 869_525_000)


async def rx1_duty_cycle_spent_moves_to_rx2(net: Network) -> None:
    """§2.4 sub-bands (ETSI EN 300 220): a gateway may transmit 1 % of the hour in g1 (868.0-868.6 MHz, RX1 on
    the default channels), 10 % in g3 (RX2). Once 36 s of RX1 are spent, answers go to RX2."""
    dev = await quiet_abp(net, "26011062")
    windows = []
    for _ in range(20):  # DR0 answers of 51 bytes: ~2.6 s each
        await net.enqueue(dev, 10, bytes(51))
        got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=0, channel=0))
        assert got is not None and got.downlink is not None
        windows.append(got.window)
        if got.window == "rx2":
            break
    assert windows[-1] == "rx2" and set(windows[:-1]) == {"rx1"} and 10 <= len(windows) <= 15, windows


CASES: dict[str, Case] = {
    "2.4.4 CFList channels in the join-accept": cf_list_in_the_join_accept,
    "2.4.7 RX1 on the uplink channel": rx1_on_the_uplink_channel_for_every_channel,
    "2.4.6 maximum payload per DR": maximum_payload_per_data_rate,
    "2.4.6 maximum payload per DR with FOpts": maximum_payload_per_data_rate_with_f_opts,
    "2.4.3 gateway power RX1 14 dBm RX2 27 dBm": gateway_power_rx1_and_rx2,
    "2.4 g1 duty cycle spent: RX2": rx1_duty_cycle_spent_moves_to_rx2,
}


@pytest.mark.slow
@pytest.mark.parametrize("rule", list(CASES))
def test_rp002_eu868(rule: str, sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            await CASES[rule](net)

    asyncio.run(run())
