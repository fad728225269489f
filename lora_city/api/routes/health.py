"""Liveness, readiness and Prometheus metrics, outside /api/v1 where orchestrators and scrapers expect them.

- ``/healthz``: the process answers (liveness; restart me if not).
- ``/readyz``: the database answers and every readiness check the composition root registered passes
  (``app.state.readiness``: callables returning ``(name, ok)``, e.g. the MQTT connection); 503 otherwise, with
  ``not_ready`` naming what is missing, so a load balancer stops sending traffic to a replica that cannot serve
  it and its operator sees why.
- ``/metrics``: the application's own Prometheus registry (lora_city.metrics.Metrics).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from lora_city.api.deps import ContextDep

router = APIRouter(tags=["health"])

ReadinessCheck = Callable[[], tuple[str, bool]]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, ctx: ContextDep) -> JSONResponse:
    checks: dict[str, bool] = {}
    try:
        with ctx.session_factory() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:
        checks["database"] = False
    for check in getattr(request.app.state, "readiness", []):
        try:
            name, ok = check()
        except Exception:
            name, ok = getattr(check, "__name__", "check"), False
        checks[name] = ok
    not_ready = [name for name, ok in checks.items() if not ok]
    return JSONResponse({"status": "not_ready" if not_ready else "ready", "checks": checks, "not_ready": not_ready},
                        status_code=503 if not_ready else 200)


@router.get("/metrics", response_class=Response)
def metrics(ctx: ContextDep) -> Response:
    if ctx.metrics is None:
        return Response("", media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
