"""The lighting console refuses bad input with a clear 4xx in the page's language and changes nothing (issue 24,
"Bad input"): a lamp of another owner in a new group (the group is not left half made) or added to a group, or
made to follow the city's schedule; a level out of range or not a number; a lamp that no model can dim; a group
that no longer exists. Nothing is queued."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lora_city.codec.registry import CodecRegistry
from lora_city.lighting.steps import Step
from lora_city.services import lighting, multicast
from lora_city.services.principal import Principal, Role
from lora_city.settings import Settings
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import DeviceQueueItem, MulticastGroup, MulticastGroupDevice, MulticastQueueItem
from lora_city.storage.models.lighting import LightingAssignment
from tests.unit.portal.build import PASSWORD, Portal, build_portal, seed_device

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROOT = Principal(Role.ADMIN, None)
CITY_LAMP, OTHER_LAMP, BARE_LAMP = "70b3d54750000001", "70b3d547500000b1", "70b3d54750000009"


def _counts(p: Portal) -> tuple[int, int, int, int, int]:
    with p.factory() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)) or 0)  # type: ignore[return-value]
                     for m in (MulticastGroup, MulticastGroupDevice, LightingAssignment, DeviceQueueItem,
                               MulticastQueueItem))


def test_bad_input_on_the_lighting_pages_changes_nothing(tmp_path: Path) -> None:
    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    p = build_portal(f"sqlite:///{tmp_path / 'portal.db'}", codecs=codecs)
    acme = p.tenant("acme")
    p.user("ops@city.test", Role.OPERATOR, "city")
    with p.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
    seed_device(p, city, CITY_LAMP, "Lampadaire 1", codec="nas-ul20x2", device_class="C")
    seed_device(p, city, BARE_LAMP, "Lampadaire sans modèle", device_class="C")
    seed_device(p, acme, OTHER_LAMP, "Lampadaire d'Acme", codec="nas-ul20x2", device_class="C")
    with p.factory() as s:
        group = multicast.create_group(s, ROOT, p.vault, multicast.GroupCreate(name="Écusson", tenant_id=city),
                                       net_id="000000", codecs=codecs, now=p.clock()).group.id
        multicast.add_members(s, ROOT, group, multicast.MembersAdd(dev_euis=[CITY_LAMP]), now=p.clock())
        schedule = lighting.create_schedule(s, ROOT, lighting.ScheduleCreate(
            name="Nuit", tenant_id=city, steps=[Step(at="dusk", level=100), Step(at="dawn", level=0)]),
            now=p.clock()).id
    client = TestClient(p.app, base_url="https://testserver", follow_redirects=False)
    token = _CSRF.search(client.get("/portal/login").text)[1]  # type: ignore[index]
    assert client.post("/portal/login", data={"email": "ops@city.test", "password": PASSWORD,
                                              "csrf_token": token}).status_code == 303
    token = _CSRF.search(client.get("/portal/console/lighting").text)[1]  # type: ignore[index]
    before = _counts(p)
    foreign = "Ce groupe ou ce lampadaire appartient à un autre propriétaire que le programme."

    r = client.post("/portal/console/lighting/groups/new", data={
        "csrf_token": token, "name": "Mélange", "group_class": "C", "members": [CITY_LAMP, OTHER_LAMP]})
    assert r.status_code == 422 and foreign in r.text
    r = client.post(f"/portal/console/lighting/groups/{group}/members", data={
        "csrf_token": token, "members": [OTHER_LAMP]})
    assert r.status_code == 422 and foreign in r.text
    r = client.post(f"/portal/console/lighting/schedules/{schedule}/assign", data={
        "csrf_token": token, "target": f"device:{OTHER_LAMP}"})
    assert r.status_code == 422 and foreign in r.text
    for level in ("101", "-1", "cinquante", ""):
        r = client.post("/portal/console/lighting/dim", data={"csrf_token": token, "target": f"group:{group}",
                                                               "level": level})
        assert r.status_code == 422 and "Le niveau doit être un nombre entier de 0 à 100." in r.text, level
    r = client.post("/portal/console/lighting/dim", data={"csrf_token": token, "target": f"device:{BARE_LAMP}",
                                                           "level": "50"})
    assert r.status_code == 422 and "Aucun modèle connu ne sait faire varier ce lampadaire ou ce groupe." in r.text
    r = client.post("/portal/console/lighting/dim", data={
        "csrf_token": token, "target": "group:6a1b7c56-0000-4000-8000-000000000000", "level": "50"})
    assert r.status_code == 422 and "Ce groupe ou ce lampadaire n&#39;existe plus." in r.text
    r = client.post(f"/portal/console/lighting/schedules/{schedule}/exceptions", data={
        "csrf_token": token, "start_date": "2026-02-30", "exc-0-at": "dusk", "exc-0-level": "100"})
    assert r.status_code == 422 and "Date attendue (jj/mm/aaaa)." in r.text
    r = client.post(f"/portal/console/lighting/schedules/{schedule}/edit", data={
        "csrf_token": token, "name": "Nuit", "step-0-at": "time", "step-0-time": "24:00", "step-0-level": "50"})
    assert r.status_code == 422 and "Heure attendue, de 00:00 à 23:59." in r.text
    assert _counts(p) == before
    with p.factory() as s:
        assert [g.name for g in s.scalars(select(MulticastGroup))] == ["Écusson"]
        assert list(s.scalars(select(MulticastGroupDevice.dev_eui))) == [CITY_LAMP]
    # and the same page in working order: the city's own lamp dims (NAS UL20x2: 01 FE 32 on FPort 60)
    r = client.post("/portal/console/lighting/dim", data={"csrf_token": token, "target": f"device:{CITY_LAMP}",
                                                           "level": "50"})
    assert r.status_code == 303
    with p.factory() as s:
        assert [bytes(i.payload).hex() for i in s.scalars(select(DeviceQueueItem))] == ["01fe32"]
