"""Who owns each gateway and whether it is shared: a tenant's private gateway (issue 7) carries only its owner's
uplinks (``private_up``) and/or downlinks (``private_down``). A tenant's ``private_gateways_up/down`` (ChirpStack's
tenant settings) make all its gateways private that way, whatever each gateway's own flag says.

An in-memory copy of the ``gateways`` table, read per uplink without a query. The API tells the server of every
gateway it creates, changes or deletes, which reloads that one row at once (``reload``): the next frame obeys
(issue 23, defect 1). The full reload of the server's flush loop is only the fallback for other writers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Gateway, Tenant

_ROWS = (select(Gateway.gateway_id, Gateway.tenant_id, Gateway.private_up | Tenant.private_gateways_up,
                Gateway.private_down | Tenant.private_gateways_down)
         .join(Tenant, Tenant.id == Gateway.tenant_id))


@dataclass(frozen=True, slots=True)
class GatewayAccess:
    tenant_id: str
    private_up: bool
    private_down: bool


class GatewayDirectory:
    def __init__(self) -> None:
        self._gateways: dict[str, GatewayAccess] = {}

    def load(self, factory: SessionFactory) -> int:
        with factory() as db:
            rows = db.execute(_ROWS)
            fresh = {gid: GatewayAccess(tenant, bool(up), bool(down)) for gid, tenant, up, down in rows}
        self._gateways = fresh  # one assignment: readers see the old map or the new one
        return len(fresh)

    def reload(self, factory: SessionFactory, gateway_id: str) -> bool:
        """Re-read one gateway (created, changed or deleted); True when it exists."""
        with factory() as db:
            row = db.execute(_ROWS.where(Gateway.gateway_id == gateway_id)).first()
        fresh = dict(self._gateways)
        if row is None:
            fresh.pop(gateway_id, None)
        else:
            fresh[gateway_id] = GatewayAccess(row[1], bool(row[2]), bool(row[3]))
        self._gateways = fresh
        return row is not None

    def set(self, gateway_id: str, access: GatewayAccess) -> None:
        self._gateways = {**self._gateways, gateway_id: access}

    def knows(self, gateway_id: str) -> bool:
        """Registered (through the API, the importer or the portal)."""
        return gateway_id in self._gateways

    def may_receive_for(self, gateway_id: str, tenant_id: str) -> bool:
        access = self._gateways.get(gateway_id)
        return access is None or not access.private_up or access.tenant_id == tenant_id

    def may_transmit_for(self, gateway_id: str, tenant_id: str) -> bool:
        access = self._gateways.get(gateway_id)
        return access is None or not access.private_down or access.tenant_id == tenant_id
