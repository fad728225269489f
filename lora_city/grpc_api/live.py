"""The running network server as the gRPC API's ``LiveState``: frame counters of the cached sessions, the duty
cycle tracker, and the live streams (grpc_api/streams.py). Built by the composition root, which runs both."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from chirpstack_api.api import internal_pb2 as pb

from lora_city.downlink.duty_cycle import budget_s
from lora_city.grpc_api.streams import EventStream, FrameStream
from lora_city.network.server import NetworkServer


class ServerLiveState:
    def __init__(self, server: NetworkServer, events: EventStream, frames: FrameStream) -> None:
        self._server = server
        self.events = events
        self.frames = frames

    def next_f_cnt_down(self, dev_eui: str) -> int | None:
        session = self._server.sessions.for_dev_eui(dev_eui)
        if session is None:
            return None
        # LoRaWAN 1.1 counts application downlinks apart (AFCntDown); 1.0.x has one counter (TS001-1.1 §4.3.1.5)
        return int(session.a_f_cnt_down if session.is_11 else session.n_f_cnt_down)

    def duty_cycle(self, gateway_id: str) -> list[tuple[str, float, float, float]]:
        return [(band.name, band.duty_cycle, used, budget_s(band))
                for band, used in self._server.duty_cycle.usage(gateway_id)]

    def stream_events(self, dev_eui: str, context: grpc.ServicerContext) -> Iterator[pb.LogItem]:
        return self.events.follow(dev_eui, context)

    def stream_frames(self, gateway_id: str, context: grpc.ServicerContext) -> Iterator[pb.LogItem]:
        return self.frames.follow(gateway_id, context)
