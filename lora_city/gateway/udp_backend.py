"""The Semtech UDP packet-forwarder backend (PROTOCOL.TXT v2).

PUSH_DATA is acknowledged at once and its rxpk/stat objects become frames; PULL_DATA (the forwarder's ~10 s
keep-alive) is acknowledged and remembers the address downlinks must go to (forwarders behind NAT are only
reachable there). A PULL_RESP carries one transmission, so a DownlinkFrame's items are tried one by one:
RX1 first, the next item when the TX_ACK reports an error, as ChirpStack's gateway bridge does.

Datagram parsing happens in the protocol callback; the async event sink is driven by one consumer task fed
through a bounded queue, which is cheaper per packet than a task each and bounds memory under a flood.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lora_city.gateway import semtech as st
from lora_city.gateway.bad_input import BadGatewayInput, BadInputReporter
from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayEvents,
    GatewayStats,
    Transport,
    UplinkFrame,
)
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.validate import check_uplink
from lora_city.lorawan.region import region_named
from lora_city.metrics import Metrics
from lora_city.settings import Settings

log = logging.getLogger(__name__)

Address = tuple[str, int]
_Event = UplinkFrame | GatewayStats | DownlinkTxAck


def parse_listen(listen: str) -> Address:
    """``host:port`` or ``[v6]:port``."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"UDP listen address must be host:port, got {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


@dataclass(slots=True)
class _Gateway:
    pull_addr: Address
    version: int


@dataclass(slots=True)
class _PendingDownlink:
    frame: DownlinkFrame
    index: int
    sent_at: float
    statuses: list[str] = field(default_factory=list)


class UdpGatewayBackend:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        health: GatewayHealth | None = None,
        clock: Callable[[], float] = time.monotonic,
        ack_timeout_s: float = 5.0,
        queue_size: int = 50_000,
    ) -> None:
        if not settings.udp_listen:
            raise ValueError("UdpGatewayBackend needs Settings.udp_listen (empty disables the listener)")
        self._listen = parse_listen(settings.udp_listen)
        self._region = region_named(settings.region)
        self._metrics = metrics
        self._health = health
        self._clock = clock
        self._ack_timeout_s = ack_timeout_s
        self._bad = BadInputReporter(metrics, "udp", on_bad=health.on_bad_frame if health else None, clock=clock)
        self._frames = {k: metrics.gateway_frames.labels(Transport.UDP.value, k) for k in ("up", "stats", "ack", "pull")}
        self._gateways: dict[str, _Gateway] = {}
        self._pending: dict[int, _PendingDownlink] = {}  # PULL_RESP token -> downlink waiting for its TX_ACK
        self._uplink_ids = itertools.count(random.getrandbits(31))
        self._queue: asyncio.Queue[_Event] = asyncio.Queue(queue_size)
        self._transport: asyncio.DatagramTransport | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._events: GatewayEvents | None = None

    # --- GatewayBackend ----------------------------------------------------------------------------------

    async def start(self, events: GatewayEvents) -> None:
        self._events = events
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _ForwarderProtocol(self), local_addr=self._listen
        )
        self._transport = transport
        self._consumer = asyncio.create_task(self._consume(events), name="udp-gateway-events")
        log.info("Semtech UDP gateway backend listening on %s:%s", *self.local_address)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
            self._consumer = None

    @property
    def local_address(self) -> Address:
        assert self._transport is not None, "not started"
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def knows(self, gateway_id: str) -> bool:
        return gateway_id in self._gateways

    async def send_downlink(self, frame: DownlinkFrame) -> None:
        """Send the first item as PULL_RESP; later items wait for an error TX_ACK. Raises ``ConnectionError``
        when the gateway has not sent a PULL_DATA yet (it cannot be reached)."""
        if not frame.items:
            raise ValueError("a downlink frame needs at least one item")
        self._expire_pending()
        pending = _PendingDownlink(frame, 0, self._clock())
        self._send_item(pending)
        if self._health is not None:
            self._health.on_downlink(frame.gateway_id)

    # --- outbound ----------------------------------------------------------------------------------------

    def _send_item(self, pending: _PendingDownlink) -> None:
        gw = self._gateways.get(pending.frame.gateway_id)
        if gw is None or self._transport is None:
            raise ConnectionError(f"gateway {pending.frame.gateway_id} has not sent PULL_DATA; cannot reach it")
        token = random.getrandbits(16)
        while token in self._pending:
            token = random.getrandbits(16)
        body = json.dumps({"txpk": st.item_to_txpk(pending.frame.items[pending.index])}).encode()
        self._pending[token] = pending
        self._transport.sendto(st.build(gw.version, token, st.PULL_RESP, body=body), gw.pull_addr)

    def _expire_pending(self) -> None:
        # Protocol v1 forwarders never send TX_ACK, and a lost TX_ACK must not pin memory.
        deadline = self._clock() - self._ack_timeout_s
        for token in [t for t, p in self._pending.items() if p.sent_at < deadline]:
            del self._pending[token]

    # --- inbound (protocol callback, synchronous) -------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Address) -> None:
        gateway_id: str | None = None
        try:
            dg = st.parse_datagram(data)
            gateway_id = dg.gateway_id
            if dg.kind == st.PUSH_DATA:
                self._reply(dg, st.PUSH_ACK, addr)
                self._on_push_data(dg)
            elif dg.kind == st.PULL_DATA:
                self._reply(dg, st.PULL_ACK, addr)
                self._on_pull_data(dg, addr)
            elif dg.kind == st.TX_ACK:
                self._on_tx_ack(dg)
            else:
                raise BadGatewayInput("udp_unexpected_identifier", str(dg.kind))
        except BadGatewayInput as exc:
            self._bad.report(exc.reason, f"from={addr[0]}:{addr[1]} {exc.detail}", gateway_id)
        except Exception:  # the callback boundary: one log line with context, then the next datagram
            log.exception("UDP gateway datagram failed: gateway_id=%s from=%s", gateway_id, addr)

    def _reply(self, dg: st.Datagram, kind: int, addr: Address) -> None:
        if self._transport is not None:
            self._transport.sendto(st.build(dg.version, dg.token, kind), addr)

    def _on_pull_data(self, dg: st.Datagram, addr: Address) -> None:
        assert dg.gateway_id is not None
        gw = self._gateways.get(dg.gateway_id)
        if gw is None:
            self._gateways[dg.gateway_id] = _Gateway(addr, dg.version)
        else:
            gw.pull_addr, gw.version = addr, dg.version
        self._frames["pull"].inc()
        if self._health is not None:
            self._health.on_keepalive(dg.gateway_id, Transport.UDP)

    def _on_push_data(self, dg: st.Datagram) -> None:
        gateway_id = dg.gateway_id
        assert gateway_id is not None
        obj = st.parse_json_object(dg.body)
        now = self._clock()
        rxpks = obj.get("rxpk")
        for rxpk in rxpks if isinstance(rxpks, list) else ():
            # One bad rxpk must not cost its neighbours in the same datagram.
            try:
                if not isinstance(rxpk, dict):
                    raise BadGatewayInput("udp_bad_rxpk", "not an object")
                frame = st.rxpk_to_uplink(rxpk, gateway_id, next(self._uplink_ids) & 0xFFFFFFFF, now)
                check_uplink(frame, self._region)
            except BadGatewayInput as exc:
                self._bad.report(exc.reason, exc.detail, gateway_id)
                continue
            self._frames["up"].inc()
            if self._health is not None:
                self._health.on_uplink(gateway_id, Transport.UDP)
            self._enqueue(frame)
        stat = obj.get("stat")
        if isinstance(stat, dict):
            stats = st.stat_to_stats(stat, gateway_id)
            self._frames["stats"].inc()
            if self._health is not None:
                self._health.on_stats(stats, Transport.UDP)
            self._enqueue(stats)

    def _on_tx_ack(self, dg: st.Datagram) -> None:
        status = st.tx_ack_status(dg.body)
        pending = self._pending.pop(dg.token, None)
        if pending is None:
            return  # late or duplicate TX_ACK: the downlink was already settled or expired
        if pending.frame.gateway_id != dg.gateway_id:
            self._pending[dg.token] = pending
            raise BadGatewayInput("udp_tx_ack_wrong_gateway", f"token {dg.token} belongs to another gateway")
        self._frames["ack"].inc()
        pending.statuses.append(status)
        if status != "OK" and pending.index + 1 < len(pending.frame.items):
            pending.index += 1
            pending.sent_at = self._clock()
            try:
                self._send_item(pending)
                return
            except ConnectionError as exc:
                log.warning("downlink fallback impossible: gateway_id=%s %s", dg.gateway_id, exc)
        frame = pending.frame
        statuses = pending.statuses + ["IGNORED"] * (len(frame.items) - len(pending.statuses))
        ack = DownlinkTxAck(frame.gateway_id, frame.downlink_id, tuple(statuses))
        if self._health is not None:
            self._health.on_tx_ack(ack)
        self._enqueue(ack)

    def _enqueue(self, event: _Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            gateway_id = event.rx_info.gateway_id if isinstance(event, UplinkFrame) else event.gateway_id
            self._bad.report("overload", "event queue full", gateway_id)

    async def _consume(self, events: GatewayEvents) -> None:
        queue = self._queue
        while True:
            event = await queue.get()
            try:
                if isinstance(event, UplinkFrame):
                    await events.on_uplink(event)
                elif isinstance(event, GatewayStats):
                    await events.on_stats(event)
                else:
                    await events.on_tx_ack(event)
            except Exception:  # the callback boundary: the event sink must not stop the listener
                gateway_id = event.rx_info.gateway_id if isinstance(event, UplinkFrame) else event.gateway_id
                log.exception("gateway event handler failed: gateway_id=%s", gateway_id)


class _ForwarderProtocol(asyncio.DatagramProtocol):
    def __init__(self, backend: UdpGatewayBackend) -> None:
        self._backend = backend

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._backend.datagram_received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable after a PULL_RESP to a forwarder that went away: nothing to do but note it.
        log.debug("UDP gateway socket error: %s", exc)
