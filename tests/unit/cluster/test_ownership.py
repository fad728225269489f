"""Routing keys from the frame header, and rendezvous ownership: stable, balanced, minimal moves."""

from __future__ import annotations

from collections import Counter

from lora_city.cluster.ownership import Ownership, rendezvous_owner, routing_key
from lora_city.simulate.devices import VirtualDevice


def test_routing_key_data_join_and_other() -> None:
    dev = VirtualDevice.generate()
    assert routing_key(dev.join_request()) == "e" + dev.dev_eui
    dev.dev_addr, dev.nwk_s_key, dev.app_s_key = "26011bda", bytes(16), bytes(16)
    assert routing_key(dev.uplink()) == "a26011bda"
    assert routing_key(dev.uplink(confirmed=True)) == "a26011bda"
    assert routing_key(b"") is None
    assert routing_key(b"\x60" + bytes(20)) is None  # unconfirmed data DOWN: not an uplink
    assert routing_key(b"\x40\x01") is None  # too short to be a data frame


def test_rendezvous_balanced_and_only_the_leavers_keys_move() -> None:
    keys = [f"a{i:08x}" for i in range(3000)]
    three = {k: rendezvous_owner(k, ("m1", "m2", "m3")) for k in keys}
    counts = Counter(three.values())
    assert all(800 < n < 1200 for n in counts.values()), counts
    two = {k: rendezvous_owner(k, ("m1", "m2")) for k in keys}
    moved = [k for k in keys if two[k] != three[k]]
    assert all(three[k] == "m3" for k in moved)  # survivors keep theirs; only m3's devices move
    assert len(moved) == counts["m3"]


def test_ownership_cache_follows_the_member_list() -> None:
    own = Ownership("m1")
    assert own.mine("a00000001")  # alone: everything is ours
    assert own.set_members({"m1", "m2"}) and not own.set_members({"m2"})  # m1 is always in its own list
    assert own.members == ("m1", "m2")
    assert own.owner("a00000001") == rendezvous_owner("a00000001", ("m1", "m2"))
