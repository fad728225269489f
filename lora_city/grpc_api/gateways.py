"""GatewayService: create, get, update, delete, list.

ChirpStack's ``tags``, ``metadata``, ``stats_interval`` and ``downlink_priority`` have no lora_city
counterpart and are reported as ignored. Private up/down flags are per gateway in lora_city (per tenant in
ChirpStack): this API leaves them as they are; the importer copies the tenant's flags onto its gateways.
"""

from __future__ import annotations

from typing import Any

from chirpstack_api import common
from chirpstack_api.api import gateway_pb2 as pb
from chirpstack_api.api import gateway_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import matches, timestamp, walk, window
from lora_city.grpc_api.mapping import gateway_fields
from lora_city.services import gateways as svc
from lora_city.storage.models import Gateway


def _location(gw: Gateway) -> common.Location | None:
    if gw.latitude is None and gw.longitude is None:
        return None
    return common.Location(latitude=gw.latitude or 0.0, longitude=gw.longitude or 0.0, altitude=gw.altitude or 0.0)


def _state(gw: Gateway) -> int:
    if gw.last_seen_at is None:
        return int(pb.NEVER_SEEN)
    return int(pb.ONLINE if gw.online else pb.OFFLINE)


class GatewayService(Handler, pb_grpc.GatewayServiceServicer):  # type: ignore[misc]
    def _changed(self, gateway_id: str) -> None:
        if self.deps.on_gateway_change is not None:  # the network server applies it to the next frame
            self.deps.on_gateway_change(gateway_id)

    @rpc
    def Create(self, call: Call, request: pb.CreateGatewayRequest) -> Empty:
        g = request.gateway
        fields = gateway_fields(g, call.ignored)
        data = svc.GatewayCreate(gateway_id=g.gateway_id, tenant_id=g.tenant_id or None, **fields)
        gw = svc.create_gateway(call.session, call.principal, data)
        self._changed(gw.gateway_id)
        return Empty()

    @rpc
    def Get(self, call: Call, request: pb.GetGatewayRequest) -> pb.GetGatewayResponse:
        gw = svc.get_gateway(call.session, call.principal, request.gateway_id)
        created = timestamp(gw.created_at)
        return pb.GetGatewayResponse(
            gateway=pb.Gateway(gateway_id=gw.gateway_id, name=gw.name, description=gw.description,
                               location=_location(gw), tenant_id=gw.tenant_id),
            created_at=created, updated_at=created, last_seen_at=timestamp(gw.last_seen_at),
        )

    @rpc
    def Update(self, call: Call, request: pb.UpdateGatewayRequest) -> Empty:
        g = request.gateway
        fields = gateway_fields(g, call.ignored)
        gw = svc.update_gateway(call.session, call.principal, g.gateway_id, svc.GatewayFields(**fields))
        self._changed(gw.gateway_id)
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteGatewayRequest) -> Empty:
        svc.delete_gateway(call.session, call.principal, request.gateway_id)
        self._changed(request.gateway_id.lower())
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListGatewaysRequest) -> pb.ListGatewaysResponse:
        call.ignore(request, {"limit", "offset", "search", "tenant_id"}, "request")
        gateways = walk(
            lambda after: svc.list_gateways(call.session, call.principal, limit=1000, after=after),
            lambda gw: gw.gateway_id,
        )
        rows = [
            gw for gw in gateways
            if (not request.tenant_id or gw.tenant_id == request.tenant_id)
            and matches(request.search, gw.name, gw.gateway_id)
        ]
        items: list[Any] = [
            pb.GatewayListItem(
                tenant_id=gw.tenant_id, gateway_id=gw.gateway_id, name=gw.name, description=gw.description,
                location=_location(gw), created_at=timestamp(gw.created_at), updated_at=timestamp(gw.created_at),
                last_seen_at=timestamp(gw.last_seen_at), state=_state(gw),
            )
            for gw in window(rows, request.offset, request.limit)
        ]
        return pb.ListGatewaysResponse(total_count=len(rows), result=items)
