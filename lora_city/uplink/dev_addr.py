"""DevAddr allocation under the operator's NetID (LoRaWAN Backend Interfaces 1.0 §13, "DevAddr assignment").

A DevAddr is ``AddrPrefix | NwkAddr``: the prefix is the NetID type as a unary code (type 0 = ``0``, type 1 =
``10`` … type 7 = ``11111110``) followed by NwkID, the least significant bits of the NetID's ID field; the rest
(NwkAddr) is ours to choose. Random NwkAddrs spread sessions evenly; two sessions may share a DevAddr (the MIC
tells them apart), so collisions are allowed, just made rare.
"""

from __future__ import annotations

import random

# NetID type -> (NwkID bits, NwkAddr bits); the prefix takes type + 1 bits, the three sum to 32.
_LAYOUT = {0: (6, 25), 1: (6, 24), 2: (9, 20), 3: (11, 17), 4: (12, 15), 5: (13, 13), 6: (15, 10), 7: (17, 7)}


def _prefix(net_id: str) -> tuple[int, int]:
    """(prefix value placed in the top bits, NwkAddr bit count)."""
    value = int(net_id, 16)
    if not 0 <= value <= 0xFFFFFF:
        raise ValueError(f"NetID must be 24 bits, got {net_id!r}")
    net_type = value >> 21
    nwk_id_bits, nwk_addr_bits = _LAYOUT[net_type]
    type_prefix = ((1 << net_type) - 1) << 1  # type ones then a zero: type+1 bits
    nwk_id = value & ((1 << nwk_id_bits) - 1)
    prefix = (type_prefix << nwk_id_bits) | nwk_id
    return prefix << nwk_addr_bits, nwk_addr_bits


def allocate_dev_addr(net_id: str, rng: random.Random | None = None) -> str:
    """A random DevAddr under ``net_id``, MSB-first lowercase hex."""
    prefix, nwk_addr_bits = _prefix(net_id)
    nwk_addr = (rng or random.SystemRandom()).getrandbits(nwk_addr_bits)
    return f"{prefix | nwk_addr:08x}"


def belongs_to(dev_addr: str, net_id: str) -> bool:
    """True when ``dev_addr`` carries ``net_id``'s prefix (a roaming or foreign frame does not)."""
    prefix, nwk_addr_bits = _prefix(net_id)
    return int(dev_addr, 16) >> nwk_addr_bits == prefix >> nwk_addr_bits
