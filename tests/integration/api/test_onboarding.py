"""Field technicians: scan, bind, photo, swap (idempotent retries of each), live status and its verdict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lora_city.codec.js import JsLimits
from lora_city.codec.loader import load_folder
from lora_city.codec.registry import CodecRegistry
from lora_city.settings import Settings
from lora_city.storage.models import Device, DeviceSession, Event, Reading
from tests.integration.api.conftest import Api, build_api

KEY = "2b7e151628aed2a6abf7158809cf4f3c"
DEV = "0004a30b001c0530"
QR = f"LW:D0:70B3D57ED0000000:{DEV.upper()}:00100005:SABC123"  # ProfileID 0010/0005: adeunis pulse


@pytest.fixture()
def api(database_url: str) -> Iterator[Api]:
    folder = Settings().codecs_path
    codecs = CodecRegistry([load_folder(folder / name, JsLimits())
                            for name in ("adeunis-pulse", "aquascope-aqs", "milesight-ws558")])
    yield from build_api(database_url, codecs=codecs)


def _post(api: Api, path: str, body: dict[str, Any], token: str, key: str | None = None, expect: int = 200) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return api.call("POST", path, token, expect=expect, json=body, headers=headers)


def _devices(api: Api) -> int:
    with api.factory() as s:
        return int(s.scalar(select(func.count()).select_from(Device)) or 0)


def test_scan_unknown_register_known_and_retries(api: Api) -> None:
    tech = api.key("technician")
    unknown = _post(api, "/onboarding/scan", {"qr": QR}, tech).json()
    assert unknown["known"] is False and unknown["codec"] == "adeunis-pulse" and unknown["dev_eui"] == DEV
    assert unknown["serial_number"] == "ABC123" and unknown["profile_id"] == "00100005"
    body = {"qr": QR, "enroll": {"app_key": KEY, "name": "pulse on meter 12"}}
    first = _post(api, "/onboarding/scan", body, tech, key="scan-1")
    assert first.json()["registered_now"] is True and first.json()["known"] is True
    assert first.json()["tenant_name"] == "Ville" and first.json()["has_keys"] is True
    retry = _post(api, "/onboarding/scan", body, tech, key="scan-1")
    assert retry.json() == first.json() and retry.headers.get("idempotent-replayed") == "true"
    assert _devices(api) == 1
    mismatch = _post(api, "/onboarding/scan", {"qr": QR}, tech, key="scan-1", expect=422)
    assert mismatch.json()["error"]["code"] == "idempotency_mismatch"
    # without a key, a second registration is just a scan of a known device
    again = _post(api, "/onboarding/scan", body, tech).json()
    assert again["known"] is True and again["registered_now"] is False
    device = api.call("GET", f"/devices/{DEV}", tech, expect=200).json()
    assert device["codec"] == "adeunis-pulse" and device["join_eui"] == "70b3d57ed0000000"


def test_scan_draft_forms_and_bad_codes(api: Api) -> None:
    tech = api.key("technician")
    draft = _post(api, "/onboarding/scan", {"qr": f"URN:DEV:LW:70B3D57ED0000000_{DEV.upper()}_00100005"}, tech)
    assert draft.json()["codec"] == "adeunis-pulse"
    for bad in ("hello", "LW:D0:zz:00:11", "URN:LW:DP:1:2"):
        r = _post(api, "/onboarding/scan", {"qr": bad}, tech, expect=422)
        assert r.json()["error"]["code"] == "invalid_qr"
    r = _post(api, "/onboarding/scan", {"qr": QR, "enroll": {}}, tech, expect=422)
    assert r.json()["error"]["code"] == "missing_app_key"


def test_imported_device_without_keys_gets_them_on_site(api: Api) -> None:
    api.call("POST", "/devices", json={"dev_eui": DEV, "name": "imported"}, expect=201)
    admin = api.key("tenant_admin", api.call("GET", f"/devices/{DEV}").json()["tenant_id"])
    r = _post(api, "/onboarding/scan", {"qr": QR, "enroll": {"app_key": KEY}}, admin, key="k").json()
    assert r["known"] is True and r["has_keys"] is True and r["registered_now"] is False
    r = _post(api, "/onboarding/scan", {"qr": QR, "enroll": {"app_key": KEY}}, admin, key="k").json()
    assert r["has_keys"] is True  # the replay, not a second attempt (which would say keys_exist)
    r = _post(api, "/onboarding/scan", {"qr": QR, "enroll": {"app_key": KEY}}, admin).json()
    assert r["has_keys"] is True  # the same key again: nothing to do
    other = {"qr": QR, "enroll": {"app_key": "00" * 16}}
    assert _post(api, "/onboarding/scan", other, admin, expect=422).json()["error"]["code"] == "keys_exist"


def _bind(api: Api, tech: str, dev: str, ref: str, key: str | None = None, expect: int = 200,
          use_existing: bool | None = None, move: bool | None = None, **asset: Any) -> Any:
    body: dict[str, Any] = {"dev_eui": dev, "asset": {"external_ref": ref, "kind": "gauge", **asset}}
    for flag, value in (("use_existing", use_existing), ("move", move)):
        if value is not None:
            body[flag] = value
    return _post(api, "/onboarding/bind", body, tech, key=key, expect=expect)


def test_bind_creates_asset_moves_device_and_retries(api: Api) -> None:
    tech = api.key("technician")
    api.call("POST", "/devices", json={"dev_eui": DEV, "name": "gauge"}, expect=201)
    first = _bind(api, tech, DEV, "FG-12", key="b1", latitude=48.85, longitude=2.35, address="quai Nord",
                  notes="behind the rail").json()
    assert first["external_ref"] == "FG-12" and first["latitude"] == 48.85 and first["notes"] == "behind the rail"
    assert [d["dev_eui"] for d in first["devices"]] == [DEV] and first["devices"][0]["unbound_at"] is None
    assert _bind(api, tech, DEV, "FG-12", key="b1", latitude=48.85, longitude=2.35, address="quai Nord",
                 notes="behind the rail").json() == first
    assert len(api.call("GET", "/assets", tech, params={"external_ref": "FG-12"}, expect=200).json()) == 1
    api.clock.now += timedelta(minutes=5)
    refused = _bind(api, tech, DEV, "FG-13", key="b2", expect=409).json()["error"]
    assert refused["code"] == "device_bound" and refused["details"]["asset"]["external_ref"] == "FG-12"
    other = _bind(api, tech, DEV, "FG-13", key="b3", move=True).json()
    old = api.call("GET", f"/assets/{first['id']}", tech, expect=200).json()
    assert old["devices"][0]["unbound_at"] is not None and other["devices"][0]["unbound_at"] is None
    by_id = _post(api, "/onboarding/bind", {"dev_eui": DEV, "asset_id": other["id"]}, tech).json()
    assert len(by_id["devices"]) == 1  # already there: no new span
    r = _post(api, "/onboarding/bind", {"dev_eui": DEV}, tech, expect=422).json()
    assert r["error"]["code"] == "invalid_asset"


def test_photo_upload_retry_and_download(api: Api) -> None:
    tech = api.key("technician")
    api.call("POST", "/devices", json={"dev_eui": DEV, "name": "gauge"}, expect=201)
    asset = _bind(api, tech, DEV, "FG-1").json()
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 100
    files = {"photo": ("p.png", png, "image/png")}
    r1 = api.call("PUT", f"/onboarding/assets/{asset['id']}/photo", tech, files=files,
                  headers={"Idempotency-Key": "p1"}, expect=200).json()
    assert r1["has_photo"] is True and r1["photo_content_type"] == "image/png"
    r2 = api.call("PUT", f"/onboarding/assets/{asset['id']}/photo", tech, files=files,
                  headers={"Idempotency-Key": "p1"}, expect=200)
    assert r2.json() == r1 and r2.headers["idempotent-replayed"] == "true"
    got = api.call("GET", f"/assets/{asset['id']}/photo", tech, expect=200)
    assert got.content == png and got.headers["content-type"] == "image/png"
    bad = api.call("PUT", f"/onboarding/assets/{asset['id']}/photo", tech,
                   files={"photo": ("p.txt", b"hi", "text/plain")}, expect=422)
    assert bad.json()["error"]["code"] == "invalid_photo"


def _reading(api: Api, dev: str, tenant: str, t: datetime, f_cnt: int, snr: float = 5.0, sf: int = 9,
             data: dict[str, Any] | None = None) -> None:
    with api.factory() as s:
        s.add(Reading(uplink_id=f"{dev}-{f_cnt}", dev_eui=dev, tenant_id=tenant, time=t, f_cnt=f_cnt, f_port=1,
                      data=data if data is not None else {"v": f_cnt}, measurements={},
                      rx=[{"gateway_id": "aa00000000000001", "rssi": -90, "snr": snr, "channel": 0},
                          {"gateway_id": "aa00000000000002", "rssi": -110, "snr": snr - 6, "channel": 0}],
                      tx={"frequency": 868100000, "spreading_factor": sf, "bandwidth": 125}))
        s.commit()


def test_swap_keeps_asset_history_continuous_and_retries(api: Api) -> None:
    tech = api.key("technician")
    new = "0004a30b001c0531"
    tenant = api.call("POST", "/devices", json={"dev_eui": DEV, "name": "old"}, expect=201).json()["tenant_id"]
    api.call("POST", "/devices", json={"dev_eui": new, "name": "new"}, expect=201)
    t0 = api.clock.now
    asset = _bind(api, tech, DEV, "FG-1").json()
    _reading(api, DEV, tenant, t0 - timedelta(minutes=1), 1)  # before binding: not the asset's
    _reading(api, DEV, tenant, t0 + timedelta(minutes=1), 2)
    _reading(api, DEV, tenant, t0 + timedelta(minutes=2), 3)
    api.clock.now = t0 + timedelta(minutes=3)
    body = {"asset_id": asset["id"], "old_dev_eui": DEV, "new_dev_eui": new}
    swapped = _post(api, "/onboarding/swap", body, tech, key="s1").json()
    assert [(d["dev_eui"], d["unbound_at"] is None) for d in swapped["devices"]] == [(DEV, False), (new, True)]
    assert _post(api, "/onboarding/swap", body, tech, key="s1").json() == swapped
    r = _post(api, "/onboarding/swap", body, tech, expect=422).json()  # a fresh attempt: old is off the asset
    assert r["error"]["code"] == "not_bound"
    assert api.call("GET", f"/devices/{DEV}", expect=200).json()["is_disabled"] is True
    _reading(api, DEV, tenant, t0 + timedelta(minutes=4), 4)  # the old one, after the swap: not the asset's
    _reading(api, new, tenant, t0 + timedelta(minutes=5), 1)
    page = api.call("GET", f"/assets/{asset['id']}/readings", expect=200).json()
    assert [(r["dev_eui"], r["f_cnt"]) for r in page["items"]] == [(new, 1), (DEV, 3), (DEV, 2)]
    half = api.call("GET", f"/assets/{asset['id']}/readings", params={"limit": 2}, expect=200).json()
    rest = api.call("GET", f"/assets/{asset['id']}/readings", expect=200,
                    params={"limit": 2, "cursor": half["next_cursor"]}).json()
    assert [r["f_cnt"] for r in half["items"] + rest["items"]] == [1, 3, 2]


def test_live_status_verdict(api: Api) -> None:
    tech = api.key("technician")
    tenant = api.call("POST", "/devices", json={"dev_eui": DEV, "name": "d", "codec": "adeunis-pulse"},
                      expect=201).json()["tenant_id"]
    status = api.call("GET", f"/onboarding/devices/{DEV}/status", tech, expect=200).json()
    assert status["verdict"] == "no_go"
    assert {r["code"] for r in status["reasons"] if r["blocking"]} == {"not_joined", "no_uplink"}
    with api.factory() as s:
        s.add(DeviceSession(dev_eui=DEV, dev_addr="26000001", f_nwk_s_int_key_enc=b"x", s_nwk_s_int_key_enc=b"x",
                            nwk_s_enc_key_enc=b"x", app_s_key_enc=b"x", is_active=True))
        s.add(Event(dev_eui=DEV, tenant_id=tenant, kind="join", time=api.clock.now - timedelta(minutes=10), body={}))
        s.add(Event(dev_eui=DEV, tenant_id=tenant, kind="log", time=api.clock.now - timedelta(minutes=11),
                    body={"level": "ERROR", "code": "UPLINK_MIC", "description": "MIC mismatch"}))
        s.commit()
    now = api.clock.now
    for i in range(3):
        _reading(api, DEV, tenant, now - timedelta(minutes=3 - i), i, snr=0.0, sf=9)  # margin 12.5 dB
    status = api.call("GET", f"/onboarding/devices/{DEV}/status", tech, expect=200).json()
    assert status["verdict"] == "go", status["reasons"]
    assert status["joined"] is True and status["join_events"] == 1
    assert status["recent_log"][0]["code"] == "UPLINK_MIC"
    assert status["best_margin"] == 12.5 and len(status["uplinks"]) == 3
    gw = status["uplinks"][0]["gateways"]
    assert [(g["gateway_id"], g["rssi"], g["link_margin"], g["spreading_factor"]) for g in gw] == [
        ("aa00000000000001", -90.0, 12.5, 9), ("aa00000000000002", -110.0, 6.5, 9)]
    for i in range(3, 8):
        _reading(api, DEV, tenant, now + timedelta(minutes=i), i, snr=-17.0, sf=12)  # margin 3 dB
    status = api.call("GET", f"/onboarding/devices/{DEV}/status", tech, expect=200).json()
    assert status["verdict"] == "no_go"
    assert {r["code"] for r in status["reasons"]} >= {"low_margin", "high_sf"}


def test_live_status_not_decoded(api: Api) -> None:
    tenant = api.call("POST", "/devices", json={"dev_eui": DEV, "name": "d", "codec": "adeunis-pulse"},
                      expect=201).json()["tenant_id"]
    api.call("POST", f"/devices/{DEV}/activate", json={"dev_addr": "26000001", "nwk_s_key": KEY, "app_s_key": KEY},
             expect=200)
    _reading(api, DEV, tenant, api.clock.now.astimezone(UTC), 1, snr=3.0, data={})
    with api.factory() as s:
        s.query(Reading).update({Reading.data: None})
        s.commit()
    status = api.call("GET", f"/onboarding/devices/{DEV}/status", expect=200).json()
    assert [r["code"] for r in status["reasons"] if r["blocking"]] == ["not_decoded"]


def test_bind_to_an_existing_reference_never_renames_the_asset(api: Api) -> None:
    """Issue 17: a bind naming an existing external_ref showed up as a rename of the city's asset."""
    tech = api.key("technician")
    second = "0004a30b001c0531"
    tenant = api.call("POST", "/devices", json={"dev_eui": DEV, "name": "probe"}, expect=201).json()["tenant_id"]
    api.call("POST", "/devices", json={"dev_eui": second, "name": "probe 2"}, expect=201)
    asset = api.call("POST", "/assets", json={"external_ref": "CAD-7", "name": "Sonde cadereau", "kind": "gauge",
                                               "tenant_id": tenant}, expect=201).json()
    refused = _bind(api, tech, DEV, "CAD-7", name="dup", notes="typed on site", expect=409).json()["error"]
    assert refused["code"] == "asset_exists"
    assert refused["details"]["asset"]["id"] == asset["id"] and refused["details"]["asset"]["name"] == "Sonde cadereau"
    after = api.call("GET", f"/assets/{asset['id']}", tech, expect=200).json()
    assert after["name"] == "Sonde cadereau" and after["devices"] == [] and after["notes"] == ""
    used = _bind(api, tech, DEV, "CAD-7", name="dup", notes="typed on site", latitude=43.6, longitude=3.87,
                 use_existing=True).json()
    # bound, the missing position filled in, nothing renamed or rewritten
    assert used["id"] == asset["id"] and used["name"] == "Sonde cadereau" and used["notes"] == ""
    assert (used["latitude"], used["longitude"]) == (43.6, 3.87)
    assert [d["dev_eui"] for d in used["devices"]] == [DEV]
    moved_pos = _bind(api, tech, second, "CAD-7", latitude=1.0, longitude=1.0, use_existing=True).json()
    assert (moved_pos["latitude"], moved_pos["longitude"]) == (43.6, 3.87)  # an existing position stays
    # the same device again on the same asset is not a conflict (a retry without a key)
    assert _bind(api, tech, DEV, "CAD-7", name="dup").json()["id"] == asset["id"]


def test_swap_between_device_families_needs_force(api: Api) -> None:
    """Issue 17: a street-light controller swapped for a pulse counter mixed unrelated measurements."""
    tech = api.key("technician")
    light, pulse, pulse2 = "0004a30b001c0540", "0004a30b001c0541", "0004a30b001c0542"
    api.call("POST", "/devices", json={"dev_eui": light, "name": "relay", "codec": "milesight-ws558"}, expect=201)
    api.call("POST", "/devices", json={"dev_eui": pulse, "name": "pulse", "codec": "adeunis-pulse"}, expect=201)
    api.call("POST", "/devices", json={"dev_eui": pulse2, "name": "pulse 2", "codec": "aquascope-aqs"}, expect=201)
    asset = _bind(api, tech, light, "LAMP-1").json()
    body = {"asset_id": asset["id"], "old_dev_eui": light, "new_dev_eui": pulse}
    refused = _post(api, "/onboarding/swap", body, tech, expect=409).json()["error"]
    assert refused["code"] == "family_mismatch"
    assert (refused["details"]["old"]["family"], refused["details"]["new"]["family"]) == ("streetlight", "water")
    assert api.call("GET", f"/devices/{light}", expect=200).json()["is_disabled"] is False  # nothing changed
    forced = _post(api, "/onboarding/swap", {**body, "force": True}, tech).json()
    assert [d["dev_eui"] for d in forced["devices"] if d["unbound_at"] is None] == [pulse]
    # same family (water meters from two vendors): no force needed
    same = _post(api, "/onboarding/swap", {"asset_id": asset["id"], "old_dev_eui": pulse, "new_dev_eui": pulse2},
                 tech).json()
    assert [d["dev_eui"] for d in same["devices"] if d["unbound_at"] is None] == [pulse2]


def test_swap_to_a_device_bound_elsewhere_needs_move(api: Api) -> None:
    tech = api.key("technician")
    a, b = "0004a30b001c0550", "0004a30b001c0551"
    for dev in (a, b):
        api.call("POST", "/devices", json={"dev_eui": dev, "name": dev, "codec": "adeunis-pulse"}, expect=201)
    first = _bind(api, tech, a, "M-1").json()
    _bind(api, tech, b, "M-2")
    body = {"asset_id": first["id"], "old_dev_eui": a, "new_dev_eui": b}
    assert _post(api, "/onboarding/swap", body, tech, expect=409).json()["error"]["code"] == "device_bound"
    done = _post(api, "/onboarding/swap", {**body, "move": True}, tech).json()
    assert [d["dev_eui"] for d in done["devices"] if d["unbound_at"] is None] == [b]
    m2 = api.call("GET", "/assets", tech, params={"external_ref": "M-2"}, expect=200).json()[0]
    assert all(d["unbound_at"] is not None for d in m2["devices"])


def test_technician_reads_the_readings_of_the_assets_it_works_on(api: Api) -> None:
    """Issue 17: after a swap the technician checks that the new unit continues the asset's history."""
    tech, colleague = api.key("technician"), api.key("technician")
    new = "0004a30b001c0531"
    tenant = api.call("POST", "/devices", json={"dev_eui": DEV, "name": "old"}, expect=201).json()["tenant_id"]
    api.call("POST", "/devices", json={"dev_eui": new, "name": "new"}, expect=201)
    other = api.call("POST", "/devices", json={"dev_eui": "0004a30b001c0599", "name": "elsewhere"},
                     expect=201).json()["dev_eui"]
    t0 = api.clock.now
    _reading(api, DEV, tenant, t0 - timedelta(minutes=1), 1)  # before anyone bound it
    asset = _bind(api, tech, DEV, "FG-1").json()
    _reading(api, DEV, tenant, t0 + timedelta(minutes=1), 2)
    api.clock.now = t0 + timedelta(minutes=2)
    _post(api, "/onboarding/swap", {"asset_id": asset["id"], "old_dev_eui": DEV, "new_dev_eui": new}, tech)
    _reading(api, new, tenant, t0 + timedelta(minutes=3), 1)
    _reading(api, other, tenant, t0 + timedelta(minutes=3), 1)
    page = api.call("GET", f"/assets/{asset['id']}/readings", tech, expect=200).json()
    assert [(r["dev_eui"], r["f_cnt"]) for r in page["items"]] == [(new, 1), (DEV, 2)]
    # a device's readings: only inside its spans on that asset (f_cnt 1 came before the binding)
    old_page = api.call("GET", f"/devices/{DEV}/readings", tech, expect=200).json()
    assert [r["f_cnt"] for r in old_page["items"]] == [2]
    assert api.call("GET", f"/devices/{other}/readings", tech, expect=403).json()["error"]["code"] == \
        "permission_denied"
    # another technician did not work there
    api.call("GET", f"/assets/{asset['id']}/readings", colleague, expect=403)
    api.call("GET", f"/devices/{new}/readings", colleague, expect=403)
    # a month later the access has lapsed
    api.clock.now = t0 + timedelta(days=31)
    api.call("GET", f"/assets/{asset['id']}/readings", tech, expect=403)
    api.call("GET", f"/devices/{new}/readings", tech, expect=403)
