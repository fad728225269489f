"""Persist the gateway health tracker to the ``gateways`` table, and announce online/offline transitions.

The tracker (lora_city.gateway.health) is in memory and updated per frame; the API, the overview, the portal's
map and the alerts read the table. Every ``interval_s`` this task applies the silence rule, writes the status of
every *registered* gateway (unknown gateways stay out of the table: registration is the operator's act), and
hands each transition to the listeners (the alert engine's gateway-offline rule). A transition is a change from
the state stored in the table, so a restart neither repeats nor forgets one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from lora_city.gateway.health import GatewayHealth, GatewayStatus
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Event, Gateway

log = logging.getLogger(__name__)

# (gateway_id, tenant_id, online) -> awaitable; called once per transition of a registered gateway
TransitionListener = Callable[[str, str, bool], Awaitable[None]]


def _stats(s: GatewayStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"uplinks": s.uplinks, "bad_frames": s.bad_frames, "downlinks": s.downlinks,
                           "keepalives": s.keepalives, "tx_acks": dict(s.tx_acks),
                           "transport": s.transport.value if s.transport else None}
    if s.last_stats is not None:
        out.update(rx_received=s.last_stats.rx_packets_received, rx_ok=s.last_stats.rx_packets_received_ok,
                   tx_received=s.last_stats.tx_packets_received, tx_emitted=s.last_stats.tx_packets_emitted)
    return out


class GatewayStatusWriter:
    def __init__(self, factory: SessionFactory, health: GatewayHealth, *, interval_s: float = 5.0,
                 listeners: list[TransitionListener] | None = None) -> None:
        self._factory = factory
        self._health = health
        self._interval_s = interval_s
        self._listeners = listeners or []

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.tick()
            except Exception:
                log.exception("gateway status write failed")

    async def tick(self) -> None:
        self._health.check()
        transitions = await asyncio.to_thread(self._write, self._health.statuses())
        for gateway_id, tenant_id, online in transitions:
            for listener in self._listeners:
                try:
                    await listener(gateway_id, tenant_id, online)
                except Exception:
                    log.exception("gateway transition listener failed", extra={"gateway_id": gateway_id})

    def _write(self, statuses: list[GatewayStatus]) -> list[tuple[str, str, bool]]:
        by_id = {s.gateway_id: s for s in statuses}
        now = datetime.now(UTC)
        transitions: list[tuple[str, str, bool]] = []
        with transaction(self._factory) as db:
            rows: list[Gateway] = list(db.scalars(select(Gateway).where(Gateway.gateway_id.in_(list(by_id)))))
            for gw in rows:
                s = by_id[gw.gateway_id]
                if bool(gw.online) != s.online:
                    transitions.append((gw.gateway_id, gw.tenant_id, s.online))
                    db.add(Event(tenant_id=gw.tenant_id, gateway_id=gw.gateway_id, kind="log", time=now,
                                 body={"code": "GATEWAY_ONLINE" if s.online else "GATEWAY_OFFLINE"}))
                gw.online = s.online
                if s.last_seen_at is not None:
                    gw.last_seen_at = datetime.fromtimestamp(s.last_seen_at, UTC)
                gw.stats = _stats(s)
                if s.last_stats is not None and s.last_stats.latitude is not None and gw.latitude is None:
                    gw.latitude, gw.longitude = s.last_stats.latitude, s.last_stats.longitude
        return transitions
