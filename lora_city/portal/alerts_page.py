"""The alerts page, one for the city's staff (every tenant) and for a lessee (its own): open alerts or the
history with filters, refreshed by itself (static/refresh.js fetches the page again and swaps the table in),
and acknowledgement that explains itself when the alert moved on meanwhile."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.responses import Response
from sqlalchemy.orm import Session

from lora_city.errors import Conflict, PermissionDenied
from lora_city.portal import alert_list
from lora_city.portal.alert_list import AlertQuery
from lora_city.portal.web import Page, PortalUser
from lora_city.services.principal import Role
from lora_city.storage.models import Alert

REFRESH_CHOICES = (10, 30, 60, 0)  # seconds; 0: off (someone reading a long history)
DEFAULT_REFRESH = 30


def _refresh(value: str) -> int:
    return int(value) if value.isdigit() and int(value) in REFRESH_CHOICES else DEFAULT_REFRESH


def render(page: Page, db: Session, user: PortalUser, *, state: str, severity: str, q: str, every: str,
           notice: str) -> Response:
    query = AlertQuery.parse(state, severity, q)
    tenant = None if user.principal.sees_all_tenants else user.tenant_id
    rows = alert_list.list_rows(db, tenant, query)
    return page.render("alerts.html", rows=rows, query=query, states=alert_list.STATES,
                       severities=alert_list.SEVERITIES, refresh=_refresh(every), refresh_choices=REFRESH_CHOICES,
                       notice=notice if notice in NOTICES else "", can_ack=user.role != Role.TENANT_VIEWER,
                       staff=user.is_city_staff, base=_base(user), full=len(rows) == alert_list.PAGE_SIZE)


NOTICES = ("acknowledged", "already_resolved", "already_acknowledged")


def _base(user: PortalUser) -> str:
    return "/console/alerts" if user.is_city_staff else "/alerts"


def acknowledge(page: Page, db: Session, user: PortalUser, alert_id: str, *, state: str, severity: str, q: str,
                every: str) -> Response:
    """Acknowledge, then back to the same filtered view with what happened said in the page's language. An
    alert resolved (or acknowledged by a colleague) in the meantime is no error for the person: the page says
    so instead of a bare 409."""
    if user.role == Role.TENANT_VIEWER:
        raise PermissionDenied("a read-only user may not acknowledge alerts")
    tenant = None if user.principal.sees_all_tenants else user.tenant_id
    try:
        page.ctx.alerts.acknowledge(alert_id, user.email, tenant_id=tenant)
        notice = "acknowledged"
    except Conflict:
        row = db.get(Alert, alert_id)  # the service checked it is this person's to see
        notice = "already_resolved" if row is None or row.state == "resolved" else "already_acknowledged"
    query = AlertQuery.parse(state, severity, q)
    params = {"state": query.state, "severity": query.severity, "q": query.q, "every": str(_refresh(every)),
              "notice": notice}
    return page.redirect(f"{_base(user)}?{urlencode({k: v for k, v in params.items() if v})}")
