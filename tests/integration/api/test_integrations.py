"""The integrations API: a tenant configures its webhooks and its MQTT broker, secrets stay write-only, bad
settings get a clear 422, another tenant sees nothing, the test button and the delivery log tell the tenant what
reached its endpoint, and a change made through the API applies to the next event of a running sink."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format
from sqlalchemy import select

from lora_city.metrics import Metrics
from lora_city.sinks.deliveries import DeliveryLog
from lora_city.sinks.integration_sink import IntegrationSink
from lora_city.sinks.integrations import IntegrationStore
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from lora_city.storage.models import ConfigGeneration
from tests.integration.api.conftest import Api
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.webhook_server import webhook_receiver
from tests.support.services import free_port
from tests.support.tls import TestCA
from tests.unit.sinks.factories import device, uplink

pytestmark = pytest.mark.integration


def generation(api: Api) -> int:
    with api.factory() as s:
        return int(s.scalar(select(ConfigGeneration.value).where(ConfigGeneration.name == "integrations")) or 0)


def test_webhook_crud_with_write_only_secrets(api: Api) -> None:
    tenant = api.tenant("acme")
    before = generation(api)
    created = api.call("POST", "/integrations", expect=201, json={
        "kind": "webhook", "tenant_id": tenant, "name": "ERP", "url": "https://erp.example.com/lora",
        "headers": {"Authorization": "Bearer very-secret-token", "X-Env": "prod"},
        "event_urls": {"status": "https://erp.example.com/battery"}, "events": ["up", "status"],
    }).json()
    assert len(created["secret"]) >= 32
    assert created["header_names"] == ["Authorization", "X-Env"]
    assert created["event_urls"] == {"status": "https://erp.example.com/battery"}
    assert created["events"] == ["up", "status"] and created["encoding"] == "json"
    assert created["topic_template"] is None and created["qos"] is None
    assert generation(api) == before + 1
    got = api.call("GET", f"/integrations/{created['id']}", expect=200)
    assert "very-secret-token" not in got.text and created["secret"] not in got.text
    assert "secret" not in got.json()
    changed = api.call("PATCH", f"/integrations/{created['id']}", expect=200, json={
        "headers": {"X-Other": "1"}, "events": None, "encoding": "protobuf", "name": "ERP 2"}).json()
    assert changed["header_names"] == ["X-Other"] and changed["events"] is None
    assert changed["encoding"] == "protobuf" and changed["secret"] is None
    assert changed["updated_at"] >= created["updated_at"]
    rotated = api.call("POST", f"/integrations/{created['id']}/secret", expect=200).json()
    assert rotated["secret"] and rotated["secret"] != created["secret"]
    assert generation(api) == before + 3
    assert [i["id"] for i in api.call("GET", "/integrations", expect=200).json()] == [created["id"]]
    api.call("DELETE", f"/integrations/{created['id']}", expect=204)
    api.call("GET", f"/integrations/{created['id']}", expect=404)
    assert generation(api) == before + 4


def test_mqtt_integration_settings(sqlite_api: Api) -> None:
    api = sqlite_api
    ca = TestCA()
    client = ca.issue("acme", server=False)
    other = ca.issue("other", server=False)
    created = api.call("POST", "/integrations", expect=201, json={
        "kind": "mqtt", "url": "mqtts://broker.acme.example:8883", "username": "acme", "password": "pa55word",
        "ca_cert": ca.cert, "client_cert": client.cert, "client_key": client.key, "qos": 2,
        "topic_template": "acme/{dev_eui}/{event}",
    })
    out = created.json()
    assert out["secret"] is None and out["has_password"] and out["has_client_key"]
    assert out["ca_cert"] == ca.cert and out["client_cert"] == client.cert
    assert out["topic_template"] == "acme/{dev_eui}/{event}" and out["qos"] == 2
    assert "pa55word" not in created.text and "PRIVATE KEY" not in created.text
    # A new certificate needs its own key; a key that is not the certificate's is refused.
    api.call("PATCH", f"/integrations/{out['id']}", expect=422, json={"client_cert": other.cert})
    api.call("PATCH", f"/integrations/{out['id']}", expect=422,
             json={"client_cert": other.cert, "client_key": client.key})
    api.call("PATCH", f"/integrations/{out['id']}", expect=200,
             json={"client_cert": other.cert, "client_key": other.key})
    cleared = api.call("PATCH", f"/integrations/{out['id']}", expect=200,
                       json={"password": None, "client_cert": None, "client_key": None, "topic_template": None})
    assert not cleared.json()["has_password"] and not cleared.json()["has_client_key"]
    assert cleared.json()["topic_template"] == "application/{application_id}/device/{dev_eui}/event/{event}"


@pytest.mark.parametrize(("body", "code"), [
    ({"kind": "webhook", "url": "https://x.example", "username": "u"}, "invalid_field"),
    ({"kind": "mqtt", "url": "mqtt://b.example", "headers": {"A": "b"}}, "invalid_field"),
    ({"kind": "webhook", "url": "ftp://x.example"}, "invalid_url"),
    ({"kind": "webhook", "url": "http://x.example/hook"}, "https_required"),  # issue 21: HTTPS enforced
    ({"kind": "webhook", "url": "https://x.example", "event_urls": {"up": "http://10.0.0.1/up"}}, "https_required"),
    ({"kind": "webhook", "url": "https://user:pw@x.example"}, "invalid_url"),
    ({"kind": "mqtt", "url": "mqtt://user:pw@b.example"}, "invalid_url"),
    ({"kind": "mqtt", "url": "mqtt://b.example/topic"}, "invalid_url"),
    ({"kind": "mqtt", "url": "https://b.example"}, "invalid_url"),
    # refused by the URL's published pattern (issue 19), with the same code: no blank, no control character
    ({"kind": "webhook", "url": " https://x.example"}, "invalid_url"),
    ({"kind": "webhook", "url": "https://x.example/a b"}, "invalid_url"),
    ({"kind": "webhook", "url": "https://x.example/\thook"}, "invalid_url"),
    ({"kind": "webhook", "url": "https://x.example", "headers": {"X-LoraCity-Signature": "x"}}, "invalid_headers"),
    ({"kind": "webhook", "url": "https://x.example", "headers": {"Bad Name": "x"}}, "invalid_headers"),
    ({"kind": "webhook", "url": "https://x.example", "headers": {"X-A": "a\r\nX-B: b"}}, "invalid_headers"),
    ({"kind": "webhook", "url": "https://x.example", "events": []}, "invalid_events"),
    ({"kind": "mqtt", "url": "mqtt://b.example", "topic_template": "a/{devEui}"}, "invalid_topic_template"),
    ({"kind": "mqtt", "url": "mqtt://b.example", "topic_template": "a/#"}, "invalid_topic_template"),
    ({"kind": "mqtt", "url": "mqtt://b.example", "password": "p"}, "invalid_field"),
    ({"kind": "mqtt", "url": "mqtts://b.example", "ca_cert": "not a certificate"}, "invalid_certificate"),
    ({"kind": "mqtt", "url": "mqtt://b.example", "ca_cert": "CA"}, "invalid_certificate"),
])
def test_bad_settings_get_a_clear_422(sqlite_api: Api, body: dict[str, Any], code: str) -> None:
    r = sqlite_api.call("POST", "/integrations", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code


@pytest.mark.parametrize("body", [
    {"kind": "webhook", "url": "https://x.example", "events": ["up", "uplink"]},
    {"kind": "mqtt", "url": "mqtt://b.example", "qos": 3},
    {"kind": "smtp", "url": "https://x.example"},
    {"kind": "mqtt", "url": "mqtt://b.example", "qos": "1"},
    {"kind": "webhook", "url": "https://x.example", "event_urls": {"up": "mqtt://x"}},  # the pattern: http(s)
    {"kind": "webhook", "url": "https://x.example", "name": None},  # null is no name (the schema says so)
])
def test_schema_refusals(sqlite_api: Api, body: dict[str, Any]) -> None:
    assert sqlite_api.call("POST", "/integrations", json=body).status_code == 422


def test_certificates_need_mqtts(sqlite_api: Api) -> None:
    ca = TestCA()
    r = sqlite_api.call("POST", "/integrations", json={"kind": "mqtt", "url": "mqtt://b.example",
                                                       "ca_cert": ca.cert})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_certificate"


def test_another_tenant_sees_nothing(sqlite_api: Api) -> None:
    api = sqlite_api
    a, b = api.tenant("tenant-a"), api.tenant("tenant-b")
    admin_a, admin_b = api.key("tenant_admin", a), api.key("tenant_admin", b)
    viewer_a = api.key("tenant_viewer", a)
    hook = api.call("POST", "/integrations", admin_a, expect=201,
                    json={"kind": "webhook", "url": "https://a.example/hook"}).json()
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/test"),
                         ("POST", "/secret")]:
        kw = {"json": {"name": "x"}} if method == "PATCH" else {}
        api.call(method, f"/integrations/{hook['id']}{path}", admin_b, expect=404, **kw)
    assert api.call("GET", "/integrations", admin_b, expect=200).json() == []
    api.call("POST", "/integrations", admin_b, expect=404,
             json={"kind": "webhook", "url": "https://b.example", "tenant_id": a})
    assert [i["id"] for i in api.call("GET", "/integrations", viewer_a, expect=200).json()] == [hook["id"]]
    api.call("POST", "/integrations", viewer_a, expect=403, json={"kind": "webhook", "url": "https://a.example"})
    api.call("POST", f"/integrations/{hook['id']}/test", viewer_a, expect=403)


def test_test_button_and_delivery_log(sqlite_api: Api) -> None:
    api = sqlite_api
    with webhook_receiver([200, 503]) as receiver:
        hook = api.call("POST", "/integrations", expect=201,
                        json={"kind": "webhook", "url": receiver.url, "headers": {"X-Key": "k1"}}).json()
        ok = api.call("POST", f"/integrations/{hook['id']}/test", expect=200).json()
        failed = api.call("POST", f"/integrations/{hook['id']}/test", expect=200).json()
    assert ok["ok"] is True and ok["status"] == 200 and ok["error"] is None
    assert failed["ok"] is False and failed["status"] == 503 and "HTTP 503" in failed["error"]
    request = receiver.requests[0]
    assert request.path == "/hook?event=log" and request.headers["X-Key"] == "k1"
    assert verify_signature(hook["secret"].encode(), request.headers[TIMESTAMP_HEADER], request.body,
                            request.headers[SIGNATURE_HEADER], now=time.time())
    event = json_format.Parse(request.body, pb.LogEvent())  # a valid ChirpStack log event
    assert event.level == pb.LogLevel.INFO and event.device_info.dev_eui == "0000000000000000"
    log = api.call("GET", f"/integrations/{hook['id']}/deliveries", expect=200).json()
    assert [(d["event"], d["ok"], d["status"]) for d in log] == [("test", False, 503), ("test", True, 200)]
    got = api.call("GET", f"/integrations/{hook['id']}", expect=200).json()
    assert got["last_delivery_at"] is not None and got["last_error"] == failed["error"]
    # An MQTT broker nobody runs: the test answers why, within the timeout.
    mqtt = api.call("POST", "/integrations", expect=201,
                    json={"kind": "mqtt", "url": f"mqtt://127.0.0.1:{free_port()}"}).json()
    result = api.call("POST", f"/integrations/{mqtt['id']}/test", expect=200).json()
    assert result["ok"] is False and result["error"]
    api.call("GET", f"/integrations/{hook['id']}/deliveries?limit=0", expect=422)


def test_a_change_through_the_api_applies_to_the_next_event(sqlite_api: Api) -> None:
    """The sink runs on the same database and hears nothing from the API but the committed change."""
    api = sqlite_api
    tenant = api.tenant("tenant-a")
    dev = device(tenant_id=tenant)
    with webhook_receiver() as first, webhook_receiver() as second:

        async def run() -> None:
            sink = IntegrationSink(IntegrationStore(api.factory, api.vault), Outbox(api.factory), Metrics(),
                                   DeliveryLog(api.factory))
            await sink.start()
            hook = await asyncio.to_thread(lambda: api.call("POST", "/integrations", expect=201, json={
                "kind": "webhook", "url": first.url, "tenant_id": tenant}).json())
            sink.submit(uplink(1, dev))
            await asyncio.to_thread(wait_for, lambda: len(first.requests) == 1, 3.0)
            await asyncio.to_thread(lambda: api.call("PATCH", f"/integrations/{hook['id']}", expect=200,
                                                     json={"url": second.url}))
            sink.submit(uplink(2, dev))
            await asyncio.to_thread(wait_for, lambda: len(second.requests) == 1, 3.0)
            await asyncio.to_thread(lambda: api.call("DELETE", f"/integrations/{hook['id']}", expect=204))
            sink.submit(uplink(3, dev))
            await sink.durable()
            await asyncio.sleep(0.3)
            await sink.stop()

        asyncio.run(run())
    assert [json.loads(r.body)["fCnt"] for r in first.requests] == [1]
    assert [json.loads(r.body)["fCnt"] for r in second.requests] == [2]


def test_broker_credentials_api(sqlite_api: Api) -> None:
    """Without the broker's dynamic-security plugin (the default) no account is issued; with it, a tenant gets
    a username, a password shown once and its topic filters; another tenant's account is invisible."""
    from fastapi.testclient import TestClient

    from lora_city.api import create_app
    from lora_city.settings import Settings
    from lora_city.storage.models import BrokerAccount
    from tests.integration.api.conftest import ADMIN, SECRET

    api = sqlite_api
    tenant = api.tenant("acme")
    other = api.tenant("bobco")
    app_id = api.call("POST", "/applications", expect=201, json={"name": "a", "tenant_id": tenant}).json()["id"]
    r = api.call("POST", "/broker/credentials", json={"tenant_id": tenant})
    assert r.status_code == 409 and r.json()["error"]["code"] == "broker_accounts_disabled"
    settings = Settings(database_url="sqlite://", admin_token=ADMIN, secret_key=SECRET, broker_dynsec=True,
                        broker_public_url="mqtts://mqtt.ville.example:8883")
    with TestClient(create_app(settings, api.factory, api.vault), raise_server_exceptions=False) as client:
        key_a = api.key("tenant_admin", tenant)
        key_b = api.key("tenant_admin", other)
        issued = client.post("/api/v1/broker/credentials", json={},
                             headers={"Authorization": f"Bearer {key_a}"})
        assert issued.status_code == 200, issued.text
        body = issued.json()
        assert body["username"] == "tenant-acme" and len(body["password"]) >= 24
        assert body["topics"] == [f"application/{app_id}/#"] and body["url"] == "mqtts://mqtt.ville.example:8883"
        assert body["applied"] is False  # no broker sync in this process (the server's composition root has one)
        read = client.get("/api/v1/broker/credentials", headers={"Authorization": f"Bearer {key_a}"})
        assert read.status_code == 200 and "password" not in read.json()
        assert client.get("/api/v1/broker/credentials", params={"tenant_id": tenant},
                          headers={"Authorization": f"Bearer {key_b}"}).status_code == 404
        assert client.get("/api/v1/broker/credentials",
                          headers={"Authorization": f"Bearer {key_b}"}).status_code == 404
        with api.factory() as s:
            stored = s.get(BrokerAccount, tenant)
        assert stored is not None and body["password"] not in stored.password_hash
        assert client.delete("/api/v1/broker/credentials",
                             headers={"Authorization": f"Bearer {key_a}"}).status_code == 204
        assert client.get("/api/v1/broker/credentials",
                          headers={"Authorization": f"Bearer {key_a}"}).status_code == 404
