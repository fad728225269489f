"""Multicast groups through the API (issue 24): keys derived as TS005 §4.3 says and never returned, tenant rules
as for devices, a queue with frame counters and expiry, and bad input refused with a clear 4xx and nothing
stored or sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from lora_city.storage.models import MulticastGroup, MulticastGroupDevice, MulticastQueueItem
from lora_city.storage.multicast import MulticastStore
from tests.integration.api.conftest import Api, build_api
from tests.support.lamps import multicast_session_keys

MC_KEY = "0102030405060708090a0b0c0d0e0f10"


def _codecs() -> Any:
    from lora_city.codec.registry import CodecRegistry
    from lora_city.settings import Settings

    return CodecRegistry.load(Settings().codecs_path, entry_points=False)


@pytest.fixture()
def api(database_url: str) -> Iterator[Api]:
    yield from build_api(database_url, codecs=_codecs())


@pytest.fixture()
def lite_api(tmp_path: Any, sqlite_template: Any) -> Iterator[Api]:
    """SQLite only: for the many small refusal cases (the database plays no part in them)."""
    import shutil

    shutil.copyfile(sqlite_template, tmp_path / "t.db")
    yield from build_api(f"sqlite:///{tmp_path / 't.db'}", codecs=_codecs())


def device(api: Api, dev_eui: str, token: str | None = None, **extra: Any) -> None:
    body = {"dev_eui": dev_eui, "name": f"lamp {dev_eui[-4:]}", **extra}
    api.call("POST", "/devices", token=token or api_admin(), json=body, expect=201)


def api_admin() -> str:
    from tests.integration.api.conftest import ADMIN

    return ADMIN


def queue_rows(api: Api) -> list[MulticastQueueItem]:
    with api.factory() as db:
        return list(db.scalars(select(MulticastQueueItem)))


def test_group_keys_are_derived_stored_encrypted_and_never_returned(api: Api) -> None:
    r = api.call("POST", "/multicast-groups", json={"name": "Centre", "mc_addr": "01020304", "mc_key": MC_KEY},
                 expect=201)
    group = r.json()
    assert group["mc_addr"] == "01020304" and group["group_class"] == "C"
    assert (group["dr"], group["frequency"]) == (0, 869_525_000)  # RX2 of EU868 (RP002 §2.4.7)
    assert not {k for k in group if "key" in k}
    with api.factory() as db:
        row = db.get(MulticastGroup, group["id"])
        assert row is not None and bytes.fromhex(MC_KEY) not in row.mc_key_enc
    keys = MulticastStore(api.factory, api.vault).group(group["id"])
    assert keys is not None
    # brocaar/lorawan keys_test.go vectors for McKey 0102..10 and McAddr 01020304, and our independent helper
    assert keys.mc_app_s_key.hex() == "95cb4518ee375606735bbacbdce837fa"
    assert keys.mc_nwk_s_key.hex() == "c3f6b388bad6c000b23291ad52c11c7b"
    assert (keys.mc_nwk_s_key, keys.mc_app_s_key) == multicast_session_keys(bytes.fromhex(MC_KEY), "01020304")
    # a class B group defaults to the EU868 ping-slot channel: 869.525 MHz DR3
    b = api.call("POST", "/multicast-groups", json={"name": "B", "group_class": "B"}, expect=201).json()
    assert (b["dr"], b["frequency"], b["ping_slot_periodicity"]) == (3, 869_525_000, 7)
    assert b["mc_addr"] != group["mc_addr"]
    api.call("POST", "/multicast-groups", json={"name": "again", "mc_addr": "01020304"}, expect=409)


def test_members_queue_counters_expiry_and_flush(api: Api) -> None:
    for i in range(3):
        device(api, f"70b3d5000000000{i}", device_class="C")
    gid = api.call("POST", "/multicast-groups", json={"name": "Rue", "dr": 3}, expect=201).json()["id"]
    r = api.call("POST", f"/multicast-groups/{gid}/devices",
                 json={"dev_euis": ["70b3d50000000000", "70B3D50000000001", "70b3d50000000001"]}, expect=200)
    assert r.json() == {"added": 2}
    assert api.call("POST", f"/multicast-groups/{gid}/devices", json={"dev_euis": ["70b3d50000000001"]},
                    expect=200).json() == {"added": 0}
    members = api.call("GET", f"/multicast-groups/{gid}/devices", expect=200).json()
    assert [m["dev_eui"] for m in members] == ["70b3d50000000000", "70b3d50000000001"]
    api.call("DELETE", f"/multicast-groups/{gid}/devices/70b3d50000000001", expect=204)
    api.call("DELETE", f"/multicast-groups/{gid}/devices/70b3d50000000001", expect=404)

    first = api.call("POST", f"/multicast-groups/{gid}/queue", json={"f_port": 60, "data_hex": "01FE64"},
                     expect=201).json()
    second = api.call("POST", f"/multicast-groups/{gid}/queue",
                      json={"f_port": 60, "data_hex": "01fe00", "expires_in_s": 60}, expect=201).json()
    assert (first["f_cnt"], second["f_cnt"]) == (0, 1)
    assert first["data_hex"] == "01fe64" and first["state"] == "queued"
    assert api.group_notified == [gid, gid]
    exp = second["expires_at"].replace("Z", "+00:00")
    from datetime import datetime

    assert (datetime.fromisoformat(exp) - api.clock.now.astimezone(datetime.fromisoformat(exp).tzinfo)).seconds == 60
    view = api.call("GET", f"/multicast-groups/{gid}", expect=200).json()
    assert (view["members"], view["queued"], view["f_cnt"]) == (1, 2, 2)
    listed = api.call("GET", f"/multicast-groups/{gid}/queue", expect=200).json()
    assert [i["f_cnt"] for i in listed] == [1, 0]
    assert api.call("DELETE", f"/multicast-groups/{gid}/queue", expect=200).json() == {"deleted": 2}
    # the counter never goes back: a device drops a frame whose counter it has seen
    assert api.call("POST", f"/multicast-groups/{gid}/queue", json={"f_port": 60, "data_hex": "01fe64"},
                    expect=201).json()["f_cnt"] == 2

    api.call("PATCH", f"/multicast-groups/{gid}", json={"name": "Rue basse", "group_class": "B"}, expect=200)
    patched = api.call("GET", f"/multicast-groups/{gid}", expect=200).json()
    assert (patched["name"], patched["group_class"], patched["dr"]) == ("Rue basse", "B", 3)
    api.call("DELETE", f"/multicast-groups/{gid}", expect=204)
    api.call("GET", f"/multicast-groups/{gid}", expect=404)
    with api.factory() as db:
        assert db.scalars(select(MulticastGroupDevice)).all() == []
    assert queue_rows(api) == []


def test_tenant_rules_as_for_devices(api: Api) -> None:
    ta, tb = api.tenant("eclairage"), api.tenant("voisin")
    admin_a, admin_b = api.key("tenant_admin", ta), api.key("tenant_admin", tb)
    viewer_a = api.key("tenant_viewer", ta)
    device(api, "0000000000000a01", token=admin_a)
    device(api, "0000000000000b01", token=admin_b)
    ga = api.call("POST", "/multicast-groups", token=admin_a, json={"name": "A"}, expect=201).json()
    assert ga["tenant_id"] == ta
    # another tenant's group does not exist for B, and B's device does not exist for A
    api.call("GET", f"/multicast-groups/{ga['id']}", token=admin_b, expect=404)
    api.call("POST", f"/multicast-groups/{ga['id']}/queue", token=admin_b, json={"f_port": 1, "data_hex": "00"},
             expect=404)
    r = api.call("POST", f"/multicast-groups/{ga['id']}/devices", token=admin_a,
                 json={"dev_euis": ["0000000000000a01", "0000000000000b01"]}, expect=404)
    assert r.json()["error"]["code"] == "not_found"
    # the operator sees both tenants: the mismatch is named
    r = api.call("POST", f"/multicast-groups/{ga['id']}/devices", json={"dev_euis": ["0000000000000b01"]},
                 expect=422)
    assert r.json()["error"]["code"] == "tenant_mismatch"
    with api.factory() as db:
        assert db.scalars(select(MulticastGroupDevice)).all() == []  # all or nothing
    assert [g["id"] for g in api.call("GET", "/multicast-groups", token=admin_b, expect=200).json()["items"]] == []
    assert len(api.call("GET", "/multicast-groups", token=viewer_a, expect=200).json()["items"]) == 1
    api.call("POST", "/multicast-groups", token=viewer_a, json={"name": "x"}, expect=403)
    api.call("POST", f"/multicast-groups/{ga['id']}/queue", token=viewer_a, json={"f_port": 1, "data_hex": "00"},
             expect=403)
    assert queue_rows(api) == [] and api.group_notified == []


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"f_port": 60, "data_hex": "zz"}, 422, "invalid_payload"),
    ({"data_hex": "01"}, 422, "invalid_f_port"),
    ({"f_port": 0, "data_hex": "01"}, 422, "validation_error"),
    ({"f_port": 60, "data_hex": "01", "object": {"x": 1}}, 422, "invalid_payload"),
    ({"f_port": 60, "data_hex": "00" * 52}, 422, "payload_too_long"),  # DR0 carries 51 bytes (RP002 §2.4.6)
    ({"object": {"dim_level": 50}}, 422, "no_codec"),
    ({"f_port": 60, "data_hex": "01", "expires_in_s": 0}, 422, "validation_error"),
])
def test_bad_queue_items_are_refused_and_nothing_is_queued(lite_api: Api, body: dict[str, Any], status: int,
                                                           code: str) -> None:
    api = lite_api
    gid = api.call("POST", "/multicast-groups", json={"name": "G"}, expect=201).json()["id"]
    r = api.call("POST", f"/multicast-groups/{gid}/queue", json=body, expect=status)
    assert r.json()["error"]["code"] == code
    assert queue_rows(api) == [] and api.group_notified == []
    assert api.call("GET", f"/multicast-groups/{gid}", expect=200).json()["f_cnt"] == 0


@pytest.mark.parametrize(("body", "code"), [
    ({"name": "x", "dr": 9}, "invalid_dr"),
    ({"name": "x", "frequency": 915_000_000}, "invalid_frequency"),
    ({"name": "x", "mc_addr": "010203zz"}, "invalid_mc_addr"),
    ({"name": "x", "mc_key": "00" * 15 + "zz"}, "invalid_mc_key"),
    ({"name": "x", "codec": "no-such-codec"}, "unknown_codec"),
    ({"name": "x", "group_class": "A"}, "validation_error"),
])
def test_bad_groups_are_refused(lite_api: Api, body: dict[str, Any], code: str) -> None:
    api = lite_api
    r = api.call("POST", "/multicast-groups", json=body, expect=422)
    assert r.json()["error"]["code"] == code
    with api.factory() as db:
        assert db.scalars(select(MulticastGroup)).all() == []


def test_unknown_group(api: Api) -> None:
    for method, path, body in [("GET", "", None), ("PATCH", "", {"name": "n"}), ("DELETE", "", None),
                               ("POST", "/queue", {"f_port": 1, "data_hex": "00"}), ("GET", "/queue", None),
                               ("POST", "/devices", {"dev_euis": ["0000000000000001"]})]:
        r = api.call(method, "/multicast-groups/5b8f0b53-0000-4000-8000-000000000000" + path, json=body,
                     expect=404)
        assert r.json()["error"]["code"] == "group_not_found"
    assert api.group_notified == []
