"""A per-session FCnt high-water mark in Redis, so a device that changes owner never accepts a replay.

The owning process keeps counters in memory and writes them to the database behind (once a second). If it dies
(SIGKILL, power), the database may be a second behind: the new owner would accept a replay of any frame from
that second. So every accepted uplink also raises ``<prefix>:fcnt:<session id>`` in Redis (a Lua
SET-if-greater, atomic), and a new owner starts from max(database, high-water).

The write is off the data path: ``record`` queues, one writer task sends everything queued within 10 ms in one
pipeline (one round trip per batch, not per uplink). It reaches Redis within ~10 ms of the uplink being accepted,
long before the readings sink's batch (200 ms) reaches the database, so a reading that was stored has its
counter in Redis. Keyed by session id: a rejoin starts a new session whose counters restart from 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

log = logging.getLogger(__name__)

# KEYS[1] = the session's key; ARGV[1] = the accepted 32-bit FCnt; ARGV[2] = TTL in ms. Returns 1 when raised.
_RAISE = """
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
# Long enough to outlive any write-behind delay and failover by far; short enough that dead sessions expire.
_TTL_MS = 24 * 3600 * 1000


class FCntHighWater:
    def __init__(self, redis: Redis, *, prefix: str = "lora-city", ttl_ms: int = _TTL_MS,
                 linger_s: float = 0.01) -> None:
        self._redis = redis
        self._linger_s = linger_s
        self._prefix = prefix
        self._ttl_ms = ttl_ms
        self._script = redis.register_script(_RAISE)
        self._queued: dict[str, int] = {}  # session id -> highest FCnt not yet sent
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def key(self, session_id: str) -> str:
        return f"{self._prefix}:fcnt:{session_id}"

    async def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="fcnt-high-water")

    async def stop(self) -> None:
        await self.drain()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    def record(self, session_id: str, f_cnt: int) -> None:
        """Called on the event loop for every accepted (non-retransmitted) uplink; never blocks."""
        if self._queued.get(session_id, -1) < f_cnt:
            self._queued[session_id] = f_cnt
        self._idle.clear()
        self._wake.set()

    async def drain(self) -> None:
        """Wait until everything recorded so far is in Redis (tests, orderly shutdown)."""
        await self._idle.wait()

    async def get(self, session_ids: list[str]) -> dict[str, int]:
        """The high-water marks known for these sessions (absent: never recorded or expired)."""
        if not session_ids:
            return {}
        values = await self._redis.mget([self.key(s) for s in session_ids])
        return {s: int(v) for s, v in zip(session_ids, values, strict=True) if v is not None}

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            # Linger a little so one pipeline carries many marks: a round trip through redis-py costs ~100 µs
            # of CPU, more than everything else the cluster adds to an uplink. Still far ahead of the readings
            # sink's batch (200 ms), which is what a failover must not outrun.
            await asyncio.sleep(self._linger_s)
            self._wake.clear()
            batch, self._queued = self._queued, {}
            if not batch:
                self._idle.set()
                continue
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for session_id, f_cnt in batch.items():
                        await self._script(keys=[self.key(session_id)], args=[f_cnt, self._ttl_ms], client=pipe)
                    await pipe.execute()
            except Exception:  # Redis away: keep the marks and retry; the data path never waits for this
                log.exception("FCnt high-water write failed: %d sessions, retrying", len(batch))
                for session_id, f_cnt in batch.items():
                    if self._queued.get(session_id, -1) < f_cnt:
                        self._queued[session_id] = f_cnt
                await asyncio.sleep(0.5)
                self._wake.set()
                continue
            if not self._queued:
                self._idle.set()
