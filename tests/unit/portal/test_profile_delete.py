"""Deleting a device profile from the console (issue 22: a profile in use is not deleted, its devices would lose
their codec and class): the confirmation says how many devices use it and offers no delete button; a delete
posted anyway is refused (409) with the reason in the page's language; once no device uses it, it goes."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from lora_city.services.devices import delete_device
from lora_city.services.principal import Principal, Role
from lora_city.services.profiles import ProfileCreate, create_profile
from lora_city.storage.models import DeviceProfile
from tests.unit.portal.build import PASSWORD, build_portal, seed_device

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROOT = Principal(Role.ADMIN, None)


def test_a_profile_in_use_is_not_deleted_from_the_console(tmp_path: Path) -> None:
    p = build_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    acme = p.tenant("acme")
    p.user("ops@city.test", Role.ADMIN, "city")  # French, the default language
    with p.factory() as s:
        profile_id = create_profile(s, ROOT, ProfileCreate.model_validate({"name": "Lampe", "tenant_id": acme})).id
    seed_device(p, acme, "70b3d57ed0000001", "Lampe 1", device_profile_id=profile_id)
    client = TestClient(p.app, base_url="https://testserver", follow_redirects=False)
    token = _CSRF.search(client.get("/portal/login").text)[1]  # type: ignore[index]
    assert client.post("/portal/login", data={"email": "ops@city.test", "password": PASSWORD,
                                              "csrf_token": token}).status_code == 303
    token = _CSRF.search(client.get(f"/portal/console/profiles/{profile_id}").text)[1]  # type: ignore[index]

    page = client.get(f"/portal/console/profiles/{profile_id}/delete")
    assert page.status_code == 200
    assert "1 capteur(s) utilisent le profil « Lampe »" in page.text
    assert 'class="danger"' not in page.text  # no delete button
    refused = client.post(f"/portal/console/profiles/{profile_id}/delete", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "Des capteurs utilisent ce profil" in refused.text
    with p.factory() as s:
        assert s.get(DeviceProfile, profile_id) is not None

    with p.factory() as s:
        delete_device(s, ROOT, "70b3d57ed0000001")
    page = client.get(f"/portal/console/profiles/{profile_id}/delete")
    assert "Aucun capteur ne l&#39;utilise" in page.text and 'class="danger"' in page.text
    done = client.post(f"/portal/console/profiles/{profile_id}/delete", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].endswith("/console/profiles?notice=deleted")
    with p.factory() as s:
        assert s.get(DeviceProfile, profile_id) is None
