"""The production compose stack: valid against the Compose specification, every referenced file present,
dashboards current and querying only what the InfluxDB sink writes. (No docker engine runs here.)"""

from __future__ import annotations

import dataclasses
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
    assert {"lora-city-1", "lora-city-2", "migrate", "postgres", "influxdb", "mosquitto", "redis", "grafana",
            "chirpstack-gateway-bridge"} <= set(services)
    for name, svc in services.items():
        if name not in ("chirpstack-gateway-bridge", "migrate"):  # migrate runs once and exits
            assert "healthcheck" in svc, f"{name} has no health check"
    influx_env = services["influxdb"]["environment"]
    assert influx_env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for key in ("ORG", "BUCKET", "ADMIN_TOKEN"):
        assert f"DOCKER_INFLUXDB_INIT_{key}" in influx_env
    assert set(_compose()["volumes"]) >= {"postgres-data", "influxdb-data", "grafana-data"}


def test_replicas_have_their_own_member_ids_and_one_published_port() -> None:
    services = _compose()["services"]
    replicas = {n: svc for n, svc in services.items() if svc.get("command") == ["lora-city", "serve"]}
    assert len(replicas) >= 2
    members = [svc["environment"].get("LORA_CITY_CLUSTER_MEMBER_ID") for svc in replicas.values()]
    assert all(members) and len(set(members)) == len(members), members
    for svc in replicas.values():  # a cluster needs the shared subscription and the shared state
        env = svc["environment"]
        assert env["LORA_CITY_MQTT_SHARE_GROUP"] and env["LORA_CITY_REDIS_URL"] and env["LORA_CITY_MQTT_URL"]
        assert svc.get("deploy", {}).get("replicas", 1) == 1  # scaled copies would share one member id
    published = [p for svc in services.values() for p in svc.get("ports", []) if str(p).split(":")[0] == "8000"]
    assert published == ["8000:8000"]


def test_broker_admits_nobody_anonymously() -> None:
    conf = (COMPOSE / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    settings = [line.split("#", 1)[0].split() for line in conf if line.split("#", 1)[0].strip()]
    assert ["allow_anonymous", "false"] in settings and ["allow_anonymous", "true"] not in settings
    assert any(words[0] == "plugin" and words[1].endswith("mosquitto_dynamic_security.so") for words in settings)
    services = _compose()["services"]
    assert "broker-config" in " ".join(services["migrate"]["command"])
    assert services["mosquitto"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["lora-city-1"]["environment"]["LORA_CITY_BROKER_DYNSEC"] == "true"
    bridge = services["chirpstack-gateway-bridge"]["environment"]
    assert bridge["INTEGRATION__MQTT__AUTH__GENERIC__USERNAME"] == "gateway"


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


def _written_fields() -> dict[str, set[str]]:
    """measurement (family) -> the fields the InfluxDB sink writes for it with the SHIPPED codecs: every codec's
    vendor examples (codecs/*/examples.json) decoded by the registry, formatted by the sink's own
    ``format_uplink``, the field names read back from the line protocol (radio fields included)."""
    from lora_city.codec.registry import CodecRegistry
    from lora_city.settings import Settings
    from lora_city.sinks.line_protocol import format_uplink
    from tests.unit.alerts.factories import device, uplink

    registry = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    written: dict[str, set[str]] = {}
    for codec in registry.list():
        examples = Settings().codecs_path / codec.manifest.id / "examples.json"
        for example in json.loads(examples.read_text()) if examples.exists() else []:
            if example.get("kind", "uplink") != "uplink":
                continue
            result = registry.decode_uplink(codec.manifest.id, example["f_port"], bytes.fromhex(example["bytes_hex"]))
            event = uplink(device(family=codec.manifest.family.value), 0)
            event = dataclasses.replace(event, measurements={m.key: (m.value, m.unit) for m in result.measurements})
            head, field_text, _ts = format_uplink(event).rsplit(" ", 2)
            written.setdefault(head.split(",", 1)[0], set()).update(
                pair.split("=", 1)[0] for pair in field_text.split(","))
    return written


def test_the_written_fields_are_what_the_codecs_give() -> None:
    """The catalogue the dashboards are checked against is not empty or made up: families and a few fields
    the vendors' documented examples are known to give."""
    written = _written_fields()
    assert {"streetlight", "water", "flood", "other"} <= set(written)
    assert {"volume", "leak", "rssi", "f_cnt"} <= written["water"]
    assert "lamp_on:1" in written["streetlight"] and "water_level" in written["flood"]
    # the NAS UL20x2's documented status uplink reports a lamp failure (DALI status bit), so it is a written field
    assert "lamp_failure" in written["streetlight"] and "colour_temperature" not in written["streetlight"]
    assert "flow_rate" not in written["water"]


_QUERY = re.compile(r'r\._measurement == "([^"]+)" and r\._field (==|=~) ("([^"]+)"|/([^/]+)/)')


@pytest.mark.parametrize("path", sorted((COMPOSE / "grafana" / "dashboards").glob("*.json")), ids=lambda p: p.name)
def test_dashboards_query_what_a_shipped_codec_writes(path: Path) -> None:
    written = _written_fields()
    for panel in json.loads(path.read_text())["panels"]:
        query = panel["targets"][0]["query"]
        m = _QUERY.search(query)
        assert m, query
        measurement, exact, pattern = m.group(1), m.group(4), m.group(5)
        assert measurement in written, f"{panel['title']}: no shipped codec writes measurement {measurement!r}"
        if exact is not None:
            assert exact in written[measurement], f"{panel['title']}: no shipped codec writes {measurement}.{exact}"
        else:
            assert any(re.match(pattern, f) for f in written[measurement]), \
                f"{panel['title']}: no shipped codec writes a field of {measurement} matching /{pattern}/"


def test_usage_dashboard_counts_every_family() -> None:
    from lora_city.codec.contract import Family

    board = json.loads((COMPOSE / "grafana" / "dashboards" / "lc-usage.json").read_text())
    counted = {_QUERY.search(p["targets"][0]["query"]).group(1) for p in board["panels"]}  # type: ignore[union-attr]
    assert counted == {f.value for f in Family}
