"""Which member owns a frame: rendezvous (highest random weight) hashing over the live members.

Data frames are owned by DevAddr (every session that shares a DevAddr lives in one process, so the MIC loop of
``uplink/data.py`` sees them all), join-requests by DevEUI (one process runs the DevNonce check for all copies).
Rendezvous hashing moves only the keys of a member that leaves or joins (about 1/N of them), with no ring to
keep in sync: every member computes the same owner from the same member list.
"""

from __future__ import annotations

from hashlib import blake2b

# MType (LoRaWAN 1.0.4 §4.2.1, bits 7..5 of the MHDR)
_JOIN_REQUEST = 0
_UNCONFIRMED_UP = 2
_CONFIRMED_UP = 4
_CACHE_MAX = 500_000  # one entry per device: bounded so a flood of made-up DevAddrs cannot grow it forever


def routing_key(phy_payload: bytes) -> str | None:
    """``a<DevAddr>`` for data uplinks, ``e<DevEUI>`` for join-requests (MSB-first hex), None for anything else.
    Reads the fixed header bytes only: a full parse would cost more, and the owner parses anyway."""
    if not phy_payload:
        return None
    mtype = phy_payload[0] >> 5
    if mtype in (_UNCONFIRMED_UP, _CONFIRMED_UP) and len(phy_payload) >= 12:
        return "a" + phy_payload[4:0:-1].hex()
    if mtype == _JOIN_REQUEST and len(phy_payload) == 23:
        return "e" + phy_payload[16:8:-1].hex()
    return None


def _weight(key: str, member: str) -> int:
    return int.from_bytes(blake2b(f"{member}\x00{key}".encode(), digest_size=8).digest(), "big")


def rendezvous_owner(key: str, members: tuple[str, ...]) -> str:
    """The member with the highest weight for ``key``; ties (practically never) go to the smaller id."""
    return max(members, key=lambda m: (_weight(key, m), m))


class Ownership:
    """The owner of each routing key under the current member list, cached per key (a hash per member per
    frame would cost a few µs at every copy)."""

    def __init__(self, me: str) -> None:
        self.me = me
        self._members: tuple[str, ...] = (me,)
        self._owners: dict[str, str] = {}

    @property
    def members(self) -> tuple[str, ...]:
        return self._members

    def set_members(self, members: set[str]) -> bool:
        """Replace the member list (``me`` always included). Returns True when it changed."""
        ordered = tuple(sorted(members | {self.me}))
        if ordered == self._members:
            return False
        self._members = ordered
        self._owners.clear()
        return True

    def owner(self, key: str) -> str:
        found = self._owners.get(key)
        if found is None:
            if len(self._owners) >= _CACHE_MAX:
                self._owners.clear()
            found = self._owners[key] = rendezvous_owner(key, self._members)
        return found

    def mine(self, key: str) -> bool:
        return self.owner(key) == self.me
