"""Conformance to LoRaWAN TS001-1.1, table-driven: each case is named after the rule and the section it checks.

Devices and gateways are the independent emulator's (tests/support/emulator); frames go over the real Semtech UDP
connector (and mosquitto for the server's MQTT backend and API side); what the device accepts is the verdict.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.integration.conformance.network import Network, network, wait_until
from tests.integration.conformance.test_ts001_104 import dev_nonce_counter_per_join_eui
from tests.support.emulator.device import Device, ForcedRejoin
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


async def adr_param_setup_sets_the_adr_back_off(net: Network) -> None:
    """§5.11: ADRParamSetupReq (ADRparam: Limit_exp bits 7:4, Delay_exp bits 3:0) with the network's 2 and 1:
    ADR_ACK_LIMIT 4 instead of RP002's 64; the device answers ADRParamSetupAns and from then on asks for a
    downlink (ADRACKReq, 1.0.4 §4.3.1.1) after 4 uplinks without one, which the server answers."""
    dev = await joined(net)
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None
    assert [c.payload for c in got.downlink.commands if c.name == "ADRParamSetupReq"] == [bytes((0x21,))]
    assert (dev.adr_ack_limit, dev.adr_ack_delay) == (4, 2)
    for _ in range(3):  # the answers (ADRParamSetupAns, DevStatusAns), then two more: nothing to say
        assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None
    session = net.h.server.sessions.for_dev_eui(dev.dev_eui)
    assert session is not None and (session.adr_ack_limit_exp, session.adr_ack_delay_exp) == (2, 1)
    fourth = dev.uplink(2, PAYLOAD)
    assert fourth.phy[5] & 0x40, "ADRACKReq after ADR_ACK_LIMIT (4) uplinks without a downlink"
    got = await net.exchange(dev, fourth)
    assert got is not None and got.accepted and dev.adr_ack_cnt == 0
    assert "ADRParamSetupReq" not in [c.name for c in got.downlink.commands]  # type: ignore[union-attr]


async def rejoin_param_setup_periodic_rejoin(net: Network) -> None:
    """§5.14: RejoinParamSetupReq (MaxTimeN bits 7:4, MaxCountN bits 3:0) with the network's 3 and 0: a
    rejoin-request type 0 at least every 2^(0+4) = 16 uplinks. A device without a clock answers TimeOK 0, which
    is no refusal (the count applies; not asked again). Its periodic type 0 rejoin is answered (§6.2.4.1) and
    the new session asks again (a type 0 rejoin starts from the network's defaults, like a join)."""
    dev = await joined(net)
    dev.has_clock = False
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None
    assert [c.payload for c in got.downlink.commands if c.name == "RejoinParamSetupReq"] == [bytes((0x30,))]
    assert dev.rejoin_every == 16
    assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None  # RejoinParamSetupAns TimeOK 0

    def applied() -> bool:
        s = net.h.server.sessions.for_dev_eui(dev.dev_eui)
        return s is not None and (s.rejoin_max_count_n, s.rejoin_max_time_n, s.rejoin_time_ok) == (0, 3, False)

    await wait_until(applied)
    while not dev.rejoin_due:
        net.send(dev.uplink(2, PAYLOAD))
        await asyncio.sleep(0.12)
    assert dev.uplinks_since_rejoin == 16
    assert len(await net.wait_readings(dev.dev_eui, 16)) == 16
    await drain_quiet(net)
    old_addr = dev.dev_addr
    got = await net.rejoin(dev, 0)
    assert got is not None and got.accepted and dev.dev_addr != old_addr and dev.rejoin_every is None
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))  # RekeyInd under the new keys
    assert got is not None and got.downlink is not None and not dev.rekey_pending
    assert "RejoinParamSetupReq" in [c.name for c in got.downlink.commands] and dev.rejoin_every == 16


async def drain_quiet(net: Network) -> None:
    """Nothing was sent to the device in the meantime (its uplinks needed no answer)."""
    assert await net.air.next_transmission(0.3) is None


async def mac_commands_of_1_1_never_reach_a_1_0_device(net: Network) -> None:
    """CIDs 0x0C (ADRParamSetupReq) and 0x0F (RejoinParamSetupReq) exist from 1.1 on: a 1.0.4 device stops
    reading its FOpts at a CID it does not know (1.0.4 §5), so the network sends them to 1.1 devices only."""
    old = Device.generate("1.0.4")
    await net.activate_abp(old, "26011112", codec="dragino-ldds75")
    new = await joined(net)
    for dev in (old, new):
        assert await net.exchange(dev, dev.uplink(2, PAYLOAD)) is not None
        await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0)  # the 1.0.4 device: the plan's answers
    names = {c.name for c in old.received}
    assert "DevStatusReq" in names and not names & {"ADRParamSetupReq", "RejoinParamSetupReq"}, names
    assert {"ADRParamSetupReq", "RejoinParamSetupReq"} <= {c.name for c in new.received}


async def ack_of_a_confirmed_uplink_carries_conf_f_cnt(net: Network) -> None:
    """§4.4.1: the MIC of a downlink with ACK=1 covers ConfFCnt, the acknowledged uplink's FCnt modulo 2^16 (in
    B0); with FCntUp past 65,535 (§4.3.1.5) the 16 low bits differ from the counter. The device accepts the ACK
    only when the server put exactly that in: 65,541 -> 5."""
    dev = Device.generate("1.1")
    await net.activate_abp(dev, "26011113", f_cnt_up=65_540, codec="dragino-ldds75")
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))  # ResetInd -> ResetConf (and DevStatusReq)
    assert got is not None and got.accepted and not dev.reset_pending
    up = dev.uplink(2, PAYLOAD, confirmed=True)
    assert up.f_cnt == 65_541
    got = await net.exchange(dev, up)
    assert got is not None and got.accepted and got.downlink is not None and got.downlink.ack
    assert [r["f_cnt"] for r in await net.wait_readings(dev.dev_eui, 2)].count(65_541) == 1


async def force_rejoin(net: Network, dev: Device, **body: int) -> Any:
    return await net.h.api.post(f"/api/v1/devices/{dev.dev_eui}/force-rejoin", json=body)


async def force_rejoin_req_from_the_api(net: Network, rejoin_type: int) -> None:
    """§5.13 and §6.2.4: the operator's ForceRejoinReq (API) goes with the device's next class A answer, once; the
    device sends the rejoin-request of the type and at the DR it was given, the server answers it with a
    join-accept in the device's windows, and the new session is confirmed by RekeyInd/RekeyConf (§5.10). Type 0
    starts from the network's radio defaults again, type 2 keeps the device's (§6.2.4.1)."""
    dev = await joined(net)
    await first_uplink(net, dev)
    first = await force_rejoin(net, dev, rejoin_type=0)  # replaced by the next one before it is sent
    assert first.status_code == 202, first.text
    r = await force_rejoin(net, dev, rejoin_type=rejoin_type, max_retries=2, period=1, dr=3)
    assert r.status_code == 202, r.text
    # §5.13: DR bits 3:0, RejoinType 6:4, Max_Retries 10:8, Period 13:11 of a little-endian 16-bit payload
    assert r.json()["mac_command_hex"] == f"0e{rejoin_type << 4 | 3:02x}{1 << 3 | 2:02x}"
    assert r.json()["replaced"] == 1
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None and got.downlink.f_port == 0
    assert [c.name for c in got.downlink.commands].count("ForceRejoinReq") == 1
    assert dev.force_rejoin == ForcedRejoin(rejoin_type, 3, 2, 1)
    assert dev.force_rejoin.transmissions == 3 and dev.force_rejoin.delay_range_s() == (64, 96)
    queue = await net.h.api.get(f"/api/v1/devices/{dev.dev_eui}/queue")
    assert queue.status_code == 200 and queue.json() == []  # sent: it left the queue
    old_addr, radio = dev.dev_addr, (dev.rx1_delay, dev.rx2_dr, dev.rx2_frequency)
    rejoin = dev.forced_rejoin_request()
    assert rejoin.dr == 3 and rejoin.phy[1] == rejoin_type
    got = await net.air.receive(dev, net.send(rejoin, rejoin=True), timeout=5.0)
    assert got is not None and got.accepted and got.window == "rx1", got
    assert dev.dev_addr != old_addr and dev.rekey_pending and dev.force_rejoin is None
    assert (dev.rx1_delay, dev.rx2_dr, dev.rx2_frequency) == radio  # the network's plan equals the defaults here
    await first_uplink(net, dev)  # RekeyInd under the new keys -> RekeyConf
    assert len(await net.wait_readings(dev.dev_eui, 3)) == 3
    assert old_addr is not None
    await wait_until(lambda: net.h.server.sessions.for_dev_addr(old_addr) == [])
    assert [c.name for c in dev.received].count("ForceRejoinReq") == 1  # sent once, never again


async def force_rejoin_req_to_class_c_at_once(net: Network) -> None:
    """§5.13 with class C (§18): a class C device listens all the time, so the command goes out at once on the
    RX2 parameters, without waiting for an uplink; its rejoin type 2 is answered and used."""
    dev = await joined(net, device_class="C")
    await first_uplink(net, dev)
    r = await force_rejoin(net, dev, rejoin_type=2, dr=5)
    assert r.status_code == 202, r.text
    got = await net.air.receive(dev, None, timeout=5.0)
    assert got is not None and got.window == "class_c" and got.downlink is not None
    assert [c.name for c in got.downlink.commands] == ["ForceRejoinReq"]
    assert dev.force_rejoin == ForcedRejoin(2, 5, 0, 0)
    old_addr = dev.dev_addr
    got = await net.air.receive(dev, net.send(dev.forced_rejoin_request(), rejoin=True), timeout=5.0)
    assert got is not None and got.accepted and dev.dev_addr != old_addr
    await first_uplink(net, dev)
    assert len(await net.wait_readings(dev.dev_eui, 2)) == 2


async def force_rejoin_req_only_where_it_exists(net: Network) -> None:
    """§5.13: ForceRejoinReq (CID 0x0E) exists from LoRaWAN 1.1 on, and a rejoin is answered under keys derived
    from NwkKey (§6.2.3): the API refuses it, with a clear 409, for a 1.0.4 device, a device without a session
    and an ABP 1.1 device, and refuses with 422 every field out of the §5.13 ranges or a DR EU868 does not have
    (RP002-1.0.4 §2.4.3: DR0-7). Nothing is queued or sent for any of them."""
    old = Device.generate("1.0.4")
    await net.register(old, codec="dragino-ldds75")
    await net.join(old)
    abp = Device.generate("1.1")
    await net.activate_abp(abp, "26011114", codec="dragino-ldds75")
    unjoined = Device.generate("1.1")
    await net.register(unjoined)
    for dev, code in ((old, "lorawan_1_1_only"), (abp, "no_root_keys"), (unjoined, "not_activated")):
        r = await force_rejoin(net, dev, rejoin_type=0)
        assert r.status_code == 409 and r.json()["error"]["code"] == code, r.text
    dev = await joined(net)
    for body in ({"rejoin_type": 1}, {"rejoin_type": 3}, {"rejoin_type": 0, "max_retries": 8},
                 {"rejoin_type": 0, "period": 8}, {"rejoin_type": 0, "dr": 16}, {"rejoin_type": 0, "dr": -1},
                 {"rejoin_type": 0, "dr": 8}, {"max_retries": 1}, {"rejoin_type": "0"}):
        r = await force_rejoin(net, dev, **body)  # type: ignore[arg-type]
        assert r.status_code == 422, (body, r.text)
    missing = await net.h.api.post("/api/v1/devices/00000000000000ff/force-rejoin", json={"rejoin_type": 0})
    assert missing.status_code == 404, missing.text
    for d in (old, dev):
        assert (await net.h.api.get(f"/api/v1/devices/{d.dev_eui}/queue")).json() == []
        await net.exchange(d, d.uplink(2, PAYLOAD))
    assert "ForceRejoinReq" not in {c.name for c in old.received + dev.received}


NETWORK_11 = {"adr_ack_limit_exp": 2, "adr_ack_delay_exp": 1, "rejoin_max_count_n": 0, "rejoin_max_time_n": 3}

CASES: dict[str, Case | tuple[Case, dict[str, Any]]] = {
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
    "5.11 ADRParamSetupReq sets the ADR back-off": (
        adr_param_setup_sets_the_adr_back_off, {"adr_ack_limit_exp": 2, "adr_ack_delay_exp": 1}),
    "5.14 RejoinParamSetupReq periodic rejoin type 0": (
        rejoin_param_setup_periodic_rejoin, {"rejoin_max_count_n": 0, "rejoin_max_time_n": 3}),
    "5 1.1-only MAC commands never sent to 1.0.4": (mac_commands_of_1_1_never_reach_a_1_0_device, NETWORK_11),
    "6.2.2 DevNonce counter per JoinEUI": functools.partial(dev_nonce_counter_per_join_eui, version="1.1"),
    "4.4.1 ACK downlink MIC carries ConfFCnt (FCnt mod 2^16)": ack_of_a_confirmed_uplink_carries_conf_f_cnt,
    "5.13 ForceRejoinReq (API) rejoin type 0, new session, RekeyConf": functools.partial(
        force_rejoin_req_from_the_api, rejoin_type=0),
    "5.13 ForceRejoinReq (API) rejoin type 2, radio parameters kept": functools.partial(
        force_rejoin_req_from_the_api, rejoin_type=2),
    "5.13 ForceRejoinReq to class C at once": force_rejoin_req_to_class_c_at_once,
    "5.13 ForceRejoinReq refused for 1.0.x, ABP, no session, fields out of range":
        force_rejoin_req_only_where_it_exists,
}


@pytest.mark.slow
@pytest.mark.parametrize("rule", list(CASES))
def test_ts001_1_1(rule: str, sqlite_url: str, mosquitto: Service) -> None:
    entry = CASES[rule]
    case, settings = entry if isinstance(entry, tuple) else (entry, {})

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url, **settings) as net:
            await net.udp_gateway()
            await case(net)

    asyncio.run(run())
