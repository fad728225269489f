"""The lessee's pages: dashboard, alerts, invoices and the usage export.

Invoices, quota gauges and the usage export come from billing/ through ``PortalExtras`` when the composition
root provides them; without billing the pages say so, and the usage export falls back to an activity report
from the readings store.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from lora_city.errors import NotFound
from lora_city.portal import activity_csv, alerts_page, csv_header, device_status
from lora_city.portal.extras import QuotaGauge
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, PageDep, PortalUser, roles
from lora_city.services import devices, overview
from lora_city.services.principal import Role

router = APIRouter(route_class=PortalRoute)
_LESSEE = roles(Role.TENANT_ADMIN, Role.TENANT_VIEWER, Role.ADMIN, Role.OPERATOR)
LesseeDep = Annotated[PortalUser, Depends(_LESSEE)]
_INVOICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@router.get("/dashboard")
def dashboard(page: PageDep, user: LesseeDep, db: DbDep) -> Response:
    now = page.ctx.clock()
    net = overview.overview(db, user.principal, now=now)
    views = devices.list_devices(db, user.principal, limit=20)
    states = device_status.states(db, views, now)
    gauges: list[QuotaGauge] = []
    if page.ctx.extras.quotas is not None:
        gauges = list(page.ctx.extras.quotas(db, user.tenant_id))
    alerts = page.ctx.alerts.list_alerts(
        tenant_id=None if user.principal.sees_all_tenants else user.tenant_id, state="open", limit=10)
    period = now.astimezone(activity_csv.PARIS).strftime("%Y-%m")
    lease = page.ctx.extras.lease(db, user.tenant_id, period, page.language) if page.ctx.extras.lease else None
    return page.render("dashboard.html", net=net, views=views, states=states, gauges=gauges, alerts=alerts,
                       has_quotas=page.ctx.extras.quotas is not None, lease=lease)


@router.get("/alerts")
def alerts(page: PageDep, user: LesseeDep, db: DbDep, state: str = "open", severity: str = "", q: str = "",
           every: str = "", notice: str = "") -> Response:
    return alerts_page.render(page, db, user, state=state, severity=severity, q=q, every=every, notice=notice)


@router.post("/alerts/{alert_id}/ack", dependencies=[CsrfChecked])
def acknowledge(page: PageDep, user: LesseeDep, db: DbDep, alert_id: str, state: Annotated[str, Form()] = "open",
                severity: Annotated[str, Form()] = "", q: Annotated[str, Form()] = "",
                every: Annotated[str, Form()] = "") -> Response:
    return alerts_page.acknowledge(page, db, user, alert_id, state=state, severity=severity, q=q, every=every)


@router.get("/invoices")
def invoices(page: PageDep, user: LesseeDep, db: DbDep) -> Response:
    lister = page.ctx.extras.invoices
    rows = list(lister(db, user.tenant_id)) if lister is not None else []
    return page.render("invoices.html", invoices=rows, available=lister is not None,
                       downloadable=page.ctx.extras.invoice_file is not None)


@router.get("/invoices/{invoice_id}.{fmt}")
def invoice_file(page: PageDep, user: LesseeDep, db: DbDep, invoice_id: str, fmt: str) -> Response:
    render = page.ctx.extras.invoice_file
    if render is None or fmt not in ("pdf", "csv") or not _INVOICE_ID.match(invoice_id):
        raise NotFound("invoice not found")
    document = render(db, user.tenant_id, invoice_id, "pdf" if fmt == "pdf" else "csv")
    media = "application/pdf" if fmt == "pdf" else "text/csv; charset=utf-8"
    # The PDF is the invoice as issued, in its customer's language; the CSV's columns are named for the reader.
    body = document.body if fmt == "pdf" else csv_header.localised(document.body.decode(), page.t).encode()
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{document.name}"'})


@router.get("/usage")
def usage_page(page: PageDep, user: LesseeDep, db: DbDep, period: str = "") -> Response:
    """The lease (plan, caps, allowances) and the month's metered usage day by day, beside the CSV export."""
    current = page.ctx.clock().astimezone(activity_csv.PARIS).strftime("%Y-%m")
    shown = period if _PERIOD.match(period) else current
    lease = page.ctx.extras.lease(db, user.tenant_id, shown, page.language) if page.ctx.extras.lease else None
    return page.render("usage.html", period=shown, lease=lease,
                       from_billing=page.ctx.extras.usage_export is not None)


@router.get("/usage.csv")
def usage_csv(page: PageDep, user: LesseeDep, db: DbDep, period: str) -> Response:
    activity_csv.month_bounds(period)  # validates the period before either exporter sees it
    exporter = page.ctx.extras.usage_export
    text = (csv_header.localised(exporter(db, user.tenant_id, period), page.t) if exporter is not None
            else activity_csv.activity_csv(db, user.tenant_id, period, page.t))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="usage-{period}.csv"'})

