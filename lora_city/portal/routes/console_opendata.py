"""The open-data page of the city's console (issue 21: "the demo's daily export writes 0 rows and nothing says
why"): the day's export to download (CSV, GeoJSON), the rules in plain words, how many devices count in each
dataset, and every device left out with each reason, in the page's language: what a newcomer needs to fix a
position, a ``district`` tag or a codec. The same export as ``lora-city opendata export`` and the API's
``/opendata/daily`` (lora_city/opendata/export.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from lora_city.opendata.export import DATASETS, MIN_HOUSEHOLDS, build_export, to_csv, to_geojson
from lora_city.portal import measures
from lora_city.portal.formatting import PARIS
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import PageDep, PortalUser, roles
from lora_city.services.principal import Perm, Role

router = APIRouter(route_class=PortalRoute, prefix="/console")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
SHOWN = 500  # devices listed on the page; the CLI lists them all


def _day(page: PageDep, value: str) -> tuple[date, bool]:
    """The day asked for, or yesterday in Nîmes (the day the nightly export publishes); False: it was not a date."""
    yesterday = page.ctx.clock().astimezone(PARIS).date() - timedelta(days=1)
    if not value:
        return yesterday, True
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return yesterday, False
    return (day, True) if date(2000, 1, 1) <= day <= date(2100, 1, 1) else (yesterday, False)


@router.get("/opendata")
def opendata_page(page: PageDep, user: StaffDep, day: str = "") -> Response:
    user.principal.require(Perm.OVERVIEW_READ)
    when, valid = _day(page, day)
    result = build_export(page.ctx.session_factory, when)
    return page.render("console/opendata.html", result=result, day=when, values={"day": day or when.isoformat()},
                       errors={} if valid else {"day": page.t("opendata.day_invalid")}, shown=SHOWN,
                       min_households=MIN_HOUSEHOLDS,
                       measure_names={d.quantity: measures.label(page.t, d.quantity) for d in DATASETS.values()})


@router.get("/opendata/opendata-{day}.csv")
def opendata_csv(page: PageDep, user: StaffDep, day: str) -> Response:
    user.principal.require(Perm.OVERVIEW_READ)
    when, _ = _day(page, day)
    return Response(to_csv(build_export(page.ctx.session_factory, when).rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="opendata-{when}.csv"'})


@router.get("/opendata/opendata-{day}.geojson")
def opendata_geojson(page: PageDep, user: StaffDep, day: str) -> Response:
    user.principal.require(Perm.OVERVIEW_READ)
    when, _ = _day(page, day)
    return Response(to_geojson(build_export(page.ctx.session_factory, when).rows),
                    media_type="application/geo+json",
                    headers={"Content-Disposition": f'attachment; filename="opendata-{when}.geojson"'})
