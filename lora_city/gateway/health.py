"""Network health: which gateways are online, when each was last seen, and per-gateway counters.

Pure and in memory; the backends feed it, the server reads and persists it. Online rules:
- a ``state/conn`` ONLINE (MQTT, backed by the bridge's last will) keeps a gateway online until OFFLINE;
- after an OFFLINE, any later traffic shows it alive again;
- otherwise (UDP forwarders, which send PULL_DATA every ~10 s, or MQTT without a state) a gateway is online
  while it was heard within ``offline_after_s``.
``check()`` applies the silence rule; call it every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lora_city.gateway.frames import DownlinkTxAck, GatewayConnState, GatewayStats, Transport
from lora_city.metrics import Metrics


@dataclass(slots=True)
class GatewayStatus:
    gateway_id: str
    transport: Transport | None = None
    online: bool = False
    last_seen_at: float | None = None  # clock() seconds (wall clock by default)
    conn_online: bool | None = None  # latest ConnState, None when the gateway never sent one
    conn_at: float = 0.0
    uplinks: int = 0
    bad_frames: int = 0
    downlinks: int = 0
    keepalives: int = 0
    stats_received: int = 0
    tx_acks: dict[str, int] = field(default_factory=dict)  # status name -> count
    last_stats: GatewayStats | None = None


class GatewayHealth:
    def __init__(
        self,
        metrics: Metrics | None = None,
        *,
        clock: Callable[[], float] = time.time,
        offline_after_s: float = 30.0,
        on_change: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._metrics = metrics
        self._clock = clock
        self._offline_after_s = offline_after_s
        self._on_change = on_change  # (gateway_id, online) on every transition
        self._gateways: dict[str, GatewayStatus] = {}

    # --- feeding -----------------------------------------------------------------------------------------

    # Traffic can only bring a gateway online, never take it offline, so the online rules are evaluated only
    # when it was offline: this runs once per uplink copy and must stay cheap.

    def on_uplink(self, gateway_id: str, transport: Transport) -> None:
        s = self._seen(gateway_id, transport)
        s.uplinks += 1
        if not s.online:
            self._update(s)

    def on_keepalive(self, gateway_id: str, transport: Transport = Transport.UDP) -> None:
        s = self._seen(gateway_id, transport)
        s.keepalives += 1
        if not s.online:
            self._update(s)

    def on_stats(self, stats: GatewayStats, transport: Transport) -> None:
        s = self._seen(stats.gateway_id, transport)
        s.stats_received += 1
        s.last_stats = stats
        if not s.online:
            self._update(s)

    def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        s = self._seen(ack.gateway_id, None)
        for status in ack.statuses:
            s.tx_acks[status] = s.tx_acks.get(status, 0) + 1
        if not s.online:
            self._update(s)

    def on_conn_state(self, state: GatewayConnState, transport: Transport) -> None:
        s = self._status(state.gateway_id)
        s.transport = transport
        s.conn_online = state.online
        s.conn_at = self._clock()
        if state.online:
            s.last_seen_at = s.conn_at
        self._update(s)

    def on_downlink(self, gateway_id: str) -> None:
        self._status(gateway_id).downlinks += 1

    def on_bad_frame(self, gateway_id: str | None) -> None:
        # A garbage message still shows the gateway's link is up, but says nothing about its health: count
        # it without touching last_seen_at.
        if gateway_id is not None:
            self._status(gateway_id).bad_frames += 1

    # --- reading -----------------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Apply the silence rule now; returns the gateways that just went offline."""
        went_offline = []
        for s in self._gateways.values():
            was = s.online
            self._update(s)
            if was and not s.online:
                went_offline.append(s.gateway_id)
        return went_offline

    async def watch(self, interval_s: float = 5.0) -> None:
        """Run ``check()`` every ``interval_s`` until cancelled (the server starts it as a task)."""
        while True:
            await asyncio.sleep(interval_s)
            self.check()

    def status(self, gateway_id: str) -> GatewayStatus | None:
        return self._gateways.get(gateway_id)

    def statuses(self) -> list[GatewayStatus]:
        return list(self._gateways.values())

    def is_online(self, gateway_id: str) -> bool:
        s = self._gateways.get(gateway_id)
        return s is not None and self._online_now(s)

    def online_count(self) -> int:
        return sum(1 for s in self._gateways.values() if s.online)

    # --- internals ---------------------------------------------------------------------------------------

    def _status(self, gateway_id: str) -> GatewayStatus:
        s = self._gateways.get(gateway_id)
        if s is None:
            s = self._gateways[gateway_id] = GatewayStatus(gateway_id)
        return s

    def _seen(self, gateway_id: str, transport: Transport | None) -> GatewayStatus:
        s = self._gateways.get(gateway_id) or self._status(gateway_id)
        if transport is not None:
            s.transport = transport
        s.last_seen_at = self._clock()
        return s

    def _online_now(self, s: GatewayStatus) -> bool:
        if s.conn_online is True:
            return True
        if s.last_seen_at is None:
            return False
        if s.conn_online is False and s.last_seen_at <= s.conn_at:
            return False  # nothing heard since it said goodbye
        return self._clock() - s.last_seen_at <= self._offline_after_s

    def _update(self, s: GatewayStatus) -> None:
        online = self._online_now(s)
        if online == s.online:
            return
        s.online = online
        if self._metrics is not None:
            self._metrics.gateways_online.inc() if online else self._metrics.gateways_online.dec()
        if self._on_change is not None:
            self._on_change(s.gateway_id, online)
