"""Multicast group downlinks: one frame, encrypted once, sent through the fewest gateways that reach every member.

    API enqueue ─► notify(group) ─► claim the next due item (expired ones are dropped)
        ─► members' gateways (each member's last uplink: who heard it, at what SNR)
        ─► minimum cover: the smallest set of usable gateways reaching every reachable member
        ─► build the frame once (McAppSKey, McNwkSKey, McFCnt) ─► each gateway in turn

A gateway is usable when it is reachable, not another tenant's private downlink gateway, and its duty-cycle
budget for the group's frequency can take the frame (the one ``DutyCycleTracker`` every downlink is charged to).
Members no usable gateway heard are counted as not reached; with no usable gateway at all the item goes back to
the queue and is retried until it expires.

The gateways of one item transmit one after another, never at the same moment: a lamp that hears two gateways on
the group's channel would otherwise receive neither. A gateway is also never asked to transmit two multicast
frames that overlap (``_busy_until``). Class C frames go out "immediately" at their turn (TS001-1.1 §17.2);
class B frames at the group McAddr's next ping slots, one slot per gateway (``class_b.next_ping_slot``), through
gateways with a GPS fix only.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from lora_city.downlink.scheduler import DownlinkScheduler, Window
from lora_city.gateway.frames import TimingKind
from lora_city.lorawan import class_b
from lora_city.lorawan.gps_time import from_gps_seconds
from lora_city.lorawan.multicast import build_multicast_downlink
from lora_city.storage.multicast import McGroup, McItem, MulticastStore
from lora_city.storage.sessions import SessionStore

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

EXACT_SEARCH_LIMIT = 20_000  # gateway subsets tried for an exact minimum before settling for the greedy cover
GATEWAY_GAP_S = 0.05  # silence between two multicast transmissions (radio turnaround)
CLASS_B_MARGIN_S = 2.0  # a ping slot this close is too close: the frame must reach the gateway first


@dataclass(frozen=True, slots=True)
class Cover:
    gateways: tuple[str, ...]
    reached: frozenset[str]  # members at least one chosen gateway heard
    unreached: tuple[str, ...]  # members no usable gateway heard (or never heard at all)


def minimum_cover(reach: Mapping[str, Mapping[str, float]], usable: Callable[[str], bool],
                  *, exact_limit: int = EXACT_SEARCH_LIMIT) -> Cover:
    """The fewest usable gateways reaching every member that any usable gateway reaches.

    ``reach`` maps each member to the gateways that heard it with their SNR. Gateways that are the only way to a
    member are taken first; a gateway whose members another gateway also reaches (at least as well) is dropped;
    then subsets of the rest are tried by increasing size (an exact minimum), among equal sizes the one with the
    best summed SNR to its members. Past ``exact_limit`` subsets the greedy cover is used (largest gain first),
    which is within a log factor of the minimum.
    """
    usable_cache: dict[str, bool] = {}

    def ok(gw: str) -> bool:
        value = usable_cache.get(gw)
        if value is None:
            value = usable_cache[gw] = usable(gw)
        return value

    by_gateway: dict[str, dict[str, float]] = {}
    unreached: list[str] = []
    for member, heard in reach.items():
        found = False
        for gw, snr in heard.items():
            if ok(gw):
                by_gateway.setdefault(gw, {})[member] = snr
                found = True
        if not found:
            unreached.append(member)
    target = set(reach) - set(unreached)
    chosen: set[str] = set()
    for member in target:
        only = [gw for gw in reach[member] if gw in by_gateway]
        if len(only) == 1:
            chosen.add(only[0])
    left = target - _covered(chosen, by_gateway)
    candidates = _undominated([gw for gw in by_gateway if gw not in chosen and by_gateway[gw].keys() & left],
                              by_gateway, left)
    chosen |= _exact(candidates, by_gateway, left, exact_limit) or _greedy(candidates, by_gateway, left)
    order = sorted(chosen, key=lambda gw: (-len(by_gateway[gw]), gw))
    return Cover(tuple(order), frozenset(target), tuple(sorted(unreached)))


def _covered(gateways: Iterable[str], by_gateway: Mapping[str, Mapping[str, float]]) -> set[str]:
    out: set[str] = set()
    for gw in gateways:
        out.update(by_gateway[gw])
    return out


def _undominated(candidates: list[str], by_gateway: Mapping[str, Mapping[str, float]], left: set[str]) -> list[str]:
    """Drop a gateway when another reaches all of its remaining members with no worse SNR (ties: keep one)."""
    keep: list[str] = []
    ordered = sorted(candidates, key=lambda gw: (-len(by_gateway[gw].keys() & left), gw))
    for gw in ordered:
        mine = by_gateway[gw].keys() & left
        if any(mine <= by_gateway[k].keys() and all(by_gateway[k][m] >= by_gateway[gw][m] for m in mine)
               for k in keep):
            continue
        keep.append(gw)
    return keep


def _score(combo: Iterable[str], by_gateway: Mapping[str, Mapping[str, float]], left: set[str]) -> float:
    best: dict[str, float] = {}
    for gw in combo:
        for member, snr in by_gateway[gw].items():
            if member in left and snr > best.get(member, -math.inf):
                best[member] = snr
    return sum(best.values())


def _exact(candidates: list[str], by_gateway: Mapping[str, Mapping[str, float]], left: set[str],
           limit: int) -> set[str] | None:
    if not left:
        return set()
    tried = 0
    for size in range(1, len(candidates) + 1):
        if tried + math.comb(len(candidates), size) > limit:
            return None
        best: tuple[float, tuple[str, ...]] | None = None
        for combo in itertools.combinations(candidates, size):
            tried += 1
            if left <= _covered(combo, by_gateway):
                score = _score(combo, by_gateway, left)
                if best is None or score > best[0]:
                    best = (score, combo)
        if best is not None:
            return set(best[1])
    return None


def _greedy(candidates: list[str], by_gateway: Mapping[str, Mapping[str, float]], left: set[str]) -> set[str]:
    chosen: set[str] = set()
    remaining = set(left)
    while remaining:
        gw = max(candidates, key=lambda g: (len(by_gateway[g].keys() & remaining), _score([g], by_gateway, remaining)))
        gain = by_gateway[gw].keys() & remaining
        if not gain:
            break
        chosen.add(gw)
        remaining -= gain
    return chosen


@dataclass(slots=True)
class SendReport:
    """What happened to one item (kept for the API, the bench and the logs)."""

    item_id: str
    group_id: str
    state: str  # sent | queued (retry later) | expired
    gateways: list[str] = field(default_factory=list)
    members: int = 0
    unreached: int = 0
    airtime_s: float = 0.0
    gps_times: list[float] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MulticastDownlinks:
    def __init__(
        self,
        scheduler: DownlinkScheduler,
        store: MulticastStore,
        sessions: SessionStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        gps_gateways: Callable[[str], bool] = lambda _gw: False,
        gateway_gap_s: float = GATEWAY_GAP_S,
        in_thread: bool = True,
    ) -> None:
        self._scheduler = scheduler
        self._store = store
        self._sessions = sessions
        self._clock = clock
        self._utcnow = utcnow
        self._sleep = sleep
        self._has_gps = gps_gateways
        self._gap = gateway_gap_s
        self._in_thread = in_thread
        self._locks: dict[str, asyncio.Lock] = {}
        self._busy_until: dict[str, float] = {}  # gateway -> clock() when its last multicast frame ends
        self._slot_taken: dict[str, float] = {}  # gateway -> last GPS time it was given (class B)
        self.reports: list[SendReport] = []  # the latest reports (bounded), newest last

    async def _db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Database work off the event loop (``in_thread=False`` keeps it inline: the bench, SQLite in memory)."""
        if self._in_thread:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def process(self, group_id: str) -> list[SendReport]:
        """Send every due item of the group, in frame-counter order (a device drops an older counter)."""
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        reports: list[SendReport] = []
        async with lock:
            group = await self._db(self._store.group, group_id)
            if group is None:
                return reports
            while True:
                item, expired = await self._db(self._store.claim_next, group_id, self._utcnow())
                for item_id in expired:
                    reports.append(SendReport(item_id, group_id, "expired"))
                if item is None:
                    break
                report = await self._send(group, item)
                reports.append(report)
                if report.state != "sent":
                    break  # the older item waits for a gateway: the newer ones wait behind it
        self.reports = (self.reports + reports)[-1000:]
        return reports

    async def process_all(self) -> list[SendReport]:
        """Every group with a queued item (the fallback loop, and after a restart)."""
        groups = await self._db(self._store.groups_with_queue)
        results = await asyncio.gather(*(self.process(g) for g in groups), return_exceptions=True)
        out: list[SendReport] = []
        for group_id, result in zip(groups, results, strict=True):
            if isinstance(result, BaseException):
                log.error("multicast group failed: group_id=%s", group_id, exc_info=result)
            else:
                out.extend(result)
        return out

    async def run(self, interval_s: float = 1.0) -> None:
        while True:
            try:
                await self.process_all()
            except Exception:
                log.exception("multicast queue pass failed")
            await asyncio.sleep(interval_s)

    def reach(self, members: list[str]) -> dict[str, dict[str, float]]:
        """Each member's gateways from its last uplink (members without a session reach no gateway)."""
        reach: dict[str, dict[str, float]] = {}
        for dev_eui in members:
            session = self._sessions.for_dev_eui(dev_eui)
            reach[dev_eui] = {gw: snr for gw, snr, _rssi in session.heard_by} if session is not None else {}
        return reach

    async def _send(self, group: McGroup, item: McItem) -> SendReport:
        members = await self._db(self._store.members, group.id)
        phy = build_multicast_downlink(group.mc_addr, group.mc_nwk_s_key, group.mc_app_s_key, item.f_cnt,
                                       item.f_port, item.payload)
        is_b = group.group_class == "B"
        window = Window(group.dr, group.frequency, TimingKind.GPS_EPOCH if is_b else TimingKind.IMMEDIATELY)
        airtime = self._scheduler.airtime_s(window, len(phy))

        def usable(gw: str) -> bool:
            return (self._scheduler.may_use(gw, group.tenant_id) and self._scheduler.has_budget(gw, window, len(phy))
                    and (not is_b or self._has_gps(gw)))

        cover = minimum_cover(self.reach(members), usable)
        report = SendReport(item.id, group.id, "queued", members=len(members), unreached=len(cover.unreached))
        if not cover.gateways:
            detail = f"no usable gateway reaches any of {len(members)} members; retried until it expires"
            await self._db(self._store.release, item.id, detail)
            log.warning("multicast item waits: group_id=%s item=%s %s", group.id, item.id, detail)
            return report
        cursor = self._clock()
        gps_cursor = class_b.utc_to_gps(self._utcnow()) + CLASS_B_MARGIN_S
        for gw in cover.gateways:
            if is_b:
                slot = class_b.next_ping_slot(max(gps_cursor, self._slot_taken.get(gw, 0.0)), group.mc_addr,
                                              group.ping_slot_periodicity)
                self._slot_taken[gw] = slot + airtime
                gps_cursor = slot + airtime  # the next gateway takes a later slot
                sent = await self._scheduler.transmit_on("multicast_b", gw, phy, Window(
                    group.dr, group.frequency, TimingKind.GPS_EPOCH, gps_time_s=slot))
                if sent is not None:
                    report.gps_times.append(slot)
            else:
                start = max(cursor, self._busy_until.get(gw, 0.0))
                self._busy_until[gw] = start + airtime + self._gap  # reserved before waiting
                cursor = start + airtime + self._gap
                delay = start - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                sent = await self._scheduler.transmit_on("multicast_c", gw, phy, window)
            if sent is not None:
                report.gateways.append(gw)
                report.airtime_s += sent
        if not report.gateways:
            await self._db(self._store.release, item.id, "every chosen gateway refused; retried until it expires")
            return report
        report.state = "sent"
        detail = (f"{len(members) - len(cover.unreached)}/{len(members)} members reached through "
                  f"{len(report.gateways)} gateway(s)")
        # sent_at is when the frame is on the air: a class B frame at its last ping slot (handed over ahead)
        on_air = from_gps_seconds(max(report.gps_times)) if report.gps_times else self._utcnow()
        await self._db(self._store.finish, item.id, "sent", gateways=report.gateways, detail=detail,
                       now=on_air)
        log.info("multicast sent: group_id=%s f_cnt=%d %s", group.id, item.f_cnt, detail)
        return report
