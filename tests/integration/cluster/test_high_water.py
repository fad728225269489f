"""The FCnt high-water mark against a real redis-server: only ever raised, batched, per session."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from lora_city.cluster.high_water import FCntHighWater
from tests.support.services import Service

pytestmark = pytest.mark.integration


def test_marks_only_rise_and_are_per_session(redis_server: Service) -> None:
    async def run() -> None:
        redis = Redis.from_url(redis_server.url)
        hw = FCntHighWater(redis, prefix=f"t{uuid.uuid4().hex[:8]}")
        await hw.start()
        try:
            for f_cnt in (1, 2, 5, 3):  # queued together: the highest wins
                hw.record("s1", f_cnt)
            hw.record("s2", 0)
            await asyncio.wait_for(hw.drain(), 5)
            assert await hw.get(["s1", "s2", "s3"]) == {"s1": 5, "s2": 0}
            hw.record("s1", 4)  # another member's late, lower mark cannot lower it (Lua SET-if-greater)
            await asyncio.wait_for(hw.drain(), 5)
            assert await hw.get(["s1"]) == {"s1": 5}
            assert 0 < await redis.pttl(hw.key("s1")) <= 24 * 3600 * 1000  # dead sessions expire
        finally:
            await hw.stop()
            await redis.aclose()

    asyncio.run(run())
