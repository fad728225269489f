"""Gateways for the emulated devices, written from the wire protocols, not from lora_city.gateway:

- ``UdpForwarder``: a Semtech packet forwarder (PROTOCOL.TXT v2): PUSH_DATA with ``rxpk``, PULL_DATA keep-alive,
  PULL_RESP ``txpk`` answered by TX_ACK. With a GPS fix (``gps_clock``) its receptions carry ``tmms`` (GPS time,
  ms since 1980-01-06, PROTOCOL.TXT §4) and it transmits at a txpk's ``tmms`` (§6, class B); without one it
  refuses such a txpk with TX_ACK error GPS_UNLOCKED (§5), as the reference forwarder does.
- ``MqttGateway``: a ChirpStack MQTT forwarder: protobuf ``event/up`` and ``event/ack``, ``command/down`` in,
  through a stock paho client.

Both put what the server asks them to transmit on ``downlinks`` as ``Transmission``s, with the timing resolved
against the uplink they answer, so a test can check the RX window the way a device would.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as paho
from chirpstack_api.gw import gw_pb2

from tests.support.emulator.device import DATA_RATES, Uplink

PUSH_DATA, PUSH_ACK, PULL_DATA, PULL_RESP, PULL_ACK, TX_ACK = range(6)


def datr(sf: int, bw: int) -> str:
    return f"SF{sf}BW{bw // 1000}"


def dr_of(sf: int, bw: int) -> int | None:
    return next((dr for dr, v in DATA_RATES.items() if v == (sf, bw)), None)


@dataclass(frozen=True, slots=True)
class Transmission:
    """One transmission the server asked for; ``options`` counts the windows it offered (MQTT lists RX1 and RX2
    in one command, UDP sends the next only after a failed TX_ACK)."""

    gateway_id: str
    phy: bytes
    frequency: int
    dr: int | None
    spreading_factor: int
    bandwidth: int
    power: int
    immediately: bool
    context_tmst: int | None  # the concentrator time of the transmission (delayed), µs
    options: int = 1
    alternatives: tuple[tuple[int, int | None, float], ...] = ()  # (frequency, dr, delay s) of the other items
    gps_time_s: float | None = None  # transmit at this GPS time (txpk "tmms"; class B ping slots)

    def delay_after(self, uplink_tmst: int) -> float | None:
        """Seconds between the uplink's reception and this transmission, on the gateway's own clock."""
        if self.context_tmst is None:
            return None
        return ((self.context_tmst - uplink_tmst) & 0xFFFFFFFF) / 1_000_000


class _Clock:
    """The SX130x free-running 32-bit µs counter, started at a random value like real hardware."""

    def __init__(self) -> None:
        self._offset = random.getrandbits(32)

    def tmst(self) -> int:
        return (int(time.monotonic() * 1_000_000) + self._offset) & 0xFFFFFFFF


class UdpForwarder:
    def __init__(self, server: tuple[str, int], gateway_id: str | None = None, *,
                 tx_ack_errors: list[str] | None = None, gps_clock: Callable[[], float] | None = None) -> None:
        self.server = server
        self.gps_clock = gps_clock  # GPS seconds now (a GPS fix), or None
        self.refused: list[dict[str, Any]] = []  # txpks refused (GPS timing without a GPS fix)
        self.gateway_id = gateway_id or f"{random.getrandbits(64):016x}"
        self.downlinks: asyncio.Queue[Transmission] = asyncio.Queue()
        self.push_acks = 0
        self.tx_ack_errors = list(tx_ack_errors or ())  # the next TX_ACK errors (e.g. "TOO_LATE"), then NONE
        self._clock = _Clock()
        self._transport: asyncio.DatagramTransport | None = None
        self._pulled = asyncio.Event()
        self._keepalive: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), remote_addr=self.server)
        self._keepalive = asyncio.create_task(self._pull_loop())
        await asyncio.wait_for(self._pulled.wait(), 5.0)

    async def stop(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        if self._transport is not None:
            self._transport.close()

    def _datagram(self, kind: int, body: bytes = b"") -> bytes:
        return bytes((2, random.getrandbits(8), random.getrandbits(8), kind)) + bytes.fromhex(self.gateway_id) + body

    async def _pull_loop(self) -> None:
        while True:
            assert self._transport is not None
            self._transport.sendto(self._datagram(PULL_DATA))
            await asyncio.sleep(2.0)

    def tmst(self) -> int:
        return self._clock.tmst()

    def rxpk(self, uplink: Uplink, *, snr: float = 5.0, rssi: float = -80.0, tmst: int | None = None,
             **override: Any) -> dict[str, Any]:
        sf, bw = uplink.sf_bw
        pk: dict[str, Any] = {
            "tmst": self.tmst() if tmst is None else tmst, "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "chan": uplink.tx_ch, "rfch": 0, "freq": uplink.frequency / 1e6, "stat": 1, "modu": "LORA",
            "datr": datr(sf, bw), "codr": "4/5", "rssi": rssi, "lsnr": snr, "size": len(uplink.phy),
            "data": base64.b64encode(uplink.phy).decode(),
        }
        if self.gps_clock is not None:
            pk["tmms"] = round(self.gps_clock() * 1000)
        pk.update(override)
        return pk

    def push(self, *rxpks: dict[str, Any]) -> None:
        assert self._transport is not None
        self._transport.sendto(self._datagram(PUSH_DATA, json.dumps({"rxpk": list(rxpks)}).encode()))

    def send(self, uplink: Uplink, **kw: Any) -> int:
        """Forward one reception; returns its concentrator time (for checking the answer's RX delay)."""
        pk = self.rxpk(uplink, **kw)
        self.push(pk)
        return int(pk["tmst"])

    def _on_datagram(self, data: bytes) -> None:
        if len(data) < 4:
            return
        kind = data[3]
        if kind == PULL_ACK:
            self._pulled.set()
        elif kind == PUSH_ACK:
            self.push_acks += 1
        elif kind == PULL_RESP:
            txpk = json.loads(data[4:])["txpk"]
            sf, bw = (int(x) for x in txpk["datr"][2:].split("BW"))
            bw *= 1000
            error = self.tx_ack_errors.pop(0) if self.tx_ack_errors else "NONE"
            if "tmms" in txpk and self.gps_clock is None:
                error = "GPS_UNLOCKED"
                self.refused.append(txpk)
            else:
                self.downlinks.put_nowait(Transmission(
                    self.gateway_id, base64.b64decode(txpk["data"]), round(txpk["freq"] * 1e6), dr_of(sf, bw), sf,
                    bw, int(txpk.get("powe", 0)), bool(txpk.get("imme")), txpk.get("tmst"),
                    gps_time_s=txpk["tmms"] / 1000 if "tmms" in txpk else None))
            ack = json.dumps({"txpk_ack": {"error": error}}).encode()
            assert self._transport is not None
            self._transport.sendto(data[:3] + bytes((TX_ACK,)) + bytes.fromhex(self.gateway_id) + ack)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, forwarder: UdpForwarder) -> None:
        self._f = forwarder

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._f._on_datagram(data)


class MqttGateway:
    """A ChirpStack-protocol gateway on a real broker (paho in its own thread, frames handed to the loop)."""

    def __init__(self, mqtt_url: str, prefix: str, gateway_id: str | None = None) -> None:
        url = urlparse(mqtt_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 1883
        self.prefix = prefix
        self.gateway_id = gateway_id or f"{random.getrandbits(64):016x}"
        self.downlinks: asyncio.Queue[Transmission] = asyncio.Queue()
        self._clock = _Clock()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"emu-{self.gateway_id}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *a: self._loop.call_soon_threadsafe(self._subscribed.set)  # type: ignore[union-attr]
        self._client.connect(self._host, self._port)
        self._client.loop_start()
        self._client.subscribe(f"{self.prefix}/gateway/{self.gateway_id}/command/down")
        await asyncio.wait_for(self._subscribed.wait(), 5.0)

    async def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def tmst(self) -> int:
        return self._clock.tmst()

    def send(self, uplink: Uplink, *, snr: float = 5.0, rssi: float = -80.0, spreading_factor: int | None = None,
             bandwidth: int | None = None) -> int:
        sf, bw = uplink.sf_bw
        pb = gw_pb2.UplinkFrame(phy_payload=uplink.phy)
        pb.tx_info.frequency = uplink.frequency
        pb.tx_info.modulation.lora.spreading_factor = sf if spreading_factor is None else spreading_factor
        pb.tx_info.modulation.lora.bandwidth = bw if bandwidth is None else bandwidth
        pb.tx_info.modulation.lora.code_rate = gw_pb2.CR_4_5
        tmst = self.tmst()
        rx = pb.rx_info
        rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr = self.gateway_id, random.getrandbits(32), int(rssi), snr
        rx.channel, rx.context, rx.crc_status = uplink.tx_ch, struct.pack(">I", tmst), gw_pb2.CRC_OK
        rx.gw_time.FromDatetime(datetime.now(UTC))
        self._client.publish(f"{self.prefix}/gateway/{self.gateway_id}/event/up", pb.SerializeToString())
        return tmst

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        pb = gw_pb2.DownlinkFrame()
        pb.ParseFromString(msg.payload)
        items = []
        for item in pb.items:
            tx = item.tx_info
            lora = tx.modulation.lora
            timing = tx.timing.WhichOneof("parameters")
            delay = tx.timing.delay.delay.seconds if timing == "delay" else 0
            tmst = (struct.unpack(">I", tx.context[-4:])[0] + delay * 1_000_000) & 0xFFFFFFFF if timing == "delay" \
                else None
            items.append((item.phy_payload, tx.frequency, lora.spreading_factor, lora.bandwidth, tx.power,
                          timing == "immediately", tmst, delay))
        if not items:
            return
        phy, freq, sf, bw, power, imme, tmst, _delay = items[0]
        alternatives = tuple((f, dr_of(s, b), float(d)) for _p, f, s, b, _pw, _i, _t, d in items[1:])
        down = Transmission(self.gateway_id, phy, freq, dr_of(sf, bw), sf, bw, power, imme, tmst, len(items),
                            alternatives)
        ack = gw_pb2.DownlinkTxAck(gateway_id=self.gateway_id, downlink_id=pb.downlink_id)
        ack.items.add(status=gw_pb2.OK)
        for _ in items[1:]:
            ack.items.add(status=gw_pb2.IGNORED)
        self._client.publish(f"{self.prefix}/gateway/{self.gateway_id}/event/ack", ack.SerializeToString())
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.downlinks.put_nowait, down)
