"""GDPR erasure of one device's data in every store the product controls: readings, events, outbox rows (whole
rows of that device, and its lines inside InfluxDB batches), and the time-series server when one is configured.

Run it after the device was deleted or deactivated, so no new event of it is on its way through a sink queue,
then call ``SinkHub.reread_outboxes()`` so the pumps drop their in-memory copies of the rewritten rows. The
time-series delete comes last, so lines a pump was sending while the outbox was cleaned are deleted too.

Time-series servers:
- InfluxDB 2 (``flavour="influxdb2"``): ``POST /api/v2/delete`` with predicate ``dev_eui="<eui>"`` over all time,
  through influxdb-client's delete API.
- victoria-metrics (``flavour="victoria-metrics"``): it has no ``/api/v2/delete``; its own
  ``POST /api/v1/admin/tsdb/delete_series?match[]={dev_eui="<eui>"}`` removes every series of the device.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx
from influxdb_client.client.influxdb_client import InfluxDBClient
from sqlalchemy import delete, select

from lora_city.errors import InvalidInput
from lora_city.sinks.influx import TARGET as INFLUX_TARGET
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Event, OutboxRow, Reading

_EUI = re.compile(r"^[0-9a-f]{16}$")
Flavour = Literal["influxdb2", "victoria-metrics"]


@dataclass(frozen=True, slots=True)
class ErasureReport:
    readings: int
    events: int
    outbox_rows: int
    outbox_lines: int
    timeseries: bool  # the time-series server confirmed the delete


class TimeSeriesEraser:
    def __init__(self, url: str, *, token: str, org: str, bucket: str, flavour: Flavour = "influxdb2",
                 timeout_s: float = 30.0) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._org = org
        self._bucket = bucket
        self._flavour = flavour
        self._timeout_s = timeout_s

    def erase(self, dev_eui: str) -> None:
        if self._flavour == "victoria-metrics":
            r = httpx.post(f"{self._url}/api/v1/admin/tsdb/delete_series",
                           params={"match[]": f'{{dev_eui="{dev_eui}"}}'}, timeout=self._timeout_s)
            r.raise_for_status()
            return
        with InfluxDBClient(url=self._url, token=self._token, org=self._org,
                            timeout=int(self._timeout_s * 1000)) as client:
            client.delete_api().delete(
                datetime(1970, 1, 1, tzinfo=UTC), datetime(2262, 1, 1, tzinfo=UTC),  # all of ns time
                f'dev_eui="{dev_eui}"', bucket=self._bucket, org=self._org,
            )


def _without_device(body: bytes, dev_eui: str) -> tuple[bytes, int]:
    needles = (f",dev_eui={dev_eui},".encode(), f",dev_eui={dev_eui} ".encode())
    kept, removed = [], 0
    for line in body.split(b"\n"):
        if any(n in line for n in needles):
            removed += 1
        else:
            kept.append(line)
    return b"\n".join(kept), removed


def erase_device(factory: SessionFactory, dev_eui: str, *, timeseries: TimeSeriesEraser | None = None) -> ErasureReport:
    dev_eui = dev_eui.lower()
    if not _EUI.match(dev_eui):  # also keeps the predicate and the series selector free of injection
        raise InvalidInput(f"not a DevEUI: {dev_eui!r}")
    with transaction(factory) as s:
        readings = s.execute(delete(Reading).where(Reading.dev_eui == dev_eui)).rowcount  # type: ignore[attr-defined]
        events = s.execute(delete(Event).where(Event.dev_eui == dev_eui)).rowcount  # type: ignore[attr-defined]
        outbox_rows = s.execute(delete(OutboxRow).where(OutboxRow.dev_eui == dev_eui)).rowcount  # type: ignore[attr-defined]
        outbox_lines = 0
        for row in s.scalars(select(OutboxRow).where(OutboxRow.target == INFLUX_TARGET)):
            body, removed = _without_device(bytes(row.body), dev_eui)
            if not removed:
                continue
            outbox_lines += removed
            if removed == row.items:
                s.delete(row)
                outbox_rows += 1
            else:
                row.body, row.items = body, row.items - removed
    if timeseries is not None:
        timeseries.erase(dev_eui)
    return ErasureReport(readings, events, outbox_rows, outbox_lines, timeseries is not None)
