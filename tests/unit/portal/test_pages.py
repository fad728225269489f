"""Every page renders for the roles that may open it, and a lessee never reaches another tenant's objects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from lora_city.alerts.engine import AlertChange, ChangeKind
from lora_city.alerts.rules import Rule, RuleKind, Severity
from lora_city.alerts.service import AlertService
from lora_city.lorawan.tr005 import QRCode
from lora_city.services.principal import Role
from tests.support import services as svc
from tests.unit.portal.build import PASSWORD, Portal, build_portal, seed_device, seed_uplinks

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OWN, FOREIGN = "70b3d57ed0000001", "70b3d57ed0000002"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    """The same pages on both supported databases (the overview, traffic and export queries differ in types)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'portal.db'}"
    else:
        url = svc.create_pg_database(request.getfixturevalue("postgres_server"))
    p = build_portal(url)
    acme, other = p.tenant("acme"), p.tenant("other")
    p.user("ann@acme.test", Role.TENANT_ADMIN, "acme")
    p.user("vic@acme.test", Role.TENANT_VIEWER, "acme")
    p.user("ops@city.test", Role.ADMIN, "city")
    p.user("tom@city.test", Role.TECHNICIAN, "city")
    seed_device(p, acme, OWN, "Acme gauge")
    seed_device(p, other, FOREIGN, "Other gauge")
    now = p.clock()
    seed_uplinks(p, acme, OWN, [(now - timedelta(minutes=10 * i), 100.0 + i) for i in range(12)])
    seed_uplinks(p, other, FOREIGN, [(now - timedelta(minutes=5), 7.0)])
    rule = Rule(id="r-silent", name="silence", kind=RuleKind.ABSENCE, tenant_id=acme)
    AlertService(p.factory, p.clock).record([
        AlertChange(ChangeKind.RAISED, f"r-silent:{eui}", rule, eui, tenant, Severity.WARNING, None, None,
                    f"{eui} silent", now)
        for eui, tenant in ((OWN, acme), (FOREIGN, other))])
    return p


def logged_in(portal: Portal, email: str) -> TestClient:
    client = TestClient(portal.app, base_url="https://testserver", follow_redirects=False)
    token = _CSRF.search(client.get("/portal/login").text)[1]  # type: ignore[index]
    r = client.post("/portal/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text
    return client


@pytest.fixture(scope="module")
def ann(portal: Portal) -> Iterator[TestClient]:
    with logged_in(portal, "ann@acme.test") as c:
        yield c


def test_lessee_pages_render_and_show_only_its_tenant(ann: TestClient) -> None:
    for path in ("/portal/dashboard", "/portal/devices", "/portal/alerts", "/portal/invoices", "/portal/usage",
                 "/portal/keys", "/portal/integrations", f"/portal/devices/{OWN}", "/portal/devices/new",
                 f"/portal/devices/{OWN}/edit"):
        r = ann.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert FOREIGN not in r.text and "Other gauge" not in r.text
    assert OWN in ann.get("/portal/devices").text


def test_foreign_ids_are_404(ann: TestClient) -> None:
    assert ann.get(f"/portal/devices/{FOREIGN}").status_code == 404
    assert ann.get(f"/portal/devices/{FOREIGN}/readings.json?range=24h").status_code == 404
    assert ann.get("/portal/devices/ffffffffffffffff").status_code == 404
    unknown = ann.get("/portal/no/such/page")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    assert ann.get("/portal/static/vendor/uplot/uPlot.iife.min.js").status_code == 200  # not shadowed


def test_chart_json_has_the_readings_in_time_order(ann: TestClient) -> None:
    body = ann.get(f"/portal/devices/{OWN}/readings.json?range=24h").json()
    assert body["points"] == 12
    assert body["t"] == sorted(body["t"])
    (series,) = body["series"]
    assert series["name"] == "water_level" and series["unit"] == "cm"
    assert series["values"][-1] == 100.0 and series["values"][0] == 111.0
    assert ann.get(f"/portal/devices/{OWN}/readings.json?range=1h").json()["points"] == 7  # [now-1h, now]: 0..60 min inclusive
    assert ann.get(f"/portal/devices/{OWN}/readings.json?range=9y").status_code == 422


def test_usage_export_counts_only_own_uplinks(ann: TestClient, portal: Portal) -> None:
    period = portal.clock().strftime("%Y-%m")
    r = ann.get(f"/portal/usage.csv?period={period}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "DevEUI,Jour,Messages montants,Octets de données,Temps d'émission (ms)"  # the user's language
    assert {line.split(",")[0] for line in lines[1:]} == {OWN}
    assert sum(int(line.split(",")[2]) for line in lines[1:]) == 12
    assert ann.get("/portal/usage.csv?period=2026-13").status_code == 422


def test_downlink_is_queued_through_the_queue_service(ann: TestClient) -> None:
    page = ann.get(f"/portal/devices/{OWN}").text
    token = _CSRF.search(page)[1]  # type: ignore[index]
    r = ann.post(f"/portal/devices/{OWN}/downlink", data={"f_port": "10", "data_hex": "01 ff", "csrf_token": token})
    assert r.status_code == 303
    assert "<code>01ff</code>" in ann.get(r.headers["location"]).text
    bad = ann.post(f"/portal/devices/{OWN}/downlink", data={"f_port": "10", "data_hex": "zz", "csrf_token": token})
    assert bad.status_code == 422
    foreign = ann.post(f"/portal/devices/{FOREIGN}/downlink",
                       data={"f_port": "10", "data_hex": "01", "csrf_token": token})
    assert foreign.status_code == 404


def _alert_ids(client: TestClient) -> dict[str, str]:
    text = client.get("/portal/alerts").text
    return {m[2]: m[1] for m in re.finditer(r'data-alert-id="([^"]+)".*?<code>([0-9a-f]{16})</code>', text, re.S)}


def test_alerts_are_the_tenants_own_and_a_foreign_one_is_404(portal: Portal, ann: TestClient) -> None:
    ids = _alert_ids(ann)
    assert list(ids) == [OWN]
    with portal.factory() as s:
        from sqlalchemy import select

        from lora_city.storage.models import Alert

        foreign = s.scalar(select(Alert.id).where(Alert.subject == FOREIGN))
    token = _CSRF.search(ann.get("/portal/alerts").text)[1]  # type: ignore[index]
    assert ann.post(f"/portal/alerts/{foreign}/ack", data={"csrf_token": token}).status_code == 404
    with logged_in(portal, "vic@acme.test") as vic:
        vic_token = _CSRF.search(vic.get("/portal/alerts").text)[1]  # type: ignore[index]
        assert vic.post(f"/portal/alerts/{ids[OWN]}/ack", data={"csrf_token": vic_token}).status_code == 403
    assert ann.post(f"/portal/alerts/{ids[OWN]}/ack", data={"csrf_token": token}).status_code == 303
    assert "prise en compte (ann@acme.test)" in ann.get("/portal/alerts").text


def test_custom_chart_range(ann: TestClient, portal: Portal) -> None:
    now = portal.clock()
    start, end = (now - timedelta(minutes=35)).isoformat(), (now - timedelta(minutes=5)).isoformat()
    body = ann.get(f"/portal/devices/{OWN}/readings.json", params={"start": start, "end": end}).json()
    assert body["points"] == 3  # 30, 20 and 10 minutes ago
    reversed_range = ann.get(f"/portal/devices/{OWN}/readings.json", params={"start": end, "end": start})
    assert reversed_range.status_code == 422


def test_viewer_cannot_open_keys_nor_console(portal: Portal) -> None:
    with logged_in(portal, "vic@acme.test") as vic:
        assert vic.get("/portal/keys").status_code == 403
        assert vic.get("/portal/console").status_code == 403
        assert vic.get("/portal/dashboard").status_code == 200


def test_console_pages_render_for_city_staff(portal: Portal) -> None:
    with logged_in(portal, "ops@city.test") as ops:
        for path in ("/portal/console", "/portal/console/tenants", "/portal/console/gateways",
                     "/portal/console/alerts", "/portal/install"):
            r = ops.get(path)
            assert r.status_code == 200, (path, r.text[:500])
        assert 'data-slug="other"' in ops.get("/portal/console/tenants").text
        # billing's pages (plans, prices, runs) come with billing/ (PortalExtras.routers); without it, none
        assert ops.get("/portal/console/billing").status_code == 404
        assert "/console/plans" not in ops.get("/portal/console").text


def test_technician_scans_a_qr_and_opens_the_live_page(portal: Portal) -> None:
    qr = QRCode(join_eui="0000000000000000", dev_eui=OWN, profile_id="00000000").to_string()
    with logged_in(portal, "tom@city.test") as tom:
        assert tom.get("/portal/dashboard").status_code == 403
        token = _CSRF.search(tom.get("/portal/install").text)[1]  # type: ignore[index]
        r = tom.post("/portal/install", data={"qr": qr, "csrf_token": token})
        assert r.status_code == 303 and r.headers["location"] == f"/portal/install/{OWN}"
        assert tom.get(r.headers["location"]).status_code == 200
        panel = tom.get(f"/portal/install/{OWN}/panel")
        assert panel.status_code == 200 and 'data-gateway="aa555a0000000001"' in panel.text
        assert tom.post("/portal/install", data={"qr": "LW:D0:nonsense", "csrf_token": token}).status_code == 422
