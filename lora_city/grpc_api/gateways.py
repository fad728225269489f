"""GatewayService: create, get, update, delete, list.

ChirpStack's ``tags``, ``metadata``, ``stats_interval`` and ``downlink_priority`` have no lora_city
counterpart and are reported as ignored. Private up/down flags are per gateway in lora_city (per tenant in
ChirpStack): this API leaves them as they are; the importer copies the tenant's flags onto its gateways.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chirpstack_api import common
from chirpstack_api.api import gateway_pb2 as pb
from chirpstack_api.api import gateway_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.errors import InvalidInput
from lora_city.grpc_api import metrics
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import eui_id, matches, optional_uuid, timestamp, walk, window
from lora_city.grpc_api.mapping import gateway_fields
from lora_city.services import gateways as svc
from lora_city.services.common import as_utc
from lora_city.storage.models import Gateway


def _location(gw: Gateway) -> common.Location | None:
    if gw.latitude is None and gw.longitude is None:
        return None
    return common.Location(latitude=gw.latitude or 0.0, longitude=gw.longitude or 0.0, altitude=gw.altitude or 0.0)


def _state(gw: Gateway) -> int:
    if gw.last_seen_at is None:
        return int(pb.NEVER_SEEN)
    return int(pb.ONLINE if gw.online else pb.OFFLINE)


_NEVER = datetime.min.replace(tzinfo=UTC)
_ORDER: dict[int, Callable[[Gateway], Any]] = {  # ChirpStack's ListGatewaysRequest.OrderBy; NAME by default
    pb.ListGatewaysRequest.NAME: lambda gw: (gw.name.lower(), gw.gateway_id),
    pb.ListGatewaysRequest.GATEWAY_ID: lambda gw: gw.gateway_id,
    pb.ListGatewaysRequest.LAST_SEEN_AT: lambda gw: (as_utc(gw.last_seen_at) or _NEVER, gw.gateway_id),
}


class GatewayService(Handler, pb_grpc.GatewayServiceServicer):  # type: ignore[misc]
    def _changed(self, gateway_id: str) -> None:
        if self.deps.on_gateway_change is not None:  # the network server applies it to the next frame
            self.deps.on_gateway_change(gateway_id)

    @rpc
    def Create(self, call: Call, request: pb.CreateGatewayRequest) -> Empty:
        g = request.gateway
        fields = gateway_fields(g, call.ignored)
        data = svc.GatewayCreate(gateway_id=eui_id(g.gateway_id, "gateway.gateway_id"),
                                 tenant_id=optional_uuid(g.tenant_id, "gateway.tenant_id"), **fields)
        gw = svc.create_gateway(call.session, call.principal, data)
        self._changed(gw.gateway_id)
        return Empty()

    @rpc
    def Get(self, call: Call, request: pb.GetGatewayRequest) -> pb.GetGatewayResponse:
        gw = svc.get_gateway(call.session, call.principal, eui_id(request.gateway_id, "gateway_id"))
        return pb.GetGatewayResponse(
            gateway=pb.Gateway(gateway_id=gw.gateway_id, name=gw.name, description=gw.description,
                               location=_location(gw), tenant_id=gw.tenant_id),
            created_at=timestamp(gw.created_at), updated_at=timestamp(gw.updated_at),
            last_seen_at=timestamp(gw.last_seen_at),
        )

    @rpc
    def Update(self, call: Call, request: pb.UpdateGatewayRequest) -> Empty:
        g = request.gateway
        fields = gateway_fields(g, call.ignored)
        gw = svc.update_gateway(call.session, call.principal, eui_id(g.gateway_id, "gateway.gateway_id"),
                                svc.GatewayFields(**fields))
        self._changed(gw.gateway_id)
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteGatewayRequest) -> Empty:
        gateway_id = eui_id(request.gateway_id, "gateway_id")
        svc.delete_gateway(call.session, call.principal, gateway_id)
        self._changed(gateway_id)
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListGatewaysRequest) -> pb.ListGatewaysResponse:
        call.ignore(request, {"limit", "offset", "search", "tenant_id", "order_by", "order_by_desc"}, "request")
        tenant_id = optional_uuid(request.tenant_id, "tenant_id")
        gateways = walk(
            lambda after: svc.list_gateways(call.session, call.principal, limit=1000, after=after),
            lambda gw: gw.gateway_id,
        )
        rows = [
            gw for gw in gateways
            if (not tenant_id or gw.tenant_id == tenant_id) and matches(request.search, gw.name, gw.gateway_id)
        ]
        rows.sort(key=_ORDER[request.order_by], reverse=request.order_by_desc)
        items: list[Any] = [
            pb.GatewayListItem(
                tenant_id=gw.tenant_id, gateway_id=gw.gateway_id, name=gw.name, description=gw.description,
                location=_location(gw), created_at=timestamp(gw.created_at), updated_at=timestamp(gw.updated_at),
                last_seen_at=timestamp(gw.last_seen_at), state=_state(gw),
            )
            for gw in window(rows, request.offset, request.limit)
        ]
        return pb.ListGatewaysResponse(total_count=len(rows), result=items)

    @rpc
    def GetMetrics(self, call: Call, request: pb.GetGatewayMetricsRequest) -> pb.GetGatewayMetricsResponse:
        gw = svc.get_gateway(call.session, call.principal, eui_id(request.gateway_id, "gateway_id"))
        start, end = metrics.time_range(request)
        m = metrics.gateway_metrics(call.session, gw.gateway_id, *_range(start, end), request.aggregation)
        return pb.GetGatewayMetricsResponse(**m)

    @rpc
    def GetDutyCycleMetrics(self, call: Call, request: pb.GetGatewayDutyCycleMetricsRequest
                            ) -> pb.GetGatewayDutyCycleMetricsResponse:
        """The gateway's transmit load per duty-cycle sub-band over the sliding hour the network server keeps
        (one point, now): ``window_percentage`` the share of the hour spent transmitting, ``max_load_percentage``
        the sub-band's limit (ETSI EN 300 220, RP002-1.0.4 §2.4). Earlier hours are not kept."""
        gw = svc.get_gateway(call.session, call.principal, eui_id(request.gateway_id, "gateway_id"))
        bands = call.deps.live.duty_cycle(gw.gateway_id) if call.deps.live is not None else []
        now = [call.now]
        used = {name: [round(used_s / metrics.HOUR_S * 100, 4)] for name, _limit, used_s, _budget in bands}
        limits = {name: [round(limit * 100, 4)] for name, limit, _used, _budget in bands}
        return pb.GetGatewayDutyCycleMetricsResponse(
            window_percentage=metrics.metric("window_percentage", common.GAUGE, now, used),
            max_load_percentage=metrics.metric("max_load_percentage", common.GAUGE, now, limits),
        )


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    if start is None or end is None:
        raise InvalidInput("give start and end", code="invalid_range")
    return start, end
