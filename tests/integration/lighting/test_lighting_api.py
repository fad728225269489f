"""Lighting through the API (issue 24): schedules with their night previewed, assignments under the tenant rules,
"dim now" and the crisis override going through the queues, what was sent, and the energy saved per district.
Bad input (impossible step time, level out of range, unknown or foreign group) is a clear 4xx and nothing is
queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lora_city.codec.registry import CodecRegistry
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.scheduler import LightingScheduler
from lora_city.lighting.steps import Place
from lora_city.settings import Settings
from lora_city.storage.models import DeviceQueueItem, MulticastQueueItem
from lora_city.storage.models.lighting import LightingCommand
from tests.integration.api.conftest import Api, build_api
from tests.unit.lighting.solar import civil_twilight

NIGHT = [{"at": "dusk", "level": 100}, {"at": "23:00", "level": 50}, {"at": "01:00", "level": 0},
         {"at": "05:00", "level": 100}, {"at": "dawn", "level": 0}]


@pytest.fixture()
def api(database_url: str) -> Iterator[Api]:
    yield from build_api(database_url, codecs=CodecRegistry.load(Settings().codecs_path, entry_points=False))


def queued(api: Api) -> int:
    with api.factory() as db:
        return int(db.scalar(select(func.count()).select_from(DeviceQueueItem)) or 0) + int(
            db.scalar(select(func.count()).select_from(MulticastQueueItem)) or 0)


def lamp(api: Api, dev_eui: str, token: str | None = None, **extra: Any) -> None:
    kw = {"token": token} if token else {}
    api.call("POST", "/devices", json={"dev_eui": dev_eui, "name": f"L{dev_eui[-3:]}", "codec": "nas-ul20x2",
                                       "device_class": "C", **extra}, expect=201, **kw)


def group(api: Api, dev_euis: list[str], token: str | None = None, **extra: Any) -> str:
    kw = {"token": token} if token else {}
    gid = str(api.call("POST", "/multicast-groups", json={"name": "G", **extra}, expect=201, **kw).json()["id"])
    api.call("POST", f"/multicast-groups/{gid}/devices", json={"dev_euis": dev_euis}, expect=200, **kw)
    return gid


def test_schedule_preview_assignment_status_dim_now_and_override(api: Api) -> None:
    lamp(api, "0000000000000001")
    lamp(api, "0000000000000002")
    gid = group(api, ["0000000000000001", "0000000000000002"])
    sid = api.call("POST", "/lighting/schedules", json={"name": "Nuit", "steps": NIGHT}, expect=201).json()["id"]
    night = api.call("GET", f"/lighting/schedules/{sid}/preview", params={"night": "2026-01-15"}, expect=200).json()
    assert [s["label"] for s in night] == ["dusk", "23:00", "01:00", "05:00", "dawn"]
    assert night[1]["at"].startswith("2026-01-15T22:00:00") and night[1]["local_time"].startswith(
        "2026-01-15T23:00:00+01:00")
    api.call("POST", f"/lighting/schedules/{sid}/assignments", json={"group_id": gid}, expect=200)
    api.clock.now = datetime(2026, 1, 15, 21, 30, tzinfo=UTC)  # 22:30 in Paris: 100 % since dusk
    [st] = api.call("GET", "/lighting/status", expect=200).json()
    assert (st["target_kind"], st["target_id"], st["target_name"]) == ("group", gid, "G")
    assert (st["current"]["label"], st["current"]["level"]) == ("dusk", 100)
    assert (st["next"]["label"], st["next"]["level"]) == ("23:00", 50)

    # dim now: one multicast item encoded by the members' codec (NAS: 01 FE 1E)
    api.call("POST", "/lighting/dim", json={"group_id": gid, "level": 30}, expect=201)
    items = api.call("GET", f"/multicast-groups/{gid}/queue", expect=200).json()
    assert [(i["f_port"], i["data_hex"]) for i in items] == [(60, "01fe1e")]
    assert api.group_notified == [gid]
    api.call("POST", "/lighting/dim", json={"dev_eui": "0000000000000002", "level": 0}, expect=201)
    assert [i["data_hex"] for i in api.call("GET", "/devices/0000000000000002/queue", expect=200).json()] == [
        "01fe00"]
    sent = api.call("GET", "/lighting/commands", expect=200).json()
    assert sorted((c["reason"], c["level"], c["expected"]) for c in sent) == [("manual", 0, 1), ("manual", 30, 2)]

    # the crisis override: one at a time, then released
    o = api.call("POST", "/lighting/override", json={"reason": "inondation Vistre"}, expect=201).json()
    assert o["level"] == 100 and o["released_at"] is None
    assert api.call("POST", "/lighting/override", json={}, expect=409).json()["error"]["code"] == "override_active"
    assert api.call("GET", "/lighting/status", expect=200).json()[0]["override_level"] == 100
    assert api.call("DELETE", "/lighting/override", expect=200).json()["released_at"] is not None
    api.call("DELETE", "/lighting/override", expect=404)

    # an exception: the festival night all lit until dawn
    api.call("POST", f"/lighting/schedules/{sid}/exceptions", expect=201, json={
        "start_date": "2026-08-14", "end_date": "2026-08-15", "note": "Féria",
        "steps": [{"at": "dusk", "level": 100}, {"at": "dawn", "level": 0}]})
    feria = api.call("GET", f"/lighting/schedules/{sid}/preview", params={"night": "2026-08-14"}, expect=200).json()
    assert [s["label"] for s in feria] == ["dusk", "dawn"]


@pytest.mark.parametrize(("path", "body", "code"), [
    ("/lighting/schedules", {"name": "x", "steps": [{"at": "25:00", "level": 50}]}, "invalid_at"),  # its pattern
    ("/lighting/schedules", {"name": "x", "steps": [{"at": "dusk", "level": 120}]}, "validation_error"),
    ("/lighting/schedules", {"name": "x", "steps": [{"at": "dusk", "offset_min": 900, "level": 1}]},
     "validation_error"),
    ("/lighting/schedules", {"name": "x", "steps": []}, "validation_error"),
    ("/lighting/schedules", {"name": "x", "steps": NIGHT, "timezone": "Mars/Olympus"}, "validation_error"),
    ("/lighting/dim", {"group_id": "6a1b7c56-0000-4000-8000-000000000000", "level": 50}, "group_not_found"),
    ("/lighting/dim", {"dev_eui": "00000000000000ff", "level": 50}, "not_found"),
    ("/lighting/dim", {"dev_eui": "0000000000000001", "level": 101}, "validation_error"),
    ("/lighting/dim", {"dev_eui": "0000000000000001", "level": -1}, "validation_error"),
    ("/lighting/dim", {"level": 50}, "validation_error"),
])
def test_bad_input_is_refused_and_nothing_is_sent(api: Api, path: str, body: dict[str, Any], code: str) -> None:
    lamp(api, "0000000000000001")
    r = api.call("POST", path, json=body)
    assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == code, r.text
    assert queued(api) == 0
    with api.factory() as db:
        assert db.scalars(select(LightingCommand)).all() == []


def test_tenant_rules(api: Api) -> None:
    ta, tb = api.tenant("eclairage"), api.tenant("autre")
    admin_a, admin_b = api.key("tenant_admin", ta), api.key("tenant_admin", tb)
    lamp(api, "00000000000000b1", token=admin_b)
    gid_b = group(api, ["00000000000000b1"], token=admin_b)
    sid_a = api.call("POST", "/lighting/schedules", token=admin_a, json={"name": "A", "steps": NIGHT},
                     expect=201).json()["id"]
    # B's group does not exist for A; A's schedule does not exist for B
    api.call("POST", f"/lighting/schedules/{sid_a}/assignments", token=admin_a, json={"group_id": gid_b},
             expect=404)
    api.call("GET", f"/lighting/schedules/{sid_a}", token=admin_b, expect=404)
    api.call("POST", "/lighting/dim", token=admin_a, json={"group_id": gid_b, "level": 10}, expect=404)
    # the operator sees both: the mismatch is named, and nothing is assigned
    r = api.call("POST", f"/lighting/schedules/{sid_a}/assignments", json={"group_id": gid_b}, expect=422)
    assert r.json()["error"]["code"] == "tenant_mismatch"
    assert api.call("GET", "/lighting/assignments", expect=200).json() == []
    assert queued(api) == 0
    # B's override does not touch A's lamps: it is B's tenant's
    api.call("POST", "/lighting/override", token=admin_b, json={}, expect=201)
    assert api.call("DELETE", "/lighting/override", token=admin_a, expect=404).json()["error"]["code"] == "no_override"


def test_energy_saved_per_district_for_a_month(api: Api) -> None:
    """"100 % at dusk, off at 00:00" saves the hours from midnight to dawn, per lamp power, per district."""
    for i, (district, power) in enumerate([("Écusson", "100"), ("Écusson", "50"), ("Pissevin", "80")]):
        lamp(api, f"00000000000000c{i}", tags={"district": district, "lamp_power_w": power})
    lamp(api, "00000000000000c9", tags={"district": "Pissevin"})  # no power known
    gid = group(api, ["00000000000000c0", "00000000000000c1", "00000000000000c2", "00000000000000c9"])
    sid = api.call("POST", "/lighting/schedules", expect=201, json={"name": "minuit", "steps": [
        {"at": "dusk", "level": 100}, {"at": "00:00", "level": 0}]}).json()["id"]
    api.call("POST", f"/lighting/schedules/{sid}/assignments", json={"group_id": gid}, expect=200)
    rows = {r["district"]: r for r in api.call("GET", "/lighting/energy-saved", params={"month": "2026-01"},
                                                expect=200).json()}
    # independent figures: NOAA civil twilight at the city centre, midnight Paris time (UTC+1 in January)
    full = sched = 0.0
    for day in range(1, 32):
        night = date(2026, 1, day)
        dusk = civil_twilight(night, 43.8367, 4.3601, evening=True)
        dawn = civil_twilight(night + timedelta(days=1), 43.8367, 4.3601, evening=False)
        midnight = datetime(night.year, night.month, night.day, 23, tzinfo=UTC)
        full += (dawn - dusk).total_seconds() / 3600
        sched += (midnight - dusk).total_seconds() / 3600
    ecusson, pissevin = rows["Écusson"], rows["Pissevin"]
    assert (ecusson["lamps"], ecusson["lamps_with_power"], pissevin["lamps"], pissevin["lamps_with_power"]) == (
        2, 2, 2, 1)
    assert ecusson["baseline_kwh"] == pytest.approx(0.150 * full, abs=0.2)
    assert ecusson["saved_kwh"] == pytest.approx(0.150 * (full - sched), abs=0.2)
    assert pissevin["saved_kwh"] == pytest.approx(0.080 * (full - sched), abs=0.2)
    assert 40 < ecusson["saved_percent"] < 60
    api.call("GET", "/lighting/energy-saved", params={"month": "2026-13"}, expect=422)


def test_an_undone_change_is_sent_again_once(api: Api) -> None:
    """What the lamps should show follows every change at once, in both directions: a festival exception for
    tonight dims them to its level, and deleting it while it runs restores the schedule's level (already sent
    once that night, so it must go out again), once; a step edited and edited back likewise. An operator's
    "dim now" holds until the next step."""
    lamp(api, "0000000000000001")
    lamp(api, "0000000000000002")
    gid = group(api, ["0000000000000001", "0000000000000002"])
    sid = api.call("POST", "/lighting/schedules", json={"name": "Nuit", "steps": NIGHT}, expect=201).json()["id"]
    api.call("POST", f"/lighting/schedules/{sid}/assignments", json={"group_id": gid}, expect=200)
    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    scheduler = LightingScheduler(api.factory, CommandSender(codecs), clock=api.clock,
                                  default_place=Place(43.8367, 4.3601))

    def sent() -> list[str]:
        with api.factory() as db:
            return [bytes(i.payload).hex() for i in db.scalars(
                select(MulticastQueueItem).where(MulticastQueueItem.group_id == gid).order_by(MulticastQueueItem.f_cnt))]

    def tick(minutes: int = 1) -> list[int]:
        api.clock.now += timedelta(minutes=minutes)
        return [c.level for c in scheduler.tick()]

    api.clock.now = datetime(2026, 1, 15, 21, 30, tzinfo=UTC)  # 22:30 in Paris: 100 % since dusk
    assert tick() == [100] and tick() == []
    exc = api.call("POST", f"/lighting/schedules/{sid}/exceptions", expect=201, json={
        "start_date": "2026-01-15", "end_date": "2026-01-15", "note": "concert",
        "steps": [{"at": "dusk", "level": 30}, {"at": "dawn", "level": 0}]}).json()
    assert tick() == [30] and tick() == []
    api.call("DELETE", f"/lighting/schedules/{sid}/exceptions/{exc['id']}", expect=204)
    assert tick() == [100] and tick() == [] and tick() == []
    # a step edited, then edited back
    api.call("PATCH", f"/lighting/schedules/{sid}", json={"steps": [{"at": "dusk", "level": 80}, *NIGHT[1:]]},
             expect=200)
    assert tick() == [80]
    api.call("PATCH", f"/lighting/schedules/{sid}", json={"steps": NIGHT}, expect=200)
    assert tick() == [100] and tick() == []
    # "dim now" holds until the next step (23:00 in Paris), which then goes out
    api.call("POST", "/lighting/dim", json={"group_id": gid, "level": 10}, expect=201)
    assert tick() == [] and tick(5) == []
    api.clock.now = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
    assert tick() == [50] and tick() == []
    # the multicast queue holds each of those frames once, in order (NAS UL20x2 manual dimming: 01 FE <level>)
    assert sent() == ["01fe64", "01fe1e", "01fe64", "01fe50", "01fe64", "01fe0a", "01fe32"]


@pytest.mark.parametrize(("path", "params", "code"), [
    # the published patterns (issue 19): years 1900 to 2999; 9999-12-31 has no next day and was a 500
    ("preview", {"night": "9999-12-31"}, "invalid_night"),
    ("preview", {"night": "2026-8-14"}, "invalid_night"),
    ("preview", {"night": "2026-02-30"}, "invalid_date"),  # the pattern's shape, but no such day ("format: date")
    ("/lighting/energy-saved", {"month": "2026-13"}, "invalid_month"),
    ("/lighting/energy-saved", {"month": "9999-12"}, "invalid_month"),
])
def test_nights_and_months_outside_the_published_range_are_refused(api: Api, path: str, params: dict[str, str],
                                                                    code: str) -> None:
    if path == "preview":
        sid = api.call("POST", "/lighting/schedules", expect=201, json={"name": "n", "steps": [
            {"at": "dusk", "level": 100}, {"at": "dawn", "level": 0}]}).json()["id"]
        path = f"/lighting/schedules/{sid}/preview"
    r = api.call("GET", path, params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] == code, r.text


def test_the_last_night_of_the_published_range_is_previewed(api: Api) -> None:
    sid = api.call("POST", "/lighting/schedules", expect=201, json={"name": "n", "steps": [
        {"at": "dusk", "level": 100}, {"at": "7:05", "level": 0}]}).json()["id"]
    steps = api.call("GET", f"/lighting/schedules/{sid}/preview", params={"night": "2999-12-31"}, expect=200).json()
    assert [s["label"] for s in steps] == ["dusk", "07:05"]  # "7:05" is stored as 07:05
    assert steps[1]["local_time"].startswith("3000-01-01T07:05")
