"""Deduplication: every gateway that hears an uplink forwards its own copy; we handle the frame once.

The first copy of a PHYPayload opens a window (``Settings.dedup_window_ms``, 200 ms by default, like ChirpStack's
``deduplication_delay``); copies arriving inside it are collected with their radio metadata (the downlink picks its
gateway from them, LinkCheckAns counts them). When the window closes, the collected set is handed on once.
A copy arriving after that (a slow backhaul) finds the key in a short "handled" cache and is counted and dropped,
so a frame is never processed twice. Keyed by the PHYPayload bytes: the MIC makes them unique per frame.

After a crash the copies the journal kept (gateway/journal.py) are grouped again by ``regroup``, with the same
rules and the window measured on the copies' recorded reception times, so an uplink gets the same copies and the
same opener (hence the same reading time) as it had the first time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lora_city.gateway.frames import UplinkFrame

# A gateway copy later than this is not a copy any more: a device's own retransmission (same bytes in 1.0.x)
# comes after its RX2 window and ACK_TIMEOUT, >= 3 s after the first (LoRaWAN 1.0.4 §3.3, §18.1), and must reach
# the FCnt logic, which tells retransmission from replay.
_HANDLED_TTL_S = 2.5
_HANDLED_MAX = 200_000  # bound memory under a flood of unique garbage


@dataclass(slots=True)
class CollectedUplink:
    """One uplink with every gateway copy received inside the window, best SNR first once closed."""

    phy_payload: bytes
    frames: list[UplinkFrame]
    first_at: float  # clock() at the first copy: the RX1 deadline is measured from here
    opened_by: UplinkFrame | None = None  # the copy that opened the window (its times date the uplink)
    replayed: bool = False  # rebuilt from the journal after a crash: its RX windows are long gone

    @property
    def first(self) -> UplinkFrame:
        return self.frames[0]

    @property
    def opener(self) -> UplinkFrame:
        return self.opened_by or self.frames[0]

    def gateway_ids(self) -> list[str]:
        return [f.rx_info.gateway_id for f in self.frames]


def agreeing_copies(frames: list[UplinkFrame]) -> tuple[list[UplinkFrame], list[UplinkFrame]]:
    """(kept, dropped): the copies that agree on how the uplink was sent (frequency, SF, bandwidth), and the
    others. Every receiver of one transmission reports the same radio parameters; a copy that disagrees is
    broken or spoofed and must not choose the uplink's data rate or RX1 channel for the real ones. The largest
    group wins; on a tie, the group of the copy received first (``frames`` in arrival order)."""
    if len(frames) < 2:
        return frames, []

    def radio(f: UplinkFrame) -> tuple[int, int, int]:
        m = f.modulation
        return m.frequency, m.spreading_factor, m.bandwidth

    first = radio(frames[0])
    if all(radio(f) == first for f in frames):
        return frames, []
    counts: dict[tuple[int, int, int], int] = {}
    for f in frames:
        counts[radio(f)] = counts.get(radio(f), 0) + 1
    best = max(counts, key=lambda k: (counts[k], k == first))
    return [f for f in frames if radio(f) == best], [f for f in frames if radio(f) != best]


class Deduplicator:
    """Collects copies; calls ``on_collected`` once per PHYPayload when its window closes (on the event loop)."""

    def __init__(
        self,
        window_s: float,
        on_collected: Callable[[CollectedUplink], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        handled_ttl_s: float = _HANDLED_TTL_S,
        on_disagreeing: Callable[[UplinkFrame], None] = lambda _frame: None,
        on_discard: Callable[[UplinkFrame], None] | None = None,
    ) -> None:
        self._on_disagreeing = on_disagreeing  # told of each copy left out by ``agreeing_copies``
        self._window_s = window_s
        self._on_collected = on_collected
        self._on_discard = on_discard  # told of a copy left out (same gateway twice): the journal's bookkeeping
        self._clock = clock
        self._handled_ttl_s = handled_ttl_s
        self._open: dict[bytes, CollectedUplink] = {}
        self._handled: OrderedDict[bytes, float] = OrderedDict()  # key -> closed at (insertion ordered)

    @property
    def open_count(self) -> int:
        return len(self._open)

    def add(self, frame: UplinkFrame) -> bool:
        """Add one copy. Returns False when the copy is a late duplicate of an already handled frame."""
        key = frame.phy_payload
        pending = self._open.get(key)
        if pending is not None:
            left_out = _merge(pending, frame)
            if left_out is not None and self._on_discard is not None:
                self._on_discard(left_out)
            return True
        now = self._clock()
        if key in self._handled:
            self._expire(now)
            if key in self._handled:
                return False
        self._open[key] = CollectedUplink(key, [frame], now, frame)
        asyncio.get_running_loop().call_later(self._window_s, self._close, key)
        return True

    def mark_handled(self, key: bytes) -> None:
        """A frame handled outside a window (replayed from the journal): its late copies are dropped too."""
        self._handled[key] = self._clock()

    def _close(self, key: bytes) -> None:
        collected = self._open.pop(key)
        now = self._clock()
        self._handled[key] = now
        self._expire(now)
        collected.frames, dropped = agreeing_copies(collected.frames)
        for frame in dropped:
            self._on_disagreeing(frame)
        collected.frames.sort(key=lambda f: f.rx_info.snr, reverse=True)
        self._on_collected(collected)

    def _expire(self, now: float) -> None:
        handled = self._handled
        limit = now - self._handled_ttl_s
        while handled:
            _key, closed_at = next(iter(handled.items()))
            if closed_at > limit and len(handled) <= _HANDLED_MAX:
                break
            handled.popitem(last=False)


def _merge(pending: CollectedUplink, frame: UplinkFrame) -> UplinkFrame | None:
    """Add a copy to an open window; returns the copy left out, if any. Same gateway twice (e.g. two antennas,
    a forwarder retry) is one reception: the better one is kept."""
    for i, other in enumerate(pending.frames):
        if other.rx_info.gateway_id == frame.rx_info.gateway_id:
            if frame.rx_info.snr > other.rx_info.snr:
                pending.frames[i] = frame
                return other
            return frame
    pending.frames.append(frame)
    return None


def regroup(copies: Iterable[UplinkFrame], window_s: float, now: float
            ) -> tuple[list[CollectedUplink], list[UplinkFrame], list[UplinkFrame]]:
    """Journaled copies (in arrival order) back into collected uplinks, closed as ``_close`` closes them. A copy
    later than the window after its opener, by the recorded reception times, was a late copy the first time too.
    Returns the uplinks in opening order, the copies left out and the copies that disagreed on the radio."""
    open_: dict[bytes, CollectedUplink] = {}
    done: list[CollectedUplink] = []
    left_out: list[UplinkFrame] = []
    disagreeing: list[UplinkFrame] = []
    for frame in copies:
        pending = open_.get(frame.phy_payload)
        if pending is not None and frame.received_ns - pending.opener.received_ns <= window_s * 1e9:
            dropped = _merge(pending, frame)
            if dropped is not None:
                left_out.append(dropped)
            continue
        if pending is not None:
            left_out.append(frame)
            continue
        collected = CollectedUplink(frame.phy_payload, [frame], now, frame, replayed=True)
        open_[frame.phy_payload] = collected
        done.append(collected)
    for collected in done:
        collected.frames, dropped_radio = agreeing_copies(collected.frames)
        disagreeing.extend(dropped_radio)
        collected.frames.sort(key=lambda f: f.rx_info.snr, reverse=True)
    return done, left_out, disagreeing
