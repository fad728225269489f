"""Locked-out accounts and client addresses (the guessing throttle, services/auth_throttle.py), for the city's
administrators and operators: who is delayed or locked, after how many failures, until when; release one; and
the latest refused attempts (the audit log) to tell a forgotten password from an attack. The same actions as the
API's ``/auth/locks`` and ``/auth/failures``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select

from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, PageDep, PortalUser, roles
from lora_city.services.auth_throttle import AuthThrottle
from lora_city.services.principal import Perm, Role
from lora_city.storage.models import AuthFailure

router = APIRouter(route_class=PortalRoute, prefix="/console")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
RECENT_FAILURES = 20
NOTICES = {"released"}


def _throttle(page: PageDep) -> AuthThrottle:
    throttle: AuthThrottle = page.request.app.state.auth_throttle
    return throttle


@router.get("/locks")
def locks_page(page: PageDep, user: StaffDep, db: DbDep, notice: str = "") -> Response:
    user.principal.require(Perm.SECURITY_ADMIN)
    locks = _throttle(page).locks()
    failures = db.scalars(select(AuthFailure).order_by(AuthFailure.time.desc(), AuthFailure.id)
                          .limit(RECENT_FAILURES)).all()
    return page.render("console/locks.html", locks=locks, failures=failures,
                       notice=notice if notice in NOTICES else "")


@router.post("/locks/{lock_id}/release", dependencies=[CsrfChecked])
def release_lock(page: PageDep, user: StaffDep, lock_id: str) -> Response:
    user.principal.require(Perm.SECURITY_ADMIN)
    _throttle(page).release(lock_id)  # in the database: every process lets the account in at once
    return page.redirect("/console/locks?notice=released")
