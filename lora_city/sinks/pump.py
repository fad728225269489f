"""``OutboxPump``: the engine behind every durable sink (InfluxDB, webhooks), on its own thread.

Flow per turn: take what was queued in memory → journal it to the outbox (committed) → for each target that is
due, take its oldest rows → ``deliver`` → delete them. A failed delivery leaves the rows where they are and puts
the target in exponential backoff; the next turn that finds it due replays from its oldest row, so order is
kept and nothing is skipped. Other targets carry on meanwhile.

Why journal before sending, even when the target is up: then the only thing a crash can lose is what sat in
memory for one journal interval (``journal_interval_s``, 50 ms by default), and a row leaves the outbox only
after the target said yes. A crash between that yes and the delete sends the rows again on restart; that is
harmless for InfluxDB (same series, timestamp and fields overwrite) and for webhook consumers, which get the same
body and can dedupe on ``deduplicationId``.

The pump keeps a mirror of each target's rows in memory while it holds all of them, so the common case (target
up) never reads its own rows back; after a restart, or when an outage has piled up more than
``mirror_items``, it reads them from the table in ``id`` order until it has caught up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from lora_city.metrics import Metrics
from lora_city.sinks.outbox import Journaled, Outbox, Pending

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The target refused the payload for good (e.g. HTTP 400): retrying cannot help, so the rows are dropped."""


class TargetGone(PermanentFailure):
    """The target no longer exists (an integration deleted): its rows are dropped quietly, not counted as
    failures."""


Deliver = Callable[[str, list[bytes]], None]  # (target, bodies in order); raises on failure
# Turns items given to put_unrouted() into journal rows, on the pump thread, just before they are journaled
# (the integration sink decides there, with the configuration current at that moment, who gets an event).
Route = Callable[[list[Any]], list[Journaled]]


@dataclass(slots=True)
class _Backoff:
    delay_s: float
    next_try: float = 0.0


@dataclass(slots=True)
class _Target:
    unsent: int = 0  # items journaled and not yet delivered
    mirror_complete: bool = True  # ``mirror`` holds every outbox row of this target
    mirror: deque[Pending] | None = None
    backoff: _Backoff | None = None


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
        mirror_items: int = 100_000,
        parallel_targets: int = 1,
        backoff_min_s: float = 0.2,
        backoff_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        route: Route | None = None,
    ) -> None:
        self.name = name
        self._outbox = outbox
        self._deliver = deliver
        self._metrics = metrics
        # coalesce: lines given to put_line() become one row per turn (InfluxDB); else one row per put() item.
        self._coalesce = coalesce
        self._batch_items = batch_items
        self._rows_per_delivery = rows_per_delivery
        self._flush_interval_s = flush_interval_s
        self._journal_interval_s = journal_interval_s
        self._queue_size = queue_size
        self._mirror_items = mirror_items
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._clock = clock
        self._items: deque[Journaled] = deque()
        self._lines: deque[str] = deque()
        self._route = route
        self._unrouted: deque[Any] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._targets: dict[str, _Target] = {}
        # Guards the targets' mirrors and counters, shared by the pump thread and the delivery workers. Held
        # across "commit rows, then mirror them" and "read the table, find it empty, mirror from now on", so a
        # row committed meanwhile is always either mirrored or read.
        self._lock = threading.Lock()
        # parallel_targets > 1: each target drains on a worker of its own, so one slow target (a webhook that
        # times out) does not delay the others; the pump thread keeps journaling meanwhile.
        self._executor = (
            ThreadPoolExecutor(parallel_targets, thread_name_prefix=f"sink-{name}") if parallel_targets > 1 else None
        )
        self._in_flight: dict[str, Future[None]] = {}
        self._oldest_unsent: float | None = None
        self._reread = False
        self.delivered = 0  # items the targets accepted (tests, bench)
        self.journaled = 0  # items committed to the outbox
        self._queued = 0  # items accepted by put()/put_line(); journaled catches up with it
        self._unjournaled: list[Journaled] = []  # taken from the queues, not committed yet (kept on failure)
        self._unjournaled_credit = 0  # what those rows account for in ``journaled`` (durable() counts it)
        # Rows the targets accepted, deleted from the outbox by the pump thread at its next turn rather than by the
        # delivering worker: deleting a 5,000-line row costs ~4 ms, which kept the next request waiting
        # (bench/sinks.py). Until then a crash sends them again, which the module docstring says is harmless.
        self._accepted_ids: list[int] = []
        self.dropped = 0  # items refused because the memory queue was full, or refused for good by the target

    # --- called from any thread ------------------------------------------------------------------------

    def put(self, item: Journaled) -> None:
        """Never blocks. A full queue (the database itself is stuck) drops the item and counts it."""
        if len(self._items) >= self._queue_size:
            self._drop(item.items)
            return
        self._items.append(item)
        self._queued += item.items

    def put_unrouted(self, item: Any) -> None:
        """An item for ``route`` (which must be set): it becomes zero or more rows on the pump thread."""
        if len(self._unrouted) >= self._queue_size:
            self._drop(1)
            return
        self._unrouted.append(item)
        self._queued += 1

    def put_line(self, line: str) -> None:
        """A line for the pump's own target (``name``), joined with the others of its turn into one row."""
        lines = self._lines
        if len(lines) >= self._queue_size:
            self._drop(1)
            return
        lines.append(line)
        self._queued += 1
        if len(lines) == self._batch_items:
            self._wake.set()

    async def durable(self, poll_s: float = 0.002) -> None:
        """Returns once everything put before the call is committed to the outbox (journaled now, not at the
        next interval). Wrap it in a timeout: it waits as long as the database is unavailable."""
        mark = self._queued
        self._wake.set()
        while self.journaled < mark:
            await asyncio.sleep(poll_s)

    def start(self) -> None:
        for target in self._outbox.targets():  # rows left by a previous run are replayed first
            if target == self.name or target.startswith(self.name + ":"):
                self._targets[target] = _Target(unsent=self._outbox.size(target), mirror_complete=False)
        if self._targets:
            self._oldest_unsent = self._clock() - self._flush_interval_s
        self._thread = threading.Thread(target=self._run, name=f"sink-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Journal everything still in memory, try one last delivery, and end the thread."""
        self._stopping = True
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._executor is not None:
            wait(list(self._in_flight.values()), timeout=max(deadline - time.monotonic(), 0.0))
            self._executor.shutdown(wait=False, cancel_futures=True)

    def reread_outbox(self) -> None:
        """Forget the in-memory mirror and read rows from the table again (after an erasure rewrote them)."""
        self._reread = True
        self._wake.set()

    def _drop(self, items: int) -> None:
        with self._lock:
            self.dropped += items
        self._metrics.sink_errors.labels(self.name).inc()

    # --- the pump thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            stopping = self._stopping
            if self._reread:
                self._reread = False
                with self._lock:
                    for t in self._targets.values():
                        t.mirror_complete, t.mirror = False, None
            try:
                self._delete_accepted()
                if not self._unjournaled and not self._unjournaled_credit:
                    self._unjournaled, self._unjournaled_credit = self._take()
                # raises while the database is down: retried next turn
                self._journal(self._unjournaled, self._unjournaled_credit)
                self._unjournaled, self._unjournaled_credit = [], 0
                self._deliver_due(force=stopping)
            except Exception:  # the database itself failed: keep the thread alive, try again shortly
                log.exception("sink %s: pump turn failed", self.name)
                self._metrics.sink_errors.labels(self.name).inc()
                time.sleep(0.5)
            self._report()
            if (stopping and not self._items and not self._lines and not self._unrouted
                    and not self._unjournaled and not self._unjournaled_credit):
                if self._executor is not None:  # the last deliveries finish on the workers
                    wait(list(self._in_flight.values()))
                    self._in_flight.clear()
                    self._deliver_due(force=True)  # what a worker's bounded round left behind
                    wait(list(self._in_flight.values()))
                    self._report()
                try:
                    self._delete_accepted()
                except Exception:  # the database away at the very end: those rows are sent again on restart
                    log.exception("sink %s: deleting delivered rows failed", self.name)
                return
            self._wake.wait(self._wait_s())
            self._wake.clear()

    def _delete_accepted(self) -> None:
        with self._lock:  # a worker reading the table (_next_rows) must not see them half-deleted
            ids, self._accepted_ids = self._accepted_ids, []
            if ids:
                try:
                    self._outbox.done(ids)
                except Exception:
                    self._accepted_ids = ids + self._accepted_ids
                    raise

    def _report(self) -> None:
        self._metrics.sink_queue_depth.labels(self.name).set(
            len(self._items) + len(self._lines) + len(self._unrouted))
        self._metrics.outbox_size.labels(self.name).set(sum(t.unsent for t in self._targets.values()))

    def _wait_s(self) -> float:
        # Never longer than the journal interval: what put() adds while the pump sleeps must be journaled
        # within that interval (the crash window), and put() does not wake the pump for every item.
        now = self._clock()
        wait = self._journal_interval_s
        if self._oldest_unsent is not None:
            wait = min(wait, self._oldest_unsent + self._flush_interval_s - now)
        for t in self._targets.values():
            if t.backoff is not None:
                wait = min(wait, t.backoff.next_try - now)
        return max(wait, 0.005)

    def _take(self) -> tuple[list[Journaled], int]:
        """Rows to journal, and how many queued items (lines, items, unrouted items) they account for."""
        limit = self._batch_items
        rows: list[Journaled] = []
        credit = 0
        if self._route is not None and self._unrouted:
            # Taken from the queue BEFORE the router reads the configuration: an item put after a change was
            # committed is routed with that change.
            raw = [self._unrouted.popleft() for _ in range(min(len(self._unrouted), limit))]
            try:
                rows.extend(self._route(raw))
            except Exception:
                self._unrouted.extendleft(reversed(raw))  # the router could not read its configuration
                raise
            credit += len(raw)
        lines = self._lines
        if lines:
            n = min(len(lines), limit)
            popleft = lines.popleft
            body = "\n".join([popleft() for _ in range(n)]).encode()
            rows.append(Journaled(self.name, body, n))
            credit += n
        items = self._items
        while items and len(rows) < limit:
            item = items.popleft()
            rows.append(item)
            credit += item.items
        return rows, credit

    def _journal(self, rows: list[Journaled], credit: int) -> None:
        if not rows:
            self.journaled += credit
            return
        with self._lock:
            for p in self._outbox.append(rows):
                t = self._targets.get(p.target)
                if t is None:
                    t = self._targets[p.target] = _Target()
                t.unsent += p.items
                if t.mirror_complete:
                    if t.mirror is None:
                        t.mirror = deque()
                    t.mirror.append(p)
                    if t.unsent > self._mirror_items:  # a long outage: stop mirroring, read the table later
                        t.mirror_complete, t.mirror = False, None
            self.journaled += credit
        if self._oldest_unsent is None:
            self._oldest_unsent = self._clock()

    def _deliver_due(self, *, force: bool) -> None:
        now = self._clock()
        total = sum(t.unsent for t in self._targets.values())
        if not total:
            return
        aged = self._oldest_unsent is not None and now - self._oldest_unsent >= self._flush_interval_s
        if not (force or aged or total >= self._batch_items):
            return
        for name in [n for n, f in self._in_flight.items() if f.done()]:
            del self._in_flight[name]
        for name, t in list(self._targets.items()):
            if name in self._in_flight or (t.backoff is not None and now < t.backoff.next_try) or not t.unsent:
                continue
            if self._executor is None:
                self._drain_target(name, t)
            else:
                future = self._executor.submit(self._drain_logged, name, t)
                future.add_done_callback(lambda _f: self._wake.set())  # re-examine the targets promptly
                self._in_flight[name] = future
        self._oldest_unsent = self._clock() if any(t.unsent for t in self._targets.values()) else None

    def _next_rows(self, name: str, t: _Target) -> list[Pending]:
        with self._lock:
            if t.mirror_complete:
                source: list[Pending] = list(t.mirror or [])[: self._rows_per_delivery]
            else:
                if self._accepted_ids:  # read the table only once what was delivered is gone from it
                    self._outbox.done(self._accepted_ids)
                    self._accepted_ids = []
                source = self._outbox.pending(name, self._rows_per_delivery)
                if not source:
                    t.mirror_complete, t.mirror = True, deque()  # caught up: mirror from now on
            if not source:
                t.unsent, t.backoff = 0, None
        rows: list[Pending] = []
        items = 0
        for p in source:  # up to rows_per_delivery rows and batch_items items (always at least one row)
            if rows and items + p.items > self._batch_items:
                break
            rows.append(p)
            items += p.items
        return rows

    def _drain_logged(self, name: str, t: _Target) -> None:
        try:
            self._drain_target(name, t)
        except Exception:  # the database failed under a worker: the rows stay, the next turn retries
            log.exception("sink %s: delivering to %s failed", self.name, name)
            self._metrics.sink_errors.labels(self.name).inc()

    def _drain_target(self, name: str, t: _Target) -> None:
        # A bounded number of deliveries per turn, so a long replay after an outage still lets new items be
        # journaled between rounds (except when stopping: then flush all that the target takes).
        for _ in range(1_000_000 if self._stopping else 20):
            rows = self._next_rows(name, t)
            if not rows:
                return
            ids = [r.id for r in rows]
            items = sum(r.items for r in rows)
            delivered = False
            try:
                self._deliver(name, [r.body for r in rows])
                delivered = True
            except TargetGone as exc:
                log.info("sink %s: %d item(s) for %s dropped: %s", self.name, items, name, exc)
            except PermanentFailure as exc:
                log.error("sink %s: %s refused %d item(s) for good, dropped: %s", self.name, name, items, exc)
                self._drop(items)
            except Exception as exc:
                self._metrics.sink_errors.labels(self.name).inc()
                self._outbox.failed(ids)
                b = t.backoff or _Backoff(self._backoff_min_s / 2)
                b.delay_s = min(b.delay_s * 2, self._backoff_max_s)
                b.next_try = self._clock() + b.delay_s
                t.backoff = b
                log.warning("sink %s: %s unreachable (%s), retry in %.1fs", self.name, name, exc, b.delay_s)
                return
            else:
                t.backoff = None
            with self._lock:
                self._accepted_ids.extend(ids)
                if delivered:
                    self.delivered += items
                if t.mirror_complete and t.mirror and t.mirror[0].id == ids[0]:
                    for _ in rows:
                        t.mirror.popleft()
                t.unsent = max(t.unsent - items, 0)
