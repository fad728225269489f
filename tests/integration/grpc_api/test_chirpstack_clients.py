"""What ChirpStack v4 clients rely on, through the stock ``chirpstack_api`` stubs (issue 22): JavaScript codecs
stored with profiles and run in QuickJS, tenant limits kept and enforced, updated_at, INVALID_ARGUMENT for a
malformed id, list order and order_by, a device created over HTTP seen with its profile, device and gateway
metrics, duty-cycle metrics, the next downlink frame counter, GetVersion and Settings, the live streams, the
ChirpStack-shaped Cayenne LPP both ways, a profile in use not deleted, and UNIMPLEMENTED without a traceback."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from chirpstack_api import api, common
from fastapi.testclient import TestClient
from google.protobuf.empty_pb2 import Empty
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from lora_city.api import create_app
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import CodecRegistry
from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.grpc_api import start_grpc_server
from lora_city.grpc_api.live import ServerLiveState
from lora_city.grpc_api.streams import EventStream, FrameStream
from lora_city.metrics import Metrics
from lora_city.network.server import NetworkServer
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import DeviceProfile, DeviceQueueItem, Event, Reading
from tests.integration.grpc_api.conftest import ADMIN, SECRET, auth, code_of
from tests.support.schema import all_migration_locations
from tests.unit.sinks.factories import device, uplink

pytestmark = pytest.mark.integration

SCRIPT_V1 = """
function decodeUplink(input) {
  return {data: {temperature: (input.bytes[0] << 8 | input.bytes[1]) / 10, port: input.fPort}};
}
"""
SCRIPT_V2 = """
function decodeUplink(input) { return {data: {celsius: (input.bytes[0] << 8 | input.bytes[1]) / 10}}; }
"""


@dataclass
class World:
    channel: grpc.Channel
    factory: SessionFactory
    registry: CodecRegistry
    server: NetworkServer
    live: ServerLiveState
    settings: Settings

    def stub(self, name: str) -> Any:
        return getattr(api, name)(self.channel)


@pytest.fixture()
def world(database_url: str) -> Iterator[World]:
    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    vault = KeyVault(SECRET)
    settings = Settings(database_url=database_url, admin_token=ADMIN, secret_key=SECRET, grpc_listen="127.0.0.1:0",
                        map_tile_url="https://tiles.example/{z}/{x}/{y}.png")
    catalogue = CatalogueCodecs(factory, JsLimits())
    registry = CodecRegistry.load(settings.codecs_path, entry_points=False, catalogue=catalogue)
    server = NetworkServer(settings, Metrics(), factory, vault, codecs=registry, preload=False)
    live = ServerLiveState(server, EventStream(), FrameStream())
    running = start_grpc_server(settings, factory, vault, codecs=registry, live=live, max_workers=6,
                                on_gateway_change=lambda gid: server.gateways.reload(factory, gid))
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield World(channel, factory, registry, server, live, settings)
    finally:
        channel.close()
        running.stop(0)
        engine.dispose()


def md() -> list[tuple[str, str]]:
    return auth(ADMIN)


def tenant(w: World, name: str = "Voirie", **settings: Any) -> str:
    return str(w.stub("TenantServiceStub").Create(api.CreateTenantRequest(tenant=api.Tenant(
        name=name, can_have_gateways=True, **settings)), metadata=md()).id)


def app(w: World, tenant_id: str, name: str = "capteurs") -> str:
    return str(w.stub("ApplicationServiceStub").Create(api.CreateApplicationRequest(application=api.Application(
        name=name, tenant_id=tenant_id)), metadata=md()).id)


def profile(w: World, tenant_id: str, name: str = "p", **kw: Any) -> str:
    return str(w.stub("DeviceProfileServiceStub").Create(api.CreateDeviceProfileRequest(
        device_profile=api.DeviceProfile(tenant_id=tenant_id, name=name, region=common.EU868,
                                         mac_version=common.LORAWAN_1_0_3, supports_otaa=True, **kw)),
        metadata=md()).id)


def device_(w: World, app_id: str, profile_id: str, dev_eui: str, name: str = "d") -> None:
    w.stub("DeviceServiceStub").Create(api.CreateDeviceRequest(device=api.Device(
        dev_eui=dev_eui, name=name, application_id=app_id, device_profile_id=profile_id)), metadata=md())


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def test_javascript_codec_is_stored_with_the_profile_and_runs(world: World) -> None:
    w = world
    t = tenant(w)
    profiles = w.stub("DeviceProfileServiceStub")
    pid = profile(w, t, payload_codec_runtime=api.JS, payload_codec_script=SCRIPT_V1)
    got = profiles.Get(api.GetDeviceProfileRequest(id=pid), metadata=md()).device_profile
    assert got.payload_codec_runtime == api.JS and got.payload_codec_script == SCRIPT_V1
    with w.factory() as s:
        row = s.get(DeviceProfile, pid)
        assert row is not None
        first = row.codec_id
    assert first is not None
    result = w.registry.decode_uplink(first, 2, bytes.fromhex("0110"))  # what the network server calls
    assert result.errors == [] and result.data == {"temperature": 27.2, "port": 2}
    # A changed script is a new version, used by the next uplink (the profile names it)
    profiles.Update(api.UpdateDeviceProfileRequest(device_profile=api.DeviceProfile(
        id=pid, tenant_id=t, name="p", region=common.EU868, mac_version=common.LORAWAN_1_0_3, supports_otaa=True,
        payload_codec_runtime=api.JS, payload_codec_script=SCRIPT_V2)), metadata=md())
    with w.factory() as s:
        row = s.get(DeviceProfile, pid)
        assert row is not None
        second = row.codec_id
    assert second != first and second is not None
    assert w.registry.decode_uplink(second, 2, bytes.fromhex("0110")).data == {"celsius": 27.2}
    with pytest.raises(grpc.RpcError) as broken:
        profile(w, t, name="broken", payload_codec_runtime=api.JS, payload_codec_script="function decodeUplink( {")
    assert code_of(broken) == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not load" in broken.value.details()  # type: ignore[attr-defined]
    # the script is the profile's own: another tenant's device, group or profile cannot name it over HTTP
    other = tenant(w, "Bailleur")
    http = TestClient(create_app(w.settings, w.factory, KeyVault(SECRET)), raise_server_exceptions=False)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    for path, body in (("/api/v1/devices", {"dev_eui": "70b3d57ed00000f1", "name": "x", "tenant_id": other,
                                             "codec": second}),
                       ("/api/v1/multicast-groups", {"name": "g", "tenant_id": other, "codec": second}),
                       ("/api/v1/device-profiles", {"name": "copie", "tenant_id": other, "codec_id": second})):
        r = http.post(path, headers=admin, json=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_codec", (path, r.text)
    # while the profile itself may name its own script again
    r = http.patch(f"/api/v1/device-profiles/{pid}", headers=admin, json={"codec_id": first})
    assert r.status_code == 200, r.text


def test_tenant_limits_are_kept_and_enforced_everywhere(world: World) -> None:
    w = world
    tenants, gateways = w.stub("TenantServiceStub"), w.stub("GatewayServiceStub")
    no_gw = str(tenants.Create(api.CreateTenantRequest(tenant=api.Tenant(
        name="Sans passerelle", can_have_gateways=False, max_device_count=1, description="bailleur",
        tags={"contrat": "2026-14"})), metadata=md()).id)
    got = tenants.Get(api.GetTenantRequest(id=no_gw), metadata=md()).tenant
    assert (got.can_have_gateways, got.max_device_count, got.description, dict(got.tags)) == (
        False, 1, "bailleur", {"contrat": "2026-14"})
    with pytest.raises(grpc.RpcError) as refused:
        gateways.Create(api.CreateGatewayRequest(gateway=api.Gateway(
            gateway_id="0016c001ff10a235", name="toit", tenant_id=no_gw)), metadata=md())
    assert code_of(refused) == grpc.StatusCode.PERMISSION_DENIED
    a, p = app(w, no_gw), profile(w, no_gw)
    device_(w, a, p, "70b3d57ed0000001")
    with pytest.raises(grpc.RpcError) as too_many:
        device_(w, a, p, "70b3d57ed0000002")
    assert code_of(too_many) == grpc.StatusCode.RESOURCE_EXHAUSTED
    # the same limits hold through the HTTP API
    http = TestClient(create_app(w.settings, w.factory, KeyVault(SECRET)), raise_server_exceptions=False)
    r = http.post("/api/v1/devices", headers={"Authorization": f"Bearer {ADMIN}"},
                  json={"dev_eui": "70b3d57ed0000003", "name": "x", "tenant_id": no_gw})
    assert r.status_code == 429 and r.json()["error"]["code"] == "tenant_max_devices"
    r = http.post("/api/v1/gateways", headers={"Authorization": f"Bearer {ADMIN}"},
                  json={"gateway_id": "0016c001ff10a236", "name": "x", "tenant_id": no_gw})
    assert r.status_code == 403 and r.json()["error"]["code"] == "tenant_no_gateways"
    # raising the limit through Update applies to the next device
    tenants.Update(api.UpdateTenantRequest(tenant=api.Tenant(id=no_gw, name="Sans passerelle",
                                                             max_device_count=2)), metadata=md())
    device_(w, a, p, "70b3d57ed0000002")


def test_tenant_private_gateways_apply_to_its_gateways_at_once(world: World) -> None:
    """ChirpStack's tenant private_gateways_up/down: the tenant's gateways carry only its own devices' uplinks
    and downlinks, from the next frame after the setting changes (gRPC or HTTP), whatever the gateway's own flag."""
    w = world
    tenants, gateways = w.stub("TenantServiceStub"), w.stub("GatewayServiceStub")
    owner = tenant(w, "Eau", private_gateways_up=True)
    other = tenant(w, "Voirie")
    gateways.Create(api.CreateGatewayRequest(gateway=api.Gateway(
        gateway_id="0016c001ff10a235", name="toit", tenant_id=owner)), metadata=md())
    directory = w.server.gateways
    assert directory.may_receive_for("0016c001ff10a235", owner)
    assert not directory.may_receive_for("0016c001ff10a235", other)
    assert directory.may_transmit_for("0016c001ff10a235", other)  # downlinks stay shared
    tenants.Update(api.UpdateTenantRequest(tenant=api.Tenant(
        id=owner, name="Eau", can_have_gateways=True, private_gateways_down=True)), metadata=md())
    assert directory.may_receive_for("0016c001ff10a235", other)
    assert not directory.may_transmit_for("0016c001ff10a235", other)
    http = TestClient(create_app(w.settings, w.factory, KeyVault(SECRET),
                                 on_gateway_change=lambda gid: directory.reload(w.factory, gid)),
                      raise_server_exceptions=False)
    r = http.patch(f"/api/v1/tenants/{owner}", headers={"Authorization": f"Bearer {ADMIN}"},
                   json={"private_gateways_down": False, "private_gateways_up": True})
    assert r.status_code == 200, r.text
    assert r.json()["private_gateways_up"] is True
    assert not directory.may_receive_for("0016c001ff10a235", other)
    assert directory.may_transmit_for("0016c001ff10a235", other)


def test_updated_at_moves_and_malformed_ids_are_invalid(world: World) -> None:
    w = world
    t = tenant(w)
    a, p = app(w, t), profile(w, t)
    device_(w, a, p, "70b3d57ed0000001")
    w.stub("GatewayServiceStub").Create(api.CreateGatewayRequest(gateway=api.Gateway(
        gateway_id="0016c001ff10a235", name="toit", tenant_id=t)), metadata=md())
    getters = {
        "tenant": lambda: w.stub("TenantServiceStub").Get(api.GetTenantRequest(id=t), metadata=md()),
        "application": lambda: w.stub("ApplicationServiceStub").Get(api.GetApplicationRequest(id=a), metadata=md()),
        "profile": lambda: w.stub("DeviceProfileServiceStub").Get(api.GetDeviceProfileRequest(id=p), metadata=md()),
        "device": lambda: w.stub("DeviceServiceStub").Get(api.GetDeviceRequest(dev_eui="70b3d57ed0000001"),
                                                          metadata=md()),
        "gateway": lambda: w.stub("GatewayServiceStub").Get(api.GetGatewayRequest(gateway_id="0016c001ff10a235"),
                                                            metadata=md()),
    }
    before = {k: g().updated_at.ToDatetime() for k, g in getters.items()}
    time.sleep(0.05)
    w.stub("TenantServiceStub").Update(api.UpdateTenantRequest(tenant=api.Tenant(
        id=t, name="Voirie 2", can_have_gateways=True)), metadata=md())
    w.stub("ApplicationServiceStub").Update(api.UpdateApplicationRequest(application=api.Application(
        id=a, name="capteurs 2", tenant_id=t)), metadata=md())
    w.stub("DeviceProfileServiceStub").Update(api.UpdateDeviceProfileRequest(device_profile=api.DeviceProfile(
        id=p, tenant_id=t, name="p2", region=common.EU868, mac_version=common.LORAWAN_1_0_3)), metadata=md())
    w.stub("DeviceServiceStub").Update(api.UpdateDeviceRequest(device=api.Device(
        dev_eui="70b3d57ed0000001", name="d2", application_id=a, device_profile_id=p)), metadata=md())
    w.stub("GatewayServiceStub").Update(api.UpdateGatewayRequest(gateway=api.Gateway(
        gateway_id="0016c001ff10a235", name="toit 2", tenant_id=t)), metadata=md())
    for kind, get in getters.items():
        got = get()
        assert got.updated_at.ToDatetime() > before[kind], kind
        assert got.created_at.ToDatetime() < got.updated_at.ToDatetime(), kind
    bad = [
        lambda: w.stub("TenantServiceStub").Get(api.GetTenantRequest(id="not-a-uuid"), metadata=md()),
        lambda: w.stub("ApplicationServiceStub").Get(api.GetApplicationRequest(id="123"), metadata=md()),
        lambda: w.stub("DeviceProfileServiceStub").Delete(api.DeleteDeviceProfileRequest(id="x"), metadata=md()),
        lambda: w.stub("DeviceServiceStub").Get(api.GetDeviceRequest(dev_eui="70b3"), metadata=md()),
        lambda: w.stub("GatewayServiceStub").Get(api.GetGatewayRequest(gateway_id="zz16c001ff10a235"),
                                                 metadata=md()),
        lambda: w.stub("DeviceServiceStub").List(api.ListDevicesRequest(application_id="nope", limit=1),
                                                 metadata=md()),
    ]
    for call in bad:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as missing:  # well-formed but absent: NOT_FOUND
        w.stub("TenantServiceStub").Get(api.GetTenantRequest(id="7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                                        metadata=md())
    assert code_of(missing) == grpc.StatusCode.NOT_FOUND


def test_list_order_and_order_by(world: World) -> None:
    w = world
    t = tenant(w)
    a = app(w, t)
    p_b, p_a = profile(w, t, name="B profile"), profile(w, t, name="A profile")
    for eui, name, prof in (("70b3d57ed0000003", "alpha", p_b), ("70b3d57ed0000001", "charlie", p_a),
                            ("70b3d57ed0000002", "bravo", p_b)):
        device_(w, a, prof, eui, name)
    devices = w.stub("DeviceServiceStub")

    def names(**kw: Any) -> list[str]:
        return [d.name for d in devices.List(api.ListDevicesRequest(application_id=a, limit=10, **kw),
                                             metadata=md()).result]

    assert names() == ["alpha", "bravo", "charlie"]  # by name, as ChirpStack
    assert names(order_by=api.ListDevicesRequest.DEV_EUI) == ["charlie", "bravo", "alpha"]
    assert names(order_by=api.ListDevicesRequest.DEV_EUI, order_by_desc=True) == ["alpha", "bravo", "charlie"]
    assert names(order_by=api.ListDevicesRequest.DEVICE_PROFILE_NAME) == ["charlie", "alpha", "bravo"]
    assert names(order_by_desc=True) == ["charlie", "bravo", "alpha"]
    tenants = [x.name for x in w.stub("TenantServiceStub").List(api.ListTenantsRequest(limit=100),
                                                                  metadata=md()).result]
    assert tenants == sorted(tenants, key=str.lower)


def test_device_created_over_http_has_a_profile_over_grpc(world: World) -> None:
    w = world
    t = tenant(w)
    http = TestClient(create_app(w.settings, w.factory, KeyVault(SECRET), codecs=w.registry),
                      raise_server_exceptions=False)
    r = http.post("/api/v1/devices", headers={"Authorization": f"Bearer {ADMIN}"}, json={
        "dev_eui": "70b3d57ed00000aa", "name": "compteur", "tenant_id": t, "codec": "milesight-em300-di"})
    assert r.status_code == 201, r.text
    got = w.stub("DeviceServiceStub").Get(api.GetDeviceRequest(dev_eui="70b3d57ed00000aa"), metadata=md()).device
    assert got.device_profile_id
    prof = w.stub("DeviceProfileServiceStub").Get(api.GetDeviceProfileRequest(id=got.device_profile_id),
                                                  metadata=md()).device_profile
    assert prof.tenant_id == t and prof.tags["lora_city_codec"] == "milesight-em300-di"
    # the profile keeps the MAC version the server assumed without one: 1.1 for a device with a NwkKey
    assert prof.mac_version == common.LORAWAN_1_0_3
    r = http.post("/api/v1/devices", headers={"Authorization": f"Bearer {ADMIN}"}, json={
        "dev_eui": "70b3d57ed00000ab", "name": "lampe", "tenant_id": t, "codec": "milesight-em300-di",
        "app_key": "2b7e151628aed2a6abf7158809cf4f3c", "nwk_key": "000102030405060708090a0b0c0d0e0f"})
    assert r.status_code == 201, r.text
    got = w.stub("DeviceServiceStub").Get(api.GetDeviceRequest(dev_eui="70b3d57ed00000ab"), metadata=md()).device
    prof = w.stub("DeviceProfileServiceStub").Get(api.GetDeviceProfileRequest(id=got.device_profile_id),
                                                  metadata=md()).device_profile
    assert prof.mac_version == common.LORAWAN_1_1_0


def test_metrics_from_stored_readings(world: World) -> None:
    """Readings written as the store sink writes them; the expected figures computed here by hand."""
    w = world
    t = tenant(w)
    a, p = app(w, t), profile(w, t)
    device_(w, a, p, "70b3d57ed0000001")
    w.stub("GatewayServiceStub").Create(api.CreateGatewayRequest(gateway=api.Gateway(
        gateway_id="0016c001ff10a235", name="toit", tenant_id=t)), metadata=md())
    from lora_city.sinks.store import reading_row

    base = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    dev = device(dev_eui="70b3d57ed0000001", tenant_id=t)
    rows = []
    for i, (minutes, value) in enumerate(((5, 10.0), (20, 20.0), (70, 30.0))):  # two in hour 10, one in hour 11
        event = uplink(i, dev, time=base + timedelta(minutes=minutes), measurements={"volume": (value, "m3"),
                                                                                  "leak": (i == 2, None)})
        rows.append(reading_row(event))
    with transaction(w.factory) as s:
        for row in rows:
            s.add(Reading(**row))
        s.add(Event(tenant_id=t, dev_eui="70b3d57ed0000001", gateway_id="0016c001ff10a235", kind="txack",
                    time=base + timedelta(minutes=6), body={"txInfo": {
                        "frequency": 869525000, "modulation": {"lora": {"bandwidth": 125000,
                                                                        "spreadingFactor": 12}}}}))
    window = {"start": ts(base), "end": ts(base + timedelta(hours=3)), "aggregation": common.HOUR}
    got = w.stub("DeviceServiceStub").GetMetrics(api.GetDeviceMetricsRequest(dev_eui="70b3d57ed0000001", **window),
                                                 metadata=md())
    volume = got.metrics["volume"]
    assert [x.ToDatetime() for x in volume.timestamps] == [datetime(2026, 12, 1, h) for h in (10, 11, 12)]
    assert list(volume.datasets[0].data) == [15.0, 30.0, 0.0]
    assert got.states["leak"].value == "true"  # the last value of the flag
    link = w.stub("DeviceServiceStub").GetLinkMetrics(api.GetDeviceLinkMetricsRequest(
        dev_eui="70b3d57ed0000001", **window), metadata=md())
    assert list(link.rx_packets.datasets[0].data) == [2.0, 1.0, 0.0]
    assert list(link.gw_snr.datasets[0].data) == [4.5, 4.5, 0.0]  # the best gateway of each uplink (factories)
    assert {d.label: list(d.data) for d in link.rx_packets_per_dr.datasets} == {"3": [2.0, 1.0, 0.0]}
    gw = w.stub("GatewayServiceStub").GetMetrics(api.GetGatewayMetricsRequest(
        gateway_id="0016c001ff10a235", **window), metadata=md())
    assert list(gw.rx_packets.datasets[0].data) == [2.0, 1.0, 0.0]
    assert list(gw.tx_packets.datasets[0].data) == [1.0, 0.0, 0.0]
    assert {d.label: list(d.data) for d in gw.tx_packets_per_dr.datasets} == {"0": [1.0, 0.0, 0.0]}
    day = w.stub("DeviceServiceStub").GetMetrics(api.GetDeviceMetricsRequest(
        dev_eui="70b3d57ed0000001", start=ts(base), end=ts(base + timedelta(days=1)), aggregation=common.DAY),
        metadata=md())
    # a Paris day starts at 23:00 UTC in winter
    assert day.metrics["volume"].timestamps[0].ToDatetime() == datetime(2026, 11, 30, 23, 0)


def test_duty_cycle_next_f_cnt_down_version_settings(world: World) -> None:
    w = world
    t = tenant(w)
    a, p = app(w, t), profile(w, t)
    device_(w, a, p, "70b3d57ed0000001")
    w.stub("GatewayServiceStub").Create(api.CreateGatewayRequest(gateway=api.Gateway(
        gateway_id="0016c001ff10a235", name="toit", tenant_id=t)), metadata=md())
    w.server.duty_cycle.record("0016c001ff10a235", 868_100_000, 18.0)  # 18 s in g1 (1 %): half of 36 s
    duty = w.stub("GatewayServiceStub").GetDutyCycleMetrics(api.GetGatewayDutyCycleMetricsRequest(
        gateway_id="0016c001ff10a235", start=ts(datetime.now(UTC) - timedelta(hours=1)), end=ts(datetime.now(UTC))),
        metadata=md())
    used = {d.label: d.data[0] for d in duty.window_percentage.datasets}
    limits = {d.label: d.data[0] for d in duty.max_load_percentage.datasets}
    assert used["g1"] == pytest.approx(0.5) and used["g3"] == 0.0  # 18 s of 3600 s
    assert limits["g1"] == pytest.approx(1.0) and limits["g3"] == pytest.approx(10.0)  # RP002-1.0.4 §2.4.3
    devices = w.stub("DeviceServiceStub")
    with pytest.raises(grpc.RpcError) as none:
        devices.GetNextFCntDown(api.GetDeviceNextFCntDownRequest(dev_eui="70b3d57ed0000001"), metadata=md())
    assert code_of(none) == grpc.StatusCode.NOT_FOUND  # not activated
    devices.Activate(api.ActivateDeviceRequest(device_activation=api.DeviceActivation(
        dev_eui="70b3d57ed0000001", dev_addr="26011f00", app_s_key="2b7e151628aed2a6abf7158809cf4f3c",
        nwk_s_enc_key="2b7e151628aed2a6abf7158809cf4f3c", n_f_cnt_down=41)), metadata=md())
    got = devices.GetNextFCntDown(api.GetDeviceNextFCntDownRequest(dev_eui="70b3d57ed0000001"), metadata=md())
    assert got.f_cnt_down == 41
    internal = w.stub("InternalServiceStub")
    version = internal.GetVersion(Empty(), metadata=md()).version
    from lora_city import __version__

    assert version == f"lora_city {__version__}"
    settings = internal.Settings(Empty(), metadata=md())
    assert settings.tileserver_url == "https://tiles.example/{z}/{x}/{y}.png"
    assert not settings.openid_connect.enabled and not settings.oauth2.enabled


def test_live_streams(world: World) -> None:
    w = world
    t = tenant(w)
    a, p = app(w, t), profile(w, t)
    device_(w, a, p, "70b3d57ed0000001")
    w.stub("GatewayServiceStub").Create(api.CreateGatewayRequest(gateway=api.Gateway(
        gateway_id="0016c001ff10a235", name="toit", tenant_id=t)), metadata=md())
    internal = w.stub("InternalServiceStub")
    events = internal.StreamDeviceEvents(api.StreamDeviceEventsRequest(dev_eui="70b3d57ed0000001"), metadata=md())
    frames = internal.StreamGatewayFrames(api.StreamGatewayFramesRequest(gateway_id="0016c001ff10a235"),
                                          metadata=md())
    got: dict[str, Any] = {}

    def read(name: str, stream: Any) -> None:
        got[name] = next(stream)

    readers = [threading.Thread(target=read, args=("event", events)), threading.Thread(target=read,
                                                                                      args=("frame", frames))]
    for r in readers:
        r.start()
    deadline = time.monotonic() + 10
    while not (w.live.events.wanted("70b3d57ed0000001") and w.live.frames.wanted("0016c001ff10a235")):
        assert time.monotonic() < deadline, "the streams never subscribed"
        time.sleep(0.02)
    w.live.events.submit(uplink(7, device(dev_eui="70b3d57ed0000001", tenant_id=t)))
    w.live.frames.uplink(UplinkFrame(bytes.fromhex("40011f0026800700"), LoRaModulation(868_100_000, 7, 125_000),
                                     RxInfo("0016c001ff10a235", 99, -80.0, 7.5), Transport.MQTT_PROTOBUF))
    for r in readers:
        r.join(10)
    events.cancel()
    frames.cancel()
    assert got["event"].description == "up" and json.loads(got["event"].body)["fCnt"] == 7
    assert got["event"].properties["fCnt"] == "7"
    assert got["frame"].description == "up" and json.loads(got["frame"].body)["rxInfo"]["uplinkId"] == 99
    with pytest.raises(grpc.RpcError) as other:  # another tenant's device: not found, before any streaming
        key = str(w.stub("InternalServiceStub").CreateApiKey(api.CreateApiKeyRequest(api_key=api.ApiKey(
            name="k", tenant_id=tenant(w, "Autre"))), metadata=md()).token)
        next(internal.StreamDeviceEvents(api.StreamDeviceEventsRequest(dev_eui="70b3d57ed0000001"),
                                         metadata=auth(key)))
    assert code_of(other) == grpc.StatusCode.NOT_FOUND


def test_cayenne_lpp_both_ways_in_chirpstacks_shape(world: World) -> None:
    w = world
    t = tenant(w)
    a, p = app(w, t), profile(w, t, payload_codec_runtime=api.CAYENNE_LPP)
    device_(w, a, p, "70b3d57ed0000001")
    with w.factory() as s:
        row = s.get(DeviceProfile, p)
        assert row is not None
        codec_id = row.codec_id
    assert codec_id is not None
    # myDevices documentation example: channel 3 temperature 27.2 °C, channel 5 25.5 °C
    decoded = w.registry.decode_uplink(codec_id, 1, bytes.fromhex("03670110056700ff"))
    assert decoded.data == {"temperatureSensor": {"3": 27.2, "5": 25.5}}
    obj = Struct()
    obj.update({"digitalOutput": {"3": 1}})
    w.stub("DeviceServiceStub").Enqueue(api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
        dev_eui="70b3d57ed0000001", f_port=1, object=obj)), metadata=md())
    with w.factory() as s:
        [item] = s.scalars(select(DeviceQueueItem)).all()
    assert bytes(item.payload) == bytes.fromhex("030101")


def test_profile_in_use_is_not_deleted(world: World) -> None:
    w = world
    t = tenant(w)
    a, p = app(w, t), profile(w, t)
    device_(w, a, p, "70b3d57ed0000001")
    device_(w, a, p, "70b3d57ed0000002")
    profiles = w.stub("DeviceProfileServiceStub")
    with pytest.raises(grpc.RpcError) as in_use:
        profiles.Delete(api.DeleteDeviceProfileRequest(id=p), metadata=md())
    assert code_of(in_use) == grpc.StatusCode.FAILED_PRECONDITION
    assert "2 device(s)" in in_use.value.details()  # type: ignore[attr-defined]
    http = TestClient(create_app(w.settings, w.factory, KeyVault(SECRET)), raise_server_exceptions=False)
    r = http.delete(f"/api/v1/device-profiles/{p}", headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "profile_in_use"
    assert "2 device(s)" in r.json()["error"]["message"]
    for eui in ("70b3d57ed0000001", "70b3d57ed0000002"):
        w.stub("DeviceServiceStub").Delete(api.DeleteDeviceRequest(dev_eui=eui), metadata=md())
    profiles.Delete(api.DeleteDeviceProfileRequest(id=p), metadata=md())
    with w.factory() as s:
        assert s.get(DeviceProfile, p) is None


def test_unimplemented_answers_without_a_traceback(world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    with caplog.at_level(logging.DEBUG):
        for call in (lambda: w.stub("InternalServiceStub").GlobalSearch(api.GlobalSearchRequest(search="x"),
                                                                       metadata=md()),
                     lambda: w.stub("InternalServiceStub").ListRegions(Empty(), metadata=md())):
            with pytest.raises(grpc.RpcError) as err:
                call()
            assert code_of(err) == grpc.StatusCode.UNIMPLEMENTED
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]
