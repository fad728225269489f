"""First-run data every installation needs: the city's own tenant (owner of everything registered without one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.storage.models import Tenant

CITY_SLUG = "city"


def ensure_city_tenant(session: Session, name: str = "Ville") -> Tenant:
    """Return the city's tenant, creating it on first use. Callers commit."""
    tenant = session.scalar(select(Tenant).where(Tenant.slug == CITY_SLUG))
    if tenant is None:
        tenant = Tenant(name=name, slug=CITY_SLUG, kind="city", is_critical=True)
        session.add(tenant)
        session.flush()
    return tenant
