"""Which application-layer packages a device runs, from its device profile's ``app_layer`` setting.

The setting maps a package name to its version, optionally with its FPort: ``{"clock_sync": 2,
"multicast_setup": {"version": 2, "port": 200}, "fragmentation": 1}``. The result is a small tuple shared by every
device of the profile (interned), kept on the device's identity so the uplink path can tell in one lookup whether a
port belongs to a package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lora_city.lorawan.applayer import clock_sync, fragmentation, multicast_setup
from lora_city.lorawan.applayer.commands import Package

VERSIONS: dict[str, dict[int, Package]] = {
    "clock_sync": clock_sync.VERSIONS, "multicast_setup": multicast_setup.VERSIONS,
    "fragmentation": fragmentation.VERSIONS,
}
DEFAULT_PORT = {"clock_sync": clock_sync.PORT, "multicast_setup": multicast_setup.PORT,
                "fragmentation": fragmentation.PORT}


@dataclass(frozen=True, slots=True)
class PackagePort:
    port: int
    name: str  # clock_sync | multicast_setup | fragmentation
    version: int

    @property
    def package(self) -> Package:
        return VERSIONS[self.name][self.version]


AppLayer = tuple[PackagePort, ...]
_INTERNED: dict[AppLayer, AppLayer] = {}


def parse_app_layer(setting: Mapping[str, Any] | None) -> AppLayer:
    """The packages of a profile setting (validated by the API; unknown names or versions raise ValueError)."""
    if not setting:
        return ()
    ports: list[PackagePort] = []
    for name, value in sorted(setting.items()):
        versions = VERSIONS.get(name)
        if versions is None:
            raise ValueError(f"unknown application-layer package {name!r}")
        version, port = (value.get("version"), value.get("port", DEFAULT_PORT[name])) \
            if isinstance(value, Mapping) else (value, DEFAULT_PORT[name])
        if not isinstance(version, int) or version not in versions:
            raise ValueError(f"{name}: version {version!r} is not one of {sorted(versions)}")
        if not isinstance(port, int) or not 1 <= port <= 223:
            raise ValueError(f"{name}: port {port!r} is not 1..223")
        ports.append(PackagePort(port, name, version))
    if len({p.port for p in ports}) != len(ports):
        raise ValueError("two application-layer packages on one port")
    key = tuple(ports)
    return _INTERNED.setdefault(key, key)


def package_on(app_layer: AppLayer, f_port: int | None) -> PackagePort | None:
    for entry in app_layer:
        if entry.port == f_port:
            return entry
    return None


def package_named(app_layer: AppLayer, name: str) -> PackagePort | None:
    for entry in app_layer:
        if entry.name == name:
            return entry
    return None
