"""The network server: the gateways' event sink (``GatewayEvents``) and the owner of sessions and downlinks.

    gateway copy ─► on_uplink ─► Deduplicator (window) ─► _handle_collected
        ├─ JoinRequest  ─► JoinHandler (worker thread)   ─► join-accept (RX1 5 s / RX2 6 s) ─► JoinEvent
        └─ data uplink  ─► DataUplinkHandler (in order)   ─► class-A answer (RX1/RX2) ─► events to every sink
    API enqueue ─► notify_queue ─► class C: sent at once
    group enqueue ─► notify_group ─► MulticastDownlinks: the fewest gateways reaching every member (and a
                     fallback pass every second for what could not go at once)
    every second and on stop ─► SessionStore flush (write-behind of counters and MAC state)
    start ─► copies the journal kept from before a crash ─► regroup ─► _on_collected (no downlinks, no joins)

Every boundary catches: a frame that cannot be handled is counted (``uplink_drops{reason}``) and the next goes on.

With a copy journal (gateway/journal.py) the session flush is also the journal's checkpoint: it makes the durable
sinks commit first, so a session in the database never runs ahead of the readings it produced; the journal then
forgets the copies below the mark taken before the flush.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from lora_city.codec.registry import CodecRegistry
from lora_city.downlink.answer import DeviceDownlinks
from lora_city.downlink.class_b import GpsGateways, gps_now
from lora_city.downlink.duty_cycle import DutyCycleTracker
from lora_city.downlink.multicast import MulticastDownlinks
from lora_city.downlink.scheduler import DownlinkScheduler
from lora_city.errors import DropFrame
from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayBackend,
    GatewayConnState,
    GatewayStats,
    UplinkFrame,
)
from lora_city.gateway.journal import CopyJournal
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.frames import DataFrame, JoinRequest, MType, RejoinRequest, parse_phy_payload
from lora_city.lorawan.region import region_named
from lora_city.metrics import Metrics
from lora_city.network.gateway_directory import GatewayDirectory
from lora_city.network.traffic import TrafficCounters, TrafficWriter
from lora_city.network.unknown_gateways import UnknownGateways
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceEvent, JoinEvent, Sink
from lora_city.storage.db import SessionFactory
from lora_city.storage.device_queue import DeviceQueue
from lora_city.storage.keys import KeyVault
from lora_city.storage.multicast import MulticastStore
from lora_city.storage.sessions import NetworkSession, SessionStore
from lora_city.uplink.class_b import ClassBPlan
from lora_city.uplink.context import UplinkContext
from lora_city.uplink.data import AppLayerHook, DataUplinkHandler
from lora_city.uplink.dedup import CollectedUplink, Deduplicator, regroup
from lora_city.uplink.join import JoinHandler
from lora_city.uplink.mac_requests import RadioPlan
from lora_city.uplink.quota import AllowAll, QuotaPolicy
from lora_city.uplink.rejoin import RejoinHandler

log = logging.getLogger(__name__)
CLASS_C_BURST = 16  # queue items sent to a class C device per notification (the rest: the next notification)
GATEWAY_RELOAD_S = 30.0




class FrameTap(Protocol):
    """Told of every gateway copy and every downlink sent (the gRPC API's live frame stream)."""

    def uplink(self, frame: UplinkFrame) -> None: ...

    def downlink(self, frame: DownlinkFrame) -> None: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# An unregistered gateway is looked up in the database again at most this often (another process may have
# registered it); and at most this many such lookups run per second, whatever a spoofer invents.
UNKNOWN_GATEWAY_RECHECK_S = 10.0
UNKNOWN_GATEWAY_LOOKUPS_PER_S = 20


class NetworkServer:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        factory: SessionFactory,
        vault: KeyVault,
        *,
        codecs: CodecRegistry | None = None,
        sinks: Sequence[Sink] = (),
        backends: Sequence[GatewayBackend] = (),
        quota: QuotaPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        flush_interval_s: float = 1.0,
        preload: bool = True,
        late_copy_ttl_s: float | None = None,
        journal: CopyJournal | None = None,
        app_layer: AppLayerHook | None = None,
        utcnow: Callable[[], datetime] | None = None,
        traffic_flush_s: float = 5.0,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._sinks = list(sinks)
        self._backends = list(backends)
        self._flush_interval_s = flush_interval_s
        self._preload = preload
        self.region = region = region_named(settings.region)
        family_of = _family_lookup(codecs)
        self.sessions = SessionStore(factory, vault, family_of=family_of, clock=clock)
        self.queue = DeviceQueue(factory)
        self.duty_cycle = DutyCycleTracker(clock, region)
        self.journal = journal  # opened in start(), closed in stop(); the backends write to it
        self.dedup = Deduplicator(settings.dedup_window_ms / 1000.0, self._on_collected, clock=clock,
                                  on_disagreeing=self._disagreeing_copy, on_discard=self._copy_done,
                                  **({} if late_copy_ttl_s is None else {"handled_ttl_s": late_copy_ttl_s}))
        self.gateways = GatewayDirectory()  # registered gateways, owners, private flags (issue 7)
        self.unknown_gateways = UnknownGateways(factory)
        self._allow_unknown = settings.allow_unknown_gateways
        self._unknown_until: dict[str, float] = {}  # gateway id -> clock() before which it is not looked up
        self._lookups: list[float] = [0.0, 0.0]  # [window start, lookups in this second]
        self._clock = clock
        self._factory = factory
        plan = RadioPlan.from_settings(settings, region)
        self._data = DataUplinkHandler(self.sessions, self.queue, codecs, quota or AllowAll(), metrics,
                                       gateways=self.gateways, region=region, app_layer=app_layer, radio_plan=plan,
                                       class_b=ClassBPlan(
                                           settings.class_b_ping_slot_frequency_hz, settings.class_b_ping_slot_dr,
                                           settings.class_b_beacon_frequency_hz))
        self._join = JoinHandler(factory, vault, self.sessions, net_id=settings.net_id,
                                 rx_delay=plan.rx_delay, family_of=family_of, region=region, radio_plan=plan)
        self._rejoin = RejoinHandler(factory, vault, self.sessions, net_id=settings.net_id,
                                     rx_delay=plan.rx_delay, family_of=family_of, region=region, radio_plan=plan)
        self.scheduler = DownlinkScheduler(self, self.duty_cycle, metrics, self.emit, clock=clock,
                                           gateways=self.gateways, region=region)
        self.downlinks = DeviceDownlinks(self.scheduler, self.queue, self.emit, quota, region=region)
        self.gps_gateways = GpsGateways(clock)  # gateways with a GPS fix: class B transmits through them
        self._class_b_in_flight: set[str] = set()  # devices with a ping-slot frame handed over and not yet sent
        self.multicast = MulticastDownlinks(self.scheduler, MulticastStore(factory, vault), self.sessions,
                                            clock=clock, gps_gateways=self.gps_gateways,
                                            utcnow=utcnow or (lambda: datetime.now(UTC)))
        self._multicast_loop: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._copies = metrics.dedup_copies
        self._late = metrics.uplink_drops.labels("late_copy")
        self._uplinks_data = metrics.uplinks.labels("data")
        self._latency = metrics.uplink_latency
        self._drops: dict[str, Any] = {}
        # Hourly counters of the network health pages (network/traffic.py), flushed every few seconds.
        self.traffic = TrafficCounters(region)
        self._traffic_writer = TrafficWriter(factory, self.traffic, interval_s=traffic_flush_s)
        self._traffic_loop: asyncio.Task[None] | None = None
        # Told of every gateway copy and every downlink sent (the gRPC API's live frame stream); must be cheap.
        self.frame_taps: list[FrameTap] = [self.traffic]

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._preload:  # every active session in memory before the first frame: no query per new device
            started = time.monotonic()
            count = await asyncio.to_thread(self.sessions.preload)
            log.info("loaded %d device sessions in %.1f s", count, time.monotonic() - started)
            # The preloaded sessions live as long as the process: move them (and everything else alive now) out
            # of the cyclic collector's reach. Otherwise each full collection walks ~1M objects at 100,000 devices,
            # a pause of a few hundred ms that showed as the ACK latency's p99 (bench/ingest.py).
            gc.collect()
            gc.freeze()
        await asyncio.to_thread(self.gateways.load, self._factory)
        for sink in self._sinks:
            await sink.start()
        if self.journal is not None:  # before any new copy: the replayed ones come first, in their order
            self._replay(await asyncio.to_thread(self.journal.open))
        for backend in self._backends:
            await backend.start(self)
        self._flusher = asyncio.create_task(self._flush_loop(), name="session-flush")
        self._multicast_loop = asyncio.create_task(self.multicast.run(), name="multicast-queue")
        self._traffic_loop = asyncio.create_task(self._traffic_writer.run(), name="traffic-counters")

    async def stop(self) -> None:
        for backend in self._backends:
            try:
                await backend.stop()
            except Exception:
                log.exception("gateway backend stop failed")
        if self._multicast_loop is not None:
            self._multicast_loop.cancel()
            await asyncio.gather(self._multicast_loop, return_exceptions=True)
        await asyncio.sleep(self._settings.dedup_window_ms / 1000.0 + 0.05)  # let open windows close
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.flush()
        if self._traffic_loop is not None:
            self._traffic_loop.cancel()
            await asyncio.gather(self._traffic_loop, return_exceptions=True)
        await self.flush_traffic()
        for sink in self._sinks:
            try:
                await sink.stop()
            except Exception:
                log.exception("sink stop failed: sink=%s", getattr(sink, "name", "?"))
        if self.journal is not None:
            self.journal.close()

    async def flush(self) -> int:
        async with self._flush_lock:
            unknown = self.unknown_gateways.snapshot()
            if unknown:
                try:
                    await asyncio.to_thread(self.unknown_gateways.write_rows, unknown)
                except Exception:  # counted anyway; the listing is informative
                    log.exception("unknown gateways write failed: %d rows", len(unknown))
            journal = self.journal
            mark = journal.low_watermark if journal is not None else None  # before the snapshot: see docstring
            rows = self.sessions.snapshot()
            if not rows and mark is None:
                return 0
            try:
                if journal is not None:
                    await self._sinks_durable()
                written = await asyncio.to_thread(self.sessions.write_rows, rows) if rows else 0
            except Exception:
                log.exception("session flush failed: %d sessions", len(rows))
                for s in self.sessions.cached():  # mark everything dirty again so the next flush retries
                    s.dirty = True
                return 0
            if journal is not None and mark is not None:
                try:
                    journal.checkpoint(mark)
                except OSError:
                    log.exception("journal checkpoint failed (the copies stay and are replayed after a crash)")
            return written

    async def flush_traffic(self) -> int:
        """Write the traffic counters now (they are written every few seconds anyway, and on stop)."""
        return await self._traffic_writer.flush()

    async def _sinks_durable(self) -> None:
        """Every event handed to a durable sink so far is committed (readings store, InfluxDB outbox)."""
        for sink in self._sinks:
            durable = getattr(sink, "durable", None)
            if durable is not None:
                await durable()

    async def _flush_loop(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(self._flush_interval_s)
            await self.flush()
            rounds += 1
            if rounds * self._flush_interval_s >= GATEWAY_RELOAD_S:  # private flags edited through the API
                rounds = 0
                try:
                    await asyncio.to_thread(self.gateways.load, self._factory)
                except Exception:
                    log.exception("gateway directory reload failed")

    # --- GatewayEvents -----------------------------------------------------------------------------------

    async def on_uplink(self, frame: UplinkFrame) -> None:
        self._copies.inc()
        if not self._allow_unknown and not await self._registered(frame.rx_info.gateway_id):
            self.unknown_gateways.heard(frame.rx_info.gateway_id, frame.transport.value)
            self._drop("unknown_gateway")
            self._copy_done(frame)
            return
        if frame.rx_info.gps_time_s is not None:
            self.gps_gateways.saw(frame.rx_info.gateway_id)
        for tap in self.frame_taps:
            tap.uplink(frame)
        if not self.dedup.add(frame):
            self._late.inc()
            self.traffic.network("drop", "late_copy")
            self._copy_done(frame)

    def _copy_done(self, frame: UplinkFrame) -> None:
        if self.journal is not None and frame.journal_seq >= 0:
            self.journal.done(frame.journal_seq)

    def _replay(self, copies: list[UplinkFrame]) -> None:
        """Copies journaled before a crash and not known to be handled for good: grouped as the dedup windows
        grouped them and handled again. The FCnt check drops what the database already has; the rest gets its
        first uplink id and time back, which the readings store and InfluxDB take only once."""
        if not self._allow_unknown:  # the backends journal every copy, registered gateway or not
            for frame in [c for c in copies if not self.gateways.knows(c.rx_info.gateway_id)]:
                self._copy_done(frame)
            copies = [c for c in copies if self.gateways.knows(c.rx_info.gateway_id)]
        if not copies:
            return
        collected, left_out, disagreeing = regroup(copies, self._settings.dedup_window_ms / 1000.0,
                                                   time.monotonic())
        for frame in left_out:
            self._copy_done(frame)
        for frame in disagreeing:
            self._disagreeing_copy(frame)
        for uplink in collected:
            self.dedup.mark_handled(uplink.phy_payload)
            self._on_collected(uplink)
        log.info("journal replay: %d cop(ies), %d uplink(s) handled again", len(copies), len(collected))

    async def _registered(self, gateway_id: str) -> bool:
        """Whether the gateway is registered. Known ones answer from memory; an unknown one is looked up in the
        database (registered by another process?) at most every UNKNOWN_GATEWAY_RECHECK_S, within a global
        budget of lookups per second."""
        if self.gateways.knows(gateway_id):
            return True
        now = self._clock()
        if self._unknown_until.get(gateway_id, 0.0) > now:
            return False
        if now - self._lookups[0] >= 1.0:
            self._lookups[:] = [now, 0.0]
        if self._lookups[1] >= UNKNOWN_GATEWAY_LOOKUPS_PER_S:
            return False
        self._lookups[1] += 1
        try:
            found = await asyncio.to_thread(self.gateways.reload, self._factory, gateway_id)
        except Exception:
            log.exception("gateway lookup failed: gateway_id=%s", gateway_id)
            found = False
        if not found:
            if len(self._unknown_until) > 100_000:
                self._unknown_until.clear()
            self._unknown_until[gateway_id] = now + UNKNOWN_GATEWAY_RECHECK_S
        return found

    def _disagreeing_copy(self, frame: UplinkFrame) -> None:
        """A copy whose radio parameters contradict the other gateways' (broken or spoofed): left out alone."""
        self._metrics.gateway_bad_input.labels(frame.transport.value, "disagreeing_copy").inc()
        self._copy_done(frame)
        log.debug("gateway copy left out: radio parameters differ from the other copies: gateway_id=%s",
                  frame.rx_info.gateway_id)

    async def on_stats(self, stats: GatewayStats) -> None:
        return None  # the gateway backends feed GatewayHealth themselves

    async def on_conn_state(self, state: GatewayConnState) -> None:
        return None

    async def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        self.traffic.tx_ack(ack)
        try:
            self.scheduler.on_tx_ack(ack)
        except Exception:
            log.exception("tx ack failed: gateway_id=%s downlink_id=%s", ack.gateway_id, ack.downlink_id)

    # --- Transmitter (for the scheduler) ----------------------------------------------------------------

    def reachable(self, gateway_id: str) -> bool:
        return any(b.knows(gateway_id) for b in self._backends)

    async def send(self, frame: DownlinkFrame) -> None:
        for backend in self._backends:
            if backend.knows(frame.gateway_id):
                await backend.send_downlink(frame)
                for tap in self.frame_taps:
                    tap.downlink(frame)
                return
        raise ConnectionError(f"no backend reaches gateway {frame.gateway_id}")

    # --- API hooks ---------------------------------------------------------------------------------------

    async def notify_queue(self, dev_eui: str) -> None:
        """Called by the API after enqueueing: class C devices get the item at once, class A on next uplink."""
        try:
            session = self.sessions.for_dev_eui(dev_eui)
            if session is None:
                return
            session.has_queue = True
            if session.device_class == "C":
                # The whole queue, item after item (each through the scheduler, its gateway and duty cycle): a
                # class C device listens all the time, so nothing waits for an uplink that may never come.
                for _ in range(CLASS_C_BURST):
                    if not await self.downlinks.send_class_c(session) or not session.has_queue:
                        break
            elif session.device_class == "B":
                await self._send_class_b(session)
        except Exception:
            log.exception("queue notification failed: dev_eui=%s", dev_eui)

    async def _send_class_b(self, session: NetworkSession) -> None:
        """One queue item per ping slot: after a slot is given out, look at the queue again once it has passed.
        Until then other notifications for the device wait: two passes at once would both take the queue's head
        and the device would get the same item twice (a TS003 AppTimeAns applied twice puts its clock off again)."""
        dev_eui = session.dev_eui
        if dev_eui in self._class_b_in_flight:
            return  # the pass after the slot in flight looks at the queue
        self._class_b_in_flight.add(dev_eui)
        slot: float | None = None
        try:
            slot = await self.downlinks.send_class_b(session, gps_now(), self.gps_gateways)
        finally:
            if slot is None:
                self._class_b_in_flight.discard(dev_eui)
        if slot is None:
            return

        def slot_passed() -> None:
            self._class_b_in_flight.discard(dev_eui)
            self._spawn(self.notify_queue(dev_eui))

        asyncio.get_running_loop().call_later(max(0.0, slot - gps_now()), slot_passed)

    def downlink_notifier(self) -> Callable[[str], None]:
        """The API's ``DownlinkNotifier``: callable from any thread (the API runs handlers in a thread pool)."""
        loop = asyncio.get_running_loop()

        def notify(dev_eui: str) -> None:
            loop.call_soon_threadsafe(self._spawn, self.notify_queue(dev_eui))

        return notify

    async def notify_group(self, group_id: str) -> None:
        """Called by the API after a group enqueue: the group's due items go out now."""
        try:
            await self.multicast.process(group_id)
        except Exception:
            log.exception("multicast send failed: group_id=%s", group_id)

    def group_notifier(self) -> Callable[[str], None]:
        """The API's group notifier: callable from any thread, like ``downlink_notifier``."""
        loop = asyncio.get_running_loop()

        def notify(group_id: str) -> None:
            loop.call_soon_threadsafe(self._spawn, self.notify_group(group_id))

        return notify

    def forget_device(self, dev_eui: str) -> None:
        """Called by the API when a device is deleted, disabled or changed: reload on its next frame."""
        self.sessions.forget(dev_eui)

    def device_change_notifier(self) -> Callable[[str], None]:
        """The API's ``on_device_change``: callable from any thread; the cache is touched on the loop only."""
        loop = asyncio.get_running_loop()

        def changed(dev_eui: str) -> None:
            loop.call_soon_threadsafe(self.forget_device, dev_eui)

        return changed

    async def reload_gateway(self, gateway_id: str) -> None:
        """A gateway was created, changed or deleted through the API: its owner and private flags apply to the
        next frame (issue 23, defect 1)."""
        try:
            if await asyncio.to_thread(self.gateways.reload, self._factory, gateway_id):
                self._unknown_until.pop(gateway_id, None)
                self.unknown_gateways.registered(gateway_id)
        except Exception:  # the periodic reload catches up
            log.exception("gateway reload failed: gateway_id=%s", gateway_id)

    def gateway_change_notifier(self) -> Callable[[str], None]:
        """The API's ``on_gateway_change``: callable from any thread."""
        loop = asyncio.get_running_loop()

        def changed(gateway_id: str) -> None:
            loop.call_soon_threadsafe(self._gateway_changed, gateway_id)

        return changed

    def _gateway_changed(self, gateway_id: str) -> None:
        # Forget "unknown" now: a frame arriving before the reload below finishes looks the gateway up itself.
        self._unknown_until.pop(gateway_id, None)
        self._spawn(self.reload_gateway(gateway_id))

    def emit(self, event: DeviceEvent) -> None:
        for sink in self._sinks:
            try:
                sink.submit(event)
            except Exception:  # a sink must not raise; if one does, the others still get the event
                log.exception("sink submit failed: sink=%s", getattr(sink, "name", "?"))

    # --- the flow ----------------------------------------------------------------------------------------

    def _on_collected(self, collected: CollectedUplink) -> None:
        """Runs when a dedup window closes. The data flow is synchronous (no database on the common path);
        only the downlink send and the join's database work continue on tasks."""
        ctx: UplinkContext | None = None
        copies = collected.frames[:] if self.journal is not None else ()  # the pipeline may filter the list
        try:
            phy = parse_phy_payload(collected.phy_payload)
            ctx = self._context(collected)
            if isinstance(phy, JoinRequest):
                if collected.replayed:  # its join-accept windows passed long ago; the device has joined again
                    raise DropFrame("replayed_join")
                self._spawn(self._guarded(ctx, self._handle_join(ctx, phy)))
            elif isinstance(phy, RejoinRequest):
                if collected.replayed:
                    raise DropFrame("replayed_join")
                self._spawn(self._guarded(ctx, self._handle_rejoin(ctx, phy)))
            elif isinstance(phy, DataFrame) and phy.mtype in (MType.UNCONFIRMED_DATA_UP, MType.CONFIRMED_DATA_UP):
                ctx.frame = phy
                self._handle_data(ctx)
            else:
                raise DropFrame("unsupported_mtype", phy.mtype.name)
        except Exception as exc:
            self._count_failure(exc, collected, ctx)
        finally:
            self._latency.observe(time.monotonic() - collected.first_at)
            for frame in copies:
                self._copy_done(frame)

    def _context(self, collected: CollectedUplink) -> UplinkContext:
        """The uplink's id and time depend only on its bytes and the copy that opened its window, so an uplink
        handled again after a crash (journal replay) is the same uplink to every sink. The MIC makes the bytes
        unique per frame, as for the dedup key."""
        first, opener = collected.first, collected.opener
        modulation = first.modulation
        dr = self.region.data_rate_index(modulation.spreading_factor, modulation.bandwidth)
        when = opener.rx_info.time
        if when is None:
            when = _EPOCH + timedelta(microseconds=opener.received_ns // 1000) if opener.received_ns \
                else datetime.now(UTC)
        return UplinkContext(
            collected=collected, uplink_id=uplink_uuid(collected.phy_payload),
            time=when, dr=dr, frequency=modulation.frequency,
            airtime_ms=1000.0 * self.region.time_on_air_s(dr, len(collected.phy_payload), uplink=True),
        )

    def _handle_data(self, ctx: UplinkContext) -> None:
        self._data.handle(ctx)
        self._uplinks_data.inc()
        self.traffic.network("uplink")
        if ctx.promoted and ctx.session is not None:  # first uplink under a rejoin's session: the old one goes
            self._spawn(self._guarded(ctx, asyncio.to_thread(self.sessions.retire_others, ctx.session)))
        self._emit_all(ctx)
        if ctx.needs_downlink and not ctx.collected.replayed:
            self._spawn(self._guarded(ctx, self.downlinks.answer_uplink(ctx)))

    async def _handle_join(self, ctx: UplinkContext, request: JoinRequest) -> None:
        collected, may_receive = ctx.collected, self.gateways.may_receive_for

        def heard_for(tenant_id: str) -> bool:
            return any(may_receive(f.rx_info.gateway_id, tenant_id) for f in collected.frames)

        result = await asyncio.to_thread(self._join.handle, request, collected.phy_payload, ctx.dr, heard_for)
        tenant = result.device.tenant_id
        # another tenant's private gateway neither carries the accept nor shows in the join's metadata
        collected.frames = [f for f in collected.frames if may_receive(f.rx_info.gateway_id, tenant)]
        self.sessions.install(result.session)
        await self.downlinks.send_join_accept(ctx.collected, result.join_accept, result.device, ctx.dr)
        self._metrics.uplinks.labels("join").inc()
        self.traffic.network("join")
        self.emit(JoinEvent(time=ctx.time, device=result.device, dev_addr=result.session.dev_addr,
                            rx=ctx.gateway_rx(), deduplication_id=ctx.uplink_id,
                            region_config_id=self.region.name.lower()))

    async def _handle_rejoin(self, ctx: UplinkContext, request: RejoinRequest) -> None:
        """1.1 rejoin-request (uplink/rejoin.py): a pending session and a join-accept in the normal windows."""
        collected, may_receive = ctx.collected, self.gateways.may_receive_for
        current = self.sessions.for_dev_eui(request.dev_eui)

        def heard_for(tenant_id: str) -> bool:
            return any(may_receive(f.rx_info.gateway_id, tenant_id) for f in collected.frames)

        result = await asyncio.to_thread(self._rejoin.handle, request, collected.phy_payload, ctx.dr, current,
                                         heard_for)
        if current is not None and request.rejoin_type in (0, 2):
            current.rj_count0, current.dirty = request.rj_count, True
        collected.frames = [f for f in collected.frames if may_receive(f.rx_info.gateway_id, result.device.tenant_id)]
        if result.session.pending_rejoin:
            self.sessions.install_pending(result.session)
        else:
            self.sessions.install(result.session)
        await self.downlinks.send_rejoin_accept(collected, result.join_accept, result.device, ctx.dr, current)
        self._metrics.uplinks.labels("rejoin").inc()
        self.traffic.network("rejoin")
        self.emit(JoinEvent(time=ctx.time, device=result.device, dev_addr=result.session.dev_addr,
                            rx=ctx.gateway_rx()))

    async def _guarded(self, ctx: UplinkContext, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception as exc:
            self._count_failure(exc, ctx.collected, ctx)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _count_failure(self, exc: Exception, collected: CollectedUplink, ctx: UplinkContext | None) -> None:
        """DropFrame is a counted outcome, not an error; anything else is logged once with its context."""
        gateway_id = collected.first.rx_info.gateway_id
        if isinstance(exc, DropFrame):
            self._drop(exc.reason)
            if ctx is not None and ctx.events:
                self._emit_all(ctx)
            log.debug("uplink dropped: reason=%s %s gateway_id=%s", exc.reason, exc.detail, gateway_id)
        elif isinstance(exc, LoRaWANError):
            self._drop("garbage")
            log.debug("garbage frame: %s gateway_id=%s", exc, gateway_id)
        else:
            self._drop("error")
            session = ctx.session if ctx is not None else None
            log.error("uplink failed: dev_eui=%s gateway_id=%s uplink_id=%s",
                      session.dev_eui if session else None, gateway_id,
                      ctx.uplink_id if ctx else collected.first.rx_info.uplink_id, exc_info=exc)

    def _drop(self, reason: str) -> None:
        counter = self._drops.get(reason)
        if counter is None:
            counter = self._drops[reason] = self._metrics.uplink_drops.labels(reason)
        counter.inc()
        self.traffic.network("drop", reason)

    def _emit_all(self, ctx: UplinkContext) -> None:
        for event in ctx.events:
            self.emit(event)


def uplink_uuid(phy_payload: bytes) -> str:
    """The uplink's id, shared by every event it causes (ChirpStack's deduplicationId, a UUID): a hash of its
    bytes laid out as a version-4 UUID, so the same frame handled again (journal replay, another cluster
    member) keeps its id and the sinks' idempotency holds."""
    return str(uuid.UUID(bytes=hashlib.blake2b(phy_payload, digest_size=16).digest(), version=4))


def _family_lookup(codecs: CodecRegistry | None) -> Callable[[str | None], str | None]:
    def family_of(codec_id: str | None) -> str | None:
        if codecs is None or codec_id is None or codec_id not in codecs:
            return None
        return str(codecs.get(codec_id).manifest.family.value)

    return family_of
