"""The composition root (lora_city/main.py) as `lora-city serve` builds it: every part mounted and working
together on one app — API, tenants and billing routers, portal, health — and a tenant deletion that exports first."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

import httpx

from lora_city.main import running
from lora_city.settings import Settings


def test_serve_builds_one_app_with_every_part(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'city.db'}", udp_listen="", mqtt_url=None,
                        admin_token="root-token", secret_key="composition-test", export_dir=tmp_path / "exports",
                        journal_dir=tmp_path / "journal")

    async def run() -> None:
        async with running(settings) as rt, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=rt.app), base_url="http://city",
            headers={"Authorization": "Bearer root-token"},
        ) as api:
            assert (await api.get("/readyz")).json()["status"] == "ready"
            assert (await api.get("/portal/login")).status_code == 200
            paths = set((await api.get("/api/v1/openapi.json")).json()["paths"])
            # core, alerts, tenants and billing routes on the one app
            for path in ("/api/v1/devices", "/api/v1/alerts", "/api/v1/plans", "/api/v1/tenants/{tenant_id}/lease"):
                assert path in paths, path
            assert any(p.startswith("/api/v1/invoices") for p in paths)
            tenant = (await api.post("/api/v1/tenants", json={"name": "Parkings", "slug": "parkings"})).json()
            closed = await api.delete(f"/api/v1/tenants/{tenant['id']}/lease")
            assert closed.status_code == 200, closed.text
            assert zipfile.ZipFile(io.BytesIO(closed.content)).namelist()  # the export came first
            assert list((tmp_path / "exports").iterdir())
            assert (await api.get(f"/api/v1/tenants/{tenant['id']}")).status_code == 404
            metrics = (await api.get("/metrics")).text
            assert "lora_city_uplinks_total" in metrics or "lora_city_uplinks" in metrics

    asyncio.run(run())
