"""Conformance to LoRaWAN TS001-1.1, table-driven: each case is named after the rule and the section it checks.

Devices and gateways are the independent emulator's (tests/support/emulator); frames go over the real Semtech UDP
connector (and mosquitto for the server's MQTT backend and API side); what the device accepts is the verdict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.integration.conformance.network import Network, network, wait_until
from tests.support.emulator.device import Device
from tests.support.emulator.mac import Command
from tests.support.services import Service

pytestmark = pytest.mark.integration

PAYLOAD = bytes.fromhex("0ce40cb0002a0101")  # Dragino LDDS75 (FPort 2)
Case = Callable[[Network], Awaitable[None]]


async def joined(net: Network, *, device_class: str = "A") -> Device:
    dev = Device.generate("1.1", device_class=device_class)
    await net.register(dev, codec="dragino-ldds75")
    await net.join(dev)
    return dev


async def first_uplink(net: Network, dev: Device) -> None:
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None and not dev.rekey_pending


async def rekey_ind_until_rekey_conf(net: Network) -> None:
    """§5.10: after a join with OptNeg the device sends RekeyInd in every uplink until it receives RekeyConf."""
    dev = await joined(net)
    lost = net.send(dev.uplink(2, PAYLOAD))  # the RekeyConf of this one is lost on the air
    tx = await net.air.next_transmission()
    assert tx is not None and dev.rekey_pending and lost.uplink.f_cnt == 0
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None
    assert [c.payload for c in got.downlink.commands if c.name == "RekeyConf"] == [b"\x01"]  # minor 1
    assert not dev.rekey_pending


async def f_opts_encrypted_both_ways(net: Network) -> None:
    """§4.3.1.6 with the errata: FOpts are encrypted with NwkSEncKey, uplink under FCntUp, a downlink with
    application data under AFCntDown (counter byte 0x02): LinkCheckReq up, LinkCheckAns beside an item."""
    dev = await joined(net)
    await first_uplink(net, dev)
    await net.enqueue(dev, 10, b"\x2a")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, commands=[Command("LinkCheckReq")]))
    assert got is not None and got.downlink is not None
    assert got.downlink.f_port == 10 and got.downlink.payload == b"\x2a" and got.downlink.f_opts_size == 3
    [ans] = [c for c in got.downlink.commands if c.name == "LinkCheckAns"]
    assert ans.payload[1] == 1  # GwCnt: one gateway heard it (§5.2)


async def separate_network_and_application_counters(net: Network) -> None:
    """§4.3.1.5: MAC-only downlinks count NFCntDown, application downlinks AFCntDown, each from 0."""
    dev = await joined(net)
    await first_uplink(net, dev)  # RekeyConf (+ DevStatusReq): NFCntDown 0
    assert (dev.n_f_cnt_down, dev.a_f_cnt_down) == (0, None)
    await net.enqueue(dev, 10, b"\x01")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None and got.downlink.f_port == 10
    assert (dev.n_f_cnt_down, dev.a_f_cnt_down) == (0, 0)
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, commands=[Command("LinkCheckReq")]))
    assert got is not None and got.downlink is not None and got.downlink.f_port == 0
    assert (dev.n_f_cnt_down, dev.a_f_cnt_down) == (1, 0)


async def rejoin_type_0_new_session_old_one_until_used(net: Network) -> None:
    """§6.2.4.1: rejoin type 0 (NetID|DevEUI|RJcount0 under SNwkSIntKey) is answered with a join-accept under
    JSEncKey/JSIntKey; the server keeps the old context until the device speaks under the new one, then the
    old DevAddr is gone."""
    dev = await joined(net)
    await first_uplink(net, dev)
    old_addr = dev.dev_addr
    got = await net.rejoin(dev, 0)
    assert got is not None and got.accepted and got.window == "rx1", got
    assert dev.dev_addr != old_addr and dev.rekey_pending
    await first_uplink(net, dev)  # RekeyInd under the new keys -> RekeyConf
    readings = await net.wait_readings(dev.dev_eui, 2)
    assert len(readings) == 2
    assert old_addr is not None
    await wait_until(lambda: net.h.server.sessions.for_dev_addr(old_addr) == [])


async def rejoin_accept_lost_keeps_the_current_context(net: Network) -> None:
    """§6.2.4: a device that did not receive the rejoin's join-accept keeps using its session, which the server
    still serves; a later rejoin (RJcount0 + 1) is answered and used."""
    dev = await joined(net)
    await first_uplink(net, dev)
    net.send(dev.rejoin_request(0, dr=dev.dr), rejoin=True)
    assert await net.air.next_transmission() is not None  # the accept, lost on the air
    net.send(dev.uplink(2, PAYLOAD))
    assert len(await net.wait_readings(dev.dev_eui, 2)) == 2
    got = await net.rejoin(dev, 0)
    assert got is not None and got.accepted
    await first_uplink(net, dev)
    assert len(await net.wait_readings(dev.dev_eui, 3)) == 3


async def rejoin_type_2_keeps_radio_parameters(net: Network) -> None:
    """§6.2.4.1: type 2 changes DevAddr, keys and counters and keeps the radio parameters."""
    dev = await joined(net)
    await first_uplink(net, dev)
    old_addr = dev.dev_addr
    got = await net.rejoin(dev, 2)
    assert got is not None and got.accepted and dev.dev_addr != old_addr
    await first_uplink(net, dev)
    assert len(await net.wait_readings(dev.dev_eui, 2)) == 2


async def rejoin_type_1_under_js_int_key(net: Network) -> None:
    """§6.2.4.2: type 1 (JoinEUI|DevEUI|RJcount1) is signed with JSIntKey, answered like a join-request."""
    dev = await joined(net)
    await first_uplink(net, dev)
    got = await net.rejoin(dev, 1)
    assert got is not None and got.accepted
    await first_uplink(net, dev)
    assert len(await net.wait_readings(dev.dev_eui, 2)) == 2


async def rejoin_counter_replay_is_dropped(net: Network) -> None:
    """§6.2.4.1: RJcount0 grows with every type 0/2 rejoin of a session; a repeated one is a replay."""
    dev = await joined(net)
    await first_uplink(net, dev)
    request = dev.rejoin_request(0, dr=dev.dr)
    sent = net.send(request, rejoin=True)
    assert await net.air.next_transmission() is not None  # answered (lost): the device stays on its session
    await asyncio.sleep(0.7)  # past the late-copy window: a new transmission of the same bytes
    net.air.send(sent.uplink, rejoin=True)
    await wait_until(lambda: net.drops("rj_count_replay") == 1)
    await net.air.silence(0.5)


async def abp_reset_ind_until_reset_conf(net: Network) -> None:
    """§5.1: a 1.1 ABP device sends ResetInd until ResetConf (minor 1)."""
    dev = Device.generate("1.1")
    await net.activate_abp(dev, "26011111", codec="dragino-ldds75")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None
    assert [c.payload for c in got.downlink.commands if c.name == "ResetConf"] == [b"\x01"]
    assert not dev.reset_pending


async def class_c_after_the_first_uplink_only(net: Network) -> None:
    """§6.2.3 / class C: the server sends class C downlinks only once the device used its new session (its
    first uplink, carrying RekeyInd); then at once, on RX2 parameters."""
    dev = await joined(net, device_class="C")
    await net.enqueue(dev, 10, b"\x01")
    await net.air.silence(1.0)  # joined, but not yet confirmed by an uplink
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None and got.downlink.payload == b"\x01"
    await net.enqueue(dev, 10, b"\x02")
    got = await net.air.receive(dev, None)
    assert got is not None and got.window == "class_c" and got.downlink is not None
    assert got.downlink.payload == b"\x02"


async def device_mode_ind_switches_to_class_c(net: Network) -> None:
    """§18.1: DeviceModeInd(Class C) is confirmed by DeviceModeConf and the server sends class C downlinks from
    then on, at once on RX2 parameters."""
    dev = await joined(net)
    await first_uplink(net, dev)
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD, commands=[Command("DeviceModeInd", b"\x02")]))
    assert got is not None and got.downlink is not None
    assert [c.payload for c in got.downlink.commands if c.name == "DeviceModeConf"] == [b"\x02"]
    dev.device_class = "C"
    await net.enqueue(dev, 10, b"\x03")
    got = await net.air.receive(dev, None)
    assert got is not None and got.window == "class_c" and got.downlink is not None and got.downlink.payload == b"\x03"


CASES: dict[str, Case] = {
    "5.10 RekeyInd repeated until RekeyConf": rekey_ind_until_rekey_conf,
    "4.3.1.6 FOpts encrypted both ways (errata counter byte)": f_opts_encrypted_both_ways,
    "4.3.1.5 NFCntDown and AFCntDown": separate_network_and_application_counters,
    "6.2.4.1 rejoin type 0 new session, old one until used": rejoin_type_0_new_session_old_one_until_used,
    "6.2.4 rejoin accept lost keeps the current context": rejoin_accept_lost_keeps_the_current_context,
    "6.2.4.1 rejoin type 2 keeps radio parameters": rejoin_type_2_keeps_radio_parameters,
    "6.2.4.2 rejoin type 1 under JSIntKey": rejoin_type_1_under_js_int_key,
    "6.2.4.1 RJcount0 replay dropped": rejoin_counter_replay_is_dropped,
    "5.1 ABP ResetInd until ResetConf": abp_reset_ind_until_reset_conf,
    "class C downlinks after the first uplink only": class_c_after_the_first_uplink_only,
    "18.1 DeviceModeInd switches to class C": device_mode_ind_switches_to_class_c,
}


@pytest.mark.slow
@pytest.mark.parametrize("rule", list(CASES))
def test_ts001_1_1(rule: str, sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            await CASES[rule](net)

    asyncio.run(run())
