"""Queueing an object through the device's codec, and the network overview."""

from __future__ import annotations

from datetime import timedelta

from lora_city.storage.models import Device, Gateway, Reading
from tests.integration.api.conftest import Api
from tests.integration.api.test_onboarding import api  # noqa: F401 - the fixture with a codec registry

DEV = "0004a30b001c0540"


def test_object_encoded_by_the_codec(api: Api) -> None:  # noqa: F811
    api.call("POST", "/devices", json={"dev_eui": DEV, "name": "valve", "codec": "aquascope-aqs",
                                       "device_class": "C"}, expect=201)
    item = api.call("POST", f"/devices/{DEV}/queue", json={"object": {"cmd": "set valve on"}}, expect=201).json()
    assert item["data_hex"] == "07ff" and item["f_port"] == 1 and api.notified == [DEV]
    r = api.call("POST", f"/devices/{DEV}/queue", json={"object": {"cmd": "dance"}}, expect=422).json()
    assert r["error"]["code"] == "encode_failed"
    r = api.call("POST", f"/devices/{DEV}/queue", json={"object": {}, "data_hex": "00", "f_port": 1}, expect=422)
    assert r.json()["error"]["code"] == "invalid_payload"
    r = api.call("POST", "/devices", json={"dev_eui": "0004a30b001c0541", "name": "x", "codec": "nope"}, expect=422)
    assert r.json()["error"]["code"] == "unknown_codec"


def test_overview_counts(api: Api) -> None:  # noqa: F811
    now = api.clock.now
    hourly = api.call("POST", "/device-profiles", json={"name": "hourly", "uplink_interval_s": 3600},
                      expect=201).json()["id"]
    daily = api.call("POST", "/device-profiles", json={"name": "daily", "uplink_interval_s": 86400},
                     expect=201).json()["id"]
    for i, profile in enumerate([hourly, hourly, daily, daily]):
        api.call("POST", "/devices", json={"dev_eui": f"{i:016x}", "name": f"d{i}", "device_profile_id": profile},
                 expect=201)
    for gw in ("aa00000000000001", "aa00000000000002", "aa00000000000003"):
        api.call("POST", "/gateways", json={"gateway_id": gw, "name": gw}, expect=201)
    seen = {0: now - timedelta(minutes=30), 1: now - timedelta(hours=2), 2: now - timedelta(hours=5),
            3: now - timedelta(days=2)}
    with api.factory() as s:
        tenant = s.get(Gateway, "aa00000000000001").tenant_id  # type: ignore[union-attr]
        s.get(Gateway, "aa00000000000001").online = True  # type: ignore[union-attr]
        for i, t in seen.items():
            s.get(Device, f"{i:016x}").last_seen_at = t  # type: ignore[union-attr]
        for n, minutes in enumerate([10, 50, 70]):
            s.add(Reading(uplink_id=f"u{n}", dev_eui=f"{0:016x}", tenant_id=tenant,
                          time=now - timedelta(minutes=minutes), f_cnt=n))
        s.commit()
    o = api.call("GET", "/overview", expect=200).json()
    assert (o["gateways_online"], o["gateways_offline"], o["uplinks_last_hour"]) == (1, 2, 2)
    assert o["devices_total"] == 4 and o["devices_silent"] == 2
    assert [d["dev_eui"] for d in o["silent"]] == [f"{3:016x}", f"{1:016x}"]
    assert {d["expected_interval_s"] for d in o["silent"]} == {3600, 86400}
