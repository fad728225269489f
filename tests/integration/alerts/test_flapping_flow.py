"""Issue 21, "Alerts flap": the demo's random readings raised and resolved the same flood rule 29 times in
6 minutes. Here a flood gauge (the independent emulator's device, its Milesight EM500-SWL frames through the
Semtech UDP connector, the real network server, codec and alert sink on a real database) reads above and below
its rule's line 29 times: the console gets ONE alert, raised 29 times, with every episode in its audit log.

The EM500-SWL frame (FPort 85: channel 0x01 type 0x75 battery %, channel 0x03 type 0x77 water level in cm, u16
little-endian) follows Milesight's EM500-SWL user guide, "Uplink data" (the shipped codec's examples)."""

from __future__ import annotations

import asyncio
import shutil
import struct
from pathlib import Path

import pytest
from sqlalchemy import select

from lora_city.alerts.service import AlertService
from lora_city.alerts.sink import AlertSink
from lora_city.simulate.demo import utcnow
from lora_city.storage.models import Alert, AlertAudit
from tests.integration.conformance.network import Network
from tests.integration.network.harness import Harness, wait_until
from tests.support.emulator.device import Device
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FLAPS = 29


def _em500_swl(level_cm: int, battery: int = 90) -> bytes:
    return b"\x01\x75" + bytes((battery,)) + b"\x03\x77" + struct.pack("<H", level_cm)


def test_a_flapping_gauge_is_one_alert_with_a_count(sqlite_template: Path, tmp_path: Path, mosquitto: Service) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "flow.db")
    sqlite_url = f"sqlite:///{tmp_path / 'flow.db'}"

    async def run() -> None:
        h = Harness(sqlite_url, mosquitto.url, udp=True)
        alerts = AlertService(h.factory, utcnow)
        sink = AlertSink(alerts, None, utcnow, tick_s=3600)  # no tick: only the readings move the alert
        h.extra_sinks.append(sink)
        await h.start()
        net = Network(h)
        try:
            await net.udp_gateway()
            r = await h.api.post("/api/v1/alert-rules", json={
                "name": "Crue du Vistre", "kind": "threshold", "service": "flood_cell", "scope_kind": "family",
                "scope_value": "flood", "measurement": "water_level",
                "levels": [{"name": "orange", "value": 1.0, "severity": "major"}]})
            assert r.status_code == 201, r.text
            assert r.json()["flap_window_s"] == 3600 and r.json()["hold_s"] == 0  # the defaults
            gauge = Device.generate("1.0.4")
            await net.activate_abp(gauge, "26011401", codec="milesight-em500-swl")
            sent = 0
            for _ in range(FLAPS):  # above the line, then below it: raised, resolved … 29 times
                for level_cm in (105, 95):
                    net.send(gauge.uplink(85, _em500_swl(level_cm)))
                    sent += 1
                    readings = await net.wait_readings(gauge.dev_eui, sent, timeout=30)
                    assert len(readings) == sent
                    await sink._queue.join()  # evaluated before the next one (the order is the point)
            await wait_until(lambda: sink._queue.empty(), timeout=30)
            listed = (await _api_alerts(h))[0]
        finally:
            for gw in net.gateways:
                await gw.stop()
            await h.stop()
        with h.factory() as s:
            rows = list(s.scalars(select(Alert)))
            assert len(rows) == 1, [(a.state, a.raise_count) for a in rows]  # not 29 alerts
            [alert] = rows
            assert (alert.state, alert.raise_count, alert.level, alert.value) == ("resolved", FLAPS, "orange", 0.95)
            assert alert.first_raised_at is not None and alert.first_raised_at < alert.raised_at
            actions = list(s.scalars(select(AlertAudit.action).where(AlertAudit.alert_id == alert.id)
                                     .order_by(AlertAudit.id)))
        assert actions == ["raised", "resolved"] + ["reopened", "resolved"] * (FLAPS - 1)
        assert (listed["raise_count"], listed["id"]) == (FLAPS, alert.id)
        await h.close()

    asyncio.run(run())


async def _api_alerts(h: Harness) -> list[dict[str, object]]:
    r = await h.api.get("/api/v1/alerts", params={"state": "resolved"})
    assert r.status_code == 200, r.text
    return list(r.json())
