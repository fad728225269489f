"""Virtual gateways for the fleet simulator and the tests: they speak the real wire protocols.

``VirtualMqttGateway`` behaves like a ChirpStack MQTT forwarder (protobuf or JSON): retained ``state/conn`` with
an OFFLINE last will, ``event/up`` with rx metadata and a timing context, ``event/stats``, and an ``event/ack``
for every ``command/down``. ``VirtualUdpGateway`` behaves like a Semtech packet forwarder (protocol v2).
Both put what they "transmit" on ``downlinks`` so virtual devices can receive it.

``tx_ack_errors`` injects radio failures: each transmission attempt takes the next status from it (``OK`` or a
chirpstack TxAckStatus name such as ``TOO_LATE``) until it is exhausted, after which every attempt succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from chirpstack_api.gw import gw_pb2

from lora_city.gateway import chirpstack as cs
from lora_city.gateway import semtech as st
from lora_city.gateway.frames import (
    DownlinkTxAck,
    GatewayConnState,
    GatewayStats,
    LoRaModulation,
    RxInfo,
    TimingKind,
    Transport,
    UplinkFrame,
)
from lora_city.mqtt import MqttClient, MqttMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TransmittedDownlink:
    """What a virtual gateway put on the air."""

    gateway_id: str
    downlink_id: int | None  # None over UDP (the forwarder never sees it)
    phy_payload: bytes
    modulation: LoRaModulation
    power: int
    immediately: bool
    tmst: int | None  # concentrator counter (µs) of the transmission, for delayed (class A) downlinks
    gps_time_s: float | None = None  # GPS time of the transmission (class B ping slots), when GPS-timed


class _Concentrator:
    """The SX130x free-running 32-bit µs counter, started at a random value like real hardware."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._offset = random.getrandbits(32) - clock() * 1_000_000

    def tmst(self) -> int:
        return int(self._clock() * 1_000_000 + self._offset) & 0xFFFFFFFF


def _uplink(gateway_id: str, uplink_id: int, tmst: int, phy_payload: bytes, frequency: int, spreading_factor: int,
            bandwidth: int, rssi: float, snr: float, channel: int, transport: Transport,
            location: tuple[float, float, float] | None, gps_time_s: float | None = None) -> UplinkFrame:
    return UplinkFrame(
        phy_payload=phy_payload,
        modulation=LoRaModulation(frequency, spreading_factor, bandwidth, "4/5"),
        rx_info=RxInfo(
            gateway_id=gateway_id, uplink_id=uplink_id, rssi=rssi, snr=snr, channel=channel,
            context=st.context_from_tmst(tmst), time=datetime.now(UTC),
            latitude=location[0] if location else None, longitude=location[1] if location else None,
            altitude=location[2] if location else None, gps_time_s=gps_time_s,
        ),
        transport=transport,
    )


class VirtualMqttGateway:
    def __init__(
        self,
        mqtt_url: str,
        gateway_id: str,
        *,
        prefix: str = "eu868",
        use_json: bool = False,
        tx_ack_errors: Iterable[str] = (),
        location: tuple[float, float, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        gps_clock: Callable[[], float] | None = None,
    ) -> None:
        """``gps_clock`` (seconds since the GPS epoch) makes it a gateway with a GPS fix: its uplinks carry the
        GPS time of reception and it accepts GPS-timed (class B) downlinks."""
        self.gateway_id = gateway_id.lower()
        self.use_json = use_json
        self._gps_clock = gps_clock
        self.downlinks: asyncio.Queue[TransmittedDownlink] = asyncio.Queue()
        self.acks_sent: list[DownlinkTxAck] = []
        self._topic = f"{prefix.strip('/')}/gateway/{self.gateway_id}/"
        self._errors = deque(tx_ack_errors)
        self._location = location
        self._concentrator = _Concentrator(clock)
        self._uplink_ids = random.getrandbits(31)
        offline = cs.encode(cs.conn_state_to_pb(GatewayConnState(self.gateway_id, False)), as_json=use_json)
        self._client = MqttClient(
            mqtt_url,
            client_id=f"virtual-gw-{self.gateway_id}-{random.getrandbits(24):06x}",
            on_message=self._on_command,
            will=MqttMessage(self._topic + "state/conn", offline, retain=True, qos=1),
        )

    async def start(self) -> None:
        await self._client.connect()
        await self._client.subscribe(self._topic + "command/down")
        await self._publish_state(True)

    async def stop(self, *, graceful: bool = True) -> None:
        if graceful:
            with contextlib.suppress(ConnectionError):
                await self._publish_state(False)
        await self._client.close()

    async def send_uplink(
        self, phy_payload: bytes, *, frequency: int = 868_100_000, spreading_factor: int = 7,
        bandwidth: int = 125_000, rssi: float = -80.0, snr: float = 7.5, channel: int = 0,
        crc_status: int = gw_pb2.CRC_OK, qos: int = 0,
    ) -> UplinkFrame:
        """Publish ``event/up`` (QoS 0 as the ChirpStack gateway bridge by default, or QoS 1 as it may be set);
        returns the frame as the server should see it."""
        self._uplink_ids = (self._uplink_ids + 1) & 0xFFFFFFFF
        transport = Transport.MQTT_JSON if self.use_json else Transport.MQTT_PROTOBUF
        frame = _uplink(self.gateway_id, self._uplink_ids, self._concentrator.tmst(), phy_payload, frequency,
                        spreading_factor, bandwidth, rssi, snr, channel, transport, self._location,
                        self._gps_clock() if self._gps_clock else None)
        await self.publish_raw("event/up", cs.encode(cs.uplink_to_pb(frame, crc_status=crc_status),
                                                     as_json=self.use_json), qos=qos)
        return frame

    async def send_stats(self, stats: GatewayStats | None = None) -> None:
        stats = stats or GatewayStats(self.gateway_id, datetime.now(UTC), rx_packets_received=1,
                                      rx_packets_received_ok=1)
        await self.publish_raw("event/stats", cs.encode(cs.stats_to_pb(stats), as_json=self.use_json))

    async def publish_raw(self, suffix: str, payload: bytes, *, retain: bool = False, qos: int = 0) -> None:
        """Publish anything under this gateway's topic (tests use it for garbage)."""
        await self._client.publish(self._topic + suffix, payload, retain=retain, qos=qos)

    async def _publish_state(self, online: bool) -> None:
        pb = cs.conn_state_to_pb(GatewayConnState(self.gateway_id, online))
        await self._client.publish(self._topic + "state/conn", cs.encode(pb, as_json=self.use_json),
                                   qos=1, retain=True)

    async def _on_command(self, msg: MqttMessage) -> None:
        pb = cs.decode(msg.payload, gw_pb2.DownlinkFrame, as_json=cs.is_json(msg.payload))
        frame = cs.downlink_from_pb(pb)
        statuses: list[str] = []
        for item in frame.items:
            if statuses and statuses[-1] == "OK":
                statuses.append("IGNORED")
                continue
            status = self._errors.popleft() if self._errors else "OK"
            statuses.append(status)
            if status == "OK" and item.timing is TimingKind.GPS_EPOCH and self._gps_clock is None:
                status = statuses[-1] = "GPS_UNLOCKED"  # no GPS fix: a real forwarder refuses GPS timing
            if status == "OK":
                tmst = None
                if item.timing is TimingKind.DELAY:
                    tmst = (st.tmst_from_context(item.context) + item.delay_s * 1_000_000) & 0xFFFFFFFF
                self.downlinks.put_nowait(TransmittedDownlink(
                    self.gateway_id, frame.downlink_id, item.phy_payload, item.modulation, item.power,
                    item.timing is TimingKind.IMMEDIATELY, tmst,
                    item.gps_time_s if item.timing is TimingKind.GPS_EPOCH else None,
                ))
        ack = DownlinkTxAck(self.gateway_id, frame.downlink_id, tuple(statuses))
        self.acks_sent.append(ack)
        await self.publish_raw("event/ack", cs.encode(cs.tx_ack_to_pb(ack), as_json=self.use_json))


class VirtualUdpGateway:
    def __init__(
        self,
        server: tuple[str, int],
        gateway_id: str,
        *,
        keepalive_s: float = 10.0,
        tx_ack_errors: Iterable[str] = (),
        version: int = 2,
        clock: Callable[[], float] = time.monotonic,
        gps_clock: Callable[[], float] | None = None,
    ) -> None:
        self.gateway_id = gateway_id.lower()
        self.server = server
        self._gps_clock = gps_clock
        self.downlinks: asyncio.Queue[TransmittedDownlink] = asyncio.Queue()
        self.tx_acks_sent: list[str] = []  # TX_ACK error values sent ("NONE", "TOO_LATE", …)
        self.push_acks = 0
        self.pull_acks = 0
        self._keepalive_s = keepalive_s
        self._errors = deque(tx_ack_errors)
        self._version = version
        self._concentrator = _Concentrator(clock)
        self._transport: asyncio.DatagramTransport | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._pull_acked = asyncio.Event()

    async def start(self) -> None:
        """Bind, send the first PULL_DATA and wait for its PULL_ACK, so the server can reach us at once."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _ForwarderSide(self), remote_addr=self.server
        )
        self._keepalive = asyncio.create_task(self._pull_loop())
        await asyncio.wait_for(self._pull_acked.wait(), 5.0)

    async def stop(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        if self._transport is not None:
            self._transport.close()

    @property
    def local_address(self) -> tuple[str, int]:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send_uplink(
        self, phy_payload: bytes, *, frequency: int = 868_100_000, spreading_factor: int = 7,
        bandwidth: int = 125_000, rssi: float = -80.0, snr: float = 7.5, channel: int = 0, stat: int = 1,
    ) -> UplinkFrame:
        """Send one rxpk in a PUSH_DATA; returns the frame as the server should see it (uplink_id aside)."""
        frame = _uplink(self.gateway_id, 0, self._concentrator.tmst(), phy_payload, frequency, spreading_factor,
                        bandwidth, rssi, snr, channel, Transport.UDP, None,
                        self._gps_clock() if self._gps_clock else None)
        rxpk = st.uplink_to_rxpk(frame)
        rxpk["stat"] = stat
        self.send_push({"rxpk": [rxpk]})
        return frame

    def send_stats(self, stats: GatewayStats | None = None) -> None:
        stats = stats or GatewayStats(self.gateway_id, datetime.now(UTC), rx_packets_received=1,
                                      rx_packets_received_ok=1)
        self.send_push({"stat": st.stats_to_stat(stats)})

    def send_push(self, obj: dict[str, object]) -> None:
        self.send_raw(st.build(self._version, random.getrandbits(16), st.PUSH_DATA, self.gateway_id,
                               json.dumps(obj).encode()))

    def send_raw(self, data: bytes) -> None:
        assert self._transport is not None, "not started"
        self._transport.sendto(data)

    async def _pull_loop(self) -> None:
        while True:
            self.send_raw(st.build(self._version, random.getrandbits(16), st.PULL_DATA, self.gateway_id))
            await asyncio.sleep(self._keepalive_s)

    def datagram_received(self, data: bytes) -> None:
        dg = st.parse_datagram(data)
        if dg.kind == st.PUSH_ACK:
            self.push_acks += 1
        elif dg.kind == st.PULL_ACK:
            self.pull_acks += 1
            self._pull_acked.set()
        elif dg.kind == st.PULL_RESP:
            self._on_pull_resp(dg)

    def _on_pull_resp(self, dg: st.Datagram) -> None:
        txpk = st.parse_txpk(st.parse_json_object(dg.body)["txpk"])
        status = self._errors.popleft() if self._errors else "OK"
        if status == "OK" and txpk.tmms is not None and self._gps_clock is None:
            status = "GPS_UNLOCKED"  # no GPS fix: a real forwarder refuses GPS timing
        error = st.STATUS_TO_TX_ACK_ERROR.get(status, status)
        self.tx_acks_sent.append(error)
        if status == "OK":
            self.downlinks.put_nowait(TransmittedDownlink(
                self.gateway_id, None, txpk.phy_payload, txpk.modulation, txpk.power, txpk.immediately,
                txpk.tmst, txpk.tmms / 1000 if txpk.tmms is not None else None,
            ))
        body = json.dumps({"txpk_ack": {"error": error}}).encode()
        self.send_raw(st.build(self._version, dg.token, st.TX_ACK, self.gateway_id, body))


class _ForwarderSide(asyncio.DatagramProtocol):
    def __init__(self, gateway: VirtualUdpGateway) -> None:
        self._gateway = gateway

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            self._gateway.datagram_received(data)
        except Exception as exc:  # a simulator must survive a bad server answer; note it and go on
            log.warning(
                "virtual UDP gateway %s: bad datagram from server: %s", self._gateway.gateway_id, exc
            )
