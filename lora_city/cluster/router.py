"""Partitioning: each member owns a share of the devices and sees every copy of their uplinks.

    gateway copy (shared subscription: any member) ─► ClusterRouter.on_uplink
        ├─ owner is another member ─► Forwarder.forward ─► that member's inbox ─► its ClusterRouter
        └─ owner is us ─► (first frame since we own the DevAddr: warm up) ─► NetworkServer.on_uplink (dedup…)

So dedup, FCnt and DevNonce state stay in one process's memory, as with a single server, and the data path
pays no Redis round trip. The cost is moving state when members change:

* Warm-up. The first frame of a DevAddr we did not own drops whatever we cached for it, reloads its sessions
  from the database and raises their counters to the FCnt high-water mark in Redis (the previous owner's
  write-behind may lag, or never happen when it was killed). It waits until ``dedup window + margin`` after
  the membership change first, so a previous owner that is alive closes its open windows and records their
  counters before we read them. The downlink counter skips ahead (a device accepts any higher FCntDown) because
  the previous owner's last downlinks may not be in the database either.
* Failover. Copies we forwarded to a member in the last moments are kept; when that member dies, they are
  routed again (to us or another survivor), so an uplink whose window was open on the dead member is still
  handled. Copies it had already handled come back as replays of a counter in the high-water mark: dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from lora_city.cluster.forwarding import Forwarder
from lora_city.cluster.high_water import FCntHighWater
from lora_city.cluster.ownership import Ownership, routing_key
from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkTxAck,
    GatewayBackend,
    GatewayConnState,
    GatewayEvents,
    GatewayStats,
    Transport,
    UplinkFrame,
)
from lora_city.storage.sessions import SessionStore

log = logging.getLogger(__name__)

MAX_HOPS = 2  # a copy re-routed while members disagree for a moment; after that the receiver keeps it
F_CNT_DOWN_SKIP = 32  # downlinks the previous owner may have sent since its last database flush


class ClusterRouter:
    def __init__(
        self,
        ownership: Ownership,
        high_water: FCntHighWater,
        *,
        window_s: float,
        margin_s: float = 0.15,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ownership = ownership
        self._high_water = high_water
        self._settle_s = window_s + margin_s
        self._recent_s = 2 * window_s + 1.0  # how long a forwarded copy may still be in an open window
        self._clock = clock
        self._events: GatewayEvents | None = None
        self._sessions: SessionStore | None = None
        self._forwarder: Forwarder | None = None
        self._fresh: set[str] = set()  # DevAddrs we own and whose sessions we loaded since we own them
        self._warming: dict[str, list[tuple[UplinkFrame, int]]] = {}  # DevAddr -> (copy, hops) held meanwhile
        self._generation = 0  # bumped on every membership change: a warm-up from before it is not trusted
        self._trusted_at = 0.0  # clock() after which the previous owners' counters are all recorded
        self._recent: deque[tuple[float, str, UplinkFrame]] = deque()  # (when, to whom, copy) forwarded
        self._tasks: set[asyncio.Task[None]] = set()
        self.gateways_heard: dict[str, Transport] = {}  # gateways seen in forwarded copies (for downlinks)
        self.forwarded = 0
        self.rerouted = 0

    def bind(self, events: GatewayEvents, sessions: SessionStore, forwarder: Forwarder) -> None:
        self._events, self._sessions, self._forwarder = events, sessions, forwarder

    # --- GatewayEvents (from the gateway backend) -----------------------------------------------------

    async def on_uplink(self, frame: UplinkFrame) -> None:
        await self.route(frame, 0)

    async def on_stats(self, stats: GatewayStats) -> None:
        assert self._events is not None
        await self._events.on_stats(stats)

    async def on_conn_state(self, state: GatewayConnState) -> None:
        assert self._events is not None
        await self._events.on_conn_state(state)

    async def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        # The ack reaches whichever member the shared subscription picked; the one that sent the downlink
        # wants it (the others ignore an id they do not know). Acks are few next to uplinks.
        assert self._events is not None and self._forwarder is not None
        await self._events.on_tx_ack(ack)
        await self._forwarder.broadcast_ack(ack)

    # --- Forwarder callbacks ---------------------------------------------------------------------------

    async def on_forwarded(self, frame: UplinkFrame, hops: int) -> None:
        if frame.transport is not Transport.UDP:  # a UDP gateway is reachable only from the member it talks to
            self.gateways_heard[frame.rx_info.gateway_id] = frame.transport
        await self.route(frame, hops)

    async def on_forwarded_ack(self, ack: DownlinkTxAck) -> None:
        assert self._events is not None
        await self._events.on_tx_ack(ack)

    def on_joined(self, dev_eui: str, dev_addr: str) -> None:
        """Another member installed a new session: our cached ones for this device are stale."""
        assert self._sessions is not None
        self._sessions.forget(dev_eui)
        self._fresh.discard(dev_addr)

    # --- routing ---------------------------------------------------------------------------------------

    async def route(self, frame: UplinkFrame, hops: int) -> None:
        assert self._events is not None and self._forwarder is not None
        key = routing_key(frame.phy_payload)
        if key is None:  # not an uplink we route (garbage, downlink types): the server counts and drops it
            await self._events.on_uplink(frame)
            return
        owner = self.ownership.owner(key)
        if owner != self.ownership.me and hops < MAX_HOPS:
            self._remember(owner, frame)
            self.forwarded += 1
            try:
                await self._forwarder.forward(owner, frame, hops + 1)
            except ConnectionError:  # broker away: the owner cannot get it either, keep it ourselves
                log.warning("forward to %s failed: handling the copy here", owner)
                await self._events.on_uplink(frame)
            return
        if key[0] == "e" or key[1:] in self._fresh:  # joins keep no state in memory (DevNonces: database)
            await self._events.on_uplink(frame)
            return
        dev_addr = key[1:]
        held = self._warming.get(dev_addr)
        if held is not None:
            held.append((frame, hops))
            return
        self._warming[dev_addr] = [(frame, hops)]
        self._spawn(self._warm_up(dev_addr))

    async def _warm_up(self, dev_addr: str) -> None:
        assert self._sessions is not None and self._events is not None
        generation = self._generation
        try:
            wait = self._trusted_at - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            store = self._sessions
            for stale in store.for_dev_addr(dev_addr):  # usually cached (preload): no query
                store.forget(stale.dev_eui)
            sessions = store.for_dev_addr(dev_addr)
            marks = await self._high_water.get([s.id for s in sessions])
            for s in sessions:
                mark = marks.get(s.id)
                if mark is not None and (s.last_f_cnt_up is None or mark > s.last_f_cnt_up):
                    # The frame with counter ``mark`` was accepted elsewhere: the same counter again is a
                    # replay, not a retransmission we could recognise (its MIC is unknown here).
                    s.last_f_cnt_up, s.f_cnt_up, s.last_mic = mark, mark + 1, -1
                s.n_f_cnt_down += F_CNT_DOWN_SKIP
                s.dirty = True
            if generation == self._generation and self.ownership.mine("a" + dev_addr):
                self._fresh.add(dev_addr)  # (a copy kept after MAX_HOPS is handled, but the DevAddr not trusted)
        except Exception:  # database or Redis away: the server handles them with what it has (next: retry)
            log.exception("cluster warm-up failed: dev_addr=%s", dev_addr)
            for frame, _hops in self._warming.pop(dev_addr, []):
                await self._events.on_uplink(frame)
            return
        for frame, hops in self._warming.pop(dev_addr, []):
            if dev_addr in self._fresh or hops >= MAX_HOPS:
                await self._events.on_uplink(frame)
            else:  # membership changed meanwhile: routed again
                await self.route(frame, hops)

    # --- membership ------------------------------------------------------------------------------------

    def on_members(self, members: set[str], gone: set[str]) -> None:
        mine_before = {a for a in self._fresh if self.ownership.mine("a" + a)}
        if not self.ownership.set_members(members):
            return
        self._generation += 1
        self._trusted_at = self._clock() + self._settle_s
        # Only DevAddrs ours before AND after stay trusted; one that comes back after a stay elsewhere reloads.
        self._fresh = {a for a in mine_before if self.ownership.mine("a" + a)}
        if not gone:
            return
        horizon = self._clock() - self._recent_s
        again = [frame for at, owner, frame in self._recent if owner in gone and at >= horizon]
        self.rerouted += len(again)
        if again:
            log.info("re-routing %d copies forwarded to %s", len(again), sorted(gone))
            self._spawn(self._reroute(again))

    def on_connection_lost(self) -> None:
        """Our will fired: while we were away the others owned our devices. Trust nothing we cached."""
        self._generation += 1
        self._trusted_at = self._clock() + self._settle_s
        self._fresh.clear()

    async def _reroute(self, frames: list[UplinkFrame]) -> None:
        for frame in frames:
            await self.route(frame, 0)

    def _remember(self, owner: str, frame: UplinkFrame) -> None:
        now = self._clock()
        recent = self._recent
        recent.append((now, owner, frame))
        horizon = now - self._recent_s
        while recent and recent[0][0] < horizon:
            recent.popleft()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class ClusterGatewayBackend:
    """The gateway backend as the server sees it: events go through the router first, and downlinks reach
    gateways this member only heard of through forwarded copies."""

    def __init__(self, inner: GatewayBackend, router: ClusterRouter, forwarder: Forwarder) -> None:
        self._inner = inner
        self._router = router
        self._forwarder = forwarder

    async def start(self, events: GatewayEvents) -> None:
        await self._inner.start(self._router)

    async def stop(self) -> None:
        await self._inner.stop()

    def knows(self, gateway_id: str) -> bool:
        return self._inner.knows(gateway_id) or gateway_id in self._router.gateways_heard

    async def send_downlink(self, frame: DownlinkFrame) -> None:
        if self._inner.knows(frame.gateway_id):
            await self._inner.send_downlink(frame)
            return
        transport = self._router.gateways_heard.get(frame.gateway_id)
        await self._forwarder.send_downlink(frame, as_json=transport is Transport.MQTT_JSON)
