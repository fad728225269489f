"""``OutboxPump``: the engine behind every durable sink (InfluxDB, webhooks), on its own thread.

Flow per turn: take what ``put`` queued in memory → journal it to the outbox (committed) → for each target that
is due, read its rows in ``id`` order → ``deliver`` → delete them. A failed delivery leaves the rows where they
are and puts the target in exponential backoff; the next turn that finds it due replays from its oldest row, so
order is kept and nothing is skipped. Other targets carry on meanwhile.

Why journal before sending, even when the target is up: then the only thing a crash can lose is what sat in
memory for one journal interval (``journal_interval_s``, 50 ms by default), and a delivery is deleted from the
outbox only after the target said yes. A crash between that yes and the delete sends the rows again on restart;
that is harmless for InfluxDB (same series, timestamp and fields overwrite) and for webhook consumers, which get
the same body and can dedupe on ``deduplicationId``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from lora_city.metrics import Metrics
from lora_city.sinks.outbox import Journaled, Outbox

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The target refused the payload for good (e.g. HTTP 400): retrying cannot help, so the rows are dropped."""


Deliver = Callable[[str, list[bytes]], None]  # (target, bodies in order); raises on failure


@dataclass(slots=True)
class _Backoff:
    delay_s: float
    next_try: float = 0.0


class OutboxPump:
    def __init__(
        self,
        name: str,
        outbox: Outbox,
        deliver: Deliver,
        metrics: Metrics,
        *,
        coalesce: bool,
        batch_items: int = 5000,
        rows_per_delivery: int = 1,
        flush_interval_s: float = 1.0,
        journal_interval_s: float = 0.05,
        queue_size: int = 200_000,
        backoff_min_s: float = 0.2,
        backoff_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._outbox = outbox
        self._deliver = deliver
        self._metrics = metrics
        # coalesce: one outbox row per target per turn (InfluxDB lines); else one row per item (webhooks).
        self._coalesce = coalesce
        self._batch_items = batch_items
        self._rows_per_delivery = rows_per_delivery
        self._flush_interval_s = flush_interval_s
        self._journal_interval_s = journal_interval_s
        self._queue_size = queue_size
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._clock = clock
        self._queue: deque[Journaled] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._backoff: dict[str, _Backoff] = {}
        self._unsent: dict[str, int] = {}  # target -> items journaled but not yet delivered
        self._oldest_unsent: float | None = None
        self.delivered = 0  # items the targets accepted (tests, bench)
        self.journaled = 0  # items committed to the outbox
        self.dropped = 0  # items refused because the memory queue was full, or refused for good by the target

    # --- called from any thread ------------------------------------------------------------------------

    def put(self, item: Journaled) -> None:
        """Never blocks. A full queue (the database itself is stuck) drops the item and counts it."""
        if len(self._queue) >= self._queue_size:
            self.dropped += item.items
            self._metrics.sink_errors.labels(self.name).inc()
            return
        self._queue.append(item)
        if len(self._queue) >= self._batch_items:
            self._wake.set()

    def start(self) -> None:
        for target in self._outbox.targets():  # rows left by a previous run are replayed first
            if self._owns(target):
                self._unsent[target] = self._outbox.size(target)
        if self._unsent:
            self._oldest_unsent = self._clock() - self._flush_interval_s
        self._thread = threading.Thread(target=self._run, name=f"sink-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Journal everything still in memory, try one last delivery, and end the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _owns(self, target: str) -> bool:
        return target == self.name or target.startswith(self.name + ":")

    # --- the pump thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            stopping = self._stopping
            try:
                self._journal(self._take())
                self._deliver_due(force=stopping)
            except Exception:  # the database itself failed: keep the thread alive, try again shortly
                log.exception("sink %s: pump turn failed", self.name)
                self._metrics.sink_errors.labels(self.name).inc()
                time.sleep(0.5)
            self._metrics.sink_queue_depth.labels(self.name).set(len(self._queue))
            self._metrics.outbox_size.labels(self.name).set(sum(self._unsent.values()))
            if stopping and not self._queue:
                return
            self._wake.wait(self._wait_s())
            self._wake.clear()

    def _wait_s(self) -> float:
        if self._queue:
            return self._journal_interval_s
        now = self._clock()
        wait = self._flush_interval_s
        if self._oldest_unsent is not None:
            wait = min(wait, self._oldest_unsent + self._flush_interval_s - now)
        for b in self._backoff.values():
            wait = min(wait, b.next_try - now)
        return max(wait, 0.005)

    def _take(self) -> list[Journaled]:
        items: list[Journaled] = []
        queue = self._queue
        limit = self._batch_items
        while queue and len(items) < limit:
            items.append(queue.popleft())
        return items

    def _journal(self, items: list[Journaled]) -> None:
        if not items:
            return
        if self._coalesce:
            by_target: dict[str, list[bytes]] = {}
            for it in items:
                by_target.setdefault(it.target, []).append(it.body)
            rows = [Journaled(t, b"\n".join(bodies), len(bodies)) for t, bodies in by_target.items()]
        else:
            rows = items
        self._outbox.append(rows)
        for r in rows:
            self._unsent[r.target] = self._unsent.get(r.target, 0) + r.items
            self.journaled += r.items
        if self._oldest_unsent is None:
            self._oldest_unsent = self._clock()

    def _deliver_due(self, *, force: bool) -> None:
        now = self._clock()
        total = sum(self._unsent.values())
        if not total:
            return
        aged = self._oldest_unsent is not None and now - self._oldest_unsent >= self._flush_interval_s
        if not (force or aged or total >= self._batch_items):
            return
        for target in list(self._unsent):
            backoff = self._backoff.get(target)
            if backoff is not None and now < backoff.next_try:
                continue
            self._drain_target(target)
        self._oldest_unsent = self._clock() if any(self._unsent.values()) else None

    def _drain_target(self, target: str) -> None:
        # A bounded number of deliveries per turn, so a long replay after an outage still lets new items be
        # journaled between rounds (except when stopping: then flush all that the target takes).
        for _ in range(1_000_000 if self._stopping else 20):
            rows = self._outbox.pending(target, self._rows_per_delivery)
            if not rows:
                self._unsent.pop(target, None)
                self._backoff.pop(target, None)
                return
            ids = [r.id for r in rows]
            items = sum(r.items for r in rows)
            try:
                self._deliver(target, [r.body for r in rows])
            except PermanentFailure as exc:
                log.error("sink %s: %s refused %d item(s) for good, dropped: %s", self.name, target, items, exc)
                self.dropped += items
                self._metrics.sink_errors.labels(self.name).inc()
            except Exception as exc:
                self._metrics.sink_errors.labels(self.name).inc()
                self._outbox.failed(ids)
                b = self._backoff.get(target) or _Backoff(self._backoff_min_s / 2)
                b.delay_s = min(b.delay_s * 2, self._backoff_max_s)
                b.next_try = self._clock() + b.delay_s
                self._backoff[target] = b
                log.warning("sink %s: %s unreachable (%s), retry in %.1fs", self.name, target, exc, b.delay_s)
                return
            else:
                self.delivered += items
                self._backoff.pop(target, None)
            self._outbox.done(ids)
            self._unsent[target] = max(self._unsent.get(target, 0) - items, 0)
