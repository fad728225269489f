"""A tenant's credentials on the product's MQTT broker, where it reads its applications' events with
ChirpStack's topics (``application/{id}/device/{dev_eui}/event/{kind}``) and nothing of another tenant's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, UtcTime
from lora_city.errors import Conflict
from lora_city.services import broker
from lora_city.storage.models import BrokerAccount

router = APIRouter(prefix="/broker", tags=["integrations"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])
TenantQuery = Annotated[str | None, Query(description="The tenant (operators); default: your own")]


class BrokerAccountOut(BaseModel):
    tenant_id: str
    username: str
    url: str | None = Field(description="Where to connect (the operator's public broker address)")
    topics: list[str] = Field(description="The topic filters this account may subscribe to")
    created_at: UtcTime
    updated_at: UtcTime


class BrokerCredentials(BrokerAccountOut):
    password: str = Field(description="Shown once: only a hash is kept")
    applied: bool = Field(description="The broker has the new password already (else within its next sync)")


class IssueBody(BaseModel):
    tenant_id: str | None = None


def _out(session: SessionDep, ctx: ContextDep, account: BrokerAccount) -> BrokerAccountOut:
    return BrokerAccountOut(tenant_id=account.tenant_id, username=account.username,
                            url=ctx.settings.broker_public_url, topics=broker.topics(session, account.tenant_id),
                            created_at=account.created_at, updated_at=account.updated_at)


@router.get("/credentials")
def get_credentials(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep,
                    tenant_id: TenantQuery = None) -> BrokerAccountOut:
    return _out(session, ctx, broker.get(session, principal, tenant_id))


@router.post("/credentials")
def issue_credentials(request: Request, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep,
                      body: IssueBody) -> BrokerCredentials:
    """Creates the tenant's account, or gives it a new password (the old one stops working)."""
    if not ctx.settings.broker_dynsec:
        raise Conflict("this installation's broker does not manage tenant accounts (LORA_CITY_BROKER_DYNSEC)",
                       code="broker_accounts_disabled")
    account, password = broker.issue(session, principal, body.tenant_id)
    sync = getattr(request.app.state, "broker_sync", None)
    applied = False
    if sync is not None:
        tenant_id, username = account.tenant_id, account.username
        sync.call_from_thread(lambda: sync.set_password(tenant_id, username, password))
        applied = True
    return BrokerCredentials(**_out(session, ctx, account).model_dump(), password=password, applied=applied)


@router.delete("/credentials", status_code=204)
def revoke_credentials(request: Request, session: SessionDep, principal: CurrentPrincipal,
                       tenant_id: TenantQuery = None) -> Response:
    account = broker.revoke(session, principal, tenant_id)
    sync = getattr(request.app.state, "broker_sync", None)
    if sync is not None:
        sync.call_from_thread(lambda: sync.remove(account.tenant_id, account.username))
    return Response(status_code=204)
