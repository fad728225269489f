"""DeviceService: create, get, update, delete, list; keys, activation and queue come from two mixins.

ChirpStack's ``variables`` and ``skip_fcnt_check`` have no lora_city counterpart and are reported as ignored
(skipping the frame-counter check would also disable replay protection, which lora_city does not offer).
"""

from __future__ import annotations

from typing import Any

from chirpstack_api import common
from chirpstack_api.api import device_pb2 as pb
from chirpstack_api.api import device_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.errors import NotFound
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import matches, timestamp, walk, window
from lora_city.grpc_api.device_keys import DeviceKeysMixin
from lora_city.grpc_api.device_queue import DeviceQueueMixin
from lora_city.grpc_api.mapping import device_fields
from lora_city.services import devices as svc
from lora_city.services.applications import get_application
from lora_city.services.profiles import get_profile


def _message(view: svc.DeviceView) -> pb.Device:
    d = view.device
    return pb.Device(
        dev_eui=d.dev_eui, name=d.name, description=d.description, application_id=d.application_id or "",
        device_profile_id=d.device_profile_id or "", is_disabled=d.is_disabled, join_eui=d.join_eui,
        tags={str(k): str(v) for k, v in (d.tags or {}).items()},
    )


def _status(view: svc.DeviceView) -> pb.DeviceStatus | None:
    d = view.device
    if d.margin is None and d.battery_level is None:
        return None
    return pb.DeviceStatus(margin=d.margin or 0, battery_level=d.battery_level if d.battery_level is not None else -1)


class DeviceService(DeviceKeysMixin, DeviceQueueMixin, Handler, pb_grpc.DeviceServiceServicer):  # type: ignore[misc]
    @rpc
    def Create(self, call: Call, request: pb.CreateDeviceRequest) -> Empty:
        d = request.device
        tenant = None
        if d.application_id:
            tenant = get_application(call.session, call.principal, d.application_id).tenant_id
        data = svc.DeviceCreate(dev_eui=d.dev_eui, application_id=d.application_id or None, tenant_id=tenant,
                                **device_fields(d, call.ignored))
        svc.register_device(call.session, call.principal, call.deps.vault, data, codecs=call.deps.codecs,
                            now=call.now)
        return Empty()

    @rpc
    def Get(self, call: Call, request: pb.GetDeviceRequest) -> pb.GetDeviceResponse:
        view = svc.get_device(call.session, call.principal, request.dev_eui)
        created = timestamp(view.device.created_at)
        return pb.GetDeviceResponse(
            device=_message(view), created_at=created, updated_at=created,
            last_seen_at=timestamp(view.device.last_seen_at), device_status=_status(view),
            class_enabled=common.CLASS_C if view.device_class == "C" else common.CLASS_A,
        )

    @rpc
    def Update(self, call: Call, request: pb.UpdateDeviceRequest) -> Empty:
        d = request.device
        fields = device_fields(d, call.ignored)
        if d.application_id:
            fields["application_id"] = d.application_id
        svc.update_device(call.session, call.principal, call.deps.vault, d.dev_eui, svc.DeviceFields(**fields),
                          codecs=call.deps.codecs, now=call.now)
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteDeviceRequest) -> Empty:
        svc.delete_device(call.session, call.principal, request.dev_eui)
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListDevicesRequest) -> pb.ListDevicesResponse:
        call.ignore(request, {"limit", "offset", "search", "application_id", "device_profile_id", "tags"}, "request")
        views = walk(
            lambda after: svc.list_devices(call.session, call.principal, limit=1000, after=after,
                                           application_id=request.application_id or None),
            lambda view: view.device.dev_eui,
        )
        rows = [
            v for v in views
            if matches(request.search, v.device.name, v.device.dev_eui)
            and (not request.device_profile_id or v.device.device_profile_id == request.device_profile_id)
            and all((v.device.tags or {}).get(k) == val for k, val in request.tags.items())
        ]
        page = window(rows, request.offset, request.limit)
        names = _profile_names(call, {v.device.device_profile_id for v in page if v.device.device_profile_id})
        items: list[Any] = [
            pb.DeviceListItem(
                dev_eui=v.device.dev_eui, name=v.device.name, description=v.device.description,
                device_profile_id=v.device.device_profile_id or "",
                device_profile_name=names.get(v.device.device_profile_id or "", ""),
                created_at=timestamp(v.device.created_at), updated_at=timestamp(v.device.created_at),
                last_seen_at=timestamp(v.device.last_seen_at), device_status=_status(v),
                tags={str(k): str(val) for k, val in (v.device.tags or {}).items()},
            )
            for v in page
        ]
        return pb.ListDevicesResponse(total_count=len(rows), result=items)


def _profile_names(call: Call, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for profile_id in ids:
        try:
            names[profile_id] = get_profile(call.session, call.principal, profile_id).name
        except NotFound:
            continue
    return names
