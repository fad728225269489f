"""The process the kill test SIGKILLs: the sinks as main.py builds them, fed a steady stream of uplinks.

``stream``: submit uplinks forever, printing after each chunk how many the sinks made durable.
``drain``: start the sinks (which replay the outbox), wait until the outbox is empty, stop.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from lora_city.metrics import Metrics
from lora_city.settings import Settings
from lora_city.sinks.build import build_sinks
from lora_city.sinks.influx import InfluxSink
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.store import ReadingStoreSink
from lora_city.storage.db import make_engine, make_session_factory
from tests.unit.sinks.factories import uplink


async def main(mode: str, vm_url: str, database_url: str) -> None:
    settings = Settings(influx_url=vm_url, database_url=database_url)
    factory = make_session_factory(make_engine(database_url))
    hub = build_sinks(settings, factory, Metrics())
    influx, store = hub.get("influx"), hub.get("store")
    assert isinstance(influx, InfluxSink) and isinstance(store, ReadingStoreSink)
    await hub.start()
    if mode == "drain":
        while Outbox(factory).size() > 0:
            await asyncio.sleep(0.05)
        await hub.stop()
        return
    n = 0
    while True:
        for _ in range(100):
            hub.submit(uplink(n))
            n += 1
        await asyncio.sleep(0.02)
        print(json.dumps({"submitted": n, "journaled": influx.pump.journaled, "stored": store.written,
                          "delivered": influx.pump.delivered, "t": time.time()}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
