"""The alerts page's query (portal/alert_list.py) on both supported databases: open vs history, severity, a
search over names, EUIs, rule names and messages where ``%`` and ``_`` are plain characters, a tenant's own
alerts only, and anything unknown in the address falling back to the default view."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lora_city.alerts.engine import AlertChange, ChangeKind
from lora_city.alerts.rules import Rule, RuleKind, Severity
from lora_city.alerts.service import AlertService
from lora_city.portal.alert_list import AlertQuery, list_rows
from lora_city.services import gateways
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import AlertRule
from tests.support import services as svc
from tests.unit.portal.build import ROOT, Portal, build_portal, seed_device

GAUGE, METER, TOWER = "70b3d57ed0000011", "70b3d57ed0000012", "aa555a0000000009"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('alert-list') / 'portal.db'}"
    else:
        url = svc.create_pg_database(request.getfixturevalue("postgres_server"))
    p = build_portal(url)
    lessee = p.tenant("aquareseau")
    with p.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        gateways.create_gateway(s, ROOT, gateways.GatewayCreate(gateway_id=TOWER, name="Château d'eau",
                                                                tenant_id=city))
        flood = AlertRule(tenant_id=lessee, name="Crue 100% Vistre", kind="threshold", service="flood_cell",
                          scope_kind="all", scope_value="", measurement="water_level", params={})
        s.add(flood)
        s.commit()
        flood_id = flood.id
    seed_device(p, lessee, GAUGE, "Limnimètre du Vistre")
    seed_device(p, lessee, METER, "Compteur_gare")
    now = p.clock()
    rule = Rule(id=flood_id, name="Crue 100% Vistre", kind=RuleKind.THRESHOLD, tenant_id=lessee)
    offline = Rule(id="gw-offline", name="Passerelle muette", kind=RuleKind.GATEWAY_OFFLINE, tenant_id=city)
    service = AlertService(p.factory, p.clock)
    service.record([
        AlertChange(ChangeKind.RAISED, f"{flood_id}:{GAUGE}", rule, GAUGE, lessee, Severity.CRITICAL, "red", 0.9,
                    "water_level 0.9", now - timedelta(minutes=3)),
        AlertChange(ChangeKind.RAISED, f"{flood_id}:{METER}", rule, METER, lessee, Severity.WARNING, "orange", 0.6,
                    "water_level 0.6", now - timedelta(minutes=2)),
        AlertChange(ChangeKind.RAISED, f"gw-offline:{TOWER}", offline, TOWER, city, Severity.CRITICAL, None, None,
                    "gateway offline", now - timedelta(minutes=1)),
    ])
    service.record([AlertChange(ChangeKind.RESOLVED, f"{flood_id}:{METER}", rule, METER, lessee, Severity.WARNING,
                                None, 0.2, "cleared", now)])
    return p


def _subjects(portal: Portal, query: AlertQuery, tenant: str | None = None) -> list[str]:
    with portal.factory() as s:
        return [r.alert.subject for r in list_rows(s, tenant, query)]


def test_open_history_and_all_newest_first(portal: Portal) -> None:
    assert _subjects(portal, AlertQuery()) == [TOWER, GAUGE]
    assert _subjects(portal, AlertQuery(state="resolved")) == [METER]
    assert _subjects(portal, AlertQuery(state="all")) == [TOWER, METER, GAUGE]
    assert _subjects(portal, AlertQuery(state="all", severity="warning")) == [METER]


def test_rows_carry_the_rule_name_the_subject_and_the_unit(portal: Portal) -> None:
    with portal.factory() as s:
        rows = {r.alert.subject: r for r in list_rows(s, None, AlertQuery(state="all"))}
    assert (rows[GAUGE].rule_name, rows[GAUGE].subject_kind, rows[GAUGE].subject_name, rows[GAUGE].unit) == (
        "Crue 100% Vistre", "device", "Limnimètre du Vistre", "m")  # water_level's unit in the catalogue
    assert (rows[TOWER].rule_name, rows[TOWER].subject_kind, rows[TOWER].subject_name) == (
        "gw-offline", "gateway", "Château d'eau")  # a rule with no stored row: its id, not an error


@pytest.mark.parametrize(("text", "expected"), [
    ("LIMNIMÈTRE", [GAUGE]),  # the device's name, any case
    ("CHÂTEAU", [TOWER]),  # the gateway's name
    ("0000012", [METER]),  # part of an EUI
    ("crue 100%", [METER, GAUGE]),  # the rule's name, '%' itself
    ("100%_", []),  # '%' and '_' are not wildcards
    ("r_g", [METER]),  # Compteur_gare: "_" matched as itself
    ("t_ur", []),  # and not as any one character (Compteur)
])
def test_search(portal: Portal, text: str, expected: list[str]) -> None:
    assert _subjects(portal, AlertQuery(state="all", q=text)) == expected


def test_a_tenant_sees_only_its_own(portal: Portal) -> None:
    with portal.factory() as s:
        lessee = next(r.alert.tenant_id for r in list_rows(s, None, AlertQuery()) if r.alert.subject == GAUGE)
    assert _subjects(portal, AlertQuery(state="all"), lessee) == [METER, GAUGE]
    assert _subjects(portal, AlertQuery(state="all", q="château"), lessee) == []


def test_unknown_filters_fall_back_to_the_default_view() -> None:
    assert AlertQuery.parse("everything", "apocalyptic", "  x  ") == AlertQuery("open", "", "x")
    assert AlertQuery.parse("resolved", "major", "y" * 500) == AlertQuery("resolved", "major", "y" * 100)
    assert AlertQuery.parse("open", "", "").is_default
