"""DeviceService queue: enqueue (raw bytes, or an object the device's codec encodes), list, flush."""

from __future__ import annotations

from typing import Any

from chirpstack_api.api import device_pb2 as pb
from google.protobuf.empty_pb2 import Empty
from google.protobuf.json_format import MessageToDict

from lora_city.errors import InvalidInput
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import eui_id, timestamp
from lora_city.services import queue as svc

_FIELDS = {"dev_eui", "confirmed", "f_port", "data", "object"}


class DeviceQueueMixin(Handler):
    @rpc
    def Enqueue(self, call: Call, request: pb.EnqueueDeviceQueueItemRequest) -> pb.EnqueueDeviceQueueItemResponse:
        q = request.queue_item
        if q.is_encrypted:
            # Taking it as plain text would encrypt it a second time: refused, not misread.
            raise InvalidInput("lora_city encrypts downlinks itself: is_encrypted payloads are not supported",
                               code="encrypted_payload")
        call.ignore(q, _FIELDS, "queue_item")
        has_object = q.HasField("object")
        data = svc.QueueItemCreate(
            f_port=q.f_port or None, confirmed=q.confirmed,
            data_hex=None if has_object else q.data.hex(),
            object=MessageToDict(q.object) if has_object else None,
        )
        item = svc.enqueue(call.session, call.principal, eui_id(q.dev_eui, "queue_item.dev_eui"), data,
                           codecs=call.deps.codecs,
                           notifier=call.deps.notifier, now=call.now)
        return pb.EnqueueDeviceQueueItemResponse(id=item.id)

    @rpc
    def GetQueue(self, call: Call, request: pb.GetDeviceQueueItemsRequest) -> pb.GetDeviceQueueItemsResponse:
        items = svc.list_queue(call.session, call.principal, eui_id(request.dev_eui))
        if request.count_only:
            return pb.GetDeviceQueueItemsResponse(total_count=len(items))
        result: list[Any] = [
            pb.DeviceQueueItem(id=i.id, dev_eui=i.dev_eui, confirmed=i.confirmed, f_port=i.f_port, data=i.payload,
                               is_pending=i.is_pending, f_cnt_down=i.f_cnt_down or 0,
                               expires_at=timestamp(i.expires_at))
            for i in items
        ]
        return pb.GetDeviceQueueItemsResponse(total_count=len(items), result=result)

    @rpc
    def FlushQueue(self, call: Call, request: pb.FlushDeviceQueueRequest) -> Empty:
        svc.flush_queue(call.session, call.principal, eui_id(request.dev_eui))
        return Empty()
