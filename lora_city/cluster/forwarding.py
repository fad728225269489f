"""The members' internal MQTT traffic, on the same broker as the gateways (no second transport to run).

    <root>/internal/<member>/up/<hops>/<gateway id>/<transport>   a gateway copy for the member that owns it
    <root>/internal/<member>/notify/<dev_eui>                       the API queued a downlink for its device
    <root>/internal/all/ack/<from member>/<gateway id>             a TX ack, for whichever member sent the downlink
    <root>/internal/all/joined/<from member>/<dev_eui>/<dev_addr>  a device joined: drop its cached sessions

Copies travel as the ChirpStack ``gw.UplinkFrame`` protobuf (the gateway's own message, re-encoded from the
parsed frame) with the gateway id and transport in the topic, so the owner rebuilds exactly the UplinkFrame the
receiving member had. QoS 0 like the gateway events themselves: the broker is on the same network, and a copy
lost here is a copy lost on the gateway's backhaul, which dedup tolerates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from chirpstack_api.gw import gw_pb2

from lora_city.gateway import chirpstack as cs
from lora_city.gateway.frames import DownlinkFrame, DownlinkTxAck, Transport, UplinkFrame
from lora_city.mqtt import MqttClient, MqttMessage

log = logging.getLogger(__name__)

OnCopy = Callable[[UplinkFrame, int], Awaitable[None]]  # (frame, hops so far)
OnAck = Callable[[DownlinkTxAck], Awaitable[None]]
OnJoined = Callable[[str, str], None]  # (dev_eui, dev_addr)
OnNotify = Callable[[str], Awaitable[None]]  # dev_eui


class Forwarder:
    def __init__(
        self,
        mqtt_url: str,
        root: str,
        member_id: str,
        gateway_prefix: str,
        *,
        on_copy: OnCopy,
        on_ack: OnAck,
        on_joined: OnJoined,
        on_notify: OnNotify,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._me = member_id
        self._internal = f"{root}/internal/"
        self._inbox = f"{root}/internal/{member_id}/"
        self._all = f"{root}/internal/all/"
        self._gateway_head = f"{gateway_prefix.strip('/')}/gateway/"
        self._on_copy = on_copy
        self._on_ack = on_ack
        self._on_joined = on_joined
        self._on_notify = on_notify
        self._clock = clock
        self._client = MqttClient(mqtt_url, client_id=f"lora-city-fwd-{member_id}", on_message=self._on_message)

    async def start(self) -> None:
        await self._client.connect()
        await self._client.subscribe(self._inbox + "#")
        await self._client.subscribe(self._all + "#")

    async def stop(self) -> None:
        await self._client.close()

    # --- out -------------------------------------------------------------------------------------------

    async def forward(self, owner: str, frame: UplinkFrame, hops: int) -> None:
        topic = f"{self._internal}{owner}/up/{hops}/{frame.rx_info.gateway_id}/{frame.transport.value}"
        await self._client.publish(topic, cs.uplink_to_pb(frame).SerializeToString())

    async def notify(self, owner: str, dev_eui: str) -> None:
        await self._client.publish(f"{self._internal}{owner}/notify/{dev_eui}", b"1")

    async def broadcast_ack(self, ack: DownlinkTxAck) -> None:
        topic = f"{self._all}ack/{self._me}/{ack.gateway_id}"
        await self._client.publish(topic, cs.tx_ack_to_pb(ack).SerializeToString())

    async def broadcast_joined(self, dev_eui: str, dev_addr: str) -> None:
        await self._client.publish(f"{self._all}joined/{self._me}/{dev_eui}/{dev_addr}", b"1")

    async def send_downlink(self, frame: DownlinkFrame, *, as_json: bool) -> None:
        """For a gateway this member only heard through forwarded copies (the gateway backend never saw it)."""
        payload = cs.encode(cs.downlink_to_pb(frame), as_json=as_json)
        await self._client.publish(f"{self._gateway_head}{frame.gateway_id}/command/down", payload)

    # --- in --------------------------------------------------------------------------------------------

    async def _on_message(self, msg: MqttMessage) -> None:
        try:
            if msg.topic.startswith(self._inbox):
                kind, *rest = msg.topic[len(self._inbox):].split("/")
                if kind == "up":
                    hops, gateway_id, transport = rest
                    pb = gw_pb2.UplinkFrame.FromString(msg.payload)
                    frame = cs.uplink_from_pb(pb, gateway_id, Transport(transport), self._clock())
                    await self._on_copy(frame, int(hops))
                elif kind == "notify":
                    await self._on_notify(rest[0])
                return
            kind, sender, *rest = msg.topic[len(self._all):].split("/")
            if sender == self._me:
                return  # our own broadcast: we already acted on it
            if kind == "ack":
                await self._on_ack(cs.tx_ack_from_pb(gw_pb2.DownlinkTxAck.FromString(msg.payload), rest[0]))
            elif kind == "joined":
                self._on_joined(rest[0], rest[1])
        except Exception:  # the callback boundary: one line with context, then the next message
            log.exception("cluster message failed: topic=%s", msg.topic[:200])
