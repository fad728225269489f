"""The authentication audit (failed logins and API-key attempts) and the throttles they set, for the city's
administrators and operators: see who is locked out, and release a lock (services/auth_throttle.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from lora_city.api.deps import CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, Out, UtcTime
from lora_city.api.strict import QueryDateTime
from lora_city.services.auth_throttle import AuthThrottle
from lora_city.services.principal import Perm
from lora_city.storage.models import AuthFailure

router = APIRouter(prefix="/auth", tags=["authentication audit"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


class AuthLockOut(Out):
    id: str
    scope: str  # account (an e-mail), address (a client IP), api-key (a key's prefix), api-address (a client IP)
    subject: str
    failures: int
    blocked_until: UtcTime
    locked: bool  # the long lock (after many failures), not only the growing delay
    last_failure_at: UtcTime


class AuthFailureOut(Out):
    id: str
    time: UtcTime
    kind: str  # portal_login | api_key | grpc_login
    account: str | None
    address: str | None
    reason: str


def _throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle = request.app.state.auth_throttle
    return throttle


@router.get("/locks")
def list_locks(request: Request, principal: CurrentPrincipal) -> list[AuthLockOut]:
    """Accounts and client addresses throttled now, newest failure first."""
    principal.require(Perm.SECURITY_ADMIN)
    return [AuthLockOut.model_validate(r) for r in _throttle(request).locks()]


@router.delete("/locks/{lock_id}", status_code=204, response_class=Response)
def release_lock(request: Request, principal: CurrentPrincipal, lock_id: str) -> Response:
    """Lift a throttle now: the account or address may try again at once, its failure count starts afresh."""
    principal.require(Perm.SECURITY_ADMIN)
    _throttle(request).release(lock_id)
    return Response(status_code=204)


@router.get("/failures")
def list_failures(session: SessionDep, principal: CurrentPrincipal,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  before: Annotated[QueryDateTime | None, Query(description="Older than this (RFC 3339)")] = None,
                  ) -> list[AuthFailureOut]:
    """The audit log of refused authentications, newest first."""
    principal.require(Perm.SECURITY_ADMIN)
    stmt = select(AuthFailure).order_by(AuthFailure.time.desc(), AuthFailure.id).limit(limit)
    if before is not None:
        stmt = stmt.where(AuthFailure.time < before)
    return [AuthFailureOut.model_validate(r) for r in session.scalars(stmt)]
