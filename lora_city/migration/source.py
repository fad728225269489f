"""Reads a running ChirpStack v4 through its own gRPC API (the stock ``chirpstack_api`` stubs) into an Export.

Read-only: only List, Get, GetKeys and GetActivation are called. Lists are paged with ChirpStack's
limit/offset until ``total_count`` rows have been read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from chirpstack_api import api

PAGE = 100


@dataclass(slots=True)
class DeviceExport:
    device: api.Device
    keys: api.DeviceKeys | None  # None: the device has no root keys (ABP)
    activation: api.DeviceActivation | None  # None: not activated


@dataclass(slots=True)
class TenantExport:
    tenant: api.Tenant
    applications: list[api.Application] = field(default_factory=list)
    profiles: list[api.DeviceProfile] = field(default_factory=list)
    devices: list[DeviceExport] = field(default_factory=list)
    gateways: list[api.Gateway] = field(default_factory=list)


@dataclass(slots=True)
class Export:
    tenants: list[TenantExport] = field(default_factory=list)


def _pages(fetch: Callable[[int, int], Any], page: int) -> list[Any]:
    rows: list[Any] = []
    while True:
        resp = fetch(page, len(rows))
        batch: Sequence[Any] = resp.result
        rows.extend(batch)
        if not batch or len(rows) >= resp.total_count:
            return rows


class ChirpStackSource:
    """The stock clients on one channel, with the token in ChirpStack's ``authorization`` metadata."""

    def __init__(self, channel: grpc.Channel, token: str, *, timeout: float = 30.0, page: int = PAGE) -> None:
        self._meta = [("authorization", f"Bearer {token}")]
        self._page = page
        self._timeout = timeout
        self.tenants = api.TenantServiceStub(channel)
        self.applications = api.ApplicationServiceStub(channel)
        self.profiles = api.DeviceProfileServiceStub(channel)
        self.devices = api.DeviceServiceStub(channel)
        self.gateways = api.GatewayServiceStub(channel)

    def _pages(self, fetch: Callable[[int, int], Any]) -> list[Any]:
        return _pages(fetch, self._page)

    def _call(self, method: Any, request: Any) -> Any:
        return method(request, metadata=self._meta, timeout=self._timeout)

    def read(self, tenant_ids: Sequence[str] = ()) -> Export:
        """Every tenant the key may list, or only ``tenant_ids`` (a tenant API key may not list tenants)."""
        if not tenant_ids:
            tenant_ids = [item.id for item in self._pages(lambda limit, offset: self._call(
                self.tenants.List, api.ListTenantsRequest(limit=limit, offset=offset)))]
        export = Export()
        for tenant_id in tenant_ids:
            export.tenants.append(self._tenant(self._call(self.tenants.Get, api.GetTenantRequest(id=tenant_id)).tenant))
        return export

    def _tenant(self, tenant: api.Tenant) -> TenantExport:
        out = TenantExport(tenant)
        for item in self._pages(lambda limit, offset: self._call(self.applications.List, api.ListApplicationsRequest(
                tenant_id=tenant.id, limit=limit, offset=offset))):
            app = self._call(self.applications.Get, api.GetApplicationRequest(id=item.id)).application
            out.applications.append(app)
            out.devices.extend(self._devices(app.id))
        for item in self._pages(lambda limit, offset: self._call(self.profiles.List, api.ListDeviceProfilesRequest(
                tenant_id=tenant.id, limit=limit, offset=offset))):
            out.profiles.append(self._call(self.profiles.Get, api.GetDeviceProfileRequest(id=item.id)).device_profile)
        for item in self._pages(lambda limit, offset: self._call(self.gateways.List, api.ListGatewaysRequest(
                tenant_id=tenant.id, limit=limit, offset=offset))):
            out.gateways.append(self._call(self.gateways.Get, api.GetGatewayRequest(gateway_id=item.gateway_id)).gateway)
        return out

    def _devices(self, application_id: str) -> list[DeviceExport]:
        devices = []
        for item in self._pages(lambda limit, offset: self._call(self.devices.List, api.ListDevicesRequest(
                application_id=application_id, limit=limit, offset=offset))):
            device = self._call(self.devices.Get, api.GetDeviceRequest(dev_eui=item.dev_eui)).device
            activation = self._call(self.devices.GetActivation, api.GetDeviceActivationRequest(dev_eui=item.dev_eui))
            devices.append(DeviceExport(
                device, self._keys(item.dev_eui),
                activation.device_activation if activation.HasField("device_activation") else None,
            ))
        return devices

    def _keys(self, dev_eui: str) -> api.DeviceKeys | None:
        try:
            keys: api.DeviceKeys = self._call(self.devices.GetKeys, api.GetDeviceKeysRequest(dev_eui=dev_eui)).device_keys
            return keys
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:  # an ABP device has no root keys
                return None
            raise
