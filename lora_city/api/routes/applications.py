from __future__ import annotations

from fastapi import APIRouter, Response

from lora_city.api.deps import CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, ApplicationOut
from lora_city.services import applications
from lora_city.services.applications import ApplicationCreate, ApplicationFields

router = APIRouter(prefix="/applications", tags=["applications"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


@router.post("", status_code=201)
def create_application(session: SessionDep, principal: CurrentPrincipal, body: ApplicationCreate) -> ApplicationOut:
    return ApplicationOut.model_validate(applications.create_application(session, principal, body))


@router.get("")
def list_applications(session: SessionDep, principal: CurrentPrincipal) -> list[ApplicationOut]:
    return [ApplicationOut.model_validate(a) for a in applications.list_applications(session, principal)]


@router.get("/{application_id}")
def get_application(session: SessionDep, principal: CurrentPrincipal, application_id: str) -> ApplicationOut:
    return ApplicationOut.model_validate(applications.get_application(session, principal, application_id))


@router.patch("/{application_id}")
def update_application(
    session: SessionDep, principal: CurrentPrincipal, application_id: str, body: ApplicationFields
) -> ApplicationOut:
    return ApplicationOut.model_validate(applications.update_application(session, principal, application_id, body))


@router.delete("/{application_id}", status_code=204)
def delete_application(session: SessionDep, principal: CurrentPrincipal, application_id: str) -> Response:
    applications.delete_application(session, principal, application_id)
    return Response(status_code=204)
