"""Every kind of event, as a ChirpStack v4 consumer receives it on the MQTT integration, produced by the real
network server from a device that joins, sends, answers DevStatusReq, sends a payload its codec cannot read,
acknowledges a confirmed downlink, is refused an oversized downlink and runs out of quota.

Each message is parsed with ``json_format.Parse(..., ignore_unknown_fields=False)`` into the
``chirpstack_api.integration`` message of its kind (an unknown field fails) and its fields are compared with
lists written from ChirpStack's documentation:
- chirpstack-docs ``src/chirpstack/integrations/events.md`` ("Event types": the JSON example of each event);
- ``api/proto/integration/integration.proto`` (UplinkEvent.region_config_id and JoinEvent.region_config_id:
  "Region config ID"; DeviceInfo.device_class_enabled);
- ``api/proto/gw/gw.proto`` UplinkRxInfo (uplink_id, gw_time, ns_time "RX time as set by the network-server",
  crc_status, metadata) and DownlinkTxInfo (frequency, power, modulation, timing, context) for txack's txInfo.
Fields that only exist with features lora_city does not have (relays, a join server, location solvers) are
not expected: ``relayRxInfo``, ``joinServerContext``.
"""

from __future__ import annotations

import asyncio
import json
import queue
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format

from lora_city.mqtt import MqttClient
from lora_city.network.server import NetworkServer
from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import AckEvent, DeviceInfo
from lora_city.sinks.mqtt_integration import MqttIntegrationSink
from lora_city.sinks.store import ReadingStoreSink
from tests.integration.network.harness import Harness, codecs, join, next_downlink, wait_until
from tests.support.services import Service

pytestmark = pytest.mark.integration

DEVICE_INFO = {"tenantId", "tenantName", "applicationId", "applicationName", "deviceProfileId",
               "deviceProfileName", "deviceName", "devEui", "deviceClassEnabled"}
FIELDS: dict[str, set[str]] = {
    "up": {"deduplicationId", "time", "deviceInfo", "devAddr", "adr", "dr", "fCnt", "fPort", "confirmed", "data",
           "rxInfo", "txInfo", "regionConfigId"},  # + "object" when the codec decoded it
    "join": {"deduplicationId", "time", "deviceInfo", "devAddr", "regionConfigId"},
    "status": {"deduplicationId", "time", "deviceInfo", "margin", "externalPowerSource",
               "batteryLevelUnavailable", "batteryLevel"},
    "ack": {"deduplicationId", "time", "deviceInfo", "queueItemId", "acknowledged", "fCntDown"},
    "txack": {"downlinkId", "time", "deviceInfo", "queueItemId", "fCntDown", "gatewayId", "txInfo"},
    "log": {"time", "deviceInfo", "level", "code", "description", "context"},
}
RX_INFO = {"gatewayId", "uplinkId", "nsTime", "rssi", "snr", "channel", "rfChain", "context", "metadata",
           "crcStatus"}
UPLINK_TX_INFO = {"frequency", "modulation"}
DOWNLINK_TX_INFO = {"frequency", "power", "modulation", "timing", "context"}
MESSAGES = {"up": pb.UplinkEvent, "join": pb.JoinEvent, "status": pb.StatusEvent, "ack": pb.AckEvent,
            "txack": pb.TxAckEvent, "log": pb.LogEvent}


class DropFrom:
    """A quota policy (the core's QuotaPolicy interface) that refuses a device's uplinks from a frame counter."""

    def __init__(self, f_cnt: int) -> None:
        self.f_cnt = f_cnt
        self.seen: dict[str, int] = {}

    def allow_uplink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        n = self.seen[device.dev_eui] = self.seen.get(device.dev_eui, -1) + 1
        return n < self.f_cnt

    def allow_downlink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        return True


class EventsHarness(Harness):
    """The flow harness with the product's MQTT integration sink and a quota policy."""

    async def start(self) -> None:
        await super().start()
        await self.server.stop()  # rebuilt below with the MQTT integration sink and the quota policy
        self.publisher = MqttClient(self.settings.mqtt_url or "")
        await self.publisher.connect()
        self.mqtt_sink = MqttIntegrationSink(self.publisher, self.metrics)
        self.store = ReadingStoreSink(self.factory, self.metrics, flush_interval_s=0.05)
        from lora_city.gateway.mqtt_backend import MqttGatewayBackend

        self.server = NetworkServer(
            self.settings, self.metrics, self.factory, self.vault, codecs=codecs(),
            sinks=[self.recording, self.store, self.mqtt_sink], backends=[MqttGatewayBackend(self.settings,
                                                                                             self.metrics)],
            quota=DropFrom(4), flush_interval_s=0.2, late_copy_ttl_s=0.5,
        )
        await self.mqtt_sink.start()
        await self.server.start()
        from lora_city.api.app import create_app

        app = create_app(self.settings, self.factory, self.vault, codecs=codecs(),
                         notifier=self.server.downlink_notifier(), metrics=self.metrics,
                         on_device_change=self.server.device_change_notifier())
        import httpx

        await self.api.aclose()
        self.api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                                     headers={"Authorization": "Bearer test-admin-token"})

    async def stop(self) -> None:
        await super().stop()  # the server stops its sinks, the MQTT integration's among them
        await self.publisher.close()


def subscribe(url: str, topic: str) -> tuple[paho.Client, queue.Queue[tuple[str, bytes]]]:
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, msg: received.put((msg.topic, msg.payload))
    client.on_subscribe = lambda *_a: subscribed.put(True)
    parts = urlsplit(url)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.subscribe(topic, qos=1)
    client.loop_start()
    subscribed.get(timeout=10)
    return client, received


def test_every_event_kind_as_chirpstack_sends_it(mosquitto: Service, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    messages: list[tuple[str, dict[str, Any]]] = []

    async def run() -> tuple[VirtualDevice, str]:
        h = EventsHarness(url, mosquitto.url)
        await h.start()
        try:
            # a lessee (the city's own critical tenant is never dropped by quotas)
            tenant = (await h.api.post("/api/v1/tenants", json={"name": "Acme", "slug": "acme"})).json()["id"]
            app = (await h.api.post("/api/v1/applications", json={"name": "Water", "tenant_id": tenant})
                   ).json()["id"]
            profile = (await h.api.post("/api/v1/device-profiles", json={"name": "EM300-DI", "tenant_id": tenant})
                       ).json()["id"]
            dev = VirtualDevice.generate("milesight-em300-di")
            r = await h.api.post("/api/v1/devices", json={
                "dev_eui": dev.dev_eui, "join_eui": dev.join_eui, "app_key": dev.app_key.hex(), "name": "meter",
                "codec": dev.codec, "application_id": app, "device_profile_id": profile, "tenant_id": tenant,
                "tags": {"street": "rue Nationale"}})
            assert r.status_code == 201, r.text
            sub, received = subscribe(mosquitto.url, f"application/{app}/#")
            gws = [await h.gateway(), await h.gateway()]
            await join(h, dev, gws)
            # 1: a good uplink through two gateways; the answer carries DevStatusReq (txack 1)
            phy = dev.uplink(85, b"\x01\x75\x5c\x05\xc8\x00\x01\x00\x00")
            await gws[0].send_uplink(phy, snr=6.0)
            await gws[1].send_uplink(phy, snr=2.0)
            dev.receive((await next_downlink(gws[0])).phy_payload)
            # 2: DevStatusAns and a payload the codec cannot read: up, status and log share one id
            await h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue",
                             json={"f_port": 10, "data_hex": "01ff", "confirmed": True})
            await gws[0].send_uplink(dev.uplink(85, b"\x01"))
            got = dev.receive((await next_downlink(gws[0])).phy_payload)  # the confirmed downlink (txack 2)
            assert got is not None and got.confirmed
            # 3: the device acknowledges it: up and ack share one id
            await gws[0].send_uplink(dev.uplink(85, b"\x01\x75\x5c"))
            await wait_until(lambda: len(h.recording.of(AckEvent)) == 1)  # handled before the next enqueue
            # 4: an uplink at SF12 (DR0): RX1 and RX2 both at DR0 carry 51 bytes at most (RP002-1.0.4 §2.1.6),
            # so a 60-byte queue item fits no window: dropped with a log event DOWNLINK_PAYLOAD_SIZE
            await h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue", json={"f_port": 10, "data_hex": "00" * 60})
            await gws[0].send_uplink(dev.uplink(85, b"\x01\x75\x5c"), spreading_factor=12)
            # 5: the sixth uplink of the day is over quota: dropped, with a log event where "up" would be
            dropped = dev.uplink(85, b"\x01\x75\x5c")
            await gws[0].send_uplink(dropped)
            await wait_until(lambda: h.drops("quota") == 1)
            await wait_until(lambda: received.qsize() >= 13, 10)  # join, 3 txack, 4 up, status, ack, 3 log
            await asyncio.sleep(0.5)
            while not received.empty():
                topic, payload = received.get()
                messages.append((topic.rsplit("/", 1)[1], json.loads(payload)))
            sub.loop_stop()
            sub.disconnect()
            await h.stop()
            return dev, app
        finally:
            await h.close()

    dev, app = asyncio.run(run())
    kinds = [k for k, _ in messages]
    for kind in ("join", "up", "status", "ack", "txack", "log"):
        assert kind in kinds, (kind, kinds)
    for kind, body in messages:
        raw = json.dumps(body)
        json_format.Parse(raw, MESSAGES[kind](), ignore_unknown_fields=False)  # refuses any unknown field
        expected = FIELDS[kind] | ({"object"} if kind == "up" and "object" in body else set())
        if kind == "txack" and "queueItemId" not in body:
            expected = expected - {"queueItemId"}  # a MAC-only downlink (DevStatusReq) carries no queue item
        assert set(body) == expected, (kind, set(body) ^ expected)
        assert set(body["deviceInfo"]) == DEVICE_INFO | {"tags"}, kind
        assert body["deviceInfo"]["devEui"] == dev.dev_eui and body["deviceInfo"]["applicationId"] == app
        assert body["deviceInfo"]["deviceClassEnabled"] == "CLASS_A"
        if "deduplicationId" in body:
            assert str(uuid.UUID(body["deduplicationId"])) == body["deduplicationId"]
        if kind in ("up", "join"):
            assert body["regionConfigId"] == "eu868"
        if kind == "up":
            for rx in body["rxInfo"]:
                assert set(rx) >= RX_INFO, set(rx) ^ RX_INFO
                assert rx["crcStatus"] == "CRC_OK" and rx["uplinkId"] > 0
                assert rx["metadata"] == {"region_config_id": "eu868", "region_common_name": "EU868"}
            assert set(body["txInfo"]) == UPLINK_TX_INFO
        if kind == "txack":
            assert set(body["txInfo"]) >= DOWNLINK_TX_INFO, body["txInfo"]
            # RX1: JOIN_ACCEPT_DELAY1 5 s for the join-accept, RECEIVE_DELAY1 1 s otherwise (RP002-1.0.4 §2.1.2)
            assert body["txInfo"]["timing"]["delay"]["delay"] in ("5s", "1s")
            assert body["txInfo"]["modulation"]["lora"]["polarizationInversion"] is True

    ups = [b for k, b in messages if k == "up"]
    assert len(ups) == 4  # the fifth data uplink was dropped by the quota
    assert len({u["deduplicationId"] for u in ups}) == 4
    join_event = next(b for k, b in messages if k == "join")
    assert join_event["deduplicationId"] not in {u["deduplicationId"] for u in ups}
    by_id = {u["fCnt"]: u["deduplicationId"] for u in ups}
    assert "object" in ups[0] and "object" not in ups[1]
    status = next(b for k, b in messages if k == "status")
    assert status["deduplicationId"] == by_id[1]
    logs = [b for k, b in messages if k == "log"]
    codec_log = next(b for b in logs if b["code"] == "UPLINK_CODEC")
    assert codec_log["context"]["deduplication_id"] == by_id[1] and codec_log["level"] == "ERROR"
    ack = next(b for k, b in messages if k == "ack")
    assert ack["deduplicationId"] == by_id[2] and ack["acknowledged"] is True
    txacks = [b for k, b in messages if k == "txack"]
    # join-accept, the DevStatusReq answer, the confirmed downlink
    assert [t.get("queueItemId") for t in txacks] == [None, None, ack["queueItemId"]]
    assert [t["txInfo"]["timing"]["delay"]["delay"] for t in txacks] == ["5s", "1s", "1s"]
    assert any(b["code"] == "DOWNLINK_PAYLOAD_SIZE" for b in logs)
    quota = next(b for b in logs if b["context"].get("code") == "QUOTA")
    assert quota["code"] == "UNKNOWN" and quota["context"]["f_cnt"] == "4"
    assert uuid.UUID(quota["context"]["deduplication_id"])
    assert all(u["fCnt"] != 4 for u in ups)
