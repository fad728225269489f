"""Property-based run of schemathesis over the OpenAPI document of the whole API as ``serve`` mounts it (core,
tenants, billing), in-process (ASGI): no input gives a 500, every response (status code, content type, headers,
body) conforms to the document, every schema-valid request is accepted and every schema-violating one refused.

A few operations have rules a JSON Schema cannot state (a QR code's content, a CSV file's rows, "exactly one of
two fields", a month that must be over); for those alone a documented 422 for schema-valid input is allowed,
each with its reason below. Bounded examples per operation keep the run around a minute. The same document is
also fuzzed against a real ``serve`` process (test_schemathesis_serve.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from billing import api as billing_api
from lora_city.api import create_app
from lora_city.services.auth_throttle import POLICIES, AuthThrottle, Policy
from lora_city.services.common import DB_INT_MAX
from lora_city.settings import Settings
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from tenants import api as tenants_api
from tests.integration.api.conftest import ADMIN, SECRET
from tests.support.schema import all_migration_locations

MAX_EXAMPLES = 15
# Integer inputs stored in BIGINT columns (migration 0019_f_cnt_bigint): LoRaWAN's 32-bit frame counters.
BIGINT_INPUTS = {"f_cnt_up": 0xFFFFFFFF, "n_f_cnt_down": 0xFFFFFFFF, "a_f_cnt_down": 0xFFFFFFFF}

# Operations whose schema-valid input may still get a documented 422, and why (rules beyond a JSON Schema).
BEYOND_THE_SCHEMA = {
    "POST /api/v1/devices/import": "the CSV file's header and rows are checked row by row (details per line)",
    "POST /api/v1/onboarding/scan": "the QR text must be a TR005 or draft LoRaWAN QR code",
    "POST /api/v1/onboarding/bind": "exactly one of asset_id and asset",
    "POST /api/v1/onboarding/swap": "the new device must differ from the old one and not be bound elsewhere",
    "POST /api/v1/alert-rules": "a rule's kind decides which of its fields are needed (flag needs a measurement)",
    "PATCH /api/v1/alert-rules/{rule_id}": "as for POST: the kind decides which fields are needed",
    "POST /api/v1/billing/runs": "the month must be over (Paris time)",
    "POST /api/v1/devices/{dev_eui}/queue": "exactly one of data_hex and object; an object needs the device's codec",
    "POST /api/v1/multicast-groups/{group_id}/queue": "exactly one of data_hex and object",
    "POST /api/v1/devices/{dev_eui}/activate": "1.0.x needs nwk_s_key, 1.1 the three network keys",
    "POST /api/v1/multicast-groups": "region-valid frequency and data rate (RP002); an installed codec; the "
                                     "application must be the group's tenant's",
    "PATCH /api/v1/multicast-groups/{group_id}": "as for POST",
    "POST /api/v1/devices": "an installed codec; application and profile must be the device's tenant's",
    "PATCH /api/v1/devices/{dev_eui}": "as for POST",
    "POST /api/v1/device-profiles": "an installed codec",
    "PATCH /api/v1/device-profiles/{profile_id}": "an installed codec",
    "PUT /api/v1/onboarding/assets/{asset_id}/photo": "the file must be a JPEG, PNG or WebP image",
    "PUT /api/v1/billing/issuer": "the IBAN's ISO 13616 mod-97 check digits must be right",
    "POST /api/v1/lighting/dim": "exactly one of group_id and dev_eui",
    "POST /api/v1/lighting/schedules/{schedule_id}/assignments": "exactly one of group_id and dev_eui",
    "POST /api/v1/lighting/schedules/{schedule_id}/exceptions": "end_date on or after start_date and at most 366 "
                                                                "days after it (two fields compared)",
    "POST /api/v1/integrations": "the kind decides the URL's scheme (http(s) or mqtt(s), no path for MQTT) and "
                                 "which settings apply; https except to the loopback; a port from 1 to 65535; "
                                 "header names and topic template fields; PEM certificates that load and match",
    "PATCH /api/v1/integrations/{integration_id}": "as for POST, against the stored integration's kind",
    "POST /api/v1/fuota/campaigns": "the devices must exist, be the campaign's tenant's and run the TS004/TS005 "
                                    "packages",
}
CURSOR = "a cursor is opaque: only one the API gave out is valid"


def beyond_the_schema(operation: dict[str, Any]) -> str | None:
    """Why a schema-valid request to this operation may still get a documented 422, or None."""
    if any(str(p.get("name")).lower() in ("cursor", "last-event-id") for p in operation.get("parameters", ())):
        return CURSOR
    name = f"{operation['method'].upper()} {operation['path']}"
    return BEYOND_THE_SCHEMA.get(name)


# schemathesis sends wrong keys on purpose (its ignored_auth check), all from one client address: under the
# product's policy that address is locked after 50 failures and every later request is a 429 too_many_attempts,
# which every check accepts, so most of the run would test nothing. Here wrong keys are still refused (401) but
# never throttled; the throttle has its own tests (test_rate_limits.py).
NEVER_THROTTLED = Policy(delay_after=2**31, lock_after=2**31, max_delay_s=0.0, lock_s=0.0, forget_s=1.0)


def full_app(url: str, tmp: Path) -> Any:
    engine = make_engine(url)
    settings_ = Settings(database_url=url, admin_token=ADMIN, secret_key=SECRET)
    factory = make_session_factory(engine)
    app = create_app(settings_, factory, KeyVault(SECRET),
                     auth_throttle=AuthThrottle(factory, policies=dict.fromkeys(POLICIES, NEVER_THROTTLED)))
    tenants_api.install(app, export_dir=tmp / "exports")
    billing_api.install(app)
    return app, engine


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = Path(tmp_path_factory.mktemp("fuzz"))
    url = f"sqlite:///{tmp / 'fuzz.db'}"
    upgrade(url, all_migration_locations())
    app, engine = full_app(url, tmp)
    yield app
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzed_app: Any) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzzed_app)
    # FastAPI ignores query parameters it does not know (as most HTTP APIs do); do not count that as a defect.
    loaded.config.generation.update(allow_extra_parameters=False)
    return loaded


@pytest.fixture(scope="module")
def existing_ids(fuzzed_app: Any) -> dict[str, str]:
    """A tenant, a lighting schedule and a webhook that exist, for the operations that change one."""
    client = TestClient(fuzzed_app, headers={"Authorization": f"Bearer {ADMIN}"})
    tenant = client.post("/api/v1/tenants", json={"name": "Owned", "slug": "fuzz-owned"})
    assert tenant.status_code == 201, tenant.text
    tenant_id = tenant.json()["id"]
    made = {
        "schedule_id": client.post("/api/v1/lighting/schedules", json={
            "name": "Nights", "tenant_id": tenant_id, "steps": [{"at": "dusk", "level": 100},
                                                                {"at": "23:30", "level": 40}]}),
        "integration_id": client.post("/api/v1/integrations", json={
            "kind": "webhook", "url": "https://hooks.example/lora", "tenant_id": tenant_id}),
    }
    for response in made.values():
        assert response.status_code == 201, response.text
    return {"tenant_id": tenant_id, **{name: r.json()["id"] for name, r in made.items()}}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_500_and_the_api_keeps_its_contract(case: schemathesis.Case) -> None:
    op = {**case.operation.definition.raw, "method": case.operation.method, "path": case.operation.path}
    excluded = [positive_data_acceptance] if beyond_the_schema(op) else []
    response = case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, excluded_checks=excluded)
    assert "too_many_attempts" not in response.text  # a throttled run would check nothing (NEVER_THROTTLED)


def _integers(node: Any, where: str, spec: dict[str, Any], seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                yield from _integers(spec["components"]["schemas"][name], f"{where}>{name}", spec, seen | {name})
            return
        if node.get("type") == "integer" and "enum" not in node and "const" not in node:  # a list bounds itself
            yield where, node
        for key, value in node.items():
            if key in ("properties", "items", "anyOf", "oneOf", "allOf", "additionalProperties"):
                if key == "properties":
                    for prop, sub in value.items():
                        yield from _integers(sub, f"{where}.{prop}", spec, seen)
                else:
                    yield from _integers(value, where, spec, seen)
    elif isinstance(node, list):
        for item in node:
            yield from _integers(item, where, spec, seen)


def test_every_integer_input_has_the_bounds_the_database_can_store(tmp_path: Path) -> None:
    """A huge integer used to reach the database and fail there (SQLite overflow, a 500). Every integer a client
    may send is bounded in the schema, within what an INTEGER column holds on PostgreSQL (4 bytes)."""
    url = f"sqlite:///{tmp_path / 'bounds.db'}"
    app, engine = full_app(url, tmp_path)
    spec = app.openapi()
    engine.dispose()
    problems, seen = [], 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            inputs = [(f"query {p['name']}", p["schema"]) for p in op.get("parameters", [])]
            for media in op.get("requestBody", {}).get("content", {}).values():
                inputs.append(("body", media.get("schema", {})))
            for where, node in inputs:
                for field, integer in _integers(node, where, spec, set()):
                    seen += 1
                    low, high = integer.get("minimum"), integer.get("maximum")
                    limit = BIGINT_INPUTS.get(field.rsplit(".", 1)[-1], DB_INT_MAX)
                    if low is None or high is None or low < -DB_INT_MAX - 1 or high > limit:
                        problems.append(f"{method.upper()} {path} {field}: minimum={low} maximum={high}")
    assert seen > 20  # the walk found the integers (plans, profiles, activation, queue …)
    assert not problems, "\n".join(problems)


# The in-process run above draws its ids at random, so a change to an object that exists is never reached there
# (the run against serve reaches only those its links lead to). These operations are run on real objects: a
# schema-valid PATCH of a tenant or a schedule must be accepted (a published "null allowed" that the service
# refused was such a gap), a preview of a real schedule for any schema-valid night must answer.
ON_EXISTING = [
    "GET /api/v1/tenants/{tenant_id}", "PATCH /api/v1/tenants/{tenant_id}",
    "GET /api/v1/lighting/schedules/{schedule_id}", "PATCH /api/v1/lighting/schedules/{schedule_id}",
    "GET /api/v1/lighting/schedules/{schedule_id}/preview", "POST /api/v1/lighting/schedules/{schedule_id}/exceptions",
    "GET /api/v1/integrations/{integration_id}", "PATCH /api/v1/integrations/{integration_id}",
]
on_existing = schemathesis.pytest.from_fixture("api_schema").include(name=ON_EXISTING)


@on_existing.parametrize()
@settings(max_examples=4 * MAX_EXAMPLES, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_changes_to_existing_objects_keep_the_contract(case: schemathesis.Case, existing_ids: dict[str, str]) -> None:
    positive = case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE
    if positive:  # a negative case keeps what schemathesis drew (its mutation may be the id itself)
        case.path_parameters = {name: existing_ids[name] for name in case.path_parameters or {}}
    op = {**case.operation.definition.raw, "method": case.operation.method, "path": case.operation.path}
    excluded = [positive_data_acceptance] if beyond_the_schema(op) else []
    response = case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, excluded_checks=excluded)
    if positive:  # the object was found, so the route's own rules were reached (401, 404 or 429 would prove nothing)
        assert response.status_code not in (401, 404, 429), response.text
