"""Live streams for ChirpStack's InternalService.StreamDeviceEvents and StreamGatewayFrames (the web console's
"events" and "LoRaWAN frames" tabs): ``LogItem``s as they happen, in this process.

``EventStream`` is a sink (the hub feeds it every device event); ``FrameStream`` is told of every gateway copy
and every downlink by the network server (``NetworkServer.frame_taps``). Each subscriber has a bounded queue:
a slow reader loses items (counted) instead of holding up the radio side. In a cluster a member streams what it
handles itself (the gateway copies it receives, the devices it owns).
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
from chirpstack_api.api import internal_pb2 as pb

from lora_city.gateway.frames import DownlinkFrame, UplinkFrame
from lora_city.grpc_api.convert import timestamp
from lora_city.sinks.chirpstack_json import event_kind, to_chirpstack
from lora_city.sinks.events import DeviceEvent

QUEUE_SIZE = 1000


class _Fanout:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[queue.Queue[pb.LogItem]]] = {}
        self._lock = threading.Lock()
        self.lost = 0

    def subscribe(self, key: str) -> queue.Queue[pb.LogItem]:
        q: queue.Queue[pb.LogItem] = queue.Queue(QUEUE_SIZE)
        with self._lock:
            self._subscribers.setdefault(key, []).append(q)
        return q

    def unsubscribe(self, key: str, q: queue.Queue[pb.LogItem]) -> None:
        with self._lock:
            subscribers = self._subscribers.get(key, [])
            if q in subscribers:
                subscribers.remove(q)
            if not subscribers:
                self._subscribers.pop(key, None)

    def wanted(self, key: str) -> bool:
        return key in self._subscribers

    def publish(self, key: str, item: pb.LogItem) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(key, ()))
        for q in subscribers:
            try:
                q.put_nowait(item)
            except queue.Full:
                self.lost += 1

    def follow(self, key: str, context: grpc.ServicerContext, poll_s: float = 0.5) -> Iterator[pb.LogItem]:
        """Yields the key's items until the client goes away."""
        q = self.subscribe(key)
        try:
            while context.is_active():
                try:
                    yield q.get(timeout=poll_s)
                except queue.Empty:
                    continue
        finally:
            self.unsubscribe(key, q)


def _item(description: str, time: datetime, body: dict[str, Any], properties: dict[str, str]) -> pb.LogItem:
    return pb.LogItem(id=str(uuid.uuid4()), time=timestamp(time), description=description,
                      body=json.dumps(body), properties=properties)


class EventStream(_Fanout):
    """A Sink: every device event of a device someone streams becomes a LogItem (description: the kind, body:
    the event's ChirpStack JSON, as ChirpStack's console shows it)."""

    name = "grpc-stream"

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def submit(self, event: DeviceEvent) -> None:
        dev_eui = event.device.dev_eui
        if not self.wanted(dev_eui):
            return
        body = to_chirpstack(event)
        properties: dict[str, str] = {k: str(body[k]) for k in ("fCnt", "fPort", "dr", "devAddr") if k in body}
        self.publish(dev_eui, _item(event_kind(event), event.time, body, properties))


class FrameStream(_Fanout):
    """A tap of the network server: every gateway copy and every downlink of a gateway someone streams."""

    def uplink(self, frame: UplinkFrame) -> None:
        rx = frame.rx_info
        if not self.wanted(rx.gateway_id):
            return
        m = frame.modulation
        body = {
            "phyPayload": base64.b64encode(frame.phy_payload).decode(),
            "txInfo": {"frequency": m.frequency, "modulation": {"lora": {
                "bandwidth": m.bandwidth, "spreadingFactor": m.spreading_factor}}},
            "rxInfo": {"gatewayId": rx.gateway_id, "uplinkId": rx.uplink_id, "rssi": round(rx.rssi),
                       "snr": rx.snr, "channel": rx.channel},
        }
        self.publish(rx.gateway_id, _item("up", rx.time or datetime.now(UTC), body,
                                          {"transport": frame.transport.value}))

    def downlink(self, frame: DownlinkFrame) -> None:
        if not self.wanted(frame.gateway_id):
            return
        items = [{"phyPayload": base64.b64encode(i.phy_payload).decode(), "txInfo": {
            "frequency": i.modulation.frequency, "power": i.power,
            "modulation": {"lora": {"bandwidth": i.modulation.bandwidth,
                                    "spreadingFactor": i.modulation.spreading_factor}}}} for i in frame.items]
        body = {"gatewayId": frame.gateway_id, "downlinkId": frame.downlink_id, "items": items}
        self.publish(frame.gateway_id, _item("down", datetime.now(UTC), body,
                                             {"devEui": frame.dev_eui or ""}))
