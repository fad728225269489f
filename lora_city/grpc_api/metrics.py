"""The metrics ChirpStack's DeviceService and GatewayService give dashboards, computed from what lora_city
stores: the readings table (one row per handled uplink: measurements, per-gateway RSSI/SNR, frequency, DR) and
the events table (a txack row per downlink a gateway accepted).

Buckets: MINUTE and HOUR in UTC; DAY and MONTH start at local midnight in Europe/Paris (the city's days, as the
portal shows them). Every bucket between start and end is returned, empty ones with 0 (counts) or no value
(means are 0 too: a protobuf float has no "missing"). At most ``MAX_BUCKETS`` buckets per request.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chirpstack_api import common
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.grpc_api.convert import timestamp
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868
from lora_city.services.common import as_utc, db_time
from lora_city.storage.models import Event, Reading

PARIS = ZoneInfo("Europe/Paris")
MAX_BUCKETS = 2000
HOUR_S = 3600.0


def bucket_start(t: datetime, aggregation: int) -> datetime:
    t = t.astimezone(UTC)
    if aggregation == common.MINUTE:
        return t.replace(second=0, microsecond=0)
    if aggregation == common.HOUR:
        return t.replace(minute=0, second=0, microsecond=0)
    local = t.astimezone(PARIS)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if aggregation == common.MONTH:
        day = day.replace(day=1)
    return day.replace(tzinfo=None).replace(tzinfo=PARIS).astimezone(UTC)  # midnight's own UTC offset


def _next(start: datetime, aggregation: int) -> datetime:
    if aggregation == common.MINUTE:
        return start + timedelta(minutes=1)
    if aggregation == common.HOUR:
        return start + timedelta(hours=1)
    local = start.astimezone(PARIS)
    if aggregation == common.DAY:
        following = (local + timedelta(days=1, hours=3)).replace(hour=0)  # across a DST change too
    else:
        following = (local.replace(day=28) + timedelta(days=5)).replace(day=1)
    return following.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None).replace(
        tzinfo=PARIS).astimezone(UTC)


def buckets(start: datetime | None, end: datetime | None, aggregation: int) -> list[datetime]:
    if start is None or end is None or end <= start:
        raise InvalidInput("give start and end, end after start", code="invalid_range")
    if aggregation not in (common.MINUTE, common.HOUR, common.DAY, common.MONTH):
        raise InvalidInput("aggregation must be MINUTE, HOUR, DAY or MONTH", code="invalid_aggregation")
    out: list[datetime] = []
    t = bucket_start(start, aggregation)
    while t < end:
        out.append(t)
        if len(out) > MAX_BUCKETS:
            raise InvalidInput(f"more than {MAX_BUCKETS} buckets: a longer aggregation or a shorter range",
                               code="invalid_range")
        t = _next(t, aggregation)
    return out


def time_range(request: Any) -> tuple[datetime | None, datetime | None]:
    start = as_utc(request.start.ToDatetime()) if request.HasField("start") else None
    end = as_utc(request.end.ToDatetime()) if request.HasField("end") else None
    return start, end


def metric(name: str, kind: int, times: list[datetime], datasets: dict[str, list[float]]) -> common.Metric:
    m = common.Metric(name=name, kind=kind)
    for t in times:
        ts = timestamp(t)
        assert ts is not None
        m.timestamps.append(ts)
    for label in sorted(datasets):
        m.datasets.append(common.MetricDataset(label=label, data=datasets[label]))
    return m


class Series:
    """Per-bucket sums and counts of labelled values."""

    def __init__(self, times: list[datetime]) -> None:
        self.times = times
        self.index = {t: i for i, t in enumerate(times)}
        self.sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(times))
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(times))

    def add(self, bucket: datetime, label: str, value: float = 1.0) -> None:
        i = self.index.get(bucket)
        if i is None:
            return
        self.sums[label][i] += value
        self.counts[label][i] += 1

    def totals(self) -> dict[str, list[float]]:
        return {label: list(values) for label, values in self.sums.items()}

    def means(self) -> dict[str, list[float]]:
        return {label: [s / c if c else 0.0 for s, c in zip(self.sums[label], self.counts[label], strict=True)]
                for label in self.sums}


def _readings(session: Session, start: datetime, end: datetime, dev_eui: str | None = None
              ) -> Iterable[Any]:
    query = select(Reading.time, Reading.measurements, Reading.rx, Reading.tx).where(
        Reading.time >= db_time(session, start), Reading.time < db_time(session, end))
    if dev_eui is not None:
        query = query.where(Reading.dev_eui == dev_eui)
    return session.execute(query.execution_options(yield_per=1000))


def device_metrics(session: Session, dev_eui: str, start: datetime, end: datetime, aggregation: int
                   ) -> tuple[dict[str, common.Metric], dict[str, tuple[str, str]]]:
    """(metrics: every numeric measurement's mean per bucket, states: each flag's last value)."""
    times = buckets(start, end, aggregation)
    series: dict[str, Series] = {}
    states: dict[str, tuple[datetime, str]] = {}
    for row in _readings(session, times[0], end, dev_eui):
        at = as_utc(row.time)
        assert at is not None
        bucket = bucket_start(at, aggregation)
        for name, measured in (row.measurements or {}).items():
            value = measured.get("value") if isinstance(measured, dict) else measured
            if isinstance(value, bool):
                if name not in states or states[name][0] <= at:
                    states[name] = (at, "true" if value else "false")
            elif isinstance(value, int | float):
                series.setdefault(name, Series(times)).add(bucket, name, float(value))
    metrics = {name: metric(name, common.GAUGE, times, s.means()) for name, s in series.items()}
    return metrics, {name: (name, value) for name, (_at, value) in states.items()}


def _dr_of(tx: dict[str, Any]) -> int | None:
    dr = tx.get("dr")
    if isinstance(dr, int):
        return dr
    try:
        return EU868.data_rate_index(int(tx["spreading_factor"]), int(tx["bandwidth"]))
    except (KeyError, TypeError, ValueError, LoRaWANError):
        return None


def device_link_metrics(session: Session, dev_eui: str, start: datetime, end: datetime, aggregation: int
                        ) -> dict[str, common.Metric]:
    times = buckets(start, end, aggregation)
    rx, rssi, snr = Series(times), Series(times), Series(times)
    per_freq, per_dr = Series(times), Series(times)
    for row in _readings(session, times[0], end, dev_eui):
        at = as_utc(row.time)
        assert at is not None
        bucket = bucket_start(at, aggregation)
        rx.add(bucket, "rx_count")
        gateways = [g for g in (row.rx or []) if isinstance(g, dict)]
        if gateways:
            best = max(gateways, key=lambda g: g.get("snr", -99))
            rssi.add(bucket, "rssi", float(best.get("rssi", 0)))
            snr.add(bucket, "snr", float(best.get("snr", 0)))
        tx = row.tx or {}
        if tx.get("frequency"):
            per_freq.add(bucket, str(tx["frequency"]))
        dr = _dr_of(tx)
        if dr is not None:
            per_dr.add(bucket, str(dr))
    return {
        "rx_packets": metric("rx_packets", common.ABSOLUTE, times, rx.totals() or {"rx_count": [0.0] * len(times)}),
        "gw_rssi": metric("gw_rssi", common.GAUGE, times, rssi.means() or {"rssi": [0.0] * len(times)}),
        "gw_snr": metric("gw_snr", common.GAUGE, times, snr.means() or {"snr": [0.0] * len(times)}),
        "rx_packets_per_freq": metric("rx_packets_per_freq", common.ABSOLUTE, times, per_freq.totals()),
        "rx_packets_per_dr": metric("rx_packets_per_dr", common.ABSOLUTE, times, per_dr.totals()),
        "errors": metric("errors", common.ABSOLUTE, times, {}),
    }


def gateway_metrics(session: Session, gateway_id: str, start: datetime, end: datetime, aggregation: int
                    ) -> dict[str, common.Metric]:
    """Uplinks the gateway heard (from the readings: a deduplicated uplink counts once per gateway that heard
    it) and downlinks it accepted (txack events). tx_packets_per_status lists only what a txack event carries."""
    times = buckets(start, end, aggregation)
    rx, rx_freq, rx_dr = Series(times), Series(times), Series(times)
    for row in _readings(session, times[0], end):
        if not any(isinstance(g, dict) and g.get("gateway_id") == gateway_id for g in (row.rx or [])):
            continue
        at = as_utc(row.time)
        assert at is not None
        bucket = bucket_start(at, aggregation)
        rx.add(bucket, "rx_count")
        tx = row.tx or {}
        if tx.get("frequency"):
            rx_freq.add(bucket, str(tx["frequency"]))
        dr = _dr_of(tx)
        if dr is not None:
            rx_dr.add(bucket, str(dr))
    tx_count, tx_freq, tx_dr, tx_status = Series(times), Series(times), Series(times), Series(times)
    events = session.execute(select(Event.time, Event.body).where(
        Event.gateway_id == gateway_id, Event.kind == "txack",
        Event.time >= db_time(session, times[0]), Event.time < db_time(session, end)))
    for at_raw, body in events:
        at = as_utc(at_raw)
        assert at is not None
        bucket = bucket_start(at, aggregation)
        tx_count.add(bucket, "tx_count")
        tx_status.add(bucket, "OK")  # a txack event is a downlink the gateway accepted
        info = (body or {}).get("txInfo") or {}
        if info.get("frequency"):
            tx_freq.add(bucket, str(info["frequency"]))
        lora = (info.get("modulation") or {}).get("lora") or {}
        with contextlib.suppress(KeyError, TypeError, ValueError, LoRaWANError):  # not a LoRa DR of the region
            tx_dr.add(bucket, str(EU868.data_rate_index(int(lora["spreadingFactor"]), int(lora["bandwidth"]))))
    zero = [0.0] * len(times)
    return {
        "rx_packets": metric("rx_packets", common.ABSOLUTE, times, rx.totals() or {"rx_count": zero}),
        "tx_packets": metric("tx_packets", common.ABSOLUTE, times, tx_count.totals() or {"tx_count": zero}),
        "tx_packets_per_freq": metric("tx_packets_per_freq", common.ABSOLUTE, times, tx_freq.totals()),
        "rx_packets_per_freq": metric("rx_packets_per_freq", common.ABSOLUTE, times, rx_freq.totals()),
        "tx_packets_per_dr": metric("tx_packets_per_dr", common.ABSOLUTE, times, tx_dr.totals()),
        "rx_packets_per_dr": metric("rx_packets_per_dr", common.ABSOLUTE, times, rx_dr.totals()),
        "tx_packets_per_status": metric("tx_packets_per_status", common.ABSOLUTE, times, tx_status.totals()),
    }
