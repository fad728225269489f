"""The issue-4 HTTP contract: register, read, readings newest first, queue (hex and codec object, class C)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from lora_city.storage.models import DeviceKeys, DeviceSession, Reading
from tests.integration.api.conftest import Api

DEV = "70b3d57ed0000001"
APP_KEY = "2b7e151628aed2a6abf7158809cf4f3c"


def _register(api: Api, **extra: object) -> dict[str, object]:
    body = {"dev_eui": DEV.upper(), "join_eui": "70B3D57ED0000000", "app_key": APP_KEY, "name": "lamp 1",
            "codec": None, "device_class": "A", **extra}
    return dict(api.call("POST", "/devices", json=body, expect=201).json())


def test_register_read_and_keys_are_write_only(api: Api) -> None:
    created = _register(api)
    assert created["dev_eui"] == DEV and created["join_eui"] == "70b3d57ed0000000"
    assert created["joined"] is False and created["dev_addr"] is None and created["last_seen_at"] is None
    got = api.call("GET", f"/devices/{DEV}", expect=200).json()
    assert got == created
    assert "app_key" not in got and APP_KEY not in api.call("GET", f"/devices/{DEV}").text
    # default tenant: the city's own
    tenants = api.call("GET", "/tenants", expect=200).json()
    assert [t["slug"] for t in tenants if t["id"] == got["tenant_id"]] == ["city"]
    with api.factory() as s:
        keys = s.get(DeviceKeys, DEV)
        assert keys is not None
        assert api.vault.decrypt(keys.app_key_enc, context=DEV.encode()).hex() == APP_KEY
    again = api.call("POST", "/devices", json={"dev_eui": DEV, "name": "x", "app_key": APP_KEY}, expect=409)
    assert again.json()["error"]["code"] == "already_exists"


def test_joined_and_dev_addr_after_abp_activation(api: Api) -> None:
    _register(api)
    body = {"dev_addr": "26011BDA", "nwk_s_key": APP_KEY, "app_s_key": APP_KEY}
    dev = api.call("POST", f"/devices/{DEV}/activate", json=body, expect=200).json()
    assert dev["joined"] is True and dev["dev_addr"] == "26011bda" and dev["is_disabled"] is False
    with api.factory() as s:
        sess = s.scalars(select(DeviceSession).where(DeviceSession.dev_eui == DEV)).one()
        assert api.vault.decrypt(sess.app_s_key_enc, context=DEV.encode()).hex() == APP_KEY
    dev = api.call("POST", f"/devices/{DEV}/deactivate", expect=200).json()
    assert dev["joined"] is False and dev["dev_addr"] is None and dev["is_disabled"] is True


def test_readings_newest_first_with_limit_range_and_cursor(api: Api) -> None:
    created = _register(api)
    t0 = datetime(2026, 11, 20, tzinfo=UTC)
    with api.factory() as s:
        for i in range(5):
            s.add(Reading(uplink_id=f"u{i}", dev_eui=DEV, tenant_id=str(created["tenant_id"]),
                          time=t0 + timedelta(minutes=i), f_cnt=i, f_port=10, data={"level": i},
                          measurements={"water_level": {"value": i, "unit": "cm"}}, rx=[], tx={}))
        s.commit()
    page = api.call("GET", f"/devices/{DEV}/readings?limit=2", expect=200).json()
    assert [r["f_cnt"] for r in page["items"]] == [4, 3]
    first = page["items"][0]
    assert first["data"] == {"level": 4} and first["f_port"] == 10
    assert first["measurements"] == {"water_level": {"value": 4, "unit": "cm"}}
    assert datetime.fromisoformat(first["time"]) == t0 + timedelta(minutes=4)
    page2 = api.call("GET", f"/devices/{DEV}/readings", params={"limit": 2, "cursor": page["next_cursor"]},
                     expect=200).json()
    assert [r["f_cnt"] for r in page2["items"]] == [2, 1]
    ranged = api.call("GET", f"/devices/{DEV}/readings", expect=200, params={
        "from": (t0 + timedelta(minutes=1)).isoformat(), "to": (t0 + timedelta(minutes=3)).isoformat()}).json()
    assert [r["f_cnt"] for r in ranged["items"]] == [2, 1] and ranged["next_cursor"] is None
    bad = api.call("GET", f"/devices/{DEV}/readings", params={"cursor": "nonsense"}, expect=422).json()
    assert bad["error"]["code"] == "invalid_cursor"


def test_queue_hex_and_notifier(api: Api) -> None:
    _register(api, device_class="C")
    item = api.call("POST", f"/devices/{DEV}/queue", json={"f_port": 2, "data_hex": "01ff", "confirmed": True},
                    expect=201).json()
    assert item["data_hex"] == "01ff" and item["f_port"] == 2 and item["confirmed"] is True
    assert api.notified == [DEV]
    assert [i["id"] for i in api.call("GET", f"/devices/{DEV}/queue", expect=200).json()] == [item["id"]]
    # class A too: the network server learns the queue is not empty and answers the next uplink with it
    api.call("PATCH", f"/devices/{DEV}", json={"device_class": "A"}, expect=200)
    api.call("POST", f"/devices/{DEV}/queue", json={"f_port": 2, "data_hex": "02"}, expect=201)
    assert api.notified == [DEV, DEV]
    assert api.call("DELETE", f"/devices/{DEV}/queue", expect=200).json() == {"deleted": 2}
    assert api.call("GET", f"/devices/{DEV}/queue", expect=200).json() == []


def test_queue_rejects_bad_payloads(api: Api) -> None:
    _register(api)
    cases = [
        ({"f_port": 2, "data_hex": "zz"}, "invalid_payload"),
        ({"f_port": 2}, "invalid_payload"),
        ({"data_hex": "01"}, "invalid_f_port"),
        ({"f_port": 0, "data_hex": "01"}, "validation_error"),
        ({"object": {"on": True}}, "no_codec"),
    ]
    for body, code in cases:
        r = api.call("POST", f"/devices/{DEV}/queue", json=body, expect=422)
        assert r.json()["error"]["code"] == code, body
