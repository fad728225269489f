"""MulticastGroupService: groups, their devices and their queue, over lora_city's multicast groups (issue 24).

ChirpStack gives a group its session keys (``mc_nwk_s_key``, ``mc_app_s_key``): they are stored encrypted as
given and, like every key in lora_city, never returned (``Get`` names them in ``x-lora-city-withheld-fields``).
Such a group has no McKey, so no TS005 remote setup. A group belongs to its application's tenant. ``AddGateway``
and ``RemoveGateway`` are not offered (lora_city picks the gateways that heard the members); class C
``GPS_TIME`` scheduling is reported as ignored (lora_city sends class C groups at once). An enqueued item takes
the group's next frame counter, which ``Enqueue`` answers; ``expires_at`` bounds how long it may wait.
"""

from __future__ import annotations

from typing import Any

from chirpstack_api import common
from chirpstack_api.api import multicast_group_pb2 as pb
from chirpstack_api.api import multicast_group_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty
from sqlalchemy import select

from lora_city.errors import InvalidInput
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import (
    eui_id,
    matches,
    optional_uuid,
    region,
    timestamp,
    uuid_id,
    walk,
    window,
)
from lora_city.services import multicast as svc
from lora_city.services.applications import get_application
from lora_city.services.common import as_utc
from lora_city.storage.models import MulticastGroup, MulticastGroupDevice

_FIELDS = {"id", "name", "application_id", "region", "mc_addr", "mc_nwk_s_key", "mc_app_s_key", "f_cnt",
           "group_type", "dr", "frequency", "class_b_ping_slot_periodicity"}
_CLASS = {pb.CLASS_C: "C", pb.CLASS_B: "B"}
_KEYS = ("mc_nwk_s_key", "mc_app_s_key")
MAX_EXPIRY_S = 7 * 86400


def _fields(call: Call, g: pb.MulticastGroup) -> dict[str, Any]:
    """GroupFields values of a ChirpStack group (the region must be EU868)."""
    region(g.region)
    supported = set(_FIELDS)
    if g.class_c_scheduling_type == pb.DELAY:
        supported.add("class_c_scheduling_type")
    call.ignore(g, supported, "multicast_group")
    if g.group_type not in _CLASS:
        raise InvalidInput("group_type must be CLASS_B or CLASS_C", code="invalid_group_class")
    return {"name": g.name, "group_class": _CLASS[g.group_type], "dr": g.dr, "frequency": g.frequency or None,
            "ping_slot_periodicity": g.class_b_ping_slot_periodicity}


def _message(group: MulticastGroup) -> pb.MulticastGroup:
    return pb.MulticastGroup(
        id=group.id, name=group.name, application_id=group.application_id or "", region=common.EU868,
        mc_addr=group.mc_addr, f_cnt=group.f_cnt,
        group_type=pb.CLASS_B if group.group_class == "B" else pb.CLASS_C, dr=group.dr, frequency=group.frequency,
        class_b_ping_slot_periodicity=group.ping_slot_periodicity, class_c_scheduling_type=pb.DELAY,
    )


def _keys(g: pb.MulticastGroup) -> tuple[str, str] | None:
    if not g.mc_nwk_s_key and not g.mc_app_s_key:
        return None
    if not (g.mc_nwk_s_key and g.mc_app_s_key):
        raise InvalidInput("give both mc_nwk_s_key and mc_app_s_key", code="invalid_mc_key")
    return g.mc_nwk_s_key, g.mc_app_s_key


class MulticastGroupService(Handler, pb_grpc.MulticastGroupServiceServicer):  # type: ignore[misc]
    @rpc
    def Create(self, call: Call, request: pb.CreateMulticastGroupRequest) -> pb.CreateMulticastGroupResponse:
        g = request.multicast_group
        application_id = uuid_id(g.application_id, "multicast_group.application_id")
        tenant = get_application(call.session, call.principal, application_id).tenant_id
        keys = _keys(g)
        data = svc.GroupCreate(
            tenant_id=tenant, application_id=application_id, mc_addr=g.mc_addr or None,
            mc_nwk_s_key=keys[0] if keys else None, mc_app_s_key=keys[1] if keys else None, **_fields(call, g))
        view = svc.create_group(call.session, call.principal, call.deps.vault, data, net_id=call.deps.net_id,
                                codecs=call.deps.codecs, now=call.now)
        if g.f_cnt:  # a group moved from ChirpStack goes on from its frame counter
            view.group.f_cnt = g.f_cnt
            call.session.commit()
        return pb.CreateMulticastGroupResponse(id=view.group.id)

    @rpc
    def Get(self, call: Call, request: pb.GetMulticastGroupRequest) -> pb.GetMulticastGroupResponse:
        group = svc.get_group(call.session, call.principal, uuid_id(request.id)).group
        call.withheld.extend(f"multicast_group.{k}" for k in _KEYS)
        return pb.GetMulticastGroupResponse(multicast_group=_message(group), created_at=timestamp(group.created_at),
                                            updated_at=timestamp(group.updated_at))

    @rpc
    def Update(self, call: Call, request: pb.UpdateMulticastGroupRequest) -> Empty:
        g = request.multicast_group
        group_id = uuid_id(g.id, "multicast_group.id")
        fields = _fields(call, g)
        if g.application_id:
            fields["application_id"] = uuid_id(g.application_id, "multicast_group.application_id")
        view = svc.update_group(call.session, call.principal, group_id, svc.GroupFields(**fields),
                                codecs=call.deps.codecs, now=call.now)
        group = view.group
        if g.mc_addr and g.mc_addr.lower() != group.mc_addr:
            call.ignored.append("multicast_group.mc_addr")  # fixed at creation (the keys may derive from it)
        keys = _keys(g)
        if keys is not None:
            svc.set_session_keys(call.deps.vault, group, *keys)
        if g.f_cnt != group.f_cnt:
            group.f_cnt = g.f_cnt
        call.session.commit()
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteMulticastGroupRequest) -> Empty:
        svc.delete_group(call.session, call.principal, uuid_id(request.id))
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListMulticastGroupsRequest) -> pb.ListMulticastGroupsResponse:
        call.ignore(request, {"limit", "offset", "search", "application_id", "tenant_id", "dev_eui"}, "request")
        application_id = optional_uuid(request.application_id, "application_id")
        tenant_id = optional_uuid(request.tenant_id, "tenant_id")
        member = eui_id(request.dev_eui) if request.dev_eui else None
        views = walk(lambda after: svc.list_groups(call.session, call.principal, tenant_id=tenant_id,
                                                   application_id=application_id, limit=1000, after=after),
                     lambda view: view.group.name)
        rows = [v.group for v in views if matches(request.search, v.group.name)]
        if member is not None:
            of_member = set(call.session.scalars(select(MulticastGroupDevice.group_id).where(
                MulticastGroupDevice.dev_eui == member)))
            rows = [g for g in rows if g.id in of_member]
        names: dict[str, str] = {g.application_id: get_application(call.session, call.principal, g.application_id).name
                 for g in rows if g.application_id}
        items: list[Any] = [
            pb.MulticastGroupListItem(
                id=g.id, name=g.name, region=common.EU868, created_at=timestamp(g.created_at),
                updated_at=timestamp(g.updated_at), group_type=pb.CLASS_B if g.group_class == "B" else pb.CLASS_C,
                application_id=g.application_id or "", application_name=names.get(g.application_id or "", ""),
            )
            for g in window(rows, request.offset, request.limit)
        ]
        return pb.ListMulticastGroupsResponse(total_count=len(rows), result=items)

    @rpc
    def AddDevice(self, call: Call, request: pb.AddDeviceToMulticastGroupRequest) -> Empty:
        svc.add_members(call.session, call.principal, uuid_id(request.multicast_group_id, "multicast_group_id"),
                        svc.MembersAdd(dev_euis=[eui_id(request.dev_eui)]), now=call.now)
        return Empty()

    @rpc
    def RemoveDevice(self, call: Call, request: pb.RemoveDeviceFromMulticastGroupRequest) -> Empty:
        svc.remove_member(call.session, call.principal, uuid_id(request.multicast_group_id, "multicast_group_id"),
                          eui_id(request.dev_eui))
        return Empty()

    @rpc
    def Enqueue(self, call: Call, request: pb.EnqueueMulticastGroupQueueItemRequest
                ) -> pb.EnqueueMulticastGroupQueueItemResponse:
        q = request.queue_item
        call.ignore(q, {"multicast_group_id", "f_port", "data", "expires_at"}, "queue_item")  # f_cnt: the group's
        expires_in = svc.DEFAULT_EXPIRY_S
        if q.HasField("expires_at"):
            at = as_utc(q.expires_at.ToDatetime())
            assert at is not None
            expires_in = int((at - call.now).total_seconds())
            if not 1 <= expires_in <= MAX_EXPIRY_S:
                raise InvalidInput("expires_at must be in the coming 7 days", code="invalid_expiry")
        group_id = uuid_id(q.multicast_group_id, "queue_item.multicast_group_id")
        item = svc.enqueue(call.session, call.principal, group_id,
                           svc.GroupQueueItemCreate(f_port=q.f_port or None, data_hex=q.data.hex(),
                                                    expires_in_s=expires_in),
                           codecs=call.deps.codecs, notifier=call.deps.group_notifier, now=call.now)
        return pb.EnqueueMulticastGroupQueueItemResponse(f_cnt=item.f_cnt)

    @rpc
    def FlushQueue(self, call: Call, request: pb.FlushMulticastGroupQueueRequest) -> Empty:
        svc.flush_queue(call.session, call.principal, uuid_id(request.multicast_group_id, "multicast_group_id"))
        return Empty()

    @rpc
    def ListQueue(self, call: Call, request: pb.ListMulticastGroupQueueRequest
                  ) -> pb.ListMulticastGroupQueueResponse:
        """The items still queued, in frame-counter order (ChirpStack lists its queue; sent ones have left)."""
        group_id = uuid_id(request.multicast_group_id, "multicast_group_id")
        rows = [i for i in svc.list_queue(call.session, call.principal, group_id, limit=1000) if i.state == "queued"]
        items: list[Any] = [
            pb.MulticastGroupQueueItem(multicast_group_id=i.group_id, f_cnt=i.f_cnt, f_port=i.f_port,
                                       data=bytes(i.payload), expires_at=timestamp(i.expires_at))
            for i in sorted(rows, key=lambda i: i.f_cnt)
        ]
        return pb.ListMulticastGroupQueueResponse(items=items)

