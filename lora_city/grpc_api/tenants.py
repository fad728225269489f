"""TenantService: ChirpStack tenants are lora_city tenants.

lora_city names a tenant by a unique slug (ChirpStack has none): it is made from the name, so two ChirpStack
tenants with one name give ALREADY_EXISTS here. ChirpStack's settings are kept and enforced: ``can_have_gateways``,
``max_gateway_count`` and ``max_device_count`` (0: no limit; storage/limits.py refuses a device or gateway past
them, whichever API creates it), ``private_gateways_up/down``, ``description`` and ``tags``. The tenants/
package's plans add their own caps. ``dev_addr_prefixes`` is not supported (reported as ignored).
"""

from __future__ import annotations

from typing import Any

from chirpstack_api.api import tenant_pb2, tenant_pb2_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import matches, slugify, timestamp, uuid_id, window
from lora_city.grpc_api.mapping import TENANT_FIELDS, tenant_settings
from lora_city.services import tenants as svc
from lora_city.storage.models import Tenant


def _message(tenant: Tenant) -> tenant_pb2.Tenant:
    return tenant_pb2.Tenant(
        id=tenant.id, name=tenant.name, description=tenant.description,
        can_have_gateways=tenant.can_have_gateways, max_gateway_count=tenant.max_gateway_count,
        max_device_count=tenant.max_device_count, private_gateways_up=tenant.private_gateways_up,
        private_gateways_down=tenant.private_gateways_down,
        tags={str(k): str(v) for k, v in (tenant.tags or {}).items()},
    )


class TenantService(Handler, tenant_pb2_grpc.TenantServiceServicer):  # type: ignore[misc]
    @rpc
    def Create(self, call: Call, request: tenant_pb2.CreateTenantRequest) -> tenant_pb2.CreateTenantResponse:
        call.ignore(request.tenant, TENANT_FIELDS, "tenant")
        data = svc.TenantCreate(name=request.tenant.name, slug=slugify(request.tenant.name),
                                **tenant_settings(request.tenant))
        tenant = svc.create_tenant(call.session, call.principal, data)
        return tenant_pb2.CreateTenantResponse(id=tenant.id)

    @rpc
    def Get(self, call: Call, request: tenant_pb2.GetTenantRequest) -> tenant_pb2.GetTenantResponse:
        tenant = svc.get_tenant(call.session, call.principal, uuid_id(request.id))
        return tenant_pb2.GetTenantResponse(tenant=_message(tenant), created_at=timestamp(tenant.created_at),
                                            updated_at=timestamp(tenant.updated_at))

    @rpc
    def Update(self, call: Call, request: tenant_pb2.UpdateTenantRequest) -> Empty:
        call.ignore(request.tenant, TENANT_FIELDS, "tenant")
        tenant = svc.update_tenant(call.session, call.principal, uuid_id(request.tenant.id, "tenant.id"),
                                   svc.TenantFields(name=request.tenant.name, **tenant_settings(request.tenant)))
        if call.deps.on_gateway_change is not None:  # private_gateways_up/down apply to the next frame
            for gateway_id in svc.gateways_of(call.session, tenant.id):
                call.deps.on_gateway_change(gateway_id)
        return Empty()

    @rpc
    def Delete(self, call: Call, request: tenant_pb2.DeleteTenantRequest) -> Empty:
        svc.delete_tenant(call.session, call.principal, uuid_id(request.id))
        return Empty()

    @rpc
    def List(self, call: Call, request: tenant_pb2.ListTenantsRequest) -> tenant_pb2.ListTenantsResponse:
        call.ignore(request, {"limit", "offset", "search"}, "request")
        rows = sorted((t for t in svc.list_tenants(call.session, call.principal) if matches(request.search, t.name)),
                      key=lambda t: (t.name.lower(), t.id))  # ChirpStack lists tenants by name
        items: list[Any] = [
            tenant_pb2.TenantListItem(
                id=t.id, name=t.name, created_at=timestamp(t.created_at), updated_at=timestamp(t.updated_at),
                can_have_gateways=t.can_have_gateways, private_gateways_up=t.private_gateways_up,
                private_gateways_down=t.private_gateways_down, max_gateway_count=t.max_gateway_count,
                max_device_count=t.max_device_count,
            )
            for t in window(rows, request.offset, request.limit)
        ]
        return tenant_pb2.ListTenantsResponse(total_count=len(rows), result=items)
