"""ApplicationService: create, get, update, delete, list (integrations are lora_city's own sinks API)."""

from __future__ import annotations

from typing import Any

from chirpstack_api.api import application_pb2, application_pb2_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import matches, optional_uuid, timestamp, uuid_id, window
from lora_city.services import applications as svc
from lora_city.storage.models import Application

_FIELDS = {"id", "name", "description", "tenant_id"}


def _message(app: Application) -> application_pb2.Application:
    return application_pb2.Application(id=app.id, name=app.name, description=app.description,
                                       tenant_id=app.tenant_id)


class ApplicationService(Handler, application_pb2_grpc.ApplicationServiceServicer):  # type: ignore[misc]
    @rpc
    def Create(
        self, call: Call, request: application_pb2.CreateApplicationRequest
    ) -> application_pb2.CreateApplicationResponse:
        a = request.application
        call.ignore(a, _FIELDS, "application")
        data = svc.ApplicationCreate(name=a.name, description=a.description,
                                     tenant_id=optional_uuid(a.tenant_id, "application.tenant_id"))
        return application_pb2.CreateApplicationResponse(id=svc.create_application(
            call.session, call.principal, data).id)

    @rpc
    def Get(self, call: Call, request: application_pb2.GetApplicationRequest) -> application_pb2.GetApplicationResponse:
        app = svc.get_application(call.session, call.principal, uuid_id(request.id))
        return application_pb2.GetApplicationResponse(application=_message(app), created_at=timestamp(app.created_at),
                                                      updated_at=timestamp(app.updated_at))

    @rpc
    def Update(self, call: Call, request: application_pb2.UpdateApplicationRequest) -> Empty:
        a = request.application
        call.ignore(a, _FIELDS, "application")
        svc.update_application(call.session, call.principal, uuid_id(a.id, "application.id"),
                               svc.ApplicationFields(name=a.name, description=a.description))
        return Empty()

    @rpc
    def Delete(self, call: Call, request: application_pb2.DeleteApplicationRequest) -> Empty:
        svc.delete_application(call.session, call.principal, uuid_id(request.id))
        return Empty()

    @rpc
    def List(
        self, call: Call, request: application_pb2.ListApplicationsRequest
    ) -> application_pb2.ListApplicationsResponse:
        tenant_id = optional_uuid(request.tenant_id, "tenant_id")
        rows = [
            a for a in svc.list_applications(call.session, call.principal)
            if (not tenant_id or a.tenant_id == tenant_id) and matches(request.search, a.name)
        ]  # by name, as ChirpStack
        items: list[Any] = [
            application_pb2.ApplicationListItem(id=a.id, name=a.name, description=a.description,
                                                created_at=timestamp(a.created_at),
                                                updated_at=timestamp(a.updated_at))
            for a in window(rows, request.offset, request.limit)
        ]
        return application_pb2.ListApplicationsResponse(total_count=len(rows), result=items)
