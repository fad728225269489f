"""Applications: a tenant's grouping of devices (one per use: street lighting, water metering …)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput, NotFound
from lora_city.services.common import INPUT_CONFIG, NotNull, target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.sinks.broker_sync import bump_broker_generation
from lora_city.storage.models import Application, utcnow


class ApplicationFields(BaseModel):
    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    description: str | None = Field(default=None, max_length=1000)  # null clears it


class ApplicationCreate(ApplicationFields):
    name: str = Field(min_length=1, max_length=200)
    tenant_id: str | None = None


def create_application(session: Session, principal: Principal, data: ApplicationCreate) -> Application:
    principal.require(Perm.APPLICATIONS_WRITE)
    tenant = target_tenant(session, principal, data.tenant_id)
    app = Application(tenant_id=tenant, name=data.name, description=data.description or "")
    session.add(app)
    bump_broker_generation(session)  # the tenant's broker role gains application/{id}/# (sinks/broker_sync.py)
    session.commit()
    return app


def get_application(session: Session, principal: Principal, application_id: str) -> Application:
    principal.require(Perm.APPLICATIONS_READ)
    app = session.get(Application, application_id)
    if app is None or not principal.sees(app.tenant_id):
        raise NotFound("application not found")
    return app


def list_applications(session: Session, principal: Principal) -> list[Application]:
    principal.require(Perm.APPLICATIONS_READ)
    stmt = select(Application).order_by(Application.name, Application.id)
    stmt = visible_only(stmt, principal, Application.tenant_id)
    return list(session.scalars(stmt))


def update_application(
    session: Session, principal: Principal, application_id: str, data: ApplicationFields
) -> Application:
    principal.require(Perm.APPLICATIONS_WRITE)
    app = get_application(session, principal, application_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name == "description":
            value = ""
        elif value is None:
            raise InvalidInput(f"{name} may not be null")
        setattr(app, name, value)
    app.updated_at = utcnow()
    session.commit()
    return app


def delete_application(session: Session, principal: Principal, application_id: str) -> None:
    principal.require(Perm.APPLICATIONS_WRITE)
    session.delete(get_application(session, principal, application_id))
    bump_broker_generation(session)
    session.commit()
