"""One flow test per defect that the independent emulator found (issue 23), each failing before its fix.

Every test drives the real server (UDP and MQTT gateway connectors, mosquitto, the API, a real database) with
emulated devices and gateways that do not share the server's LoRaWAN code.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.conformance.network import Network, network, wait_until
from tests.support.emulator.device import Device
from tests.support.emulator.mac import Command
from tests.support.services import Service

pytestmark = pytest.mark.integration


def test_defect_10_broken_gateway_copy_is_dropped_alone(sqlite_url: str, mosquitto: Service) -> None:
    """A copy claiming bandwidth 0 or spreading factor 0 (``SF7BW0``, ``SF0BW125`` over UDP, 0 in the protobuf)
    is rejected at the gateway boundary and counted; the other gateways' copies of the same uplink make the
    reading, as if the broken copy had never arrived."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            broken, *good = [await net.udp_gateway() for _ in range(5)]
            mqtt = await net.mqtt_gateway()
            dev = Device.generate("1.0.4")
            await net.activate_abp(dev, "26011001", codec="dragino-ldds75")
            payload = bytes.fromhex("0ce40cb0002a0101")

            for bad_datr in ("SF7BW0", "SF0BW125"):
                up = dev.uplink(2, payload)
                broken.push(broken.rxpk(up, snr=12.0, datr=bad_datr))  # first, and the best SNR
                await asyncio.sleep(0.01)
                for i, gw in enumerate(good):
                    gw.send(up, snr=5.0 - i)
            mqtt_up = dev.uplink(2, payload)
            mqtt.send(mqtt_up, snr=12.0, bandwidth=0)
            await asyncio.sleep(0.01)
            good[0].send(mqtt_up, snr=1.0)
            # a well-formed but lying copy (SF9 where the others heard SF7) must not set the uplink's data rate
            spoofed = dev.uplink(2, payload)
            broken.push(broken.rxpk(spoofed, snr=15.0, datr="SF9BW125"))
            await asyncio.sleep(0.01)
            for gw in good[:2]:
                gw.send(spoofed, snr=2.0)

            items = await net.wait_readings(dev.dev_eui, 4)
            assert sorted(r["f_cnt"] for r in items) == [0, 1, 2, 3]
            copies = {r["f_cnt"]: sorted(rx["gateway_id"] for rx in r["rx"]) for r in items}
            assert copies[0] == copies[1] == sorted(g.gateway_id for g in good)
            assert copies[2] == [good[0].gateway_id]
            assert copies[3] == sorted(g.gateway_id for g in good[:2])
            assert {r["tx"]["dr"] for r in items} == {5}  # SF7/125 kHz, the device's DR (RP002 §2.4.3)
            assert net.drops("error") == 0
            assert net.bad_input("udp", "disagreeing_copy") == 1
            udp_bad = sum(net.bad_input("udp", r) for r in ("bad_bandwidth", "bad_spreading_factor"))
            assert udp_bad == 2
            assert net.bad_input("mqtt", "bad_bandwidth") == 1

    asyncio.run(run())


def test_defect_02_frame_counter_not_increased_is_dropped_counted_and_unanswered(
        sqlite_url: str, mosquitto: Service) -> None:
    """ABP session whose next expected FCnt is 8 (the last one received was 7): an uplink with a valid MIC and
    FCnt 7, or a counter reset to 0, is a replay (TS001-1.0.4 §4.3.1.5: the counter only increases within a
    session): dropped, counted in ``uplink_drops``, no reading, and nothing is transmitted for it."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = Device.generate("1.0.4")
            await net.activate_abp(dev, "26011002", f_cnt_up=8, codec="dragino-ldds75")
            payload = bytes.fromhex("0ce40cb0002a0101")
            before = sum(net.drops(r) for r in ("replay", "f_cnt_replay"))
            for stale in (7, 0):
                assert await net.exchange(dev, dev.uplink(2, payload, f_cnt=stale, confirmed=True),
                                          timeout=1.0) is None
            await wait_until(lambda: net.drops("replay") - before == 2)
            assert await net.readings(dev.dev_eui) == []

            got = await net.exchange(dev, dev.uplink(2, payload, f_cnt=8, confirmed=True))
            assert got is not None and got.downlink is not None and got.downlink.ack
            assert [r["f_cnt"] for r in await net.wait_readings(dev.dev_eui, 1)] == [8]
            # a different frame with the counter just used, and counters below it, are replays too
            for stale in (8, 7, 0):
                assert await net.exchange(dev, dev.uplink(2, payload + b"\x00", f_cnt=stale, confirmed=True),
                                          timeout=1.0) is None
            await wait_until(lambda: net.drops("replay") - before == 5)
            assert [r["f_cnt"] for r in await net.readings(dev.dev_eui)] == [8]

    asyncio.run(run())


def test_defect_01_gateway_made_private_through_the_api_applies_to_the_next_frame(
        sqlite_url: str, mosquitto: Service) -> None:
    """A gateway registered through the API as private to tenant B carries no uplink of tenant A's device from
    the next frame on, with no reload period (GATEWAY_RELOAD_S) in between; made public again, it carries the
    next one; deleted, it is forgotten at once too."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            h = net.h
            gw = await net.udp_gateway(register=False)
            lessee = (await h.api.post("/api/v1/tenants", json={"name": "Parkings", "slug": "parkings"})).json()
            r = await h.api.post("/api/v1/gateways", json={
                "gateway_id": gw.gateway_id, "name": "parking roof", "tenant_id": lessee["id"],
                "private_up": True, "private_down": True})
            assert r.status_code == 201, r.text
            dev = Device.generate("1.0.4")  # the city's device (tenant A)
            await net.activate_abp(dev, "26011003", codec="dragino-ldds75")
            payload = bytes.fromhex("0ce40cb0002a0101")

            assert await net.exchange(dev, dev.uplink(2, payload), timeout=0.5) is None
            await wait_until(lambda: net.drops("private_gateway") == 1)
            assert await net.readings(dev.dev_eui) == []

            r = await h.api.patch(f"/api/v1/gateways/{gw.gateway_id}", json={"private_up": False})
            assert r.status_code == 200, r.text
            net.send(dev.uplink(2, payload))
            assert [x["f_cnt"] for x in await net.wait_readings(dev.dev_eui, 1)] == [1]

            r = await h.api.patch(f"/api/v1/gateways/{gw.gateway_id}", json={"private_up": True})
            assert r.status_code == 200, r.text
            net.send(dev.uplink(2, payload))
            await wait_until(lambda: net.drops("private_gateway") == 2)
            assert len(await net.readings(dev.dev_eui)) == 1

    asyncio.run(run())


def test_defect_11_unregistered_gateways_are_dropped_counted_and_listed(
        database_url: str, mosquitto: Service) -> None:
    """Frames relayed by gateways nobody registered are not handled (nor billed: no event carries them); each
    such gateway is listed with its count for the operator to register; once registered it is served at once.
    ``allow_unknown_gateways`` turns the default around."""

    async def run() -> None:
        async with network(database_url, mosquitto.url) as net:
            h = net.h
            city = await net.udp_gateway()
            stranger = await net.udp_gateway(register=False)
            stranger_mqtt = await net.mqtt_gateway(register=False)
            dev = Device.generate("1.0.4")
            await net.activate_abp(dev, "26011011", codec="dragino-ldds75")
            payload = bytes.fromhex("0ce40cb0002a0101")

            net.send(dev.uplink(2, payload), via=[stranger])
            net.send(dev.uplink(2, payload), via=[stranger_mqtt])
            await wait_until(lambda: net.drops("unknown_gateway") == 2)
            net.send(dev.uplink(2, payload), via=[city, stranger])
            readings = await net.wait_readings(dev.dev_eui, 1)
            assert [(r["f_cnt"], [rx["gateway_id"] for rx in r["rx"]]) for r in readings] == [(2, [city.gateway_id])]
            assert net.drops("unknown_gateway") == 3
            from lora_city.sinks.events import UplinkEvent
            assert [e.copies for e in h.recording.of(UplinkEvent)] == [1]  # billing counts copies: only ours

            await h.server.flush()
            r = await h.api.get("/api/v1/gateways/unknown")
            assert r.status_code == 200, r.text
            listed = {g["gateway_id"]: (g["transport"], g["frames"]) for g in r.json()}
            assert listed == {stranger.gateway_id: ("udp", 2), stranger_mqtt.gateway_id: ("mqtt-protobuf", 1)}

            await net.register_gateway(stranger.gateway_id)
            net.send(dev.uplink(2, payload), via=[stranger])
            assert [r["f_cnt"] for r in await net.wait_readings(dev.dev_eui, 2)] == [3, 2]
            await h.server.flush()
            r = await h.api.get("/api/v1/gateways/unknown")
            assert [g["gateway_id"] for g in r.json()] == [stranger_mqtt.gateway_id]

        async with network(database_url, mosquitto.url, allow_unknown_gateways=True) as net:
            community = await net.udp_gateway(register=False)
            other = Device.generate("1.0.4")
            await net.activate_abp(other, "26011012", codec="dragino-ldds75")
            net.send(other.uplink(2, payload), via=[community])
            assert len(await net.wait_readings(other.dev_eui, 1)) == 1
            assert net.drops("unknown_gateway") == 0

    asyncio.run(run())


async def _joined_11(net: Network, *, codec: str = "dragino-ldds75") -> Device:
    """A LoRaWAN 1.1 device through its join and its first uplink (RekeyInd answered by RekeyConf)."""
    dev = Device.generate("1.1")
    await net.register(dev, codec=codec)
    await net.join(dev)
    assert dev.opt_neg, "a 1.1 network server answers a 1.1 device with OptNeg set (TS001-1.1 §6.2.3)"
    got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
    assert got is not None and got.downlink is not None
    assert "RekeyConf" in [c.name for c in got.downlink.commands] and not dev.rekey_pending
    return dev


PAYLOAD = bytes.fromhex("0ce40cb0002a0101")  # Dragino LDDS75: battery 3300 mV, distance 3248 mm


def test_defect_03_lorawan_11_join_and_first_uplink(sqlite_url: str, mosquitto: Service) -> None:
    """TS001-1.1 §6.2.2: the join-request MIC is computed with NwkKey; the join-accept carries OptNeg, its MIC
    under JSIntKey (§6.2.3) and it is encrypted with NwkKey; the device derives FNwkSIntKey, SNwkSIntKey,
    NwkSEncKey and AppSKey, sends RekeyInd in its (encrypted) FOpts and gets RekeyConf (§5.10)."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = await _joined_11(net)
            assert [r["f_cnt"] for r in await net.wait_readings(dev.dev_eui, 1)] == [0]
            assert net.drops("bad_mic") == 0

    asyncio.run(run())


def test_defect_04_lorawan_11_uplink_acknowledging_a_confirmed_downlink(sqlite_url: str, mosquitto: Service) -> None:
    """TS001-1.1 §4.4.2: an uplink with ACK=1 carries in its MIC's B1 block ConfFCnt, the AFCntDown of the
    confirmed downlink it acknowledges: the server accepts it and the queue item is acknowledged."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = await _joined_11(net)
            await net.enqueue(dev, 10, b"\x01\x02", confirmed=True)
            got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
            assert got is not None and got.downlink is not None and got.downlink.confirmed
            assert got.downlink.f_port == 10 and got.downlink.payload == b"\x01\x02"
            assert dev.ack_next is not None  # the next uplink acknowledges it
            ack_up = dev.uplink(2, PAYLOAD)
            net.send(ack_up)
            items = await net.wait_readings(dev.dev_eui, 3)
            assert sorted(r["f_cnt"] for r in items) == [0, 1, 2]
            from lora_city.sinks.events import AckEvent
            await wait_until(lambda: [e.acknowledged for e in net.h.recording.of(AckEvent)] == [True])
            assert net.drops("bad_mic") == 0

    asyncio.run(run())


def test_defect_05_lorawan_11_class_a_answer_offers_rx1_then_rx2(sqlite_url: str, mosquitto: Service) -> None:
    """Under ordinary load a 1.1 class A answer is scheduled like a 1.0 one: RX1 on the uplink channel at the
    uplink DR minus RX1DROffset, RECEIVE_DELAY1 after the uplink, with RX2 (869.525 MHz DR0, one second later)
    as the gateway's fallback (TS001-1.1 §3.3, RP002-1.0.4 §2.4.7)."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            mqtt = await net.mqtt_gateway()
            dev = await _joined_11(net)
            await net.enqueue(dev, 10, b"\x07")
            sent = net.send(dev.uplink(2, PAYLOAD, dr=5), via=[mqtt])
            got = await net.air.receive(dev, sent)
            assert got is not None and got.window == "rx1", got
            tx = got.transmission
            assert (tx.frequency, tx.dr, tx.delay_after(sent.tmsts[mqtt.gateway_id])) == (sent.uplink.frequency, 5, 1.0)
            assert tx.alternatives == ((869_525_000, 0, 2.0),)

    asyncio.run(run())


def test_defect_06_lorawan_11_item_too_large_for_rx2_goes_in_rx1(sqlite_url: str, mosquitto: Service) -> None:
    """An uplink at DR5 with a 100-byte item queued: RP002 allows 242 bytes at DR5 (RX1) and 51 at DR0 (RX2),
    so the item goes out in RX1 at DR5, alone (no RX2 fallback it could not fit)."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            mqtt = await net.mqtt_gateway()
            dev = await _joined_11(net)
            item = bytes(range(100))
            await net.enqueue(dev, 10, item)
            sent = net.send(dev.uplink(2, PAYLOAD, dr=5), via=[mqtt])
            got = await net.air.receive(dev, sent)
            assert got is not None and got.window == "rx1" and got.downlink is not None
            assert got.downlink.payload == item and got.transmission.dr == 5
            assert got.transmission.alternatives == ()

    asyncio.run(run())


@pytest.mark.parametrize("version", ["1.0.4", "1.1"])
def test_defect_07_mac_answer_and_item_never_exceed_the_regional_maximum(
        version: str, sqlite_url: str, mosquitto: Service) -> None:
    """Device at DR0 (RP002-1.0.4 §2.4.6: M = 59) sends LinkCheckReq while a 51-byte item is queued:
    LinkCheckAns + FPort + 51 bytes would be a 62-byte MACPayload. The MAC answer goes alone with FPending=1
    and the item on the next occasion (in 1.1 under AFCntDown, the answer under NFCntDown)."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            if version == "1.1":
                dev = await _joined_11(net)
            else:
                dev = Device.generate(version)
                await net.activate_abp(dev, "26011007", codec="dragino-ldds75")
                first = await net.exchange(dev, dev.uplink(2, PAYLOAD))  # its DevStatusReq, answered next time
                assert first is not None
            item = bytes(range(51))
            await net.enqueue(dev, 10, item)
            got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=0, commands=[Command("LinkCheckReq")]))
            assert got is not None and got.downlink is not None
            down = got.downlink
            assert "LinkCheckAns" in [c.name for c in down.commands]
            assert down.mac_payload_size <= 59 and down.f_pending and down.payload == b""
            nfcnt = dev.n_f_cnt_down
            got = await net.exchange(dev, dev.uplink(2, PAYLOAD, dr=0))
            assert got is not None and got.downlink is not None
            assert (got.downlink.f_port, got.downlink.payload) == (10, item)
            assert got.downlink.mac_payload_size == 59  # FHDR 7 + FPort 1 + 51: exactly RP002's M at DR0
            if version == "1.1":
                assert dev.a_f_cnt_down == 0 and dev.n_f_cnt_down == nfcnt  # the item took AFCntDown

    asyncio.run(run())


@pytest.mark.parametrize("answer", ["RXTimingSetupAns", "RXParamSetupAns", "DlChannelAns"])
def test_defect_08_sticky_mac_answers_get_a_downlink(answer: str, sqlite_url: str, mosquitto: Service) -> None:
    """TS001-1.0.4 §5.5, §5.8, §5.10: the device repeats RXParamSetupAns, RXTimingSetupAns and DlChannelAns in
    every uplink until it receives a class A downlink; the server answers such an uplink, even with nothing."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = Device.generate("1.0.4")
            await net.activate_abp(dev, "26011008", codec="dragino-ldds75")
            assert await net.exchange(dev, dev.uplink(2, PAYLOAD)) is not None  # DevStatusReq
            assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None  # nothing to say
            payload = {"RXTimingSetupAns": b"", "RXParamSetupAns": b"\x07", "DlChannelAns": b"\x03"}[answer]
            dev.sticky = [Command(answer, payload)]
            got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
            assert got is not None and got.accepted and dev.sticky == []
            assert await net.exchange(dev, dev.uplink(2, PAYLOAD), timeout=1.0) is None  # answered: quiet again

    asyncio.run(run())


def test_defect_09_dev_status_answer_reaches_the_device(sqlite_url: str, mosquitto: Service) -> None:
    """TS001-1.0.4 §5.6: DevStatusAns battery 128 (1..254 scale) and margin 10 dB: the device shows 50.39 % and
    10 dB with the time of the answer, and every answer stays in the device's events."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            h = net.h
            await net.udp_gateway()
            dev = Device.generate("1.0.4")
            dev.battery, dev.margin = 128, 10
            await net.activate_abp(dev, "26011009", codec="dragino-ldds75")
            got = await net.exchange(dev, dev.uplink(2, PAYLOAD))
            assert got is not None and got.downlink is not None
            assert "DevStatusReq" in [c.name for c in got.downlink.commands]
            net.send(dev.uplink(2, PAYLOAD))  # carries DevStatusAns
            await net.wait_readings(dev.dev_eui, 2)

            async def shown() -> dict[str, object]:
                r = await h.api.get(f"/api/v1/devices/{dev.dev_eui}")
                assert r.status_code == 200, r.text
                return dict(r.json())

            for _ in range(100):
                info = await shown()
                if info["battery_level"] is not None:
                    break
                await asyncio.sleep(0.05)
            assert info["battery_level"] == 50.39 and info["margin"] == 10
            assert info["status_at"] is not None
            r = await h.api.get(f"/api/v1/devices/{dev.dev_eui}/events", params={"kind": "status"})
            assert r.status_code == 200, r.text
            [event] = r.json()["items"]
            assert event["body"]["batteryLevel"] == 50.39 and event["body"]["margin"] == 10

    asyncio.run(run())


def test_abp_counters_are_documented_in_the_api(sqlite_url: str, mosquitto: Service) -> None:
    """Issue 23: the API docs state what ABP activation's counters mean (next expected, not last received)."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            spec = (await net.h.api.get("/api/v1/openapi.json")).json()
            fields = spec["components"]["schemas"]["AbpActivation"]["properties"]
            assert "next" in fields["f_cnt_up"]["description"].lower()
            assert "last one received + 1" in fields["f_cnt_up"]["description"]
            route = spec["paths"]["/api/v1/devices/{dev_eui}/activate"]["post"]
            assert "Counters are the next ones" in " ".join(route["description"].split())

    asyncio.run(run())
