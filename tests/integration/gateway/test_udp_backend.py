"""VirtualUdpGateway ↔ UdpGatewayBackend over real loopback UDP sockets."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from lora_city.gateway import semtech as st
from lora_city.gateway.frames import DownlinkFrame, DownlinkItem, LoRaModulation, TimingKind, Transport
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.udp_backend import UdpGatewayBackend
from lora_city.metrics import Metrics
from lora_city.settings import Settings
from lora_city.simulate.gateways import VirtualUdpGateway
from tests.integration.gateway.conftest import RecordingEvents, bad_input, gateway_id, next_item, wait_until

pytestmark = pytest.mark.integration


async def _setup() -> tuple[UdpGatewayBackend, RecordingEvents, Metrics, GatewayHealth]:
    metrics = Metrics()
    health = GatewayHealth(metrics)
    backend = UdpGatewayBackend(Settings(udp_listen="127.0.0.1:0"), metrics, health=health)
    events = RecordingEvents()
    await backend.start(events)
    return backend, events, metrics, health


def _class_a(gw: str, context: bytes) -> DownlinkFrame:
    return DownlinkFrame(gw, 31, [
        DownlinkItem(b"\x60\x01\x02", LoRaModulation(868_100_000, 7, 125_000), 14, TimingKind.DELAY, 1, context),
        DownlinkItem(b"\x60\x01\x02", LoRaModulation(869_525_000, 12, 125_000), 27, TimingKind.DELAY, 2, context),
    ])


def test_push_pull_uplink_downlink_and_tx_ack() -> None:
    async def run() -> None:
        backend, events, metrics, health = await _setup()
        gw_id = gateway_id()
        gw = VirtualUdpGateway(backend.local_address, gw_id)
        try:
            await gw.start()
            assert backend.knows(gw_id) and health.is_online(gw_id)
            sent = gw.send_uplink(b"\x40\x04\x03\x02\x01\x80\x05\x00\x07\xaa", frequency=867_300_000,
                                  spreading_factor=9, rssi=-112, snr=-8.25, channel=4)
            got = await next_item(events.uplinks)
            assert got.transport is Transport.UDP and got.phy_payload == sent.phy_payload
            assert got.modulation == LoRaModulation(867_300_000, 9, 125_000, "4/5")
            rx = got.rx_info
            assert (rx.gateway_id, rx.rssi, rx.snr, rx.channel, rx.context) == (
                gw_id, -112.0, -8.25, 4, sent.rx_info.context)
            assert rx.time is not None and abs((rx.time - sent.rx_info.time).total_seconds()) < 1e-3  # type: ignore[operator]
            await wait_until(lambda: gw.push_acks == 1)

            await backend.send_downlink(_class_a(gw_id, rx.context))
            tx = await next_item(gw.downlinks)
            assert tx.tmst == (int.from_bytes(rx.context, "big") + 1_000_000) & 0xFFFFFFFF
            assert tx.modulation.frequency == 868_100_000 and tx.power == 14 and not tx.immediately
            ack = await next_item(events.acks)
            assert (ack.gateway_id, ack.downlink_id, ack.statuses) == (gw_id, 31, ("OK", "IGNORED"))

            class_c = DownlinkFrame(gw_id, 32, [DownlinkItem(b"\x60\x09", LoRaModulation(869_525_000, 12, 125_000),
                                                             27, TimingKind.IMMEDIATELY)])
            await backend.send_downlink(class_c)
            tx = await next_item(gw.downlinks)
            assert tx.immediately and tx.tmst is None and tx.phy_payload == b"\x60\x09"
            assert (await next_item(events.acks)).statuses == ("OK",)

            gw.send_stats()
            stats = await next_item(events.stats)
            assert stats.gateway_id == gw_id and stats.rx_packets_received == 1
            status = health.status(gw_id)
            assert status is not None and status.keepalives >= 1 and status.uplinks == 1
            assert status.downlinks == 2 and status.tx_acks == {"OK": 2, "IGNORED": 1}
            assert metrics.registry.get_sample_value(
                "lora_city_gateway_frames_total", {"transport": "udp", "kind": "up"}) == 1
        finally:
            await gw.stop()
            await backend.stop()

    asyncio.run(run())


def test_tx_ack_error_falls_back_to_rx2() -> None:
    async def run() -> None:
        backend, events, _, _ = await _setup()
        gw_id = gateway_id()
        gw = VirtualUdpGateway(backend.local_address, gw_id, tx_ack_errors=["TOO_LATE"])
        try:
            await gw.start()
            up = gw.send_uplink(b"\x40\x01\x01\x01\x01\x00\x01\x00\x01")
            got = await next_item(events.uplinks)
            await backend.send_downlink(_class_a(gw_id, got.rx_info.context))
            tx = await next_item(gw.downlinks)
            assert tx.modulation.frequency == 869_525_000 and tx.modulation.spreading_factor == 12
            assert tx.tmst == (int.from_bytes(up.rx_info.context, "big") + 2_000_000) & 0xFFFFFFFF
            ack = await next_item(events.acks)
            assert ack.statuses == ("TOO_LATE", "OK") and ack.ok
            assert gw.tx_acks_sent == ["TOO_LATE", "NONE"]
        finally:
            await gw.stop()
            await backend.stop()

    asyncio.run(run())


def test_every_item_failing_reports_all_errors() -> None:
    async def run() -> None:
        backend, events, _, _ = await _setup()
        gw_id = gateway_id()
        gw = VirtualUdpGateway(backend.local_address, gw_id, tx_ack_errors=["COLLISION_PACKET", "TX_FREQ"])
        try:
            await gw.start()
            await backend.send_downlink(_class_a(gw_id, b"\x00\x00\x00\x10"))
            ack = await next_item(events.acks)
            assert ack.statuses == ("COLLISION_PACKET", "TX_FREQ") and not ack.ok
            assert gw.downlinks.empty()
        finally:
            await gw.stop()
            await backend.stop()

    asyncio.run(run())


def test_pull_resp_goes_to_the_address_of_the_last_pull_data() -> None:
    async def run() -> None:
        backend, _, _, _ = await _setup()
        gw_id = gateway_id()
        server = backend.local_address
        loop = asyncio.get_running_loop()

        async def recv(sock: socket.socket) -> bytes:
            # a blocking recv would stall the backend on this same loop
            return await loop.run_in_executor(None, sock.recv, 2048)

        old, new = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for s in (old, new):
                s.bind(("127.0.0.1", 0))
                s.settimeout(0.3)
            old.sendto(st.build(2, 1, st.PULL_DATA, gw_id), server)
            assert await recv(old) == b"\x02\x00\x01\x04"  # PULL_ACK echoes version and token
            new.sendto(st.build(2, 0xABCD, st.PULL_DATA, gw_id), server)  # the forwarder moved (NAT rebinding)
            assert await recv(new) == b"\x02\xab\xcd\x04"
            await backend.send_downlink(_class_a(gw_id, b"\x00\x00\x00\x01"))
            data = await recv(new)
            dg = st.parse_datagram(data)
            assert dg.kind == st.PULL_RESP and dg.version == 2
            assert json.loads(dg.body)["txpk"]["tmst"] == 1_000_001
            with pytest.raises(TimeoutError):
                await recv(old)
        finally:
            old.close()
            new.close()
            await backend.stop()

    asyncio.run(run())


def test_unknown_gateway_cannot_be_reached() -> None:
    async def run() -> None:
        backend, _, _, _ = await _setup()
        try:
            with pytest.raises(ConnectionError):
                await backend.send_downlink(_class_a(gateway_id(), b"\x00\x00\x00\x01"))
        finally:
            await backend.stop()

    asyncio.run(run())


def test_garbage_datagrams_are_counted_and_good_traffic_continues() -> None:
    async def run() -> None:
        backend, events, metrics, health = await _setup()
        gw_id = gateway_id()
        gw = VirtualUdpGateway(backend.local_address, gw_id)
        try:
            await gw.start()
            gw.send_raw(b"\x02")  # too short
            gw.send_raw(b"\x09\x00\x00\x00" + bytes(8))  # unknown version
            gw.send_raw(st.build(2, 5, st.PUSH_DATA, gw_id, b"{not json"))
            gw.send_uplink(b"\x40\x01\x01\x01\x01\x00\x01\x00\x01", stat=-1)  # CRC failed
            gw.send_uplink(b"\x40\x01\x01\x01\x01\x00\x01\x00\x01", stat=0)  # no CRC
            gw.send_push({"rxpk": [{"datr": "SF7BW125", "data": "***"}, "nonsense"]})
            good = gw.send_uplink(b"\x40\x02\x02\x02\x02\x00\x01\x00\x01")
            got = await next_item(events.uplinks)
            assert got.phy_payload == good.phy_payload
            assert events.uplinks.empty()
            for reason, n in [("udp_too_short", 1), ("udp_bad_version", 1), ("udp_bad_json", 1), ("crc_bad", 1),
                              ("crc_missing", 1), ("udp_bad_rxpk", 2)]:
                assert bad_input(metrics, "udp", reason) == n, reason
            status = health.status(gw_id)
            assert status is not None and status.bad_frames == 5 and status.uplinks == 1
            for _ in range(100):  # the acknowledgements travel back through the loop meanwhile
                if gw.push_acks >= 5:
                    break
                await asyncio.sleep(0.01)
            assert gw.push_acks == 5  # every PUSH_DATA with a valid header is acknowledged
        finally:
            await gw.stop()
            await backend.stop()

    asyncio.run(run())
