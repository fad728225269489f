"""DeviceService through the stock stubs: CRUD, write-only keys, ABP activation, the downlink queue."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from chirpstack_api import api, common
from google.protobuf.struct_pb2 import Struct
from sqlalchemy import select

from lora_city.storage.models import DeviceKeys, DeviceSession
from lora_city.uplink.dev_addr import belongs_to
from tests.integration.grpc_api.conftest import ADMIN, Grpc, auth, code_of, trailer

APP_KEY = "000102030405060708090a0b0c0d0e0f"
NWK_S_KEY = "101112131415161718191a1b1c1d1e1f"
APP_S_KEY = "202122232425262728292a2b2c2d2e2f"
DEV_EUI = "70b3d57ed0000001"


def _setup(cs: Grpc, *, class_c: bool = False) -> tuple[str, str, str]:
    tenant = cs.tenant("Voirie")
    app = cs.applications.Create(api.CreateApplicationRequest(application=api.Application(
        name="capteurs", tenant_id=tenant)), metadata=auth(ADMIN)).id
    profile = cs.profiles.Create(api.CreateDeviceProfileRequest(device_profile=api.DeviceProfile(
        tenant_id=tenant, name="p", region=common.EU868, mac_version=common.LORAWAN_1_0_3, supports_otaa=True,
        supports_class_c=class_c)), metadata=auth(ADMIN)).id
    return tenant, app, profile


def _create(cs: Grpc, app: str, profile: str, dev_eui: str = DEV_EUI, **kw: object) -> object:
    device = api.Device(dev_eui=dev_eui, name=f"dev {dev_eui[-2:]}", application_id=app, device_profile_id=profile,
                        **kw)  # type: ignore[arg-type]
    return cs.devices.Create.with_call(api.CreateDeviceRequest(device=device), metadata=auth(ADMIN))[1]


def test_device_crud_and_list(cs: Grpc) -> None:
    _, app, profile = _setup(cs)
    call = _create(cs, app, profile, description="pont Neuf", join_eui="70B3D57ED0000000",
                   tags={"rue": "quai"}, variables={"x": "1"}, skip_fcnt_check=True)
    assert sorted(trailer(call, "x-lora-city-ignored-fields")) == ["device.skip_fcnt_check", "device.variables"]
    for n in range(2, 5):
        _create(cs, app, profile, dev_eui=f"70b3d57ed000000{n}")

    got = cs.devices.Get(api.GetDeviceRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    d = got.device
    assert (d.dev_eui, d.name, d.description, d.application_id, d.device_profile_id, d.join_eui) == (
        DEV_EUI, "dev 01", "pont Neuf", app, profile, "70b3d57ed0000000")
    assert dict(d.tags) == {"rue": "quai"} and not d.is_disabled
    assert got.class_enabled == common.CLASS_A

    page = cs.devices.List(api.ListDevicesRequest(application_id=app, limit=2, offset=1), metadata=auth(ADMIN))
    assert page.total_count == 4
    assert [i.dev_eui for i in page.result] == ["70b3d57ed0000002", "70b3d57ed0000003"]
    assert page.result[0].device_profile_name == "p"
    tagged = cs.devices.List(api.ListDevicesRequest(application_id=app, limit=10, tags={"rue": "quai"}),
                             metadata=auth(ADMIN))
    assert [i.dev_eui for i in tagged.result] == [DEV_EUI]

    cs.devices.Update(api.UpdateDeviceRequest(device=api.Device(
        dev_eui=DEV_EUI, name="renamed", application_id=app, device_profile_id=profile, is_disabled=True)),
        metadata=auth(ADMIN))
    d = cs.devices.Get(api.GetDeviceRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN)).device
    assert (d.name, d.is_disabled, d.description) == ("renamed", True, "")

    with pytest.raises(grpc.RpcError) as dup:
        _create(cs, app, profile)
    assert code_of(dup) == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.RpcError) as bad:
        _create(cs, app, profile, dev_eui="70b3d57ed00000")
    assert code_of(bad) == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as no_app:
        _create(cs, "00000000-0000-0000-0000-000000000000", profile, dev_eui="70b3d57ed0000009")
    assert code_of(no_app) == grpc.StatusCode.NOT_FOUND

    cs.devices.Delete(api.DeleteDeviceRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as gone:
        cs.devices.Get(api.GetDeviceRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND
    assert cs.devices.List(api.ListDevicesRequest(application_id=app, limit=10), metadata=auth(ADMIN)).total_count == 3


def test_keys_are_write_only(cs: Grpc) -> None:
    _, app, profile = _setup(cs)
    _create(cs, app, profile)
    get = api.GetDeviceKeysRequest(dev_eui=DEV_EUI)
    with pytest.raises(grpc.RpcError) as none_yet:
        cs.devices.GetKeys(get, metadata=auth(ADMIN))
    assert code_of(none_yet) == grpc.StatusCode.NOT_FOUND

    # ChirpStack's convention: for LoRaWAN 1.0.x the AppKey travels in nwk_key.
    keys = api.DeviceKeys(dev_eui=DEV_EUI, nwk_key=APP_KEY, gen_app_key=NWK_S_KEY)
    _, call = cs.devices.CreateKeys.with_call(api.CreateDeviceKeysRequest(device_keys=keys), metadata=auth(ADMIN))
    assert trailer(call, "x-lora-city-ignored-fields") == ["device_keys.gen_app_key"]
    with cs.factory() as s:
        row = s.get(DeviceKeys, DEV_EUI)
        assert row is not None and row.nwk_key_enc is None
        assert cs.vault.decrypt(row.app_key_enc, context=DEV_EUI.encode()).hex() == APP_KEY

    with pytest.raises(grpc.RpcError) as hidden:
        cs.devices.GetKeys(get, metadata=auth(ADMIN))
    assert code_of(hidden) == grpc.StatusCode.PERMISSION_DENIED
    assert "write-only" in (hidden.value.details() or "")  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as again:
        cs.devices.CreateKeys(api.CreateDeviceKeysRequest(device_keys=keys), metadata=auth(ADMIN))
    assert code_of(again) == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.RpcError) as wrong_field:
        cs.devices.UpdateKeys(api.UpdateDeviceKeysRequest(device_keys=api.DeviceKeys(dev_eui=DEV_EUI,
                              app_key=APP_KEY)), metadata=auth(ADMIN))
    assert code_of(wrong_field) == grpc.StatusCode.INVALID_ARGUMENT

    cs.devices.UpdateKeys(api.UpdateDeviceKeysRequest(device_keys=api.DeviceKeys(dev_eui=DEV_EUI, nwk_key=NWK_S_KEY)),
                          metadata=auth(ADMIN))
    with cs.factory() as s:
        row = s.get(DeviceKeys, DEV_EUI)
        assert row is not None and cs.vault.decrypt(row.app_key_enc, context=DEV_EUI.encode()).hex() == NWK_S_KEY

    cs.devices.DeleteKeys(api.DeleteDeviceKeysRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as deleted:
        cs.devices.GetKeys(get, metadata=auth(ADMIN))
    assert code_of(deleted) == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as twice:
        cs.devices.DeleteKeys(api.DeleteDeviceKeysRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    assert code_of(twice) == grpc.StatusCode.NOT_FOUND


def test_abp_activation(cs: Grpc) -> None:
    _, app, profile = _setup(cs)
    _create(cs, app, profile)
    assert not cs.devices.GetActivation(api.GetDeviceActivationRequest(dev_eui=DEV_EUI),
                                        metadata=auth(ADMIN)).HasField("device_activation")
    random_addr = cs.devices.GetRandomDevAddr(api.GetRandomDevAddrRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    assert len(random_addr.dev_addr) == 8 and belongs_to(random_addr.dev_addr, "000000")
    activation = api.DeviceActivation(dev_eui=DEV_EUI, dev_addr="26011BDA", app_s_key=APP_S_KEY,
                                      nwk_s_enc_key=NWK_S_KEY, f_cnt_up=7, n_f_cnt_down=3)
    cs.devices.Activate(api.ActivateDeviceRequest(device_activation=activation), metadata=auth(ADMIN))
    with cs.factory() as s:
        session = s.scalar(select(DeviceSession).where(DeviceSession.dev_eui == DEV_EUI))
        assert session is not None and session.is_active and session.dev_addr == "26011bda"
        ctx = DEV_EUI.encode()
        assert cs.vault.decrypt(session.f_nwk_s_int_key_enc, context=ctx).hex() == NWK_S_KEY
        assert cs.vault.decrypt(session.nwk_s_enc_key_enc, context=ctx).hex() == NWK_S_KEY
        assert cs.vault.decrypt(session.app_s_key_enc, context=ctx).hex() == APP_S_KEY
        assert (session.f_cnt_up, session.n_f_cnt_down, session.mac_version) == (7, 3, "1.0.3")

    resp, call = cs.devices.GetActivation.with_call(api.GetDeviceActivationRequest(dev_eui=DEV_EUI),
                                                    metadata=auth(ADMIN))
    a = resp.device_activation
    assert (a.dev_addr, a.f_cnt_up, a.n_f_cnt_down, a.app_s_key, a.nwk_s_enc_key) == ("26011bda", 7, 3, "", "")
    assert sorted(trailer(call, "x-lora-city-withheld-fields")) == sorted(
        f"device_activation.{k}" for k in ("app_s_key", "nwk_s_enc_key", "s_nwk_s_int_key", "f_nwk_s_int_key"))

    with pytest.raises(grpc.RpcError) as missing:
        cs.devices.Activate(api.ActivateDeviceRequest(device_activation=api.DeviceActivation(
            dev_eui=DEV_EUI, dev_addr="26011BDA", app_s_key=APP_S_KEY)), metadata=auth(ADMIN))
    assert code_of(missing) == grpc.StatusCode.INVALID_ARGUMENT

    cs.devices.Deactivate(api.DeactivateDeviceRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    assert not cs.devices.GetActivation(api.GetDeviceActivationRequest(dev_eui=DEV_EUI),
                                        metadata=auth(ADMIN)).HasField("device_activation")


def test_queue_enqueue_list_flush(cs: Grpc) -> None:
    _, app, profile = _setup(cs, class_c=True)
    _create(cs, app, profile)
    item = api.DeviceQueueItem(dev_eui=DEV_EUI, f_port=10, data=b"\x01\x02", confirmed=True)
    first = cs.devices.Enqueue(api.EnqueueDeviceQueueItemRequest(queue_item=item), metadata=auth(ADMIN)).id
    cs.clock.now += timedelta(seconds=1)  # the queue is in enqueue order
    cs.devices.Enqueue(api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
        dev_eui=DEV_EUI, f_port=11, data=b"\xff")), metadata=auth(ADMIN))
    assert cs.notified == [DEV_EUI, DEV_EUI]  # class C: the network server is told at once

    queue = cs.devices.GetQueue(api.GetDeviceQueueItemsRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    assert queue.total_count == 2
    assert [(q.id == first, q.f_port, q.data, q.confirmed) for q in queue.result] == [
        (True, 10, b"\x01\x02", True), (False, 11, b"\xff", False)]
    count = cs.devices.GetQueue(api.GetDeviceQueueItemsRequest(dev_eui=DEV_EUI, count_only=True), metadata=auth(ADMIN))
    assert count.total_count == 2 and len(count.result) == 0

    obj = Struct()
    obj.update({"relay": True})
    with pytest.raises(grpc.RpcError) as no_codec:
        cs.devices.Enqueue(api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
            dev_eui=DEV_EUI, f_port=10, object=obj)), metadata=auth(ADMIN))
    assert code_of(no_codec) == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as bad_port:
        cs.devices.Enqueue(api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
            dev_eui=DEV_EUI, f_port=0, data=b"\x01")), metadata=auth(ADMIN))
    assert code_of(bad_port) == grpc.StatusCode.INVALID_ARGUMENT

    with pytest.raises(grpc.RpcError) as encrypted:
        cs.devices.Enqueue(api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
            dev_eui=DEV_EUI, f_port=10, data=b"\x01", is_encrypted=True, f_cnt_down=4)), metadata=auth(ADMIN))
    assert code_of(encrypted) == grpc.StatusCode.INVALID_ARGUMENT
    _, call = cs.devices.Enqueue.with_call(api.EnqueueDeviceQueueItemRequest(queue_item=api.DeviceQueueItem(
        dev_eui=DEV_EUI, f_port=12, data=b"\x02", f_cnt_down=9)), metadata=auth(ADMIN))
    assert trailer(call, "x-lora-city-ignored-fields") == ["queue_item.f_cnt_down"]
    assert cs.devices.GetQueue(api.GetDeviceQueueItemsRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN)).total_count == 3

    cs.devices.FlushQueue(api.FlushDeviceQueueRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN))
    assert cs.devices.GetQueue(api.GetDeviceQueueItemsRequest(dev_eui=DEV_EUI), metadata=auth(ADMIN)).total_count == 0
