"""The production compose stack: valid against the Compose specification, every referenced file present,
dashboards current and querying only what the InfluxDB sink writes. (No docker engine runs here.)"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "compose"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True,
    )


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_file_validates_against_the_compose_spec() -> None:
    result = _validate(COMPOSE / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = _compose()
    broken["services"]["postgres"]["healthcheck"]["retries"] = "many"  # must be a number
    broken["services"]["redis"]["restart_policy_typo"] = True  # unknown key
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    assert _validate(path).returncode != 0


def test_stack_has_the_services_a_city_needs() -> None:
    services = _compose()["services"]
    assert {"lora-city", "postgres", "influxdb", "mosquitto", "redis", "grafana", "chirpstack-gateway-bridge"} <= set(services)
    for name, svc in services.items():
        if name != "chirpstack-gateway-bridge":
            assert "healthcheck" in svc, f"{name} has no health check"
    influx_env = services["influxdb"]["environment"]
    assert influx_env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for key in ("ORG", "BUCKET", "ADMIN_TOKEN"):
        assert f"DOCKER_INFLUXDB_INIT_{key}" in influx_env
    assert set(_compose()["volumes"]) >= {"postgres-data", "influxdb-data", "grafana-data"}


def test_every_referenced_file_exists() -> None:
    compose = _compose()
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (COMPOSE / source).exists(), f"{name}: {source} missing"
        build = svc.get("build")
        if build:
            context = (COMPOSE / build["context"]).resolve()
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
            for line in dockerfile.read_text().splitlines():
                if line.startswith("COPY"):
                    for src in line.split()[1:-1]:
                        assert (context / src).exists(), f"Dockerfile COPY {src}: missing"
    # every variable the stack needs is documented in the example env file
    needed = set(re.findall(r"\$\{([A-Z_]+)", (COMPOSE / "docker-compose.yml").read_text()))
    documented = {line.split("=", 1)[0] for line in (COMPOSE / ".env.example").read_text().splitlines()
                  if "=" in line and not line.startswith("#")}
    assert needed - {"INFLUXDB_RETENTION"} <= documented


def _dashboards_module() -> Any:
    spec = importlib.util.spec_from_file_location("lc_make_dashboards", COMPOSE / "grafana" / "make_dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboards_are_current_valid_json() -> None:
    rendered = _dashboards_module().render()
    on_disk = {p.name: p.read_text() for p in (COMPOSE / "grafana" / "dashboards").glob("*.json")}
    assert rendered == on_disk, "run python3 compose/grafana/make_dashboards.py"
    for text in on_disk.values():
        board = json.loads(text)
        assert board["panels"] and all(p["targets"][0]["query"] for p in board["panels"])


def _sink_schema() -> tuple[set[str], set[str]]:
    """(measurements, fields) the InfluxDB sink really writes: format one uplink per family carrying every
    catalogue measurement with the sink's own formatter and read the names back from the line protocol."""
    from lora_city.codec.contract import Family
    from lora_city.codec.measurements import CATALOGUE, Kind
    from lora_city.sinks.line_protocol import format_uplink
    from tests.unit.alerts.factories import device, uplink

    values = {name: (True if q.kind is Kind.FLAG else 1.5) for name, q in CATALOGUE.items()}
    measurements: set[str] = set()
    fields: set[str] = set()
    for family in Family:
        line = format_uplink(uplink(device(family=family.value), 0, **values))
        head, field_text, _ts = line.rsplit(" ", 2)
        measurements.add(head.split(",", 1)[0])
        fields |= {pair.split("=", 1)[0] for pair in field_text.split(",")}
    return measurements, fields


@pytest.mark.parametrize("path", sorted((COMPOSE / "grafana" / "dashboards").glob("*.json")), ids=lambda p: p.name)
def test_dashboards_query_what_the_sink_writes(path: Path) -> None:
    measurements, fields = _sink_schema()
    for panel in json.loads(path.read_text())["panels"]:
        query = panel["targets"][0]["query"]
        m = re.search(r'r\._measurement == "([^"]+)" and r\._field == "([^"]+)"', query)
        assert m, query
        assert m.group(1) in measurements, f"{panel['title']}: no measurement {m.group(1)!r}"
        assert m.group(2) in fields, f"{panel['title']}: the sink writes no field {m.group(2)!r}"
