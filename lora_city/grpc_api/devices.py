"""DeviceService: create, get, update, delete, list, metrics, link metrics, next downlink frame counter; keys,
activation and queue come from two mixins.

ChirpStack's ``variables`` and ``skip_fcnt_check`` have no lora_city counterpart and are reported as ignored
(skipping the frame-counter check would also disable replay protection, which lora_city does not offer).
Lists are ordered as ChirpStack orders them: by name unless ``order_by`` says otherwise.
Metrics come from the stored readings (grpc_api/metrics.py): every numeric measurement of the device's codec
is a GAUGE metric (its mean per bucket), every flag a state (its last value).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chirpstack_api import common
from chirpstack_api.api import device_pb2 as pb
from chirpstack_api.api import device_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty
from sqlalchemy import select

from lora_city.errors import InvalidInput, NotFound
from lora_city.grpc_api import metrics
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import eui_id, matches, optional_uuid, timestamp, uuid_id, walk, window
from lora_city.grpc_api.device_keys import DeviceKeysMixin
from lora_city.grpc_api.device_queue import DeviceQueueMixin
from lora_city.grpc_api.mapping import device_fields
from lora_city.services import devices as svc
from lora_city.services.applications import get_application
from lora_city.services.common import as_utc
from lora_city.services.profiles import get_profile
from lora_city.storage.models import DeviceSession


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
        application_id = optional_uuid(d.application_id, "device.application_id")
        if application_id:
            tenant = get_application(call.session, call.principal, application_id).tenant_id
        fields = device_fields(d, call.ignored)
        fields["device_profile_id"] = optional_uuid(d.device_profile_id, "device.device_profile_id")
        data = svc.DeviceCreate(dev_eui=eui_id(d.dev_eui, "device.dev_eui"), application_id=application_id,
                                tenant_id=tenant, **fields)
        svc.register_device(call.session, call.principal, call.deps.vault, data, codecs=call.deps.codecs,
                            now=call.now)
        return Empty()

    @rpc
    def Get(self, call: Call, request: pb.GetDeviceRequest) -> pb.GetDeviceResponse:
        view = svc.get_device(call.session, call.principal, eui_id(request.dev_eui))
        return pb.GetDeviceResponse(
            device=_message(view), created_at=timestamp(view.device.created_at),
            updated_at=timestamp(view.device.updated_at),
            last_seen_at=timestamp(view.device.last_seen_at), device_status=_status(view),
            class_enabled=common.CLASS_C if view.device_class == "C" else common.CLASS_A,
        )

    @rpc
    def Update(self, call: Call, request: pb.UpdateDeviceRequest) -> Empty:
        d = request.device
        fields = device_fields(d, call.ignored)
        fields["device_profile_id"] = optional_uuid(d.device_profile_id, "device.device_profile_id")
        if d.application_id:
            fields["application_id"] = uuid_id(d.application_id, "device.application_id")
        dev_eui = eui_id(d.dev_eui, "device.dev_eui")
        svc.update_device(call.session, call.principal, call.deps.vault, dev_eui, svc.DeviceFields(**fields),
                          codecs=call.deps.codecs, now=call.now)
        if self.deps.on_device_change is not None:
            self.deps.on_device_change(dev_eui)
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteDeviceRequest) -> Empty:
        dev_eui = eui_id(request.dev_eui)
        svc.delete_device(call.session, call.principal, dev_eui)
        if self.deps.on_device_change is not None:
            self.deps.on_device_change(dev_eui)
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListDevicesRequest) -> pb.ListDevicesResponse:
        call.ignore(request, {"limit", "offset", "search", "application_id", "device_profile_id", "tags",
                              "order_by", "order_by_desc"}, "request")
        application_id = optional_uuid(request.application_id, "application_id")
        profile_id = optional_uuid(request.device_profile_id, "device_profile_id")
        views = walk(
            lambda after: svc.list_devices(call.session, call.principal, limit=1000, after=after,
                                           application_id=application_id),
            lambda view: view.device.dev_eui,
        )
        rows = [
            v for v in views
            if matches(request.search, v.device.name, v.device.dev_eui)
            and (not profile_id or v.device.device_profile_id == profile_id)
            and all((v.device.tags or {}).get(k) == val for k, val in request.tags.items())
        ]
        names = _profile_names(call, {v.device.device_profile_id for v in rows if v.device.device_profile_id})
        rows.sort(key=_order(request.order_by, names), reverse=request.order_by_desc)
        page = window(rows, request.offset, request.limit)
        items: list[Any] = [
            pb.DeviceListItem(
                dev_eui=v.device.dev_eui, name=v.device.name, description=v.device.description,
                device_profile_id=v.device.device_profile_id or "",
                device_profile_name=names.get(v.device.device_profile_id or "", ""),
                created_at=timestamp(v.device.created_at), updated_at=timestamp(v.device.updated_at),
                last_seen_at=timestamp(v.device.last_seen_at), device_status=_status(v),
                tags={str(k): str(val) for k, val in (v.device.tags or {}).items()},
            )
            for v in page
        ]
        return pb.ListDevicesResponse(total_count=len(rows), result=items)


    @rpc
    def GetMetrics(self, call: Call, request: pb.GetDeviceMetricsRequest) -> pb.GetDeviceMetricsResponse:
        view = svc.get_device(call.session, call.principal, eui_id(request.dev_eui))
        start, end = metrics.time_range(request)
        if start is None or end is None:
            raise InvalidInput("give start and end", code="invalid_range")
        found, states = metrics.device_metrics(call.session, view.device.dev_eui, start, end, request.aggregation)
        response = pb.GetDeviceMetricsResponse()
        for name, m in found.items():
            response.metrics[name].CopyFrom(m)
        for key, (name, value) in states.items():
            response.states[key].CopyFrom(pb.DeviceState(name=name, value=value))
        return response

    @rpc
    def GetLinkMetrics(self, call: Call, request: pb.GetDeviceLinkMetricsRequest) -> pb.GetDeviceLinkMetricsResponse:
        view = svc.get_device(call.session, call.principal, eui_id(request.dev_eui))
        start, end = metrics.time_range(request)
        if start is None or end is None:
            raise InvalidInput("give start and end", code="invalid_range")
        found = metrics.device_link_metrics(call.session, view.device.dev_eui, start, end, request.aggregation)
        return pb.GetDeviceLinkMetricsResponse(**found)

    @rpc
    def GetNextFCntDown(self, call: Call, request: pb.GetDeviceNextFCntDownRequest
                        ) -> pb.GetDeviceNextFCntDownResponse:
        """The frame counter the device's next application downlink carries: the network server's live value,
        else the stored session's (AFCntDown for LoRaWAN 1.1, the one NFCntDown of 1.0.x)."""
        view = svc.get_device(call.session, call.principal, eui_id(request.dev_eui))
        live = call.deps.live.next_f_cnt_down(view.device.dev_eui) if call.deps.live is not None else None
        if live is None:
            row = call.session.scalars(select(DeviceSession).where(
                DeviceSession.dev_eui == view.device.dev_eui, DeviceSession.is_active.is_(True))).first()
            if row is None:
                raise NotFound("the device has no active session (not joined or activated)", code="no_session")
            live = row.a_f_cnt_down if row.mac_version.startswith("1.1") else row.n_f_cnt_down
        return pb.GetDeviceNextFCntDownResponse(f_cnt_down=live)


def _order(order_by: int, profile_names: dict[str, str]) -> Callable[[svc.DeviceView], Any]:
    """ChirpStack's ListDevicesRequest.OrderBy: NAME (the default), DEV_EUI, LAST_SEEN_AT, DEVICE_PROFILE_NAME."""
    if order_by == pb.ListDevicesRequest.DEV_EUI:
        return lambda v: v.device.dev_eui
    if order_by == pb.ListDevicesRequest.LAST_SEEN_AT:
        return lambda v: (as_utc(v.device.last_seen_at) or _NEVER, v.device.dev_eui)
    if order_by == pb.ListDevicesRequest.DEVICE_PROFILE_NAME:
        return lambda v: (profile_names.get(v.device.device_profile_id or "", "").lower(), v.device.name.lower(),
                          v.device.dev_eui)
    return lambda v: (v.device.name.lower(), v.device.dev_eui)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _profile_names(call: Call, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for profile_id in ids:
        try:
            names[profile_id] = get_profile(call.session, call.principal, profile_id).name
        except NotFound:
            continue
    return names
