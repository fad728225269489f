from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, Strict

from lora_city.api.deps import CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, ApiKeyCreated, ApiKeyOut
from lora_city.services import api_keys
from lora_city.services.common import INPUT_CONFIG, IsoTime
from lora_city.services.principal import Role

router = APIRouter(prefix="/api-keys", tags=["api keys"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


class ApiKeyCreate(BaseModel):
    model_config = INPUT_CONFIG

    name: str = Field(min_length=1, max_length=200)
    role: Annotated[Role, Strict(False)]  # the enum from its text value
    tenant_id: str | None = None
    expires_at: IsoTime | None = None


@router.post("", status_code=201)
def create_key(session: SessionDep, principal: CurrentPrincipal, now: NowDep, body: ApiKeyCreate) -> ApiKeyCreated:
    new = api_keys.create_key(session, principal, name=body.name, role=body.role, tenant_id=body.tenant_id,
                              expires_at=body.expires_at, now=now)
    return ApiKeyCreated(**ApiKeyOut.model_validate(new.row).model_dump(), key=new.secret)


@router.get("")
def list_keys(session: SessionDep, principal: CurrentPrincipal) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in api_keys.list_keys(session, principal)]


@router.delete("/{key_id}")
def revoke_key(session: SessionDep, principal: CurrentPrincipal, now: NowDep, key_id: str) -> ApiKeyOut:
    return ApiKeyOut.model_validate(api_keys.revoke_key(session, principal, key_id, now=now))
