"""``lora-city import chirpstack`` against a gRPC server serving a fixed ChirpStack export (the stock
servicer classes): every field checked in lora_city's database, a second run changing nothing, a dry run
writing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from chirpstack_api import api, common
from sqlalchemy import func, select
from typer.testing import CliRunner

from lora_city.cli.chirpstack_import import run_import
from lora_city.cli.main import app as cli
from lora_city.codec.registry import CodecRegistry
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import (
    Application,
    Device,
    DeviceKeys,
    DeviceProfile,
    DeviceSession,
    Gateway,
    Tenant,
)
from tests.integration.grpc_api import fake_chirpstack as cs
from tests.integration.grpc_api.conftest import ADMIN, auth, build
from tests.support.schema import all_migration_locations

SECRET = "import-test-secret"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
JS_CODEC = "chirpstack-milesight-em300-th-bb000000"


@pytest.fixture()
def chirpstack() -> Iterator[str]:
    server, port = cs.serve()
    yield f"127.0.0.1:{port}"
    server.stop(0).wait()


@pytest.fixture()
def db(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _import(db: SessionFactory, url: str, codecs: Path, **kw: Any) -> Any:
    # page=1: every ChirpStack listing is read through its offset/limit paging.
    return run_import(db, KeyVault(SECRET), url, cs.TOKEN, codecs_dir=codecs, now=NOW, page=1, **kw)


def _snapshot(db: SessionFactory) -> dict[str, Any]:
    with db() as s:
        return {
            model.__tablename__: sorted(
                tuple(sorted((k, repr(v)) for k, v in vars(row).items() if not k.startswith("_")))
                for row in s.scalars(select(model))
            )
            for model in (Tenant, Application, DeviceProfile, Device, DeviceKeys, DeviceSession, Gateway)
        }


def test_import_carries_everything_field_by_field(db: SessionFactory, chirpstack: str, tmp_path: Path) -> None:
    codecs = tmp_path / "codecs"
    report = _import(db, chirpstack, codecs)
    assert dict(report.created) == {"tenant": 1, "application": 2, "device profile": 4, "codec": 2, "device": 2,
                                    "activation": 1, "gateway": 1}
    vault = KeyVault(SECRET)
    with db() as s:
        tenant = s.scalar(select(Tenant).where(Tenant.slug == "metropole-de-lyon"))
        assert tenant is not None and tenant.name == "Métropole de Lyon"
        # ChirpStack's tenant settings come along (and are enforced: storage/limits.py)
        assert (tenant.can_have_gateways, tenant.max_device_count) == (True, 500)
        apps = {a.name: a for a in s.scalars(select(Application).where(Application.tenant_id == tenant.id))}
        assert sorted(apps) == ["Eau", "Éclairage public"]
        assert apps["Éclairage public"].description == "lampadaires"

        profiles = {p.name: p for p in s.scalars(select(DeviceProfile).where(DeviceProfile.tenant_id == tenant.id))}
        # US915 is not carried over; a codec that does not load leaves its profile without a codec.
        assert sorted(profiles) == ["Broken codec", "Milesight EM300-TH", "Relais classe C", "Seuil"]
        assert profiles["Broken codec"].codec_id is None
        assert profiles["Seuil"].codec_id == "chirpstack-seuil-bb000000"
        js = profiles["Milesight EM300-TH"]
        assert (js.region, js.mac_version, js.device_class, js.supports_otaa, js.uplink_interval_s, js.codec_id) == (
            "EU868", "1.0.3", "A", True, 600, JS_CODEC)
        lpp = profiles["Relais classe C"]  # CAYENNE_LPP: the ChirpStack-shaped Cayenne codec by default
        assert (lpp.mac_version, lpp.device_class, lpp.supports_otaa, lpp.codec_id) == (
            "1.0.4", "C", False, "cayenne-lpp-chirpstack")

        otaa = s.get(Device, cs.OTAA_EUI)
        assert otaa is not None
        assert (otaa.tenant_id, otaa.application_id, otaa.device_profile_id) == (tenant.id, apps["Eau"].id, js.id)
        assert (otaa.name, otaa.description, otaa.join_eui, otaa.tags, otaa.is_disabled, otaa.dev_addr) == (
            "EM300 rue Garibaldi", "armoire 12", "24e124c0002a0001", {"quartier": "part-dieu"}, False, None)
        keys = s.get(DeviceKeys, cs.OTAA_EUI)
        assert keys is not None and keys.nwk_key_enc is None
        assert vault.decrypt(keys.app_key_enc, context=cs.OTAA_EUI.encode()).hex() == cs.APP_KEY  # from nwk_key
        assert s.scalar(select(func.count()).select_from(DeviceSession)
                        .where(DeviceSession.dev_eui == cs.OTAA_EUI)) == 0

        abp = s.get(Device, cs.ABP_EUI)
        assert abp is not None
        assert (abp.application_id, abp.device_profile_id, abp.dev_addr, abp.name) == (
            apps["Éclairage public"].id, lpp.id, "260b1c2d", "Relais pont Lafayette")
        assert s.get(DeviceKeys, cs.ABP_EUI) is None
        session = s.scalar(select(DeviceSession).where(DeviceSession.dev_eui == cs.ABP_EUI))
        assert session is not None and session.is_active
        assert (session.dev_addr, session.mac_version, session.f_cnt_up, session.n_f_cnt_down, session.a_f_cnt_down) \
            == ("260b1c2d", "1.0.4", 1234, 56, 0)
        ctx = cs.ABP_EUI.encode()
        for blob in (session.f_nwk_s_int_key_enc, session.s_nwk_s_int_key_enc, session.nwk_s_enc_key_enc):
            assert vault.decrypt(blob, context=ctx).hex() == cs.NWK_S_KEY
        assert vault.decrypt(session.app_s_key_enc, context=ctx).hex() == cs.APP_S_KEY
        assert s.get(Device, cs.US_EUI) is None

        gw = s.get(Gateway, cs.GATEWAY)
        assert gw is not None
        assert (gw.tenant_id, gw.name, gw.description, gw.latitude, gw.longitude, gw.altitude) == (
            tenant.id, "Hôtel de Ville", "toit", 45.7676, 4.8344, 180.0)
        assert (gw.private_up, gw.private_down) == (True, False)  # the ChirpStack tenant's flags

    # The codec script runs unmodified from the folder the registry loads.
    assert sorted(p.name for p in (codecs / JS_CODEC).iterdir()) == ["codec.js", "manifest.json"]
    assert (codecs / JS_CODEC / "codec.js").read_text() == cs.MILESIGHT_JS
    registry = CodecRegistry.load(codecs, entry_points=False)
    result = registry.decode_uplink(JS_CODEC, 85, bytes.fromhex("017564036710010468" "64"))
    assert result.errors == [] and result.data == {"battery": 100, "temperature": 27.2, "humidity": 50}

    lost = "\n".join(report.not_carried)
    for expected in ("application 'Eau': tags",
                     "device profile 'Milesight EM300-TH': device_status_req_interval",
                     "device profile 'US915 sensor': region US915 is not supported",
                     f"device {cs.US_EUI}: its device profile was not carried over",
                     f"device {cs.OTAA_EUI}: variables, app_key",
                     f"gateway {cs.GATEWAY}: tags, stats_interval",
                     "codec of device profile 'Broken codec' (the profile is imported without it)",
                     "codec of device profile 'Seuil': it reads device variables"):
        assert expected in lost, (expected, report.not_carried)
    assert len(report.not_carried) == 8


def test_second_run_changes_nothing(db: SessionFactory, chirpstack: str, tmp_path: Path) -> None:
    codecs = tmp_path / "codecs"
    first = _import(db, chirpstack, codecs)
    before = _snapshot(db)
    stamp = (codecs / JS_CODEC / "codec.js").stat().st_mtime_ns
    second = _import(db, chirpstack, codecs)
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    assert dict(second.matched) == {"tenant": 1, "application": 2, "device profile": 4, "codec": 2, "device": 2,
                                    "gateway": 1}
    assert _snapshot(db) == before
    assert (codecs / JS_CODEC / "codec.js").stat().st_mtime_ns == stamp
    assert second.not_carried == first.not_carried


def test_dry_run_writes_nothing(db: SessionFactory, chirpstack: str, tmp_path: Path) -> None:
    codecs = tmp_path / "codecs"
    before = _snapshot(db)
    report = _import(db, chirpstack, codecs, dry_run=True)
    assert dict(report.created) == {"tenant": 1, "application": 2, "device profile": 4, "codec": 2, "device": 2,
                                    "activation": 1, "gateway": 1}
    assert len(report.not_carried) == 8
    assert _snapshot(db) == before
    assert not codecs.exists()


def test_wrong_token_reads_nothing(db: SessionFactory, chirpstack: str, tmp_path: Path) -> None:
    before = _snapshot(db)
    with pytest.raises(grpc.RpcError) as err:
        run_import(db, KeyVault(SECRET), chirpstack, "wrong", codecs_dir=tmp_path / "c", now=NOW)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert _snapshot(db) == before


def test_cli_dry_run_then_import(chirpstack: str, tmp_path: Path) -> None:
    env = {"LORA_CITY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "LORA_CITY_SECRET_KEY": SECRET}
    args = ["import", "chirpstack", "--url", chirpstack, "--token", cs.TOKEN, "--codecs-dir", str(tmp_path / "c")]
    assert CliRunner().invoke(cli, ["migrate"], env=env).exit_code == 0  # the import writes into an existing one
    dry = CliRunner().invoke(cli, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.output and "devices               2 would create" in dry.output
    real = CliRunner().invoke(cli, args, env=env)
    assert real.exit_code == 0, real.output
    assert "devices               2 created" in real.output and "region US915 is not supported" in real.output
    engine = make_engine(env["LORA_CITY_DATABASE_URL"])
    with make_session_factory(engine)() as s:
        assert s.get(Device, cs.ABP_EUI) is not None
    engine.dispose()
    bad = CliRunner().invoke(cli, ["import", "chirpstack", "--url", chirpstack, "--token", "nope"], env=env)
    assert bad.exit_code == 2 and "UNAUTHENTICATED" in bad.output


def test_after_the_move_scripts_read_it_back_through_lora_citys_grpc_api(
    database_url: str, db: SessionFactory, chirpstack: str, tmp_path: Path,
) -> None:
    codecs = tmp_path / "codecs"
    _import(db, chirpstack, codecs)
    with contextmanager(build)(database_url, codecs=CodecRegistry.load(codecs, entry_points=False)) as lc:
        with db() as s:
            tenant_id = s.scalar(select(Tenant.id).where(Tenant.slug == "metropole-de-lyon"))
        profiles = lc.profiles.List(api.ListDeviceProfilesRequest(tenant_id=tenant_id, limit=10), metadata=auth(ADMIN))
        by_name = {p.name: p.id for p in profiles.result}
        got = lc.profiles.Get(api.GetDeviceProfileRequest(id=by_name["Milesight EM300-TH"]),
                              metadata=auth(ADMIN)).device_profile
        assert (got.payload_codec_runtime, got.payload_codec_script) == (api.JS, cs.MILESIGHT_JS)
        assert got.tags["lora_city_codec"] == JS_CODEC
        lpp = lc.profiles.Get(api.GetDeviceProfileRequest(id=by_name["Relais classe C"]),
                              metadata=auth(ADMIN)).device_profile
        assert (lpp.payload_codec_runtime, lpp.payload_codec_script, lpp.supports_class_c) == (api.CAYENNE_LPP, "", True)
        device = lc.devices.Get(api.GetDeviceRequest(dev_eui=cs.ABP_EUI), metadata=auth(ADMIN))
        assert device.class_enabled == common.CLASS_C
        activation = lc.devices.GetActivation(api.GetDeviceActivationRequest(dev_eui=cs.ABP_EUI),
                                              metadata=auth(ADMIN)).device_activation
        assert (activation.dev_addr, activation.f_cnt_up, activation.n_f_cnt_down) == ("260b1c2d", 1234, 56)


def test_named_tenants_only(db: SessionFactory, chirpstack: str, tmp_path: Path) -> None:
    listed = cs.Tenants.listed
    report = _import(db, chirpstack, tmp_path / "codecs", tenant_ids=[cs.TENANT])
    assert cs.Tenants.listed == listed  # a tenant key cannot list tenants: none was listed
    assert (report.created["tenant"], report.created["device"], report.created["gateway"]) == (1, 2, 1)
    with pytest.raises(grpc.RpcError) as err:
        _import(db, chirpstack, tmp_path / "codecs", tenant_ids=["00000000-0000-0000-0000-000000000000"])
    assert err.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]


def test_one_name_twice_in_a_tenant_stays_two_objects() -> None:
    from lora_city.migration.chirpstack import _unique_names

    names = _unique_names([("aa11bb22-0000", "Capteurs"), ("cc33dd44-0000", "Capteurs"), ("ee55-0000", "Eau")])
    assert names == {"aa11bb22-0000": "Capteurs (aa11bb22)", "cc33dd44-0000": "Capteurs (cc33dd44)",
                     "ee55-0000": "Eau"}


def test_a_tenant_that_cannot_be_created_takes_its_objects_along_in_the_report(
    db: SessionFactory, tmp_path: Path,
) -> None:
    from lora_city.migration.chirpstack import ChirpStackImporter
    from lora_city.migration.source import Export, TenantExport

    nameless = TenantExport(api.Tenant(id=cs.TENANT, name=""), applications=list(cs.APPLICATIONS),
                            gateways=list(cs.GATEWAYS))
    before = _snapshot(db)
    report = ChirpStackImporter(db, KeyVault(SECRET), codecs_dir=tmp_path, now=NOW).run(Export([nameless]))
    assert sum(report.created.values()) == 0
    assert report.not_carried[-1] == ("tenant '': so neither its 2 applications, 0 device profiles, 0 devices "
                                      "nor 1 gateways")
    assert any(line.startswith("tenant '': name:") for line in report.not_carried)
    assert _snapshot(db) == before
