"""VirtualMqttGateway → real mosquitto → MqttGatewayBackend, in protobuf and JSON."""

from __future__ import annotations

import asyncio
import json

import pytest
from chirpstack_api.gw import gw_pb2

from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkItem,
    LoRaModulation,
    TimingKind,
    Transport,
)
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.mqtt_backend import MqttGatewayBackend
from lora_city.metrics import Metrics
from lora_city.mqtt import MqttClient
from lora_city.settings import Settings
from lora_city.simulate.gateways import VirtualMqttGateway
from tests.integration.gateway.conftest import (
    RecordingEvents,
    bad_input,
    gateway_id,
    next_item,
    unique_prefix,
    wait_until,
)
from tests.support.services import Service

pytestmark = pytest.mark.integration


def _class_a(gw: str, context: bytes, downlink_id: int = 7) -> DownlinkFrame:
    return DownlinkFrame(gw, downlink_id, [
        DownlinkItem(b"\x60\x01\x02\x03\x04", LoRaModulation(868_100_000, 7, 125_000), 14, TimingKind.DELAY, 1, context),
        DownlinkItem(b"\x60\x01\x02\x03\x04", LoRaModulation(869_525_000, 12, 125_000), 27, TimingKind.DELAY, 2, context),
    ])


async def _setup(mosquitto: Service, prefix: str, *, share_group: str | None = None
                 ) -> tuple[MqttGatewayBackend, RecordingEvents, Metrics, GatewayHealth]:
    metrics = Metrics()
    health = GatewayHealth(metrics)
    settings = Settings(mqtt_url=mosquitto.url, mqtt_topic_prefix=prefix, mqtt_share_group=share_group)
    backend = MqttGatewayBackend(settings, metrics, health=health)
    events = RecordingEvents()
    await backend.start(events)
    return backend, events, metrics, health


@pytest.mark.parametrize("use_json", [False, True])
def test_uplink_downlink_and_ack_through_mosquitto(mosquitto: Service, use_json: bool) -> None:
    async def run() -> None:
        prefix, gw_id = unique_prefix(), gateway_id()
        backend, events, metrics, health = await _setup(mosquitto, prefix)
        gw = VirtualMqttGateway(mosquitto.url, gw_id, prefix=prefix, use_json=use_json,
                                location=(52.52, 13.40, 34.0))
        try:
            await gw.start()
            state = await next_item(events.states)
            assert state.gateway_id == gw_id and state.online

            sent = await gw.send_uplink(b"\x40\x11\x22\x33\x44\x00\x01\x00\x01\xaa", frequency=868_500_000,
                                        spreading_factor=10, rssi=-101, snr=-4.5, channel=2)
            got = await next_item(events.uplinks)
            expected_transport = Transport.MQTT_JSON if use_json else Transport.MQTT_PROTOBUF
            assert got.transport is expected_transport
            assert got.phy_payload == sent.phy_payload
            assert got.modulation == LoRaModulation(868_500_000, 10, 125_000, "4/5")
            assert got.rx_info == sent.rx_info  # gateway id, uplink id, rssi, snr, channel, context, time, location
            assert len(got.rx_info.context) == 4 and got.received_at > 0
            assert backend.knows(gw_id) and backend.transport_of(gw_id) is expected_transport
            assert metrics.registry.get_sample_value(
                "lora_city_gateway_frames_total", {"transport": expected_transport.value, "kind": "up"}) == 1

            await backend.send_downlink(_class_a(gw_id, got.rx_info.context))
            tx = await next_item(gw.downlinks)
            assert tx.phy_payload == b"\x60\x01\x02\x03\x04" and not tx.immediately
            ctx = int.from_bytes(got.rx_info.context, "big")
            assert tx.tmst == (ctx + 1_000_000) & 0xFFFFFFFF  # RX1: one second after the uplink
            ack = await next_item(events.acks)
            assert (ack.gateway_id, ack.downlink_id, ack.statuses) == (gw_id, 7, ("OK", "IGNORED"))

            await gw.send_stats()
            stats = await next_item(events.stats)
            assert stats.gateway_id == gw_id and stats.rx_packets_received == 1

            status = health.status(gw_id)
            assert status is not None and status.online
            assert (status.uplinks, status.downlinks, status.stats_received) == (1, 1, 1)
            assert status.tx_acks == {"OK": 1, "IGNORED": 1}
        finally:
            await gw.stop()
            await backend.stop()

    asyncio.run(run())


def test_gateway_answered_in_its_own_encoding(mosquitto: Service) -> None:
    async def run() -> None:
        prefix, gw_id = unique_prefix(), gateway_id()
        backend, events, _, _ = await _setup(mosquitto, prefix)
        spy = MqttClient(mosquitto.url)
        await spy.connect()
        await spy.subscribe(f"{prefix}/gateway/{gw_id}/command/down")
        gw = VirtualMqttGateway(mosquitto.url, gw_id, prefix=prefix, use_json=True)
        try:
            await gw.start()
            up = await gw.send_uplink(b"\x40\x01\x02\x03\x04\x00\x00\x00\x01")
            await next_item(events.uplinks)
            class_c = DownlinkFrame(gw_id, 99, [DownlinkItem(b"\x60\xaa", LoRaModulation(869_525_000, 12, 125_000),
                                                             27, TimingKind.IMMEDIATELY)])
            await backend.send_downlink(class_c)
            msg = await asyncio.wait_for(anext(aiter(spy.messages())), 5)
            doc = json.loads(msg.payload)
            assert doc["gatewayId"] == gw_id and doc["downlinkId"] == 99
            assert "immediately" in doc["items"][0]["txInfo"]["timing"]
            tx = await next_item(gw.downlinks)
            assert tx.immediately and tx.tmst is None and tx.phy_payload == b"\x60\xaa"
            assert up.rx_info.gateway_id == gw_id
        finally:
            await spy.close()
            await gw.stop()
            await backend.stop()

    asyncio.run(run())


def test_garbage_is_counted_and_good_frames_continue(mosquitto: Service) -> None:
    async def run() -> None:
        prefix, gw_id = unique_prefix(), gateway_id()
        backend, events, metrics, health = await _setup(mosquitto, prefix)
        gw = VirtualMqttGateway(mosquitto.url, gw_id, prefix=prefix)
        raw = MqttClient(mosquitto.url)
        try:
            await gw.start()
            await raw.connect()
            await gw.publish_raw("event/up", b"\xff\xff\xff\xff\xff")  # not protobuf
            await gw.publish_raw("event/up", b'{"phyPayload": 12')  # not JSON
            await gw.publish_raw("event/up", b'{"rxInfo": {"rssi": "loud"}}')  # JSON of the wrong shape
            await gw.send_uplink(b"\x40\x01\x02\x03\x04\x00\x00\x00\x01", crc_status=gw_pb2.BAD_CRC)
            await raw.publish(f"{prefix}/gateway/NOT-AN-ID/event/up", b"\x0a\x00")
            good = await gw.send_uplink(b"\x40\x09\x09\x09\x09\x00\x00\x00\x02")
            got = await next_item(events.uplinks)
            assert got.phy_payload == good.phy_payload  # the only uplink that made it
            assert events.uplinks.empty()
            assert bad_input(metrics, "mqtt", "bad_protobuf") == 1
            assert bad_input(metrics, "mqtt", "bad_json") == 2
            assert bad_input(metrics, "mqtt", "crc_bad") == 1
            # published from another connection, so it may arrive after the good frame
            await wait_until(lambda: bad_input(metrics, "mqtt", "bad_gateway_id") == 1)
            status = health.status(gw_id)
            assert status is not None and status.bad_frames == 4 and status.uplinks == 1
        finally:
            await raw.close()
            await gw.stop()
            await backend.stop()

    asyncio.run(run())


def test_conn_state_offline_on_lost_gateway_and_retained_state_on_start(mosquitto: Service) -> None:
    async def run() -> None:
        prefix, gw_id = unique_prefix(), gateway_id()
        gw = VirtualMqttGateway(mosquitto.url, gw_id, prefix=prefix)
        await gw.start()
        # The backend starts after the gateway: it learns the state from the retained message.
        backend, events, _, health = await _setup(mosquitto, prefix)
        try:
            assert (await next_item(events.states)).online
            await gw.stop()
            assert not (await next_item(events.states)).online
            assert not health.is_online(gw_id)
        finally:
            await backend.stop()

    asyncio.run(run())


def test_shared_subscription_splits_events_between_servers(mosquitto: Service) -> None:
    async def run() -> None:
        prefix, gw_id = unique_prefix(), gateway_id()
        a, events_a, _, _ = await _setup(mosquitto, prefix, share_group="ns")
        b, events_b, _, _ = await _setup(mosquitto, prefix, share_group="ns")
        gw = VirtualMqttGateway(mosquitto.url, gw_id, prefix=prefix)
        try:
            await gw.start()
            for i in range(20):
                await gw.send_uplink(bytes([0x40, i, 0, 0, 0, 0, 0, 0, 1]))
            await asyncio.sleep(0.5)
            n_a, n_b = events_a.uplinks.qsize(), events_b.uplinks.qsize()
            assert n_a + n_b == 20 and n_a > 0 and n_b > 0
            # both servers still see the (non-shared) connection state
            assert (await next_item(events_a.states)).online and (await next_item(events_b.states)).online
        finally:
            await gw.stop()
            await a.stop()
            await b.stop()

    asyncio.run(run())
