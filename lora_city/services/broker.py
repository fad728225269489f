"""A tenant's account on the product's MQTT broker: issued (or reset) with a password shown once, read, revoked.
The account reads ``application/{id}/#`` of the tenant's applications only (sinks/broker_acl.py)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import NotFound
from lora_city.services.common import target_tenant
from lora_city.services.principal import Perm, Principal
from lora_city.sinks.broker_acl import application_topics, hash_password, tenant_username
from lora_city.sinks.broker_sync import bump_broker_generation
from lora_city.storage.models import Application, BrokerAccount, Tenant, utcnow

READ, WRITE = Perm.APPLICATIONS_READ, Perm.APPLICATIONS_WRITE


def issue(session: Session, principal: Principal, tenant_id: str | None) -> tuple[BrokerAccount, str]:
    """A new password for the tenant's account (created on first use); the old password stops working."""
    principal.require(WRITE)
    tenant = session.get(Tenant, target_tenant(session, principal, tenant_id))
    assert tenant is not None
    password = secrets.token_urlsafe(24)
    secret = hash_password(password)
    account = session.get(BrokerAccount, tenant.id)
    if account is None:
        account = BrokerAccount(tenant_id=tenant.id, username=tenant_username(tenant.slug))
        session.add(account)
    account.password_hash, account.salt, account.iterations = secret.password, secret.salt, secret.iterations
    account.updated_at = utcnow()
    bump_broker_generation(session)
    session.commit()
    return account, password


def get(session: Session, principal: Principal, tenant_id: str | None) -> BrokerAccount:
    principal.require(READ)
    account = session.get(BrokerAccount, target_tenant(session, principal, tenant_id))
    if account is None:
        raise NotFound("this tenant has no broker account", code="no_broker_account")
    return account


def revoke(session: Session, principal: Principal, tenant_id: str | None) -> BrokerAccount:
    account = get(session, principal, tenant_id)
    principal.require(WRITE)
    session.delete(account)
    bump_broker_generation(session)
    session.commit()
    return account


def topics(session: Session, tenant_id: str) -> list[str]:
    return application_topics(session.scalars(select(Application.id).where(Application.tenant_id == tenant_id)))
