"""The InfluxDB sink: uplinks as line protocol, written in batches through ``influxdb-client``'s v2 write API.

``submit`` formats the line on the caller's side (~2 µs unloaded) and hands it to an ``OutboxPump``, whose
thread journals lines to the outbox every 50 ms; a writer thread writes up to ``batch_lines`` lines per request
(or whatever waited ``flush_interval_s``) with the synchronous write API and a raw line-protocol body, one
request at a time so points arrive in order. Journaling and writing overlap (bench/sinks.py: ~+30 %). An unreachable server leaves
the lines in the outbox; they are written, oldest first, once it is back. The point's timestamp is the uplink's
time, so a replay writes the very same point (InfluxDB overwrites it).
"""

from __future__ import annotations

import asyncio
import logging

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceEvent, UplinkEvent
from lora_city.sinks.line_protocol import format_uplink
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.pump import OutboxPump, PermanentFailure

log = logging.getLogger(__name__)

TARGET = "influx"


class InfluxSink:
    name = TARGET

    def __init__(
        self,
        url: str,
        *,
        token: str,
        org: str,
        bucket: str,
        outbox: Outbox,
        metrics: Metrics,
        batch_lines: int = 5000,
        flush_interval_s: float = 1.0,
        timeout_s: float = 10.0,
        backoff_max_s: float = 30.0,
    ) -> None:
        self._org = org
        self._bucket = bucket
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self.pump = OutboxPump(
            TARGET, outbox, self._write, metrics,
            coalesce=True, batch_items=batch_lines, rows_per_delivery=64, parallel_targets=2,
            flush_interval_s=flush_interval_s, backoff_max_s=backoff_max_s,
        )

    async def start(self) -> None:
        await asyncio.to_thread(self.pump.start)

    def submit(self, event: DeviceEvent) -> None:
        if isinstance(event, UplinkEvent):
            self.pump.put_line(format_uplink(event))

    def submit_line(self, line: str) -> None:
        """A pre-formatted line (the benchmark, or another producer of points)."""
        self.pump.put_line(line)

    async def durable(self) -> None:
        """Returns once every line submitted before the call is in the outbox."""
        await self.pump.durable()

    async def stop(self) -> None:
        await asyncio.to_thread(self.pump.stop)
        self._client.close()  # type: ignore[no-untyped-call]

    def _write(self, _target: str, bodies: list[bytes]) -> None:
        try:
            # The default write precision is nanoseconds, which is what line_protocol.timestamp_ns gives.
            self._write_api.write(self._bucket, self._org, record=b"\n".join(bodies))
        except ApiException as exc:
            # 400/422: the server parsed the body and refused points (bad line, field type conflict); sending
            # the same bytes again would be refused again, so the batch is dropped and counted.
            if exc.status in (400, 422):
                raise PermanentFailure(f"HTTP {exc.status}: {exc.body!r}") from exc
            raise
