"""Any other path under the portal: a 404 page for people (the API's own 404 answers JSON)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from lora_city.errors import NotFound
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import PageDep

router = APIRouter(route_class=PortalRoute)


@router.get("/{rest:path}")
def not_found(page: PageDep, rest: str) -> Response:
    raise NotFound("page not found")
