"""The web portal: server-rendered pages for lessees, the city console and technicians (issue 8).

The composition root calls :func:`mount_portal` on the API's FastAPI app. The portal calls lora_city.services
with the logged-in user's principal; it holds no business rule of its own.
"""

from lora_city.portal.extras import (
    InvoiceDocument,
    InvoiceSummary,
    LeaseDay,
    LeaseSummary,
    NavLink,
    PlanSummary,
    PortalExtras,
    QuotaGauge,
)
from lora_city.portal.mount import mount_portal

__all__ = ["InvoiceDocument", "InvoiceSummary", "LeaseDay", "LeaseSummary", "NavLink", "PlanSummary",
           "PortalExtras", "QuotaGauge", "mount_portal"]
