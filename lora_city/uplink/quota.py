"""The quota hook: the core asks, a plugin (tenants/) decides. The default allows everything.

Critical tenants (the flood cell) are never dropped: the pipeline does not even ask for them.
"""

from __future__ import annotations

from typing import Protocol

from lora_city.sinks.events import DeviceInfo


class QuotaPolicy(Protocol):
    def allow_uplink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        """False drops the uplink (counted as ``uplink_drops{reason="quota"}``). Must be cheap: called per uplink."""
        ...

    def allow_downlink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        """Asked before a downlink is scheduled; False refuses it (the device's daily downlink budget is spent)."""
        ...


class AllowAll:
    def allow_uplink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        return True

    def allow_downlink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        return True
