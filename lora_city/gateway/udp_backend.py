"""The Semtech UDP packet-forwarder backend (PROTOCOL.TXT v2).

PUSH_DATA is acknowledged at once and its rxpk/stat objects become frames; PULL_DATA (the forwarder's ~10 s
keep-alive) is acknowledged and remembers the address downlinks must go to (forwarders behind NAT are only
reachable there). A PULL_RESP carries one transmission, so a DownlinkFrame's items are tried one by one:
RX1 first, the next item when the TX_ACK reports an error, as ChirpStack's gateway bridge does.

The socket is read in batches (up to ``READ_BATCH`` datagrams per wake-up, until the kernel has none left),
parsed, and every uplink copy of the batch is written to the copy journal in one ``write`` before the batch's
PUSH_ACKs go out (gateway/journal.py). The async event sink is then driven by one consumer task fed through a
bounded queue, which is cheaper per packet than a task each and bounds memory under a flood. The receive buffer
is sized by ``Settings.udp_receive_buffer_bytes`` and the kernel's drop counter for the socket is exported
(gateway/udp_socket.py), so a burst lost before our code runs still shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import socket
import time
from collections import deque
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
from lora_city.gateway.journal import CopyJournal
from lora_city.gateway.udp_socket import KernelDrops, open_udp_socket
from lora_city.gateway.validate import check_uplink
from lora_city.lorawan.region import region_named
from lora_city.metrics import Metrics
from lora_city.settings import Settings

log = logging.getLogger(__name__)
READ_BATCH = 256  # datagrams read per wake-up of the socket before the journal write and the acknowledgements
DROP_POLL_S = 1.0  # how often the kernel's drop counter is read

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
        journal: CopyJournal | None = None,
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
        self._journal = journal
        self._receive_buffer = settings.udp_receive_buffer_bytes
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buf = bytearray(65536)
        self._acks: list[tuple[bytes, Address]] = []  # PUSH_ACKs of the batch, sent once its copies are journaled
        self._batch: list[_Event] = []  # events of the batch, queued after the acknowledgements
        self._unsent: deque[tuple[bytes, Address]] = deque()  # what the socket would not take at once
        self._consumer: asyncio.Task[None] | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._events: GatewayEvents | None = None
        self._kernel_drops = metrics.udp_receive_drops
        self._last_drop_log = -1e9

    # --- GatewayBackend ----------------------------------------------------------------------------------

    async def start(self, events: GatewayEvents) -> None:
        self._events = events
        self._loop = loop = asyncio.get_running_loop()
        self._sock = sock = open_udp_socket(*self._listen, self._receive_buffer)
        self._metrics.udp_receive_buffer.set(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        loop.add_reader(sock.fileno(), self._read_ready)
        self._consumer = asyncio.create_task(self._consume(events), name="udp-gateway-events")
        self._monitor = asyncio.create_task(self._watch_kernel_drops(KernelDrops(sock)), name="udp-kernel-drops")
        log.info("Semtech UDP gateway backend listening on %s:%s", *self.local_address)

    async def stop(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
            self._sock.close()
            self._sock = None
        for task in (self._consumer, self._monitor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._consumer = self._monitor = None

    @property
    def local_address(self) -> Address:
        assert self._sock is not None, "not started"
        host, port = self._sock.getsockname()[:2]
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
        if gw is None or self._sock is None:
            raise ConnectionError(f"gateway {pending.frame.gateway_id} has not sent PULL_DATA; cannot reach it")
        token = random.getrandbits(16)
        while token in self._pending:
            token = random.getrandbits(16)
        body = json.dumps({"txpk": st.item_to_txpk(pending.frame.items[pending.index])}).encode()
        self._pending[token] = pending
        self._send(st.build(gw.version, token, st.PULL_RESP, body=body), gw.pull_addr)

    def _send(self, data: bytes, addr: Address) -> None:
        sock = self._sock
        if sock is None:
            return
        if not self._unsent:
            try:
                sock.sendto(data, addr)
                return
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as exc:  # e.g. no route to a forwarder that went away: nothing to do but note it
                log.debug("UDP send to %s failed: %s", addr, exc)
                return
            assert self._loop is not None
            self._loop.add_writer(sock.fileno(), self._write_ready)
        self._unsent.append((data, addr))

    def _write_ready(self) -> None:
        sock = self._sock
        while sock is not None and self._unsent:
            data, addr = self._unsent[0]
            try:
                sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("UDP send to %s failed: %s", addr, exc)
            self._unsent.popleft()
        if sock is not None and self._loop is not None:
            self._loop.remove_writer(sock.fileno())

    def _expire_pending(self) -> None:
        # Protocol v1 forwarders never send TX_ACK, and a lost TX_ACK must not pin memory.
        deadline = self._clock() - self._ack_timeout_s
        for token in [t for t, p in self._pending.items() if p.sent_at < deadline]:
            del self._pending[token]

    # --- inbound (reader callback, synchronous) ---------------------------------------------------------

    def _read_ready(self) -> None:
        sock = self._sock
        buf = self._buf
        view = memoryview(buf)
        try:
            for _ in range(READ_BATCH):
                try:
                    n, addr = sock.recvfrom_into(buf) if sock is not None else (0, None)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:  # an ICMP error reported on the socket: the next datagram is fine
                    log.debug("UDP gateway socket error: %s", exc)
                    continue
                if addr is None:
                    break
                self._handle(bytes(view[:n]), (str(addr[0]), int(addr[1])))
        finally:
            view.release()
            self._finish_batch()

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """One datagram as a batch of its own."""
        self._handle(data, addr)
        self._finish_batch()

    def _finish_batch(self) -> None:
        """Journal the batch's copies (one write), then acknowledge, then hand the events on."""
        if self._journal is not None:
            try:
                self._journal.write()
            except OSError:  # a full disk must not stop the radio side: handle the copies, say it loudly
                log.exception("copy journal write failed; these copies are not protected against a crash")
        for data, addr in self._acks:
            self._send(data, addr)
        self._acks.clear()
        for event in self._batch:
            self._enqueue(event)
        self._batch.clear()

    def _handle(self, data: bytes, addr: Address) -> None:
        gateway_id: str | None = None
        try:
            dg = st.parse_datagram(data)
            gateway_id = dg.gateway_id
            if dg.kind == st.PUSH_DATA:
                self._acks.append((st.build(dg.version, dg.token, st.PUSH_ACK), addr))
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
        self._send(st.build(dg.version, dg.token, kind), addr)

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
            if self._journal is not None:
                self._journal.append(frame)
            self._batch.append(frame)
        stat = obj.get("stat")
        if isinstance(stat, dict):
            stats = st.stat_to_stats(stat, gateway_id)
            self._frames["stats"].inc()
            if self._health is not None:
                self._health.on_stats(stats, Transport.UDP)
            self._batch.append(stats)

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
        self._batch.append(ack)

    def _enqueue(self, event: _Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            gateway_id = event.rx_info.gateway_id if isinstance(event, UplinkFrame) else event.gateway_id
            self._bad.report("overload", "event queue full", gateway_id)
            if isinstance(event, UplinkFrame) and self._journal is not None and event.journal_seq >= 0:
                self._journal.done(event.journal_seq)  # counted as lost; not replayed as if it were pending

    async def _watch_kernel_drops(self, counters: KernelDrops) -> None:
        """Export the kernel's drops for our socket and its queue depth; log when drops rise (rate-limited)."""
        first = counters.read()
        if first is None:
            log.info("no /proc/net/udp here: kernel drops of the gateway socket are not exported")
            return
        seen = first.drops
        while True:
            await asyncio.sleep(DROP_POLL_S)
            now = counters.read()
            if now is None:
                continue
            self._metrics.udp_receive_queue.set(now.queued)
            if now.drops > seen:
                self._kernel_drops.inc(now.drops - seen)
                if self._clock() - self._last_drop_log >= 10.0:
                    self._last_drop_log = self._clock()
                    log.warning("the kernel dropped %d gateway datagram(s) (receive buffer full, %d bytes queued); "
                                "raise Settings.udp_receive_buffer_bytes / net.core.rmem_max, or the server is "
                                "too slow for this traffic", now.drops - seen, now.queued)
                seen = now.drops

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
