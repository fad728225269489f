"""ChirpStack's MulticastGroupService through the stock ``chirpstack_api`` stubs (issue 22), over lora_city's
multicast groups: a group given ChirpStack's session keys, its devices, its queue and frame counter, the
tenant rules, and what lora_city refuses or reports."""

from __future__ import annotations

import base64
from datetime import timedelta

import grpc
import pytest
from chirpstack_api import api, common
from google.protobuf.timestamp_pb2 import Timestamp

from lora_city.errors import InvalidInput
from lora_city.fuota.service import CampaignCreate, create_campaign
from lora_city.services.principal import Principal, Role
from lora_city.storage.models import MulticastGroup
from lora_city.storage.multicast import group_key_context
from tests.integration.grpc_api.conftest import ADMIN, Grpc, auth, code_of, trailer

pytestmark = pytest.mark.integration

WITHHELD = "x-lora-city-withheld-fields"
IGNORED = "x-lora-city-ignored-fields"
NWK = "2b7e151628aed2a6abf7158809cf4f3c"
APP = "000102030405060708090a0b0c0d0e0f"


def _setup(cs: Grpc, name: str = "Voirie") -> tuple[str, str, str]:
    tenant = cs.tenant(name)
    app = str(cs.applications.Create(api.CreateApplicationRequest(application=api.Application(
        name="éclairage", tenant_id=tenant)), metadata=auth(ADMIN)).id)
    profile = str(cs.profiles.Create(api.CreateDeviceProfileRequest(device_profile=api.DeviceProfile(
        tenant_id=tenant, name="lampe", region=common.EU868, mac_version=common.LORAWAN_1_0_4, supports_otaa=True,
        supports_class_c=True)), metadata=auth(ADMIN)).id)
    return tenant, app, profile


def _group(app: str, **kw: object) -> api.MulticastGroup:
    fields: dict[str, object] = {"name": "avenue Foch", "application_id": app, "region": common.EU868,
                                 "mc_addr": "01f0a0b1", "mc_nwk_s_key": NWK, "mc_app_s_key": APP,
                                 "group_type": api.CLASS_C, "dr": 0, "frequency": 869_525_000}
    fields.update(kw)
    return api.MulticastGroup(**fields)


def test_group_lifecycle_with_chirpstack_session_keys(cs: Grpc) -> None:
    tenant, app, profile = _setup(cs)
    for eui in ("70b3d57ed0000001", "70b3d57ed0000002"):
        cs.devices.Create(api.CreateDeviceRequest(device=api.Device(
            dev_eui=eui, name=f"lampe {eui[-1]}", application_id=app, device_profile_id=profile)), metadata=auth(ADMIN))
    groups = api.MulticastGroupServiceStub(cs.channel)
    created, call = groups.Create.with_call(api.CreateMulticastGroupRequest(multicast_group=_group(
        app, f_cnt=10)), metadata=auth(ADMIN))
    assert trailer(call, IGNORED) == []
    gid = created.id

    # the keys are kept as given (encrypted), no McKey is invented, and they are never returned
    with cs.factory() as s:
        row = s.get(MulticastGroup, gid)
        assert row is not None and row.tenant_id == tenant and row.mc_key_enc is None
        ctx = group_key_context(gid)
        assert cs.vault.decrypt(row.mc_nwk_s_key_enc, context=ctx).hex() == NWK
        assert cs.vault.decrypt(row.mc_app_s_key_enc, context=ctx).hex() == APP
    got, call = groups.Get.with_call(api.GetMulticastGroupRequest(id=gid), metadata=auth(ADMIN))
    g = got.multicast_group
    assert (g.name, g.application_id, g.mc_addr, g.f_cnt, g.group_type, g.dr, g.frequency) == (
        "avenue Foch", app, "01f0a0b1", 10, api.CLASS_C, 0, 869_525_000)
    assert (g.mc_nwk_s_key, g.mc_app_s_key) == ("", "")
    assert sorted(trailer(call, WITHHELD)) == ["multicast_group.mc_app_s_key", "multicast_group.mc_nwk_s_key"]

    for eui in ("70b3d57ed0000001", "70b3d57ed0000002"):
        groups.AddDevice(api.AddDeviceToMulticastGroupRequest(multicast_group_id=gid, dev_eui=eui),
                         metadata=auth(ADMIN))
    listed = groups.List(api.ListMulticastGroupsRequest(application_id=app, dev_eui="70b3d57ed0000002", limit=10),
                         metadata=auth(ADMIN))
    assert listed.total_count == 1 and listed.result[0].id == gid
    assert listed.result[0].application_name == "éclairage"
    assert groups.List(api.ListMulticastGroupsRequest(search="nowhere", limit=10),
                       metadata=auth(ADMIN)).total_count == 0

    # each item takes the group's next frame counter, answered by Enqueue
    counters = [groups.Enqueue(api.EnqueueMulticastGroupQueueItemRequest(queue_item=api.MulticastGroupQueueItem(
        multicast_group_id=gid, f_port=10, data=data)), metadata=auth(ADMIN)).f_cnt for data in (b"\x01", b"\x02")]
    assert counters == [10, 11]
    queue = groups.ListQueue(api.ListMulticastGroupQueueRequest(multicast_group_id=gid), metadata=auth(ADMIN))
    assert [(i.f_cnt, i.f_port, i.data) for i in queue.items] == [(10, 10, b"\x01"), (11, 10, b"\x02")]
    assert queue.items[0].expires_at.seconds > 0
    groups.FlushQueue(api.FlushMulticastGroupQueueRequest(multicast_group_id=gid), metadata=auth(ADMIN))
    assert list(groups.ListQueue(api.ListMulticastGroupQueueRequest(multicast_group_id=gid),
                                 metadata=auth(ADMIN)).items) == []

    # Update: class B with its periodicity; updated_at moves
    cs.clock.now += timedelta(minutes=5)
    groups.Update(api.UpdateMulticastGroupRequest(multicast_group=_group(
        app, id=gid, name="avenue Foch (B)", group_type=api.CLASS_B, class_b_ping_slot_periodicity=5, dr=3,
        frequency=869_525_000, f_cnt=12)), metadata=auth(ADMIN))
    got = groups.Get(api.GetMulticastGroupRequest(id=gid), metadata=auth(ADMIN))
    g = got.multicast_group
    assert (g.name, g.group_type, g.class_b_ping_slot_periodicity, g.dr, g.f_cnt) == (
        "avenue Foch (B)", api.CLASS_B, 5, 3, 12)
    assert got.updated_at.ToDatetime() > got.created_at.ToDatetime()

    groups.RemoveDevice(api.RemoveDeviceFromMulticastGroupRequest(multicast_group_id=gid, dev_eui="70b3d57ed0000001"),
                        metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as gone:
        groups.RemoveDevice(api.RemoveDeviceFromMulticastGroupRequest(multicast_group_id=gid,
                                                                      dev_eui="70b3d57ed0000001"), metadata=auth(ADMIN))
    assert code_of(gone) == grpc.StatusCode.NOT_FOUND

    # a group without McKey cannot be set up remotely (TS005): a FUOTA campaign on it is refused, not broken
    with cs.factory() as s, pytest.raises(InvalidInput) as refused:
        create_campaign(s, Principal(Role.ADMIN, None), CampaignCreate(
            name="fw", tenant_id=tenant, image_base64=base64.b64encode(b"firmware" * 10).decode(),
            multicast_group_id=gid), max_image_bytes=1 << 20, now=cs.clock.now)
    assert refused.value.code == "group_without_mc_key"

    groups.Delete(api.DeleteMulticastGroupRequest(id=gid), metadata=auth(ADMIN))
    with pytest.raises(grpc.RpcError) as deleted:
        groups.Get(api.GetMulticastGroupRequest(id=gid), metadata=auth(ADMIN))
    assert code_of(deleted) == grpc.StatusCode.NOT_FOUND


def test_group_input_errors_and_tenant_isolation(cs: Grpc) -> None:
    _tenant, app, _profile = _setup(cs)
    groups = api.MulticastGroupServiceStub(cs.channel)
    gid = groups.Create(api.CreateMulticastGroupRequest(multicast_group=_group(app)), metadata=auth(ADMIN)).id
    past = Timestamp()
    past.FromDatetime(cs.clock.now - timedelta(hours=1))
    bad = [
        lambda: groups.Create(api.CreateMulticastGroupRequest(multicast_group=_group(app, mc_addr="xyz")),
                              metadata=auth(ADMIN)),
        lambda: groups.Create(api.CreateMulticastGroupRequest(multicast_group=_group(app, mc_addr="01f0a0c1",
                                                                                     mc_app_s_key="")),
                              metadata=auth(ADMIN)),
        lambda: groups.Create(api.CreateMulticastGroupRequest(multicast_group=_group(app, application_id="nope")),
                              metadata=auth(ADMIN)),
        lambda: groups.Create(api.CreateMulticastGroupRequest(multicast_group=_group(
            app, mc_addr="01f0a0c2", region=common.US915)), metadata=auth(ADMIN)),
        lambda: groups.Get(api.GetMulticastGroupRequest(id="not-a-uuid"), metadata=auth(ADMIN)),
        lambda: groups.AddDevice(api.AddDeviceToMulticastGroupRequest(multicast_group_id=gid, dev_eui="70b3"),
                                 metadata=auth(ADMIN)),
        lambda: groups.Enqueue(api.EnqueueMulticastGroupQueueItemRequest(queue_item=api.MulticastGroupQueueItem(
            multicast_group_id=gid, f_port=10, data=b"\x01", expires_at=past)), metadata=auth(ADMIN)),
        lambda: groups.Enqueue(api.EnqueueMulticastGroupQueueItemRequest(queue_item=api.MulticastGroupQueueItem(
            multicast_group_id=gid, f_port=10, data=b"\x00" * 60)), metadata=auth(ADMIN)),  # DR0 carries 51
    ]
    for attempt in bad:
        with pytest.raises(grpc.RpcError) as err:
            attempt()
        assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT, err.value
    with pytest.raises(grpc.RpcError) as taken:
        groups.Create(api.CreateMulticastGroupRequest(multicast_group=_group(app, name="autre")),
                      metadata=auth(ADMIN))
    assert code_of(taken) == grpc.StatusCode.ALREADY_EXISTS  # the same McAddr

    # another tenant's key neither sees nor changes the group, nor adds its own devices to it
    other = cs.tenant("Eau")
    key = cs.key(other)
    for attempt in (
        lambda: groups.Get(api.GetMulticastGroupRequest(id=gid), metadata=auth(key)),
        lambda: groups.Enqueue(api.EnqueueMulticastGroupQueueItemRequest(queue_item=api.MulticastGroupQueueItem(
            multicast_group_id=gid, f_port=10, data=b"\x01")), metadata=auth(key)),
        lambda: groups.Delete(api.DeleteMulticastGroupRequest(id=gid), metadata=auth(key)),
    ):
        with pytest.raises(grpc.RpcError) as hidden:
            attempt()
        assert code_of(hidden) == grpc.StatusCode.NOT_FOUND
    assert groups.List(api.ListMulticastGroupsRequest(limit=10), metadata=auth(key)).total_count == 0
    # gateways are lora_city's choice: UNIMPLEMENTED, answered cleanly
    with pytest.raises(grpc.RpcError) as unimplemented:
        groups.AddGateway(api.AddGatewayToMulticastGroupRequest(multicast_group_id=gid,
                                                                gateway_id="0016c001ff10a235"), metadata=auth(ADMIN))
    assert code_of(unimplemented) == grpc.StatusCode.UNIMPLEMENTED
