"""End-to-end flows through the embedded server with real mosquitto and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid

import pytest

from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import VirtualUdpGateway
from lora_city.sinks.events import AckEvent, JoinEvent, StatusEvent, TxAckEvent, UplinkEvent
from tests.integration.network.harness import Harness, join, next_downlink, wait_until
from tests.support.services import Service

pytestmark = pytest.mark.integration


def test_join_three_gateways_one_reading_through_the_api(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            gws = [await h.gateway() for _ in range(3)]
            dev = VirtualDevice.generate("milesight-em300-di")
            await h.register(dev)
            accept = await join(h, dev, gws)
            assert accept.tmst is not None and not accept.immediately
            assert len(h.recording.of(JoinEvent)) == 1
            info = (await h.api.get(f"/api/v1/devices/{dev.dev_eui}")).json()
            assert info["joined"] is True and info["dev_addr"] == dev.dev_addr

            port, payload = 85, b"\x01\x75\x5c\x05\xc8\x00\x01\x00\x00"  # battery 92 %, 256 pulses
            phy = dev.uplink(port, payload)
            for i, gw in enumerate(gws):
                await gw.send_uplink(phy, snr=5.0 - i, rssi=-90.0 - i)

            async def readings() -> list[dict[str, object]]:
                r = await h.api.get(f"/api/v1/devices/{dev.dev_eui}/readings", params={"limit": 10})
                assert r.status_code == 200, r.text
                return list(r.json()["items"])

            deadline = time.monotonic() + 10
            items = await readings()
            while not items and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                items = await readings()
            assert len(items) == 1
            reading = items[0]
            assert reading["f_cnt"] == 0 and reading["f_port"] == 85
            assert reading["data"] == {"battery": 92, "pulse": 256}
            assert reading["measurements"]
            assert sorted(rx["gateway_id"] for rx in reading["rx"]) == sorted(g.gateway_id for g in gws)
            ups = h.recording.of(UplinkEvent)
            assert len(ups) == 1 and ups[0].copies == 3
            # The first uplink of a session asks for the device status (DevStatusReq) in RX1 of the best gateway.
            down = await next_downlink(gws[0])
            got = dev.receive(down.phy_payload)
            assert got is not None and [c.name for c in got.mac_commands] == ["DevStatusReq"]
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())


def test_confirmed_uplink_ack_leaves_inside_rx1(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url, dedup_window_ms=200)
        await h.start()
        try:
            gws = [await h.gateway() for _ in range(2)]
            dev = VirtualDevice.generate("dragino-ldds75")
            await h.register(dev)
            await join(h, dev, gws)
            # First uplink also carries the DevStatusReq; answer it so the measured uplink is a plain one.
            await gws[0].send_uplink(dev.uplink(confirmed=True))
            dev.receive((await next_downlink(gws[0])).phy_payload)
            await wait_until(lambda: len(h.recording.of(TxAckEvent)) >= 2)

            phy = dev.uplink(confirmed=True)
            t0 = time.monotonic()
            await gws[1].send_uplink(phy, snr=-2.0)
            await gws[0].send_uplink(phy, snr=4.0)
            down = await next_downlink(gws[0])
            elapsed = time.monotonic() - t0
            got = dev.receive(down.phy_payload)
            assert got is not None and got.ack
            assert down.tmst is not None and not down.immediately
            # RX1 opens 1 s after the uplink ended; the gateway needs the frame before that (plus its own
            # scheduling margin, ~ 100 ms for a typical packet forwarder).
            assert elapsed < 0.9, elapsed
            assert elapsed >= 0.2  # the dedup window was honoured
            assert len(h.recording.of(StatusEvent)) == 1
            await wait_until(lambda: len(h.recording.of(TxAckEvent)) >= 3)
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())


def test_bad_frames_are_counted_and_good_traffic_goes_on(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url, udp=True)
        await h.start()
        try:
            gw = await h.gateway()
            dev = VirtualDevice.generate("milesight-ws558")
            await h.register(dev)
            await join(h, dev, [gw])
            rng = random.Random(3)
            first = dev.uplink(rng=rng)
            await gw.send_uplink(first)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1)

            # replay: an old frame (lower FCnt) played again long after the dedup cache forgot it
            dev.uplink(rng=rng)  # FCnt 1 sent to nobody
            await gw.send_uplink(dev.uplink(rng=rng))  # FCnt 2
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 2)
            old = dev.uplink(rng=rng, f_cnt=1)
            await gw.send_uplink(old)
            # wrong MIC: flip one MIC bit
            bad_mic = dev.uplink(rng=rng, f_cnt=10)
            await gw.send_uplink(bad_mic[:-1] + bytes((bad_mic[-1] ^ 1,)))
            # unknown DevAddr: another device's session nobody created
            stranger = VirtualDevice.generate()
            stranger.dev_addr, stranger.nwk_s_key, stranger.app_s_key = "01020304", b"\x01" * 16, b"\x02" * 16
            await gw.send_uplink(stranger.uplink())
            # garbage LoRaWAN inside a valid gateway message
            await gw.send_uplink(b"\x40\x01")
            # garbage protobuf and garbage JSON on the event topic
            await gw.publish_raw("event/up", b"\x0a\xff\xff\xff\x01garbage")
            await gw.publish_raw("event/up", b'{"phyPayload": 12, "rxInfo": [')
            # garbage UDP datagram
            assert h.udp is not None
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"\x02\x00garbage", h.udp.local_address)

            good = dev.uplink(rng=rng)
            await gw.send_uplink(good)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 3)
            await wait_until(lambda: h.drops("replay") == 1 and h.drops("bad_mic") == 1
                             and h.drops("unknown_dev_addr") == 1 and h.drops("garbage") == 1)
            bad_gw = sum(
                s.value for m in h.metrics.gateway_bad_input.collect() for s in m.samples
                if s.name.endswith("_total")
            )
            assert bad_gw >= 3  # bad protobuf, bad JSON, bad UDP
            assert [e.f_cnt for e in h.recording.of(UplinkEvent)] == [0, 2, 3]
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())


def test_class_c_downlink_goes_out_at_once(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            gws = [await h.gateway() for _ in range(2)]
            dev = VirtualDevice.generate("milesight-ws558", device_class="C")
            await h.register(dev)
            await join(h, dev, gws)
            await gws[1].send_uplink(dev.uplink(), snr=-5.0)
            dev.receive((await next_downlink(gws[1])).phy_payload)  # DevStatusReq in RX1
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1)

            t0 = time.monotonic()
            r = await h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue",
                                 json={"f_port": 85, "data_hex": "ff1d0100", "confirmed": True})
            assert r.status_code == 201, r.text
            down = await next_downlink(gws[1], timeout=2.0)
            assert time.monotonic() - t0 < 1.0
            assert down.immediately and down.modulation.frequency == 869_525_000
            got = dev.receive(down.phy_payload)
            assert got is not None and got.payload == bytes.fromhex("ff1d0100") and got.confirmed
            # The device acknowledges on its next uplink: AckEvent(acknowledged=True), the queue is empty.
            await gws[1].send_uplink(dev.uplink())
            await wait_until(lambda: len(h.recording.of(AckEvent)) == 1)
            assert h.recording.of(AckEvent)[0].acknowledged is True
            q = await h.api.get(f"/api/v1/devices/{dev.dev_eui}/queue")
            assert q.json() == []
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())


def test_restart_keeps_sessions_and_counters(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            gw = await h.gateway()
            dev = VirtualDevice.generate("milesight-em300-di")
            await h.register(dev)
            await join(h, dev, [gw])
            for _ in range(3):
                await gw.send_uplink(dev.uplink())
                await asyncio.sleep(0.15)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 3)
            down_counter = h.server.sessions.for_dev_eui(dev.dev_eui).n_f_cnt_down  # type: ignore[union-attr]
            await h.stop()

            await h.start()  # a new server on the same database: nothing in memory
            await gw.send_uplink(dev.uplink(f_cnt=1))  # replay of an old frame
            await gw.send_uplink(dev.uplink())  # FCnt 3: accepted
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1)
            assert h.recording.of(UplinkEvent)[0].f_cnt == 3
            await wait_until(lambda: h.drops("replay") == 1)
            session = h.server.sessions.for_dev_eui(dev.dev_eui)
            assert session is not None and session.n_f_cnt_down == down_counter

            # A confirmed uplink repeated by the device (no ACK heard) is a retransmission: ACKed again, one
            # reading; the same unconfirmed frame repeated beyond NbTrans is a replay.
            while not gw.downlinks.empty():  # earlier answers (DevStatusReq): the device reads them first
                dev.receive(gw.downlinks.get_nowait().phy_payload)
            confirmed = dev.uplink(confirmed=True)
            await gw.send_uplink(confirmed)
            first = await next_downlink(gw)
            await asyncio.sleep(0.7)  # past the late-copy window (0.5 s here): a new transmission
            await gw.send_uplink(confirmed)
            again = await next_downlink(gw)
            for down in (first, again):
                got = dev.receive(down.phy_payload)
                assert got is not None and got.ack
            plain = dev.uplink()
            await gw.send_uplink(plain)
            await asyncio.sleep(0.7)
            await gw.send_uplink(plain)
            await wait_until(lambda: h.drops("replay") == 2)
            assert [e.f_cnt for e in h.recording.of(UplinkEvent)] == [3, 4, 5]
            assert h.counter("lora_city_uplinks_total", kind="retransmission") == 1

            # The join-request from before the restart, replayed byte for byte: its DevNonce was used.
            dev.dev_nonce -= 1
            await gw.send_uplink(dev.join_request(), spreading_factor=9)
            await wait_until(lambda: h.drops("dev_nonce_replay") == 1)
            assert h.recording.of(JoinEvent) == []
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())


def test_confirmed_downlink_retries_over_udp_then_nack(database_url: str, mosquitto: Service) -> None:
    """Semtech UDP end to end: join, a confirmed queue item resent on each uplink without ACK, given up after
    three retries with AckEvent(acknowledged=False)."""

    async def run() -> None:
        h = Harness(database_url, mosquitto.url, udp=True)
        await h.start()
        try:
            assert h.udp is not None
            gw = VirtualUdpGateway(h.udp.local_address, uuid.uuid4().hex[:16])
            r = await h.api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id, "name": "udp"})
            assert r.status_code == 201, r.text
            await gw.start()
            dev = VirtualDevice.generate("milesight-em300-di")
            await h.register(dev)
            gw.send_uplink(dev.join_request(), spreading_factor=9)
            accept = await asyncio.wait_for(gw.downlinks.get(), 10.0)
            assert dev.accept(accept.phy_payload)
            r = await h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue",
                                 json={"f_port": 85, "data_hex": "ff1001", "confirmed": True})
            assert r.status_code == 201, r.text
            f_cnts = []
            for _ in range(4):
                gw.send_uplink(dev.uplink())
                down = await asyncio.wait_for(gw.downlinks.get(), 5.0)
                got = dev.receive(down.phy_payload)
                assert got is not None and got.payload == bytes.fromhex("ff1001") and got.confirmed
                f_cnts.append(got.f_cnt)
                dev.ack_next = False  # the device never acknowledges
            assert f_cnts == sorted(set(f_cnts))  # each retry is a new downlink counter
            gw.send_uplink(dev.uplink())
            await wait_until(lambda: len(h.recording.of(AckEvent)) == 1)
            nack = h.recording.of(AckEvent)[0]
            assert nack.acknowledged is False and nack.f_cnt_down == f_cnts[-1]
            assert (await h.api.get(f"/api/v1/devices/{dev.dev_eui}/queue")).json() == []
            await wait_until(lambda: len(h.recording.of(TxAckEvent)) >= 5)
            await gw.stop()
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())
