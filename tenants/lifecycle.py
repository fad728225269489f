"""A tenant's life: created on a plan (through the core's tenant service), suspended (its devices' uplinks are
dropped by the quota policy, its API keys refused by the core's authentication), resumed, and deleted only after
its data was exported: a zip of JSON files (tenant, devices, gateways, applications), its readings as JSON
lines, and whatever the export parts add (billing adds its invoices)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lora_city.errors import Conflict, NotFound
from lora_city.services import tenants as core_tenants
from lora_city.services.principal import Perm, Principal
from lora_city.services.tenants import TenantCreate
from lora_city.storage.bootstrap import CITY_SLUG
from lora_city.storage.models import Application, Device, Gateway, Reading, Tenant
from tenants.models import Plan

# (session, tenant_id) -> (file name in the zip, bytes): what other packages add to the export.
ExportPart = Callable[[Session, str], Iterable[tuple[str, bytes]]]
OnChange = Callable[[], None]  # e.g. reload the quota policy's limits


def create_tenant(session: Session, principal: Principal, data: TenantCreate, plan_id: str | None) -> Tenant:
    if plan_id is not None and session.get(Plan, plan_id) is None:
        raise NotFound("plan not found", code="plan_not_found")
    tenant = core_tenants.create_tenant(session, principal, data)
    tenant.plan_id = plan_id
    session.commit()
    return tenant


def set_status(session: Session, principal: Principal, tenant_id: str, status: str,
               on_change: OnChange | None = None) -> Tenant:
    """``suspended`` or ``active``. The city's own tenant is never suspended."""
    principal.require(Perm.TENANTS_WRITE)
    tenant = core_tenants.get_tenant(session, principal, tenant_id)
    if tenant.slug == CITY_SLUG:
        raise Conflict("the city's own tenant cannot be suspended", code="city_tenant")
    tenant.status = status
    session.commit()
    if on_change is not None:
        on_change()
    return tenant


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(rows: Iterable[Any], exclude: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    return [{c.key: _json(getattr(r, c.key)) for c in r.__table__.columns if c.key not in exclude} for r in rows]


def export_tenant(session: Session, principal: Principal, tenant_id: str,
                  parts: Sequence[ExportPart] = ()) -> bytes:
    tenant = core_tenants.get_tenant(session, principal, tenant_id)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("tenant.json", json.dumps(_rows([tenant])[0], indent=1))
        for name, model in (("devices", Device), ("gateways", Gateway), ("applications", Application)):
            rows = session.scalars(select(model).where(model.tenant_id == tenant_id))
            z.writestr(f"{name}.json", json.dumps(_rows(rows), indent=1))
        with z.open("readings.jsonl", "w") as out:  # streamed: a tenant may have millions
            stmt = select(Reading).where(Reading.tenant_id == tenant_id).order_by(Reading.id)
            for reading in session.scalars(stmt.execution_options(yield_per=1000)):
                out.write(json.dumps(_rows([reading])[0]).encode() + b"\n")
        for part in parts:
            for name, data in part(session, tenant_id):
                z.writestr(name, data)
    return buf.getvalue()


def delete_tenant(session: Session, principal: Principal, tenant_id: str, export_dir: Path,
                  parts: Sequence[ExportPart] = (), on_change: OnChange | None = None) -> Path:
    """Export first, to ``export_dir/<slug>-<id>.zip``, then delete; returns the export's path. Readings have no
    foreign key to the tenant, so they are deleted here; devices, gateways, keys … go with the core's cascade.
    Invoices and metered usage stay: accounting records are kept for ten years (Code de commerce L123-22)."""
    principal.require(Perm.TENANTS_WRITE)
    tenant = core_tenants.get_tenant(session, principal, tenant_id)
    if tenant.slug == CITY_SLUG:
        raise Conflict("the city's own tenant cannot be deleted", code="city_tenant")
    data = export_tenant(session, principal, tenant_id, parts)
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / f"{tenant.slug}-{tenant.id}.zip"
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)  # the export is complete on disk before anything is deleted
    session.execute(delete(Reading).where(Reading.tenant_id == tenant_id))
    core_tenants.delete_tenant(session, principal, tenant_id)
    if on_change is not None:
        on_change()
    return path
