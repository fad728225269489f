"""A tenant's own limits (ChirpStack's tenant settings): ``can_have_gateways``, ``max_gateway_count`` and
``max_device_count`` (0: no limit), checked before any new gateway or device is written, whichever way it
comes (HTTP API, gRPC API, portal, imports): ``make_session_factory`` installs the check on every factory.

The tenants/ package's plans add their own caps on top (tenants/plans.py); both apply.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.errors import PermissionDenied, QuotaExceeded
from lora_city.storage.models import Device, Gateway, Tenant


def check_tenant_limits(session: Session, _context: Any, _instances: Any) -> None:
    new: dict[tuple[str, str], int] = {}
    for obj in session.new:
        if isinstance(obj, Device | Gateway) and obj.tenant_id:
            key = ("device" if isinstance(obj, Device) else "gateway", obj.tenant_id)
            new[key] = new.get(key, 0) + 1
    if not new:
        return
    with session.no_autoflush:
        for (kind, tenant_id), added in new.items():
            limits = session.execute(select(Tenant.can_have_gateways, Tenant.max_gateway_count,
                                            Tenant.max_device_count).where(Tenant.id == tenant_id)).first()
            if limits is None:
                continue  # the foreign key refuses it
            can_have_gateways, max_gateways, max_devices = limits
            if kind == "gateway" and not can_have_gateways:
                raise PermissionDenied("this tenant may not have gateways", code="tenant_no_gateways")
            limit = max_gateways if kind == "gateway" else max_devices
            if not limit:
                continue
            model: type[Device] | type[Gateway] = Gateway if kind == "gateway" else Device
            count = session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id))
            if (count or 0) + added > limit:
                raise QuotaExceeded(f"the tenant's maximum of {limit} {kind}s is reached",
                                    code=f"tenant_max_{kind}s")
