"""Who is calling, and what each role may do.

Roles (issue 6): ``admin`` and ``operator`` (the digital directorate) see every tenant; ``technician`` sees every
tenant too, because an installer scans devices whose owner they do not know yet, but may only onboard and read;
``tenant_admin`` manages everything of its own tenant; ``tenant_viewer`` reads its own tenant.

A missing permission is a 403 (it says nothing about any object). An object of another tenant is a 404, never a
403, so a key never learns that someone else's object exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lora_city.errors import NotFound, PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    TENANT_ADMIN = "tenant_admin"
    TENANT_VIEWER = "tenant_viewer"


class Perm(StrEnum):
    TENANTS_READ = "tenants:read"
    TENANTS_WRITE = "tenants:write"
    KEYS_READ = "keys:read"
    KEYS_WRITE = "keys:write"
    GATEWAYS_READ = "gateways:read"
    GATEWAYS_WRITE = "gateways:write"
    PROFILES_READ = "profiles:read"
    PROFILES_WRITE = "profiles:write"
    APPLICATIONS_READ = "applications:read"
    APPLICATIONS_WRITE = "applications:write"
    DEVICES_READ = "devices:read"
    DEVICES_WRITE = "devices:write"
    QUEUE_WRITE = "queue:write"
    READINGS_READ = "readings:read"
    ASSETS_READ = "assets:read"
    ONBOARDING = "onboarding"
    OVERVIEW_READ = "overview:read"
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    FEED_ADMIN = "feed:admin"  # the supervision feed's subscriptions: the directorate only
    SECURITY_ADMIN = "security:admin"  # failed-login audit and authentication locks: the directorate only


_READ = {p for p in Perm if p.value.endswith(":read")} - {Perm.KEYS_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    # The digital directorate leases the network: operators create and manage tenants too. What sets the
    # administrator apart is which keys it may mint (GRANTABLE): an operator never creates an admin key.
    Role.OPERATOR: frozenset(Perm),
    Role.TECHNICIAN: frozenset(
        {Perm.ONBOARDING, Perm.DEVICES_READ, Perm.GATEWAYS_READ, Perm.PROFILES_READ, Perm.ASSETS_READ}
    ),
    # A lessee company installs its own devices too, hence onboarding within its tenant.
    Role.TENANT_ADMIN: frozenset(Perm) - {Perm.TENANTS_WRITE, Perm.FEED_ADMIN, Perm.SECURITY_ADMIN},
    Role.TENANT_VIEWER: frozenset(_READ),
}

# Roles a principal may hand out when creating an API key (never more than it has).
GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.OPERATOR: frozenset(Role) - {Role.ADMIN},
    Role.TECHNICIAN: frozenset(),
    Role.TENANT_ADMIN: frozenset({Role.TENANT_ADMIN, Role.TENANT_VIEWER}),
    Role.TENANT_VIEWER: frozenset(),
}

_ALL_TENANTS = frozenset({Role.ADMIN, Role.OPERATOR, Role.TECHNICIAN})


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    tenant_id: str | None  # None only for the built-in administrator (Settings.admin_token)
    key_id: str | None = None

    @property
    def identity(self) -> str:
        """Stable name for per-principal records (idempotency keys)."""
        return self.key_id or f"builtin-{self.role.value}"

    @property
    def sees_all_tenants(self) -> bool:
        return self.role in _ALL_TENANTS

    def can(self, perm: Perm) -> bool:
        return perm in ROLE_PERMISSIONS[self.role]

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise PermissionDenied(f"role {self.role.value} may not do {perm.value}")

    def sees(self, tenant_id: str) -> bool:
        return self.sees_all_tenants or tenant_id == self.tenant_id

    def check_visible(self, tenant_id: str, what: str) -> None:
        """Raise NotFound (not PermissionDenied) for another tenant's object: existence is not revealed."""
        if not self.sees(tenant_id):
            raise NotFound(f"{what} not found")

    def tenant_filter(self) -> str | None:
        """The tenant a listing is restricted to, or None for all."""
        return None if self.sees_all_tenants else self.tenant_id
