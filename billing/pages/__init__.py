"""billing/'s pages in the city console: plans with their prices, the issuer, billing runs, invoices, payments
and credit notes. Built on the portal's own plumbing (lora_city.portal.web); the composition root passes them
to ``mount_portal`` through ``PortalExtras`` (routers, templates, navigation)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from billing.pages.invoicing import invoicing_router
from billing.pages.issuer import issuer_router
from billing.pages.plans import plans_router
from lora_city.portal import NavLink
from tenants.quota import PlanQuotaPolicy

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAV = (NavLink("/console/plans", "nav.plans", "console", 25), NavLink("/console/billing", "nav.billing", "console", 80))


def routers(policy: PlanQuotaPolicy | None) -> list[APIRouter]:
    # The issuer's page first: its path is inside /console/billing.
    return [issuer_router(), invoicing_router(), plans_router(policy)]
