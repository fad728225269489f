"""A tenant's integration settings (webhooks, MQTT) on the sinks' ``integrations`` table. Webhooks are created
through the sinks' own ``IntegrationStore`` (one place encrypts secrets); the secret is shown once."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import NotFound
from lora_city.services.common import target_tenant
from lora_city.services.principal import Perm, Principal
from lora_city.sinks.integrations import IntegrationStore
from lora_city.storage.models import Integration

# Integrations deliver a tenant's application data, so they follow the applications' permissions.
READ, WRITE = Perm.APPLICATIONS_READ, Perm.APPLICATIONS_WRITE


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(webhook|mqtt)$")
    url: str = Field(min_length=1, max_length=500, pattern="^(https?|mqtts?)://")
    tenant_id: str | None = None


class IntegrationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    url: str | None = Field(default=None, min_length=1, max_length=500, pattern="^(https?|mqtts?)://")


def create(session: Session, store: IntegrationStore, principal: Principal, data: IntegrationCreate
           ) -> tuple[Integration, str | None]:
    principal.require(WRITE)
    tenant_id = target_tenant(session, principal, data.tenant_id)
    secret: str | None = None
    if data.kind == "webhook":
        integration_id, secret = store.add_webhook(tenant_id, data.url)
    else:
        row = Integration(tenant_id=tenant_id, kind="mqtt", url=data.url)
        session.add(row)
        session.commit()
        integration_id = row.id
    return get(session, principal, integration_id), secret


def list_for(session: Session, principal: Principal) -> list[Integration]:
    principal.require(READ)
    stmt = select(Integration).order_by(Integration.created_at, Integration.id)
    if (only := principal.tenant_filter()) is not None:
        stmt = stmt.where(Integration.tenant_id == only)
    return list(session.scalars(stmt))


def get(session: Session, principal: Principal, integration_id: str) -> Integration:
    principal.require(READ)
    row = session.get(Integration, integration_id)
    if row is None or not principal.sees(row.tenant_id):
        raise NotFound("integration not found")
    return row


def update(session: Session, principal: Principal, integration_id: str, data: IntegrationPatch) -> Integration:
    row = get(session, principal, integration_id)  # another tenant's: 404 before any permission talk
    principal.require(WRITE)
    if data.enabled is not None:
        row.enabled = data.enabled
    if data.url is not None:
        row.url = data.url
    session.commit()
    return row


def remove(session: Session, principal: Principal, integration_id: str) -> None:
    row = get(session, principal, integration_id)
    principal.require(WRITE)
    session.delete(row)
    session.commit()
