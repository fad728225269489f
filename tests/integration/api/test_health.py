"""/healthz, /readyz and /metrics, outside the versioned API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lora_city.api import create_app
from lora_city.metrics import Metrics
from lora_city.settings import Settings
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade


@pytest.fixture()
def client_and_metrics(database_url: str) -> Iterator[tuple[TestClient, Metrics]]:
    upgrade(database_url)
    engine = make_engine(database_url)
    metrics = Metrics()
    app = create_app(Settings(database_url=database_url), make_session_factory(engine), KeyVault("k"), metrics=metrics)
    state = {"mqtt": True}
    app.state.readiness.append(lambda: ("mqtt", state["mqtt"]))
    with TestClient(app) as client:
        client.app_state = state  # type: ignore[attr-defined]
        yield client, metrics
    engine.dispose()


def test_health_ready_and_metrics(client_and_metrics: tuple[TestClient, Metrics]) -> None:
    client, metrics = client_and_metrics
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "mqtt": True}
    client.app_state["mqtt"] = False  # type: ignore[attr-defined]
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json()["checks"]["mqtt"] is False
    metrics.uplink_drops.labels(reason="mic").inc(3)
    text = client.get("/metrics").text
    assert 'lora_city_uplink_drops_total{reason="mic"} 3.0' in text
    assert "lora_city_gateways_online" in text
