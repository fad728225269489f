"""An application-layer uplink as the event carries it: the package's commands instead of a codec object."""

from __future__ import annotations

from typing import Any

from lora_city.applayer.profile import PackagePort
from lora_city.lorawan.applayer.commands import AppCommand
from lora_city.lorawan.errors import LoRaWANError


def decode_uplink(entry: PackagePort, payload: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """(``{"app_layer": name, "version": v, "commands": [...]}``, errors) for an uplink on a package's port."""
    try:
        commands = entry.package.decode(payload, uplink=True)
    except LoRaWANError as exc:
        return None, [f"{entry.name} v{entry.version}: {exc}"]
    return {"app_layer": entry.name, "version": entry.version, "commands": [c.to_dict() for c in commands]}, []


def commands_of(data: dict[str, Any] | None) -> list[AppCommand]:
    """The commands back from an event's ``data`` (what :func:`decode_uplink` put there)."""
    if not data or "app_layer" not in data:
        return []
    out = []
    for item in data.get("commands", ()):
        fields = dict(item)
        out.append(AppCommand(str(fields.pop("command")), fields))
    return out
