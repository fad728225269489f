"""The city console (admin and operator): network overview, tenants, gateways on a map, open alerts. Plans,
prices and billing are billing/'s own pages, added through ``PortalExtras.routers`` when installed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from lora_city.portal import alerts_page, i18n, traffic
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import DbDep, PageDep, PortalUser, roles
from lora_city.services import assets, gateways, network_health, overview
from lora_city.services.common import as_utc
from lora_city.services.principal import Role

router = APIRouter(route_class=PortalRoute, prefix="/console")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
GATEWAY_PAGE = 1000
ASSET_PAGE = 1000  # the map of a city's fleet; the API pages through the rest
OFFLINE_AFTER = timedelta(minutes=5)
UNKNOWN_PAGE = 100


@router.get("")
def console_home(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    now = page.ctx.clock()
    net = overview.overview(db, user.principal, now=now)
    hours = traffic.uplinks_per_hour(db, now)
    peak = max((n for _, n in hours), default=0)
    return page.render("console/overview.html", net=net, hours=hours, peak=peak)


@router.get("/gateways")
def gateways_page(page: PageDep, user: StaffDep, db: DbDep, notice: str = "") -> Response:
    now = page.ctx.clock()
    rows = gateways.list_gateways(db, user.principal, limit=GATEWAY_PAGE)
    markers = []
    for gw in rows:
        last = as_utc(gw.last_seen_at)
        markers.append({
            "id": gw.gateway_id, "name": gw.name, "online": bool(gw.online),
            "lat": gw.latitude, "lon": gw.longitude, "last_seen": last.isoformat() if last else None,
            "stale": last is None or now - last > OFFLINE_AFTER,
        })
    placed = [{"name": a.name or a.external_ref or a.id, "kind": a.kind, "lat": a.latitude, "lon": a.longitude}
              for a in assets.list_assets(db, user.principal, limit=ASSET_PAGE) if a.latitude is not None]
    unknown = gateways.list_unknown_gateways(db, user.principal, limit=UNKNOWN_PAGE)
    return page.render("console/gateways.html", gateways=rows, markers={"gateways": markers, "assets": placed},
                       tile_url=page.ctx.settings.map_tile_url, unknown=unknown, notice=notice)


@router.get("/network")
def network_page(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    """Network-wide health: joins, MIC failures and drops by reason over 24 h and 7 days (traffic_counts), and
    the registered gateways that were never heard (a new installation's first problem)."""
    now = page.ctx.clock()
    counters = network_health.network_counters(db, now)
    known = i18n.catalogue(page.language)
    reasons = [(r, known.get(f"network.reason.{r}", ""), counters.day.drops.get(r, 0), counters.week.drops[r])
               for r in counters.reasons()]
    rows = gateways.list_gateways(db, user.principal, limit=GATEWAY_PAGE)
    never = [gw for gw in rows if gw.last_seen_at is None]
    return page.render("console/network.html", counters=counters, reasons=reasons, never_seen=never,
                       online=sum(1 for gw in rows if gw.online), registered=len(rows))


@router.get("/alerts")
def alerts(page: PageDep, user: StaffDep, db: DbDep, state: str = "open", severity: str = "", q: str = "",
           every: str = "", notice: str = "") -> Response:
    return alerts_page.render(page, db, user, state=state, severity=severity, q=q, every=every, notice=notice)
