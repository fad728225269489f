"""Persist the gateway health tracker to the ``gateways`` table, and announce online/offline transitions.

The tracker (lora_city.gateway.health) is in memory and updated per frame; the API, the overview, the portal's
map and the alerts read the table. Every ``interval_s`` this task applies the silence rule, writes the status of
every *registered* gateway (unknown gateways stay out of the table: registration is the operator's act), and
hands each transition to the listeners (the alert engine's gateway-offline rule). A transition is a change from
the state stored in the table, so a restart neither repeats nor forgets one.

The stats it writes include the duty-cycle use per sub-band over the last hour (downlink/duty_cycle.py), so the
console shows it whichever process serves the page. A registered gateway that was never heard (no
``last_seen_at``) is handed to the never-seen listeners once it has been registered longer than the network's
own silence rule (``offline_after_s``): a new installation that never connects raises the gateway-offline alert
after the rule's silence, counted from its registration (issue 21).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from lora_city.downlink.duty_cycle import DutyCycleTracker, budget_s
from lora_city.gateway.health import GatewayHealth, GatewayStatus
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Event, Gateway

log = logging.getLogger(__name__)

# (gateway_id, tenant_id, online) -> awaitable; called once per transition of a registered gateway
TransitionListener = Callable[[str, str, bool], Awaitable[None]]
# [(gateway_id, tenant_id, registered at)] -> awaitable; called every tick with the never-seen gateways
NeverSeenListener = Callable[[list[tuple[str, str, datetime]]], Awaitable[None]]


def duty_cycle_stats(tracker: DutyCycleTracker, gateway_id: str) -> list[dict[str, Any]]:
    """Airtime used per sub-band over the sliding hour, beside the sub-band's budget (ETSI EN 300 220 limits
    as the region lists them, RP002-1.0.4 §2.4 for EU868)."""
    return [{"band": band.name, "low_hz": band.low_hz, "high_hz": band.high_hz, "limit": band.duty_cycle,
             "used_s": round(used, 4), "budget_s": budget_s(band)} for band, used in tracker.usage(gateway_id)]


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
                 listeners: list[TransitionListener] | None = None, duty_cycle: DutyCycleTracker | None = None,
                 never_seen: list[NeverSeenListener] | None = None, offline_after_s: float = 30.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._factory = factory
        self._health = health
        self._interval_s = interval_s
        self._listeners = listeners or []
        self._duty_cycle = duty_cycle
        self._never_seen_listeners = never_seen or []
        self._offline_after = timedelta(seconds=offline_after_s)
        self._clock = clock

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
        if self._never_seen_listeners:
            silent = await asyncio.to_thread(self.never_seen)
            for tell in self._never_seen_listeners:
                try:
                    await tell(silent)
                except Exception:
                    log.exception("never-seen gateway listener failed")

    def never_seen(self) -> list[tuple[str, str, datetime]]:
        """Registered gateways never heard by any process, registered longer ago than the silence rule."""
        before = self._clock() - self._offline_after
        heard = {s.gateway_id for s in self._health.statuses() if s.last_seen_at is not None}
        with self._factory() as db:
            rows = db.execute(select(Gateway.gateway_id, Gateway.tenant_id, Gateway.created_at)
                              .where(Gateway.last_seen_at.is_(None))).all()
        out = []
        for gateway_id, tenant_id, created_at in rows:
            # SQLite gives naive datetimes back (stored as UTC), PostgreSQL aware ones
            registered = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
            if gateway_id not in heard and registered <= before:
                out.append((gateway_id, tenant_id, registered))
        return out

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
                if self._duty_cycle is not None:
                    gw.stats["duty_cycle"] = duty_cycle_stats(self._duty_cycle, gw.gateway_id)
                if s.last_stats is not None and s.last_stats.latitude is not None and gw.latitude is None:
                    gw.latitude, gw.longitude = s.last_stats.latitude, s.last_stats.longitude
        return transitions
