"""Generate the provisioned Grafana dashboards (Flux on InfluxDB 2) from one table.

Run ``python3 compose/grafana/make_dashboards.py`` after editing; the JSON files in dashboards/ are committed and
a test checks they are current and that every query names a field a shipped codec of that family writes (its
vendor examples decoded and formatted by the InfluxDB sink) or a radio field the sink adds to every uplink.
Measurement = sensor family; fields = normalised measurement names (lora_city.codec.measurements) + radio fields.
A field ending in ``*`` means every channel of it: ``lamp_on*`` is ``lamp_on`` and ``lamp_on:1``, ``lamp_on:2``…
(multi-channel devices write one field per channel). The aggregate ``rate`` turns a cumulative index into a
rate per hour (Flux ``derivative``), e.g. a water meter's index into its flow.
"""

from __future__ import annotations

import json
from pathlib import Path

from lora_city.codec.measurements import CATALOGUE, Kind

HERE = Path(__file__).resolve().parent

# (dashboard uid, title, [(panel title, measurement, field, aggregate, unit, thresholds)])
DASHBOARDS: list[tuple[str, str, list[tuple[str, str, str, str, str, list[tuple[float, str]]]]]] = [
    ("lc-streetlights", "Streetlights: energy and failures", [
        ("Energy (Wh, cumulative)", "streetlight", "energy", "last", "watth", []),
        ("Active power (W)", "streetlight", "power", "mean", "watt", []),
        ("Lamps on (1) / off (0), per output", "streetlight", "lamp_on*", "max", "none", []),
        ("Mains voltage (V)", "streetlight", "voltage*", "mean", "volt", [(207, "orange"), (253, "orange")]),
    ]),
    ("lc-water", "Water: volumes, night flow, leaks", [
        ("Meter index (m³)", "water", "volume", "last", "m3", []),
        ("Flow (m³/h) from the meter index — night flow shows leaks", "water", "volume", "rate", "none", []),
        ("Leak alarms", "water", "leak", "max", "none", [(1, "red")]),
        ("Backflow alarms", "water", "backflow", "max", "none", [(1, "orange")]),
    ]),
    ("lc-flood", "Flood: water levels with thresholds", [
        # Vigicrues colours: yellow, orange, red thresholds in metres above gauge zero (set per site).
        ("Water level (m)", "flood", "water_level", "max", "lengthm", [(1.0, "yellow"), (2.0, "orange"), (3.0, "red")]),
        ("Distance to surface (m)", "flood", "distance", "min", "lengthm", []),
        ("Flood alarms", "flood", "flood", "max", "none", [(1, "red")]),
        ("Sensor battery (V)", "flood", "battery", "min", "volt", [(3.0, "red")]),
    ]),
    ("lc-network", "Network health", [
        ("RSSI of best gateway (dBm), streetlights", "streetlight", "rssi", "mean", "dBm", []),
        ("SNR of best gateway (dB), water", "water", "snr", "mean", "dB", []),
        ("Gateways hearing each flood uplink", "flood", "gateway_count", "mean", "none", [(1.5, "green")]),
        ("Spreading factor, all water devices", "water", "spreading_factor", "mean", "none", []),
    ]),
    ("lc-usage", "Usage per tenant", [
        ("Streetlight uplinks per tenant", "streetlight", "f_cnt", "count", "none", []),
        ("Water uplinks per tenant", "water", "f_cnt", "count", "none", []),
        ("Flood uplinks per tenant", "flood", "f_cnt", "count", "none", []),
        ("Other uplinks per tenant (sensors of no family above)", "other", "f_cnt", "count", "none", []),
    ]),
]


# Alarm flags are written as booleans; Flux cannot take the max of a boolean, so they become 0/1 first.
FLAGS = {name for name, q in CATALOGUE.items() if q.kind is Kind.FLAG}


def flux(measurement: str, field: str, aggregate: str, group_by: str) -> str:
    base = field.rstrip("*")
    to_number = "  |> map(fn: (r) => ({r with _value: if r._value then 1 else 0}))\n" if base in FLAGS else ""
    match = f"r._field =~ /^{base}(:[0-9]+)?$/" if field.endswith("*") else f'r._field == "{field}"'
    columns = f'"{group_by}", "_field"' if field.endswith("*") else f'"{group_by}"'
    if aggregate == "rate":
        window = ("  |> aggregateWindow(every: v.windowPeriod, fn: last, createEmpty: false)\n"
                  "  |> derivative(unit: 1h, nonNegative: true)\n")
    else:
        window = f"  |> aggregateWindow(every: v.windowPeriod, fn: {aggregate}, createEmpty: false)\n"
    return (
        'from(bucket: "${bucket}")\n'
        "  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n"
        f'  |> filter(fn: (r) => r._measurement == "{measurement}" and {match})\n'
        + to_number
        + f"  |> group(columns: [{columns}])\n"
        + window
    )


def dashboard(uid: str, title: str, panels: list[tuple[str, str, str, str, str, list[tuple[float, str]]]]) -> dict[str, object]:
    out: list[dict[str, object]] = []
    for i, (ptitle, measurement, field, aggregate, unit, thresholds) in enumerate(panels):
        group_by = "tenant" if uid == "lc-usage" else "dev_eui"
        steps: list[dict[str, object]] = [{"color": "green", "value": None}]
        steps += [{"color": color, "value": value} for value, color in thresholds]
        out.append({
            "id": i + 1,
            "type": "timeseries",
            "title": ptitle,
            "datasource": {"type": "influxdb", "uid": "lora-city-influxdb"},
            "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
            "fieldConfig": {
                "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps},
                             "custom": {"thresholdsStyle": {"mode": "line" if thresholds else "off"}}},
                "overrides": [],
            },
            "targets": [{"refId": "A", "query": flux(measurement, field, aggregate, group_by)}],
        })
    return {
        "uid": uid,
        "title": title,
        "tags": ["lora_city"],
        "timezone": "Europe/Paris",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": [{"name": "bucket", "type": "constant", "query": "lora_city", "hide": 2}]},
        "panels": out,
    }


def render() -> dict[str, str]:
    return {f"{uid}.json": json.dumps(dashboard(uid, title, panels), indent=2, ensure_ascii=False) + "\n"
            for uid, title, panels in DASHBOARDS}


if __name__ == "__main__":
    for name, text in render().items():
        (HERE / "dashboards" / name).write_text(text)
        print("wrote", name)
