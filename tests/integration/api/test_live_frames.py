"""The live frame log's API (server-sent events, WHATWG HTML §9.2): a device's uplinks with per-gateway radio,
MAC commands and the codec's result, its downlinks and events, pushed as they are stored; a reconnection with
``Last-Event-ID`` resumes after the last message, without a gap or a repeat; another tenant's device is a 404.
Served by uvicorn (a real HTTP stream, read with httpx as a client would)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from lora_city.api import create_app
from lora_city.services.live_log import Cursor
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceInfo, GatewayRx, JoinEvent, TxAckEvent, UplinkEvent
from lora_city.sinks.store import write_batch
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Gateway
from tests.integration.api.conftest import ADMIN, SECRET
from tests.support.schema import all_migration_locations
from tests.support.services import free_port, wait_for_port

DEV = "70b3d57ed0000f01"
GW = "aa555a0000000001"
T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture()
def served(database_url: str) -> Iterator[tuple[str, Any]]:
    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    app = create_app(Settings(database_url=database_url, admin_token=ADMIN, secret_key=SECRET), factory,
                     KeyVault(SECRET))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}", factory
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def _uplink(tenant: str, f_cnt: int, when: datetime) -> UplinkEvent:
    info = DeviceInfo(dev_eui=DEV, tenant_id=tenant, codec_id="test")
    return UplinkEvent(
        uplink_id=f"u-{f_cnt}", time=when, device=info, dev_addr="01020304", f_cnt=f_cnt, f_port=2,
        confirmed=False, adr=True, payload=b"\x01\x02", data={"level": 1.5, "alarm": False},
        measurements={"water_level": (1.5, "m"), "flood": (False, None)}, codec_errors=[], codec_warnings=[],
        rx=[GatewayRx(GW, -97.0, 6.5), GatewayRx("aa555a0000000002", -112.0, -4.0)], frequency=868_300_000,
        spreading_factor=9, bandwidth=125_000, dr=3, airtime_ms=185.3, phy_size=15, copies=2,
        mac_commands=({"cid": 6, "name": "DevStatusAns", "battery": 200, "margin": 9},))


def _events(base: str, cursor: str | None, wanted: int) -> list[tuple[str, dict[str, Any]]]:
    """Read ``wanted`` messages (id, JSON data) from the stream, then hang up."""
    headers = {"Authorization": f"Bearer {ADMIN}", **({"Last-Event-ID": cursor} if cursor else {})}
    got: list[tuple[str, dict[str, Any]]] = []
    with httpx.stream("GET", f"{base}/api/v1/devices/{DEV}/frames", headers=headers, timeout=20) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        msg_id, data = "", ""
        for line in r.iter_lines():
            if line.startswith("id: "):
                msg_id = line[4:]
            elif line.startswith("data: "):
                data += line[6:]
            elif line == "" and data:
                got.append((msg_id, json.loads(data)))
                data = ""
                if len(got) == wanted:
                    break
    return got


def test_device_frames_stream_and_resume(served: tuple[str, Any]) -> None:
    base, factory = served
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as api:
        tenant = api.post("/api/v1/devices", json={"dev_eui": DEV, "name": "gauge"}).json()["tenant_id"]
        with transaction(factory) as s:
            s.add(Gateway(gateway_id=GW, tenant_id=tenant, name="Mairie"))
        info = DeviceInfo(dev_eui=DEV, tenant_id=tenant)
        with transaction(factory) as s:
            write_batch(s, [
                JoinEvent(T0, info, "01020304", [GatewayRx(GW, -95.0, 7.0)]),
                _uplink(tenant, 0, T0 + timedelta(seconds=10)),
                TxAckEvent(T0 + timedelta(seconds=11), info, 42, GW, "OK", 0, None, 61.7, 14,
                           frame={"kind": "class_a", "ack": False, "f_port": None, "frequency": 868_300_000,
                                  "spreading_factor": 9, "bandwidth": 125_000,
                                  "mac_commands": [{"cid": 6, "name": "DevStatusReq"}]}),
            ])
        first = _events(base, None, 3)
        kinds = [e["kind"] for _, e in first]
        assert kinds == ["join", "up", "down"]  # oldest first
        up = first[1][1]
        assert (up["f_cnt"], up["dr"], up["frequency"], up["spreading_factor"]) == (0, 3, 868_300_000, 9)
        assert [(g["gateway_id"], g["name"], g["rssi"], g["margin"]) for g in up["gateways"]] == [
            (GW, "Mairie", -97.0, 19.0), ("aa555a0000000002", None, -112.0, 8.5)]  # SNR - (-12.5 dB at SF9)
        assert up["mac_commands"] == [{"cid": 6, "name": "DevStatusAns", "battery": 200, "margin": 9}]
        assert up["decoded"] == {"level": 1.5, "alarm": False} and up["payload_hex"] == "0102"
        assert up["measurements"]["flood"] == {"value": False, "unit": None}
        down = first[2][1]
        assert down["details"]["downlink"] == "class_a" and down["mac_commands"][0]["name"] == "DevStatusReq"
        assert down["gateways"][0]["name"] == "Mairie" and down["frequency"] == 868_300_000
        # a reconnection resumes after the last message: only what came since
        last_id = first[-1][0]
        assert Cursor.parse(last_id) is not None
        with transaction(factory) as s:
            write_batch(s, [_uplink(tenant, 1, T0 + timedelta(seconds=70))])
        resumed = _events(base, last_id, 1)
        assert [(e["kind"], e["f_cnt"]) for _, e in resumed] == [("up", 1)]
        # another tenant's key: not found, not a stream
        other = api.post("/api/v1/tenants", json={"name": "Other", "slug": "other"}).json()["id"]
        key = api.post("/api/v1/api-keys", json={"name": "k", "role": "tenant_admin", "tenant_id": other}).json()["key"]
        r = httpx.get(f"{base}/api/v1/devices/{DEV}/frames", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 404
        bad = httpx.get(f"{base}/api/v1/devices/{DEV}/frames",
                        headers={"Authorization": f"Bearer {ADMIN}", "Last-Event-ID": "nonsense"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"
