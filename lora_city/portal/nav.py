"""The navigation bar: the core's pages for each audience, merged with the pages plugins add (``NavLink``), in
one order. The current page is the link with the longest path the request's path starts with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lora_city.portal.extras import NavLink
from lora_city.services.principal import Role

CONSOLE: tuple[NavLink, ...] = (
    NavLink("/console", "nav.overview", "console", 10),
    NavLink("/console/tenants", "nav.tenants", "console", 20),
    NavLink("/console/gateways", "nav.gateways", "console", 30),
    NavLink("/console/network", "nav.network", "console", 32),
    NavLink("/console/lighting", "nav.lighting", "console", 35),
    NavLink("/console/profiles", "nav.profiles", "console", 40),
    NavLink("/console/catalogue", "nav.catalogue", "console", 45),
    NavLink("/devices", "nav.devices", "console", 50),
    NavLink("/users", "nav.users", "console", 60),
    NavLink("/console/alerts", "nav.alerts", "console", 70),
    NavLink("/console/opendata", "nav.opendata", "console", 75),
    NavLink("/console/fuota", "nav.fuota", "console", 80),
    NavLink("/keys", "nav.keys", "console", 90),
    NavLink("/console/locks", "nav.locks", "console", 92),
    NavLink("/install", "nav.install", "console", 95),
)
LESSEE: tuple[NavLink, ...] = (
    NavLink("/dashboard", "nav.dashboard", "lessee", 10),
    NavLink("/devices", "nav.devices", "lessee", 20),
    NavLink("/alerts", "nav.alerts", "lessee", 30),
    NavLink("/invoices", "nav.invoices", "lessee", 40),
    NavLink("/usage", "nav.usage", "lessee", 50),
    NavLink("/integrations", "nav.integrations", "lessee", 60),
    NavLink("/keys", "nav.keys", "lessee", 70),
    NavLink("/users", "nav.users", "lessee", 80),
)
TECHNICIAN: tuple[NavLink, ...] = (NavLink("/install", "nav.install", "console", 10),)
ADMIN_ONLY_LESSEE = {"/keys", "/users"}  # a read-only lessee neither mints keys nor invites colleagues


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str
    current: bool


def links(role: Role, extra: Sequence[NavLink], path: str, prefix: str) -> list[NavItem]:
    if role in (Role.ADMIN, Role.OPERATOR):
        chosen = [*CONSOLE, *(n for n in extra if n.audience == "console")]
    elif role in (Role.TENANT_ADMIN, Role.TENANT_VIEWER):
        chosen = [*LESSEE, *(n for n in extra if n.audience == "lessee")]
        if role is Role.TENANT_VIEWER:
            chosen = [n for n in chosen if n.path not in ADMIN_ONLY_LESSEE]
    else:
        chosen = list(TECHNICIAN)
    chosen.sort(key=lambda n: n.order)
    inside = path.removeprefix(prefix) or "/"
    matches = [n.path for n in chosen if inside == n.path or inside.startswith(n.path.rstrip("/") + "/")]
    current = max(matches, key=len, default=None)
    return [NavItem(n.path, n.label, n.path == current) for n in chosen]
