"""TenantService: ChirpStack tenants are lora_city tenants.

lora_city names a tenant by a unique slug (ChirpStack has none): it is made from the name, so two ChirpStack
tenants with one name give ALREADY_EXISTS here. Plan limits (max device/gateway counts, can_have_gateways) are
the tenants/ package's plans, not tenant fields: they are reported as ignored.
"""

from __future__ import annotations

from typing import Any

from chirpstack_api.api import tenant_pb2, tenant_pb2_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import matches, slugify, timestamp, window
from lora_city.services import tenants as svc
from lora_city.storage.models import Tenant

_TENANT_FIELDS = {"id", "name"}


def _message(tenant: Tenant) -> tenant_pb2.Tenant:
    return tenant_pb2.Tenant(id=tenant.id, name=tenant.name)


class TenantService(Handler, tenant_pb2_grpc.TenantServiceServicer):  # type: ignore[misc]
    @rpc
    def Create(self, call: Call, request: tenant_pb2.CreateTenantRequest) -> tenant_pb2.CreateTenantResponse:
        call.ignore(request.tenant, _TENANT_FIELDS, "tenant")
        data = svc.TenantCreate(name=request.tenant.name, slug=slugify(request.tenant.name))
        tenant = svc.create_tenant(call.session, call.principal, data)
        return tenant_pb2.CreateTenantResponse(id=tenant.id)

    @rpc
    def Get(self, call: Call, request: tenant_pb2.GetTenantRequest) -> tenant_pb2.GetTenantResponse:
        tenant = svc.get_tenant(call.session, call.principal, request.id)
        created = timestamp(tenant.created_at)
        return tenant_pb2.GetTenantResponse(tenant=_message(tenant), created_at=created, updated_at=created)

    @rpc
    def Update(self, call: Call, request: tenant_pb2.UpdateTenantRequest) -> Empty:
        call.ignore(request.tenant, _TENANT_FIELDS, "tenant")
        svc.update_tenant(call.session, call.principal, request.tenant.id, svc.TenantFields(name=request.tenant.name))
        return Empty()

    @rpc
    def Delete(self, call: Call, request: tenant_pb2.DeleteTenantRequest) -> Empty:
        svc.delete_tenant(call.session, call.principal, request.id)
        return Empty()

    @rpc
    def List(self, call: Call, request: tenant_pb2.ListTenantsRequest) -> tenant_pb2.ListTenantsResponse:
        call.ignore(request, {"limit", "offset", "search"}, "request")
        rows = [t for t in svc.list_tenants(call.session, call.principal) if matches(request.search, t.name)]
        items: list[Any] = [
            tenant_pb2.TenantListItem(id=t.id, name=t.name, created_at=timestamp(t.created_at),
                                      updated_at=timestamp(t.created_at))
            for t in window(rows, request.offset, request.limit)
        ]
        return tenant_pb2.ListTenantsResponse(total_count=len(rows), result=items)
