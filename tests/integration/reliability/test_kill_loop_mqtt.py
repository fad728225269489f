"""SIGKILLs at random moments while two ChirpStack MQTT gateways publish uplinks at QoS 1: every uplink the
broker acknowledged to a gateway (its PUBACK, MQTT 3.1.1 §4.3.2) is in the readings store exactly once.

The UDP kill loop (test_kill_loop.py) proves the Semtech side; this is the MQTT side of issue 19 item 1 ("its MQTT
publish was delivered"). Once the broker has the message, two things must hold across a crash: the server's
persistent session (``Settings.mqtt_client_id``, clean session off, QoS 1 subscriptions) makes mosquitto keep what
arrives while the server is down or was sent to it but not yet acknowledged (MQTT 3.1.1 §4.4: unacknowledged
PUBLISH packets are re-sent on reconnect), and the copy journal (lora_city/gateway/journal.py) is written before
the server's own PUBACK, so what it acknowledged and then lost in its dedup window or pipeline is replayed on start.
A copy both re-sent by the broker and replayed must not be stored twice (FCnt replay check, late-copy cache).

The gateways are plain paho clients publishing chirpstack-api ``gw.UplinkFrame`` protobufs (the ChirpStack
Gateway Bridge's format), built here from chirpstack_api, not through lora_city; the devices are the tests' own ABP
emulator. The same run with the journal off (``journal_dir=""``) lost 121 of 2,475 delivered uplinks in 10 kills:
the broker's re-sending alone does not cover what the server acknowledged and then lost. SQLite only: the journal and the broker session do not depend on the database, and the UDP kill loop
already runs on both."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from chirpstack_api.gw import gw_pb2
from paho.mqtt.enums import CallbackAPIVersion

from tests.integration.reliability.conftest import (
    ServerProcesses,
    provision,
    register_gateways,
    stored_readings,
)
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLS = 10
RATE = 50.0  # uplinks per second, each heard by both gateways
GATEWAYS = ("aa555a00000000a1", "aa555a00000000a2")


class PahoGateway:
    """One gateway publishing ``{prefix}/gateway/{id}/event/up`` at QoS 1; ``delivered``: the uplinks whose
    PUBLISH the broker acknowledged (paho's on_publish runs on the PUBACK for QoS 1)."""

    def __init__(self, broker_url: str, prefix: str, gateway_id: str, snr: float, rssi: int) -> None:
        self.topic = f"{prefix}/gateway/{gateway_id}/event/up"
        self.gateway_id, self.snr, self.rssi = gateway_id, snr, rssi
        self._sent: dict[int, tuple[str, int]] = {}  # message id -> uplink (ids are unique below 65,536 sends)
        self._acked: set[int] = set()  # added to by paho's thread: a set's add is atomic
        self._uplink_id = random.getrandbits(31)
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{gateway_id}-{uuid.uuid4().hex[:6]}")
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.on_publish = self._on_publish
        url = urlsplit(broker_url)
        self._client.connect(url.hostname or "127.0.0.1", url.port or 1883)
        self._client.loop_start()

    def _on_publish(self, client: paho.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        self._acked.add(mid)

    def send(self, key: tuple[str, int], phy: bytes) -> None:
        self._uplink_id = (self._uplink_id + 1) & 0x7FFFFFFF
        pb = gw_pb2.UplinkFrame(phy_payload=phy)
        pb.tx_info.frequency = 868_100_000
        pb.tx_info.modulation.lora.bandwidth = 125_000
        pb.tx_info.modulation.lora.spreading_factor = 7
        pb.tx_info.modulation.lora.code_rate = gw_pb2.CR_4_5
        rx = pb.rx_info
        rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr = self.gateway_id, self._uplink_id, self.rssi, self.snr
        rx.context = (int(time.monotonic() * 1e6) & 0xFFFFFFFF).to_bytes(4, "big")  # concentrator timestamp
        rx.crc_status = gw_pb2.CRC_OK
        info = self._client.publish(self.topic, pb.SerializeToString(), qos=1)
        assert info.mid not in self._sent, "message id reused: the run sent too much for this bookkeeping"
        self._sent[info.mid] = key

    @property
    def delivered(self) -> set[tuple[str, int]]:
        return {key for mid, key in list(self._sent.items()) if mid in self._acked}

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def test_sigkill_at_random_moments_loses_and_doubles_no_uplink_the_broker_took(
    tmp_path: Path, sqlite_template: Path, mosquitto: Service
) -> None:
    seed = int(time.time())
    rng = random.Random(seed)
    database = tmp_path / "kill-mqtt.db"
    database.write_bytes(sqlite_template.read_bytes())
    database_url = f"sqlite:///{database}"
    prefix = f"k{uuid.uuid4().hex[:10]}"
    servers = ServerProcesses.build(tmp_path, database_url, mqtt_url=mosquitto.url, mqtt_topic_prefix=prefix,
                                    mqtt_client_id=f"lc-kill-{uuid.uuid4().hex[:8]}", udp_listen="")
    gateways: list[PahoGateway] = []
    sent: list[tuple[str, int]] = []
    try:
        servers.start()
        servers.wait_ready()
        devices = provision(servers.api, 20)
        register_gateways(servers.api, *GATEWAYS)
        gateways = [PahoGateway(mosquitto.url, prefix, GATEWAYS[0], 9.25, -71),
                    PahoGateway(mosquitto.url, prefix, GATEWAYS[1], -3.5, -112)]
        stop = threading.Event()

        def traffic() -> None:
            started, n = time.monotonic(), 0
            while not stop.is_set():
                device = devices[n % len(devices)]
                f_cnt, phy = device.uplink(1, n.to_bytes(4, "big"))
                key = (device.dev_eui, f_cnt)
                for gw in gateways:
                    gw.send(key, phy)
                sent.append(key)
                n += 1
                time.sleep(max(0.0, started + n / RATE - time.monotonic()))

        sender = threading.Thread(target=traffic, daemon=True)
        sender.start()
        try:
            for k in range(KILLS):
                if k % 3 == 2:  # while it starts, connects, opens its journal or replays
                    time.sleep(rng.uniform(0.0, 1.5))
                else:  # in full flow: copies in dedup windows, in the pipeline, in the sinks' batches
                    servers.wait_ready()
                    time.sleep(rng.uniform(0.05, 1.5))
                servers.kill()
                servers.start()
            servers.wait_ready()
            time.sleep(1.0)
        finally:
            stop.set()
            sender.join(10)
        deadline = time.monotonic() + 60
        delivered: set[tuple[str, int]] = set()
        while time.monotonic() < deadline:  # the backlog the broker kept for the last server, worked through
            delivered = set().union(*(gw.delivered for gw in gateways))
            if delivered <= stored_readings(database_url).keys():
                break
            time.sleep(0.5)
        servers.stop()
        logs = servers.log_text()
    finally:
        for gw in gateways:
            gw.close()
        servers.close()

    readings = stored_readings(database_url)
    lost = delivered - readings.keys()
    doubled = {k: v for k, v in readings.items() if len(v) > 1}
    figures = {"seed": seed, "kills": KILLS, "sent": len(sent), "delivered": len(delivered),
               "stored": len(readings), "lost": len(lost), "doubled": len(doubled),
               "restarts_that_replayed": logs.count("journal replay:")}
    print("kill loop (MQTT):", json.dumps(figures))
    assert len(delivered) >= 300, figures  # a real stream went through the servers
    assert not lost, f"{len(lost)} uplink(s) the broker took were lost, e.g. {sorted(lost)[:5]}; {figures}"
    assert not doubled, f"{len(doubled)} uplink(s) stored twice, e.g. {list(doubled.items())[:3]}; {figures}"
    assert "Traceback" not in logs, logs[logs.index("Traceback") - 2000:][:4000]
