"""Bulk CSV import: 10,000 rows, every bad row reported with its line, all or nothing; and the CLI form."""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from lora_city.cli.main import app as cli
from lora_city.codec.registry import CodecRegistry
from lora_city.settings import Settings
from lora_city.storage.models import Device, DeviceKeys
from tests.integration.api.conftest import Api, build_api

KEY = "2b7e151628aed2a6abf7158809cf4f3c"


def csv_rows(n: int, start: int = 0) -> str:
    lines = ["dev_eui,name,join_eui,app_key,device_class,latitude,longitude"]
    lines += [f"{i:016x},meter {i},70b3d57ed0000000,{KEY},A,48.85,2.35" for i in range(start, start + n)]
    return "\n".join(lines) + "\n"


def _count(api: Api, model: type) -> int:
    with api.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_ten_thousand_rows(api: Api) -> None:
    r = api.call("POST", "/devices/import", files={"file": ("d.csv", csv_rows(10_000), "text/csv")}, expect=200)
    assert r.json()["imported"] == 10_000 and r.json()["dry_run"] is False
    assert _count(api, Device) == 10_000 and _count(api, DeviceKeys) == 10_000
    with api.factory() as s:
        keys = s.get(DeviceKeys, f"{1234:016x}")
        assert keys is not None
        assert api.vault.decrypt(keys.app_key_enc, context=f"{1234:016x}".encode()).hex() == KEY
    listed = api.call("GET", "/devices", params={"limit": 1000, "after": f"{9499:016x}"}, expect=200).json()
    assert len(listed["items"]) == 500 and listed["next_after"] is None


def test_every_bad_row_reported_and_nothing_imported(api: Api) -> None:
    api.call("POST", "/devices", json={"dev_eui": f"{7:016x}", "name": "already"}, expect=201)
    text = csv_rows(5) + "\n".join([
        "zz,bad eui,,,,,",
        f"{100:016x},,,,,,",
        f"{101:016x},bad key,,1234,,,",
        f"{102:016x},bad class,,,D,,",
        f"{103:016x},bad lat,,,,91,",
        f"{1:016x},repeat,,,,,",
        f"{7:016x},exists,,,,,",
        f"{104:016x},extra,,,,,,surplus",
    ]) + "\n"
    r = api.call("POST", "/devices/import", files={"file": ("d.csv", text, "text/csv")}, expect=422).json()
    assert r["error"]["code"] == "import_rejected"
    lines = {d["line"]: d["reason"] for d in r["error"]["details"]}
    assert sorted(lines) == [7, 8, 9, 10, 11, 12, 13, 14]
    assert "dev_eui" in lines[7] and "name" in lines[8] and "app_key" in lines[9] and "device_class" in lines[10]
    assert "latitude" in lines[11] and "line 3" in lines[12] and "already registered" in lines[13]
    assert "more fields" in lines[14]
    assert _count(api, Device) == 1  # only the one registered before


def test_header_problems_and_dry_run(api: Api) -> None:
    r = api.call("POST", "/devices/import", files={"file": ("d.csv", "name,colour\nx,red\n", "text/csv")},
                 expect=422).json()
    assert r["error"]["details"][0]["line"] == 1 and "dev_eui" in r["error"]["details"][0]["reason"]
    r = api.call("POST", "/devices/import", params={"dry_run": True},
                 files={"file": ("d.csv", csv_rows(3), "text/csv")}, expect=200).json()
    assert (r["imported"], r["dry_run"], r["separator"]) == (3, True, ",") and _count(api, Device) == 0
    assert r["mapping"]["dev_eui"] == "dev_eui" and r["mapping"]["longitude"] == "longitude"
    # 0x81 and 0x8D are undefined in Windows-1252 and invalid in UTF-8: no reading of these bytes is text
    r = api.call("POST", "/devices/import", files={"file": ("d.csv", b"dev_eui,name\n\x81\x8d,x\n", "text/csv")},
                 expect=422)
    assert r.json()["error"]["code"] == "invalid_encoding"


def test_every_problem_of_every_line_is_reported(database_url: str) -> None:
    """Issue 21: a line with a bad EUI and an unknown codec showed one error; now each, with its field."""
    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    with contextlib.contextmanager(build_api)(database_url, codecs) as api:
        _every_problem(api)


def _every_problem(api: Api) -> None:
    text = "dev_eui,name,codec,device_class,latitude,app_key\n" \
           "nothex,,no-such-codec,D,95,123\n" \
           f"{200:016x},fine,,A,45.7,{KEY}\n"
    r = api.call("POST", "/devices/import", files={"file": ("d.csv", text, "text/csv")}, expect=422).json()
    problems = {(d["line"], d["field"]) for d in r["error"]["details"]}
    assert problems == {(2, "dev_eui"), (2, "name"), (2, "codec"), (2, "device_class"), (2, "latitude"),
                        (2, "app_key")}
    assert r["error"]["message"] == "6 problem(s) on 1 line(s); nothing imported"


def test_a_french_excel_file_with_semicolons_and_french_column_names(api: Api) -> None:
    """What Excel writes for "CSV (séparateur : point-virgule)" on a French Windows: ';', Windows-1252 bytes,
    decimal commas, and the columns people name in French."""
    tenant = api.call("POST", "/tenants", json={"name": "Régie des eaux", "slug": "regie-eaux"}, expect=201).json()
    text = ("DevEUI;Nom;AppKey;Classe;Latitude;Longitude;Locataire\r\n"
            f"70B3D57ED0000A01;Compteur rue de l'Église;{KEY};A;45,7640;4,8357;regie-eaux\r\n"
            f"70B3D57ED0000A02;Compteur quai Saône;{KEY};C;45,7500;4,8500;REGIE-EAUX\r\n").encode("cp1252")
    dry = api.call("POST", "/devices/import", params={"dry_run": True},
                   files={"file": ("compteurs.csv", text, "text/csv")}, expect=200).json()
    assert dry["separator"] == ";" and dry["imported"] == 2
    assert dry["mapping"] == {"DevEUI": "dev_eui", "Nom": "name", "AppKey": "app_key", "Classe": "device_class",
                              "Latitude": "latitude", "Longitude": "longitude", "Locataire": "tenant"}
    api.call("POST", "/devices/import", files={"file": ("compteurs.csv", text, "text/csv")}, expect=200)
    device = api.call("GET", "/devices/70b3d57ed0000a01", expect=200).json()
    assert device["name"] == "Compteur rue de l'Église" and device["tenant_id"] == tenant["id"]
    assert device["latitude"] == 45.764
    # Excel's "Unicode text": UTF-16 with its byte-order mark, tab-separated
    unicode_text = f"Dev EUI\tName\tapp_key\n{300:016x}\tcapteur été\t{KEY}\n".encode("utf-16")
    r = api.call("POST", "/devices/import", files={"file": ("u.txt", unicode_text, "text/plain")}, expect=200)
    assert r.json()["separator"] == "\t" and r.json()["mapping"]["Dev EUI"] == "dev_eui"
    unknown = api.call("POST", "/devices/import", files={"file": ("d.csv", "DevEUI;Nom;Adresse\nx;y;z\n", "text/csv")},
                       expect=422).json()
    assert "Adresse" in unknown["error"]["details"][0]["reason"]


def test_cli_import_devices_csv(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"LORA_CITY_DATABASE_URL": url, "LORA_CITY_SECRET_KEY": "s"}
    good = tmp_path / "devices.csv"
    good.write_text(csv_rows(50))
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0  # import never creates the database itself
    result = runner.invoke(cli, ["import", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "imported 50 devices" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_rows(2, start=100) + "nothex,x,,,,,\n")
    result = runner.invoke(cli, ["import", "devices", str(bad)], env=env)
    assert result.exit_code == 1
    assert f"{bad}:4: dev_eui must be 16 hex digits" in result.output.replace("\n", "")
    result = runner.invoke(cli, ["import", str(good)], env=env)  # all 50 exist now
    assert result.exit_code == 1 and "already registered" in result.output
