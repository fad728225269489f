"""The technician's pages through HTTP (the browser tests drive the same pages in Chromium): scan, checksum
warning, registration on the spot with field errors, the live panel's one row per gateway and its verdict on
the latest uplinks, binding with the 409 rules shown as choices, the swap's confirmation, the asset's readings
from both units, and writes replayed with their Idempotency-Key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lora_city.codec.js import JsLimits
from lora_city.codec.loader import load_folder
from lora_city.codec.registry import CodecRegistry
from lora_city.lorawan.tr005 import QRCode
from lora_city.services.principal import Role
from lora_city.settings import Settings
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import Asset, AssetDevice, Device, DeviceSession, Gateway
from tests.unit.portal.build import Portal, build_portal, seed_device, seed_uplinks
from tests.unit.portal.test_pages import logged_in

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = "2B 7E 15 16 28 AE D2 A6 AB F7 15 88 09 CF 4F 3C"  # as a key sheet prints it
NEW = "70b3d57ed00000a1"
GW_A, GW_B = "aa555a0000000001", "aa555a0000000002"


def _qr(dev_eui: str, profile: str = "02590001") -> str:
    """ProfileID 0259/0001: Milesight's shared EU868 profile (several models: the page asks which)."""
    return QRCode(join_eui="24e124c0002a0001", dev_eui=dev_eui, profile_id=profile).to_string(with_checksum=True)


def _city(portal: Portal) -> str:
    with portal.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        return city


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    folder = Settings().codecs_path
    codecs = CodecRegistry([load_folder(folder / n, JsLimits())
                            for n in ("milesight-em300-di", "milesight-ws558", "adeunis-pulse")])
    p = build_portal(f"sqlite:///{tmp_path_factory.mktemp('tech') / 'portal.db'}", codecs=codecs)
    p.tenant("acme")
    p.user("tom@city.test", Role.TECHNICIAN, "city")
    p.user("tia@city.test", Role.TECHNICIAN, "city")
    p.user("tom.en@city.test", Role.TECHNICIAN, "city", language="en")
    city = _city(p)
    with p.factory() as s:
        s.add_all([Gateway(gateway_id=GW_A, tenant_id=city, name="Mairie toit"),
                   Gateway(gateway_id=GW_B, tenant_id=city, name="Château d'eau")])
        s.commit()
    return p


@pytest.fixture(scope="module")
def tom(portal: Portal) -> Iterator[TestClient]:
    with logged_in(portal, "tom@city.test") as c:
        yield c


def _token(client: TestClient, path: str) -> str:
    return _CSRF.search(client.get(path).text)[1]  # type: ignore[index]


def test_scan_bad_checksum_warns_then_unknown_device_goes_to_registration(tom: TestClient) -> None:
    token = _token(tom, "/portal/install")
    good = _qr(NEW)
    bad = good[:-4] + ("0000" if not good.endswith("0000") else "1111")  # TR005 §4.1: CRC-16 over the rest
    r = tom.post("/portal/install", data={"qr": bad, "csrf_token": token})
    assert r.status_code == 200 and 'id="checksum-warning"' in r.text
    assert "Le code de contrôle de ce QR code est faux." in r.text
    r = tom.post("/portal/install", data={"qr": "hello", "csrf_token": token})
    assert r.status_code == 422 and "Ce n&#39;est pas un code QR LoRaWAN" in r.text
    r = tom.post("/portal/install", data={"qr": good, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/portal/install/register?qr=")
    page = tom.get(r.headers["location"])
    assert page.status_code == 200
    # Milesight's shared profile: several models suggested, none picked for the technician
    suggested = re.search(r'<optgroup label="Suggérés par le code QR">(.*?)</optgroup>', page.text, re.S)
    assert suggested and "EM300-DI" in suggested[1] and "WS558" in suggested[1] and "Adeunis" not in suggested[1]
    assert "correspond à 2 modèles" in page.text


def test_registration_shows_errors_next_to_fields_and_accepts_spaced_keys(tom: TestClient, portal: Portal) -> None:
    dev = "70b3d57ed00000a2"
    qr = _qr(dev)
    token = _token(tom, "/portal/install")
    form = {"csrf_token": token, "qr": qr, "tenant_id": "", "codec": "milesight-em300-di", "name": "",
            "app_key": "12 34"}
    r = tom.post("/portal/install/register", data=form)
    assert r.status_code == 422
    assert 'id="app_key-error"' in r.text and "32 chiffres hexadécimaux" in r.text
    r = tom.post("/portal/install/register", data={**form, "app_key": KEY.replace(" ", ":")[:47]})
    # colons between the pairs are fine too: the key sheet's way of writing it
    assert r.status_code == 303 and r.headers["location"] == f"/portal/install/{dev}?registered=1"
    with portal.factory() as s:
        device = s.get(Device, dev)
        assert device is not None and device.codec_id == "milesight-em300-di"
    live = tom.get(r.headers["location"])
    assert "Capteur enregistré" in live.text and "En attente du premier message" in live.text
    assert "Points à vérifier" in live.text  # not joined, no uplink: reasons shown with their heading


def test_registration_replayed_with_its_idempotency_key_registers_once(tom: TestClient, portal: Portal) -> None:
    dev = "70b3d57ed00000a3"
    token = _token(tom, "/portal/install")
    form = {"csrf_token": token, "qr": _qr(dev), "tenant_id": "", "codec": "milesight-ws558", "name": "relais",
            "app_key": KEY}
    first = tom.post("/portal/install/register", data=form, headers={"Idempotency-Key": "k-reg-1"})
    again = tom.post("/portal/install/register", data=form, headers={"Idempotency-Key": "k-reg-1"})
    assert first.status_code == again.status_code == 303 and first.headers["location"] == again.headers["location"]
    with portal.factory() as s:
        assert s.scalar(select(func.count()).select_from(Device).where(Device.dev_eui == dev)) == 1
    # the same key with another form is not a replay: refused, said in the page's language
    other = tom.post("/portal/install/register", data={**form, "name": "autre"}, headers={"Idempotency-Key": "k-reg-1"})
    assert other.status_code == 422 and "a déjà servi pour un autre envoi" in other.text


def test_live_panel_one_row_per_gateway_and_verdict_on_latest_uplinks(tom: TestClient, portal: Portal) -> None:
    city = _city(portal)
    dev = "70b3d57ed00000b1"
    seed_device(portal, city, dev, "Sonde quai")
    with portal.factory() as s:  # joined: the session a join-accept leaves
        s.add(DeviceSession(dev_eui=dev, dev_addr="01020304", f_nwk_s_int_key_enc=b"x", s_nwk_s_int_key_enc=b"x",
                            nwk_s_enc_key_enc=b"x", app_s_key_enc=b"x", is_active=True))
        s.commit()
    now = portal.clock()
    # Six good uplinks heard by both gateways (SF9: margin = SNR + 12.5) ...
    seed_uplinks(portal, city, dev, [(now - timedelta(minutes=10 - i), 1.0) for i in range(6)],
                 gateways=((GW_A, -97.0, 4.1), (GW_B, -112.0, -3.0)))
    r = tom.get(f"/portal/install/{dev}/panel")
    rows = re.findall(r'<tr data-gateway="([0-9a-f]+)"', r.text)
    assert rows == [GW_A, GW_B]  # one row per gateway, best first (not one per uplink x gateway)
    assert "Mairie toit" in r.text and "Château d&#39;eau" in r.text
    assert 'data-verdict="go"' in r.text and "Points à vérifier" not in r.text  # all good: no empty heading
    assert "16,6" in r.text  # 4.1 + 12.5, French decimal comma
    # ... then the latest uplink barely heard: the verdict turns, whatever the best margin ever was
    seed_uplinks(portal, city, dev, [(now - timedelta(seconds=30), 1.0)], gateways=((GW_A, -118.0, -11.2),),
                 joined=False)
    r = tom.get(f"/portal/install/{dev}/panel")
    assert 'data-verdict="no_go"' in r.text
    assert "Marge radio de 1,3 dB sur les derniers messages" in r.text
    heard = re.search(rf'<tr data-gateway="{GW_B}" class="stale">', r.text)
    assert heard is not None  # the second gateway did not hear the latest uplink
    with logged_in(portal, "tom.en@city.test") as en:
        english = en.get(f"/portal/install/{dev}/panel").text
        assert "Link margin 1.3 dB on the latest uplinks" in english and "Marge" not in english


def _bind(client: TestClient, dev: str, token: str, **fields: str) -> object:
    return client.post(f"/portal/install/{dev}/bind", data={"csrf_token": token, **fields})


def test_bind_new_asset_with_position_and_photo_then_reference_conflicts(tom: TestClient, portal: Portal) -> None:
    city = _city(portal)
    dev, other = "70b3d57ed00000c1", "70b3d57ed00000c2"
    seed_device(portal, city, dev, "Relais 1", codec="milesight-ws558")
    seed_device(portal, city, other, "Relais 2", codec="milesight-ws558")
    token = _token(tom, f"/portal/install/{dev}/bind")
    png = b"\x89PNG\r\n\x1a\n" + b"p" * 64
    r = tom.post(f"/portal/install/{dev}/bind", data={
        "csrf_token": token, "external_ref": "CAND-0042", "name": "Candélabre place Jean-Jaurès", "kind": "pole",
        "latitude": "43,61092", "longitude": "3,87723", "address": "place Jean-Jaurès"},
        files={"photo": ("pole.png", png, "image/png")}, headers={"Idempotency-Key": "bind-1"})
    assert r.status_code == 303 and "/portal/install/assets/" in r.headers["location"]
    asset_url = r.headers["location"].split("?")[0]
    page = tom.get(r.headers["location"])
    assert "CAND-0042" in page.text and "43,610920, 3,877230" in page.text and 'id="asset-photo"' in page.text
    assert tom.get(asset_url + "/photo").content == png
    # replayed (the phone lost the answer): the same asset, one binding, one photo
    again = tom.post(f"/portal/install/{dev}/bind", data={
        "csrf_token": token, "external_ref": "CAND-0042", "name": "Candélabre place Jean-Jaurès", "kind": "pole",
        "latitude": "43,61092", "longitude": "3,87723", "address": "place Jean-Jaurès"},
        files={"photo": ("pole.png", png, "image/png")}, headers={"Idempotency-Key": "bind-1"})
    assert again.headers["location"] == r.headers["location"]
    with portal.factory() as s:
        assert s.scalar(select(func.count()).select_from(Asset).where(Asset.external_ref == "CAND-0042")) == 1
        assert s.scalar(select(func.count()).select_from(AssetDevice).where(AssetDevice.dev_eui == dev)) == 1
    # another device typed with the same reference: the asset is shown, never renamed
    r = _bind(tom, other, token, external_ref="CAND-0042", name="dup", kind="pole")
    assert r.status_code == 409 and 'data-code="asset_exists"' in r.text  # type: ignore[attr-defined]
    assert "Candélabre place Jean-Jaurès" in r.text and 'id="use-existing"' in r.text  # type: ignore[attr-defined]
    r = _bind(tom, other, token, external_ref="CAND-0042", name="dup", kind="pole", use_existing="true")
    assert r.status_code == 303  # type: ignore[attr-defined]
    with portal.factory() as s:
        asset = s.scalar(select(Asset).where(Asset.external_ref == "CAND-0042"))
        assert asset is not None and asset.name == "Candélabre place Jean-Jaurès"
    # the first device onto another asset: asks before moving it
    r = _bind(tom, dev, token, external_ref="CAND-0043", kind="pole")
    assert r.status_code == 409 and 'data-code="device_bound"' in r.text  # type: ignore[attr-defined]
    # found by reference and by position
    found = tom.get(f"/portal/install/{dev}/bind", params={"q": "cand-0042"})
    assert 'data-asset="' in found.text and "Poser ici" in found.text
    near = tom.get(f"/portal/install/{dev}/bind", params={"lat": "43.6110", "lon": "3.8772"})
    assert "CAND-0042" in near.text and "à 9 m" in near.text  # haversine, 0.00008° of latitude ≈ 9 m
    far = tom.get(f"/portal/install/{dev}/bind", params={"lat": "48.85", "lon": "2.35"})
    assert "Aucun équipement trouvé." in far.text


def test_swap_confirmation_family_check_and_readings_of_both_units(tom: TestClient, portal: Portal) -> None:
    city = _city(portal)
    old, same, pulse = "70b3d57ed00000d1", "70b3d57ed00000d2", "70b3d57ed00000d3"
    seed_device(portal, city, old, "Compteur ancien", codec="milesight-em300-di")
    seed_device(portal, city, same, "Compteur neuf", codec="adeunis-pulse")
    seed_device(portal, city, pulse, "Relais", codec="milesight-ws558")
    token = _token(tom, f"/portal/install/{old}/bind")
    r = _bind(tom, old, token, external_ref="CPT-9", kind="meter")
    asset_id = r.headers["location"].split("/assets/")[1].split("?")[0]  # type: ignore[attr-defined]
    now = portal.clock()
    seed_uplinks(portal, city, old, [(now + timedelta(minutes=1), 11.0)])
    # a street-light relay for a water meter: refused until forced
    confirm = tom.get(f"/portal/install/assets/{asset_id}/swap", params={"old": old, "new": pulse})
    assert 'id="old-unit"' in confirm.text and 'id="new-unit"' in confirm.text
    assert "Familles différentes (eau → éclairage public)" in confirm.text and 'id="force"' in confirm.text
    r = tom.post(f"/portal/install/assets/{asset_id}/swap", data={"csrf_token": token, "old": old, "new": pulse})
    assert r.status_code == 409
    # same family (water): confirmed
    portal.clock.now = now + timedelta(minutes=2)
    r = tom.post(f"/portal/install/assets/{asset_id}/swap", data={"csrf_token": token, "old": old, "new": same},
                 headers={"Idempotency-Key": "swap-1"})
    assert r.status_code == 303 and f"swapped={same}" in r.headers["location"]
    seed_uplinks(portal, city, same, [(now + timedelta(minutes=3), 12.0)], joined=False)
    page = tom.get(r.headers["location"])
    readings = re.search(r'<ul class="readings" id="asset-readings">(.*?)</ul>', page.text, re.S)
    assert readings is not None
    assert [d for d in re.findall(r'<li data-dev="([0-9a-f]+)"', readings[1])] == [same, old]
    assert "True" not in page.text and "False" not in page.text
    # another technician did not work on this asset: the page, without its readings
    with logged_in(portal, "tia@city.test") as tia:
        other = tia.get(f"/portal/install/assets/{asset_id}")
        assert other.status_code == 200 and 'id="asset-readings"' not in other.text
    portal.clock.now = now
