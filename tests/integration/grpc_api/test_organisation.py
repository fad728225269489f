"""Tenants, applications, device profiles, gateways through the stock ChirpStack stubs."""

from __future__ import annotations

import grpc
import pytest
from chirpstack_api import api, common

from tests.integration.grpc_api.conftest import ADMIN, Grpc, auth, code_of, trailer

IGNORED = "x-lora-city-ignored-fields"


def test_tenant_create_get_list_update_delete(cs: Grpc) -> None:
    resp, call = cs.tenants.Create.with_call(
        api.CreateTenantRequest(tenant=api.Tenant(name="Eau de Paris", can_have_gateways=True, max_device_count=50)),
        metadata=auth(ADMIN),
    )
    assert trailer(call, IGNORED) == []  # ChirpStack's tenant settings are kept
    got = cs.tenants.Get(api.GetTenantRequest(id=resp.id), metadata=auth(ADMIN))
    assert (got.tenant.id, got.tenant.name) == (resp.id, "Eau de Paris")
    assert got.tenant.can_have_gateways and got.tenant.max_device_count == 50
    assert got.created_at.seconds > 0

    listed = cs.tenants.List(api.ListTenantsRequest(limit=10, search="eau"), metadata=auth(ADMIN))
    assert listed.total_count == 1 and [t.name for t in listed.result] == ["Eau de Paris"]
    everything = cs.tenants.List(api.ListTenantsRequest(limit=10), metadata=auth(ADMIN))
    assert "Eau de Paris" in [t.name for t in everything.result]

    _, plain = cs.tenants.Update.with_call(
        api.UpdateTenantRequest(tenant=api.Tenant(id=resp.id, name="Eau de Paris SA")), metadata=auth(ADMIN))
    assert trailer(plain, IGNORED) == []
    assert cs.tenants.Get(api.GetTenantRequest(id=resp.id), metadata=auth(ADMIN)).tenant.name == "Eau de Paris SA"

    with pytest.raises(grpc.RpcError) as dup:
        # The slug made from the first name stays the tenant's; a second "Eau de Paris" would clash with it.
        cs.tenants.Create(api.CreateTenantRequest(tenant=api.Tenant(name="Eau  de Paris")), metadata=auth(ADMIN))
    assert code_of(dup) == grpc.StatusCode.ALREADY_EXISTS

    cs.tenants.Delete(api.DeleteTenantRequest(id=resp.id), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as gone:
        cs.tenants.Get(api.GetTenantRequest(id=resp.id), metadata=auth(ADMIN))
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND


def test_application_crud_and_paging(cs: Grpc) -> None:
    tenant = cs.tenant("Lumière")
    ids = [
        cs.applications.Create(api.CreateApplicationRequest(application=api.Application(
            name=f"app {i}", description=f"d{i}", tenant_id=tenant)), metadata=auth(ADMIN)).id
        for i in range(3)
    ]
    got = cs.applications.Get(api.GetApplicationRequest(id=ids[1]), metadata=auth(ADMIN)).application
    assert (got.name, got.description, got.tenant_id) == ("app 1", "d1", tenant)

    page = cs.applications.List(api.ListApplicationsRequest(tenant_id=tenant, limit=2, offset=1), metadata=auth(ADMIN))
    assert page.total_count == 3 and [a.name for a in page.result] == ["app 1", "app 2"]

    _, call = cs.applications.Update.with_call(api.UpdateApplicationRequest(application=api.Application(
        id=ids[0], name="street lights", description="", tenant_id=tenant, tags={"k": "v"})), metadata=auth(ADMIN))
    assert trailer(call, IGNORED) == ["application.tags"]
    assert cs.applications.Get(api.GetApplicationRequest(id=ids[0]), metadata=auth(ADMIN)).application.name == \
        "street lights"

    cs.applications.Delete(api.DeleteApplicationRequest(id=ids[0]), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as gone:
        cs.applications.Delete(api.DeleteApplicationRequest(id=ids[0]), metadata=auth(ADMIN))
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as bad:
        cs.applications.Create(api.CreateApplicationRequest(application=api.Application(name="", tenant_id=tenant)),
                               metadata=auth(ADMIN))
    assert code_of(bad) == grpc.StatusCode.INVALID_ARGUMENT


def _profile(tenant: str, **kw: object) -> api.DeviceProfile:
    fields: dict[str, object] = dict(
        tenant_id=tenant, name="Milesight EM300", region=common.EU868, mac_version=common.LORAWAN_1_0_3,
        reg_params_revision=common.RP002_1_0_3, adr_algorithm_id="default", supports_otaa=True,
        uplink_interval=600,
    )
    fields.update(kw)
    return api.DeviceProfile(**fields)  # type: ignore[arg-type]


def test_device_profile_crud_and_reported_fields(cs: Grpc) -> None:
    tenant = cs.tenant("Assainissement")
    resp, call = cs.profiles.Create.with_call(api.CreateDeviceProfileRequest(device_profile=_profile(
        tenant, supports_class_c=True, supports_class_b=True, payload_codec_runtime=api.JS,
        payload_codec_script="function decodeUplink(input) { return {data: {}}; }", abp_rx1_delay=1,
    )), metadata=auth(ADMIN))
    assert sorted(trailer(call, IGNORED)) == sorted([
        "device_profile.supports_class_b", "device_profile.abp_rx1_delay",
    ])
    got = cs.profiles.Get(api.GetDeviceProfileRequest(id=resp.id), metadata=auth(ADMIN)).device_profile
    assert (got.name, got.tenant_id, got.region, got.mac_version) == (
        "Milesight EM300", tenant, common.EU868, common.LORAWAN_1_0_3)
    assert got.supports_class_c and got.supports_otaa and got.uplink_interval == 600
    # the JavaScript codec is stored with the profile (tests/integration/grpc_api/test_chirpstack_clients.py runs it)
    assert got.payload_codec_runtime == api.JS
    assert got.payload_codec_script == "function decodeUplink(input) { return {data: {}}; }"

    _, call = cs.profiles.Update.with_call(api.UpdateDeviceProfileRequest(device_profile=_profile(
        tenant, id=resp.id, name="EM300 v2", mac_version=common.LORAWAN_1_0_4,
        payload_codec_runtime=api.CAYENNE_LPP)), metadata=auth(ADMIN))
    assert trailer(call, IGNORED) == []
    got = cs.profiles.Get(api.GetDeviceProfileRequest(id=resp.id), metadata=auth(ADMIN)).device_profile
    assert (got.name, got.mac_version, got.supports_class_c) == ("EM300 v2", common.LORAWAN_1_0_4, False)
    assert got.payload_codec_runtime == api.CAYENNE_LPP and got.tags["lora_city_codec"] == "cayenne-lpp-chirpstack"

    listed = cs.profiles.List(api.ListDeviceProfilesRequest(tenant_id=tenant, limit=10), metadata=auth(ADMIN))
    assert listed.total_count == 1 and listed.result[0].name == "EM300 v2"

    for bad in (_profile(tenant, region=common.US915), _profile(tenant, mac_version=common.LORAWAN_1_0_0)):
        with pytest.raises(grpc.RpcError) as refused:
            cs.profiles.Create(api.CreateDeviceProfileRequest(device_profile=bad), metadata=auth(ADMIN))
        assert code_of(refused) == grpc.StatusCode.INVALID_ARGUMENT

    cs.profiles.Delete(api.DeleteDeviceProfileRequest(id=resp.id), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as gone:
        cs.profiles.Get(api.GetDeviceProfileRequest(id=resp.id), metadata=auth(ADMIN))
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND


def test_gateway_crud(cs: Grpc) -> None:
    tenant = cs.tenant("Ville Réseau")
    gw = api.Gateway(gateway_id="0016C001FF10A235", name="Mairie", description="toit",
                     location=common.Location(latitude=48.85, longitude=2.35, altitude=35.0),
                     tenant_id=tenant, stats_interval=30, tags={"site": "mairie"})
    _, call = cs.gateways.Create.with_call(api.CreateGatewayRequest(gateway=gw), metadata=auth(ADMIN))
    assert sorted(trailer(call, IGNORED)) == ["gateway.stats_interval", "gateway.tags"]
    got = cs.gateways.Get(api.GetGatewayRequest(gateway_id="0016c001ff10a235"), metadata=auth(ADMIN))
    g = got.gateway
    assert (g.gateway_id, g.name, g.description, g.tenant_id) == ("0016c001ff10a235", "Mairie", "toit", tenant)
    assert (g.location.latitude, g.location.longitude, g.location.altitude) == (48.85, 2.35, 35.0)
    assert not got.HasField("last_seen_at")

    with pytest.raises(grpc.RpcError) as dup:
        cs.gateways.Create(api.CreateGatewayRequest(gateway=gw), metadata=auth(ADMIN))
    assert code_of(dup) == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.RpcError) as bad:
        cs.gateways.Create(api.CreateGatewayRequest(gateway=api.Gateway(gateway_id="zz", name="x", tenant_id=tenant)),
                           metadata=auth(ADMIN))
    assert code_of(bad) == grpc.StatusCode.INVALID_ARGUMENT

    listed = cs.gateways.List(api.ListGatewaysRequest(tenant_id=tenant, limit=10), metadata=auth(ADMIN))
    assert listed.total_count == 1
    item = listed.result[0]
    assert (item.gateway_id, item.name, item.state) == ("0016c001ff10a235", "Mairie", api.NEVER_SEEN)

    cs.gateways.Delete(api.DeleteGatewayRequest(gateway_id="0016c001ff10a235"), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as gone:
        cs.gateways.Get(api.GetGatewayRequest(gateway_id="0016c001ff10a235"), metadata=auth(ADMIN))
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND
    assert cs.gateways.List(api.ListGatewaysRequest(tenant_id=tenant, limit=10), metadata=auth(ADMIN)).total_count == 0
