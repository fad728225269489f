"""LoRa Alliance application-layer packages over LoRaWAN, pure encode/decode (no I/O):

- TS003 Application Layer Clock Synchronization (``clock_sync``, package 1, FPort 202),
- TS005 Remote Multicast Setup (``multicast_setup``, package 2, FPort 200) and the multicast key hierarchy,
- TS004 Fragmented Data Block Transport (``fragmentation``, package 3, FPort 201) and its FEC (``fec``).

Each package exists in version 1 (v1.0.0) and 2 (v2.0.0); ``PACKAGES[identifier][version]`` is the command table.
"""

from __future__ import annotations

from lora_city.lorawan.applayer import clock_sync, fragmentation, multicast_setup
from lora_city.lorawan.applayer.commands import AppCommand, Package

PACKAGES: dict[int, dict[int, Package]] = {
    clock_sync.IDENTIFIER: clock_sync.VERSIONS,
    multicast_setup.IDENTIFIER: multicast_setup.VERSIONS,
    fragmentation.IDENTIFIER: fragmentation.VERSIONS,
}
DEFAULT_PORTS = {clock_sync.PORT: clock_sync.IDENTIFIER, multicast_setup.PORT: multicast_setup.IDENTIFIER,
                 fragmentation.PORT: fragmentation.IDENTIFIER}

__all__ = ["DEFAULT_PORTS", "PACKAGES", "AppCommand", "Package", "clock_sync", "fragmentation", "multicast_setup"]
