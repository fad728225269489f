"""Authentication, API keys, Login, permissions and tenant isolation through the stock stubs."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from chirpstack_api import api, common

from lora_city.services.passwords import hash_password
from lora_city.storage.models import User
from tests.integration.grpc_api.conftest import ADMIN, Grpc, auth, code_of

PASSWORD = "correct horse battery"


def _raises(code: grpc.StatusCode, fn: object, request: object, token: str | None) -> None:
    with pytest.raises(grpc.RpcError) as err:
        fn(request, metadata=auth(token) if token is not None else None)  # type: ignore[operator]
    assert code_of(err) == code, err.value


def test_unauthenticated(cs: Grpc) -> None:
    req = api.ListTenantsRequest(limit=10)
    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.tenants.List, req, None)
    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.tenants.List, req, "not-a-key")
    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.tenants.List, req, "lck_0000_forged")
    with pytest.raises(grpc.RpcError) as basic:
        cs.tenants.List(req, metadata=[("authorization", f"Basic {ADMIN}")])
    assert code_of(basic) == grpc.StatusCode.UNAUTHENTICATED
    assert cs.tenants.List(req, metadata=auth(ADMIN)).total_count >= 0


def test_api_keys_create_list_delete(cs: Grpc) -> None:
    tenant = cs.tenant("Transports")
    created = cs.internal.CreateApiKey(api.CreateApiKeyRequest(api_key=api.ApiKey(
        name="script", tenant_id=tenant)), metadata=auth(ADMIN))
    viewer = cs.internal.CreateApiKey(api.CreateApiKeyRequest(api_key=api.ApiKey(
        name="dashboard", tenant_id=tenant, is_read_only=True)), metadata=auth(ADMIN))
    admin = cs.internal.CreateApiKey(api.CreateApiKeyRequest(api_key=api.ApiKey(
        name="ops", is_admin=True)), metadata=auth(ADMIN))

    listed = cs.internal.ListApiKeys(api.ListApiKeysRequest(tenant_id=tenant, limit=10), metadata=auth(ADMIN))
    assert listed.total_count == 2
    assert {(k.id, k.name, k.is_read_only, k.is_admin, k.tenant_id) for k in listed.result} == {
        (created.id, "script", False, False, tenant), (viewer.id, "dashboard", True, False, tenant)}
    admins = cs.internal.ListApiKeys(api.ListApiKeysRequest(is_admin=True, limit=10), metadata=auth(ADMIN))
    assert [k.id for k in admins.result] == [admin.id]

    # The tenant key works, sees only its tenant, and may manage its own tenant's keys but not create admins.
    own = cs.tenants.List(api.ListTenantsRequest(limit=10), metadata=auth(created.token))
    assert [t.id for t in own.result] == [tenant]
    _raises(grpc.StatusCode.PERMISSION_DENIED, cs.internal.CreateApiKey,
            api.CreateApiKeyRequest(api_key=api.ApiKey(name="x", is_admin=True)), created.token)
    _raises(grpc.StatusCode.INVALID_ARGUMENT, cs.internal.CreateApiKey,
            api.CreateApiKeyRequest(api_key=api.ApiKey(name="x", is_admin=True, is_read_only=True)), ADMIN)
    _raises(grpc.StatusCode.INVALID_ARGUMENT, cs.internal.CreateApiKey,
            api.CreateApiKeyRequest(api_key=api.ApiKey(name="no tenant")), ADMIN)

    cs.internal.DeleteApiKey(api.DeleteApiKeyRequest(id=created.id), metadata=auth(ADMIN))
    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.tenants.List, api.ListTenantsRequest(limit=1), created.token)
    after = cs.internal.ListApiKeys(api.ListApiKeysRequest(tenant_id=tenant, limit=10), metadata=auth(ADMIN))
    assert [k.id for k in after.result] == [viewer.id]
    _raises(grpc.StatusCode.NOT_FOUND, cs.internal.DeleteApiKey,
            api.DeleteApiKeyRequest(id="00000000-0000-0000-0000-000000000000"), ADMIN)


def test_login_returns_a_short_lived_token(cs: Grpc) -> None:
    tenant = cs.tenant("Parcs")
    with cs.factory() as s:
        s.add(User(tenant_id=tenant, email="jardinier@parcs.example", password_hash=hash_password(PASSWORD),
                   role="tenant_viewer"))
        s.commit()
    login = api.LoginRequest(email="Jardinier@Parcs.example", password=PASSWORD)
    jwt = cs.internal.Login(login).jwt
    assert [t.id for t in cs.tenants.List(api.ListTenantsRequest(limit=10), metadata=auth(jwt)).result] == [tenant]
    # The user's role holds: a viewer reads but does not write.
    _raises(grpc.StatusCode.PERMISSION_DENIED, cs.applications.Create, api.CreateApplicationRequest(
        application=api.Application(name="a", tenant_id=tenant)), jwt)
    # Login sessions are not API keys.
    listed = cs.internal.ListApiKeys(api.ListApiKeysRequest(tenant_id=tenant, limit=10), metadata=auth(ADMIN))
    assert listed.total_count == 0

    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.internal.Login,
            api.LoginRequest(email="jardinier@parcs.example", password="wrong password!"), None)
    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.internal.Login,
            api.LoginRequest(email="nobody@parcs.example", password=PASSWORD), None)
    cs.clock.now += timedelta(hours=13)
    _raises(grpc.StatusCode.UNAUTHENTICATED, cs.tenants.List, api.ListTenantsRequest(limit=1), jwt)


def _tenant_world(cs: Grpc, name: str, n: int) -> dict[str, str]:
    tenant = cs.tenant(name)
    app = cs.applications.Create(api.CreateApplicationRequest(application=api.Application(
        name=f"{name} app", tenant_id=tenant)), metadata=auth(ADMIN)).id
    profile = cs.profiles.Create(api.CreateDeviceProfileRequest(device_profile=api.DeviceProfile(
        tenant_id=tenant, name=f"{name} profile", region=common.EU868, mac_version=common.LORAWAN_1_0_3)),
        metadata=auth(ADMIN)).id
    dev_eui = f"00000000000000{n:02x}"
    cs.devices.Create(api.CreateDeviceRequest(device=api.Device(
        dev_eui=dev_eui, name="d", application_id=app, device_profile_id=profile)), metadata=auth(ADMIN))
    gateway = f"aa000000000000{n:02x}"
    cs.gateways.Create(api.CreateGatewayRequest(gateway=api.Gateway(gateway_id=gateway, name="g", tenant_id=tenant)),
                       metadata=auth(ADMIN))
    return {"tenant": tenant, "app": app, "profile": profile, "dev_eui": dev_eui, "gateway": gateway,
            "key": cs.key(tenant), "viewer": cs.key(tenant, read_only=True)}


def test_tenant_isolation_and_permissions(cs: Grpc) -> None:
    a, b = _tenant_world(cs, "Alpha", 1), _tenant_world(cs, "Beta", 2)
    key = a["key"]
    not_found = grpc.StatusCode.NOT_FOUND
    # Every read and write of B's objects with A's key: NOT_FOUND, never PERMISSION_DENIED (no existence oracle).
    for fn, request in [
        (cs.tenants.Get, api.GetTenantRequest(id=b["tenant"])),
        (cs.applications.Get, api.GetApplicationRequest(id=b["app"])),
        (cs.applications.Delete, api.DeleteApplicationRequest(id=b["app"])),
        (cs.profiles.Get, api.GetDeviceProfileRequest(id=b["profile"])),
        (cs.profiles.Delete, api.DeleteDeviceProfileRequest(id=b["profile"])),
        (cs.devices.Get, api.GetDeviceRequest(dev_eui=b["dev_eui"])),
        (cs.devices.Delete, api.DeleteDeviceRequest(dev_eui=b["dev_eui"])),
        (cs.devices.GetKeys, api.GetDeviceKeysRequest(dev_eui=b["dev_eui"])),
        (cs.devices.CreateKeys, api.CreateDeviceKeysRequest(device_keys=api.DeviceKeys(
            dev_eui=b["dev_eui"], nwk_key="00" * 16))),
        (cs.devices.GetActivation, api.GetDeviceActivationRequest(dev_eui=b["dev_eui"])),
        (cs.devices.GetRandomDevAddr, api.GetRandomDevAddrRequest(dev_eui=b["dev_eui"])),
        (cs.devices.GetQueue, api.GetDeviceQueueItemsRequest(dev_eui=b["dev_eui"])),
        (cs.devices.Enqueue, api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
            dev_eui=b["dev_eui"], f_port=1, data=b"\x00"))),
        (cs.devices.FlushQueue, api.FlushDeviceQueueRequest(dev_eui=b["dev_eui"])),
        (cs.gateways.Get, api.GetGatewayRequest(gateway_id=b["gateway"])),
        (cs.gateways.Delete, api.DeleteGatewayRequest(gateway_id=b["gateway"])),
        (cs.applications.Create, api.CreateApplicationRequest(application=api.Application(
            name="intrus", tenant_id=b["tenant"]))),
        (cs.devices.Create, api.CreateDeviceRequest(device=api.Device(
            dev_eui="00000000000000ff", name="x", application_id=b["app"], device_profile_id=a["profile"]))),
    ]:
        _raises(not_found, fn, request, key)
    # Lists show only A's objects, even when asked for B's tenant.
    assert [x.id for x in cs.applications.List(api.ListApplicationsRequest(limit=10), metadata=auth(key)).result] \
        == [a["app"]]
    assert cs.applications.List(api.ListApplicationsRequest(tenant_id=b["tenant"], limit=10),
                                metadata=auth(key)).total_count == 0
    assert [x.id for x in cs.profiles.List(api.ListDeviceProfilesRequest(limit=10), metadata=auth(key)).result] \
        == [a["profile"]]
    assert cs.devices.List(api.ListDevicesRequest(application_id=b["app"], limit=10),
                           metadata=auth(key)).total_count == 0
    assert [g.gateway_id for g in cs.gateways.List(api.ListGatewaysRequest(limit=10), metadata=auth(key)).result] \
        == [a["gateway"]]
    # B's objects are untouched.
    assert cs.devices.Get(api.GetDeviceRequest(dev_eui=b["dev_eui"]), metadata=auth(b["key"])).device.name == "d"

    # Permissions: a read-only key reads its tenant and may write nothing; a tenant key may not create tenants.
    viewer = a["viewer"]
    assert cs.devices.Get(api.GetDeviceRequest(dev_eui=a["dev_eui"]), metadata=auth(viewer)).device.name == "d"
    denied = grpc.StatusCode.PERMISSION_DENIED
    _raises(denied, cs.devices.Delete, api.DeleteDeviceRequest(dev_eui=a["dev_eui"]), viewer)
    _raises(denied, cs.gateways.Create, api.CreateGatewayRequest(gateway=api.Gateway(
        gateway_id="aa000000000000ff", name="g", tenant_id=a["tenant"])), viewer)
    _raises(denied, cs.tenants.Create, api.CreateTenantRequest(tenant=api.Tenant(name="Gamma")), key)
    _raises(denied, cs.internal.ListApiKeys, api.ListApiKeysRequest(tenant_id=a["tenant"], limit=10), viewer)


def test_methods_lora_city_does_not_offer_say_so(cs: Grpc) -> None:
    _raises(grpc.StatusCode.UNIMPLEMENTED, cs.devices.FlushDevNonces,
            api.FlushDevNoncesRequest(dev_eui="0000000000000001"), ADMIN)


def test_start_needs_a_listen_address(tmp_path: object) -> None:
    from lora_city.errors import ConfigurationError
    from lora_city.grpc_api import start_grpc_server
    from lora_city.settings import Settings
    from lora_city.storage.db import make_engine, make_session_factory
    from lora_city.storage.keys import KeyVault

    engine = make_engine("sqlite://")
    with pytest.raises(ConfigurationError, match="disabled"):
        start_grpc_server(Settings(grpc_listen=""), make_session_factory(engine), KeyVault("k"))
    engine.dispose()
