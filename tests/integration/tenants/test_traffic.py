"""Quotas on real traffic: simulated OTAA devices send real frames through a virtual gateway and real mosquitto
into the NetworkServer, whose quota policy is tenants' PlanQuotaPolicy and whose sinks include billing's meter
(wired as the composition root wires them). A lessee's excess uplinks are dropped; the city's flood sensors,
under the same tiny plan, never are; the meter counts what went through."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import billing.api
import tenants.api
from billing.meter import UsageMeter
from billing.models import UsageDaily
from lora_city.api.app import create_app
from lora_city.gateway.mqtt_backend import MqttGatewayBackend
from lora_city.metrics import Metrics
from lora_city.network.server import NetworkServer
from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import LogEvent, UplinkEvent
from lora_city.storage import migrate
from tenants.quota import PlanQuotaPolicy
from tests.integration.network.harness import Harness, RecordingSink, codecs, join, wait_until
from tests.support.schema import all_migration_locations
from tests.support.services import Service

pytestmark = pytest.mark.integration


class LeasedHarness(Harness):
    """The flow-test harness with the leasing plugins wired in."""

    async def start(self) -> None:
        self.metrics = Metrics()
        self.recording = RecordingSink()
        self.quota = PlanQuotaPolicy(self.metrics, self.recording.submit)
        self.meter = UsageMeter(self.factory, self.metrics, flush_interval_s=3600)  # flushed by the test
        self.server = NetworkServer(
            self.settings, self.metrics, self.factory, self.vault, codecs=codecs(),
            sinks=[self.recording, self.meter], backends=[MqttGatewayBackend(self.settings, self.metrics)],
            quota=self.quota, flush_interval_s=0.2,
        )
        await self.server.start()
        app = create_app(self.settings, self.factory, self.vault, codecs=codecs(),
                         notifier=self.server.downlink_notifier(), metrics=self.metrics)
        tenants.api.install(app, quota=self.quota)
        billing.api.install(app)
        self.api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                                     headers={"Authorization": "Bearer test-admin-token"})

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.api.post(f"/api/v1{path}", json=body)
        assert r.status_code in (200, 201), r.text
        return dict(r.json())


def test_excess_uplinks_of_a_lessee_are_dropped_and_flood_sensors_never(database_url: str,
                                                                         mosquitto: Service) -> None:
    migrate.upgrade(database_url, all_migration_locations())

    async def run() -> None:
        h = LeasedHarness(database_url, mosquitto.url)
        await h.start()
        try:
            plan = await h.post("/plans", {"name": "tiny", "uplinks_per_device_day": 3, "downlinks_per_device_day": 1,
                                           "over_quota_action": "drop"})
            acme = await h.post("/tenants", {"name": "Acme", "slug": "acme"})
            flood = await h.post("/tenants", {"name": "Flood", "slug": "flood", "kind": "city_service",
                                              "is_critical": True})
            for tenant in (acme, flood):  # the same tiny plan for both: only criticality differs
                r = await h.api.put(f"/api/v1/tenants/{tenant['id']}/plan", json={"plan_id": plan["id"]})
                assert r.status_code == 200, r.text
            gw = await h.gateway()
            devices = {"acme": VirtualDevice.generate("milesight-em300-di"),
                       "flood": VirtualDevice.generate("dragino-ldds75")}
            for slug, dev in devices.items():
                tenant_id = acme["id"] if slug == "acme" else flood["id"]
                await h.post("/devices", {"dev_eui": dev.dev_eui, "join_eui": dev.join_eui, "tenant_id": tenant_id,
                                          "app_key": dev.app_key.hex(), "name": slug, "codec": dev.codec})
                await join(h, dev, [gw])
            while not gw.downlinks.empty():  # the join-accepts
                gw.downlinks.get_nowait()
            for data in ("0a", "0b"):  # two application downlinks for acme's device; its budget is one a day
                await h.post(f"/devices/{devices['acme'].dev_eui}/queue", {"f_port": 10, "data_hex": data})
            for _ in range(5):
                for dev in devices.values():
                    await gw.send_uplink(dev.uplink(), snr=7.0)
                await asyncio.sleep(0.15)  # past the dedup window: one uplink each, in order

            def ups(dev: VirtualDevice) -> list[UplinkEvent]:
                return [e for e in h.recording.of(UplinkEvent) if e.device.dev_eui == dev.dev_eui]

            await wait_until(lambda: len(ups(devices["flood"])) == 5 and h.drops("quota") == 2)
            assert len(ups(devices["acme"])) == 3
            assert [e.f_cnt for e in ups(devices["acme"])] == [0, 1, 2]
            quota_logs = [e for e in h.recording.of(LogEvent) if e.code == "QUOTA"]
            # the policy's threshold events (80 %, 100 %) and one log event per dropped uplink (the tenant sees it
            # where its "up" event would have been)
            quota_events = [(e.context["kind"], e.level, e.context["percent"]) for e in quota_logs
                            if "kind" in e.context]
            assert [e.context["action"] for e in quota_logs if "kind" not in e.context] == ["drop", "drop"]
            assert sorted(quota_events) == [("downlinks", "ERROR", "100"), ("downlinks", "WARNING", "80"),
                                            ("uplinks", "ERROR", "100"), ("uplinks", "WARNING", "80")]
            # only the first application downlink went out; the second waits in the queue for tomorrow's budget
            app_data = []
            while not gw.downlinks.empty():
                got = devices["acme"].receive(gw.downlinks.get_nowait().phy_payload)
                if got is not None and got.f_port == 10:
                    app_data.append(got.payload)
            assert app_data == [b"\x0a"]
            queued = await h.api.get(f"/api/v1/devices/{devices['acme'].dev_eui}/queue")
            assert [i["data_hex"] for i in queued.json()] == ["0b"]
            r = await h.api.get("/api/v1/quota", params={"tenant_id": acme["id"]})
            assert {g["kind"]: g["used"] for g in r.json()["totals"]}["uplinks"] == 3
            h.meter.flush()
            with h.factory() as s:
                rows = {u.dev_eui: u.uplinks for u in s.scalars(select(UsageDaily))}
            assert rows == {devices["acme"].dev_eui: 3, devices["flood"].dev_eui: 5}
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())
