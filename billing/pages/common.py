"""What every billing page shares: the staff-only dependency and the quota reload after a plan change."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from lora_city.portal.web import PortalUser, roles
from lora_city.services.principal import Role
from tenants.quota import PlanQuotaPolicy

StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]


def reload_quotas(policy: PlanQuotaPolicy | None, session: Session) -> None:
    """A plan's caps apply to the next frame (the network server's policy is this process's; other processes
    pick the change up in their periodic refresh)."""
    if policy is not None:
        policy.load(session)
