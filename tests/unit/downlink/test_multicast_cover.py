"""The gateway cover of a multicast downlink: every reachable member covered, by as few gateways as possible.

The expected minimum is computed here by brute force over every subset of gateways (independent of the
search in ``minimum_cover``), on random small topologies and on the flow test's layout.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from lora_city.downlink.multicast import minimum_cover


def brute_force_minimum(reach: dict[str, dict[str, float]], usable: set[str]) -> int:
    gateways = sorted({g for heard in reach.values() for g in heard if g in usable})
    targets = {m for m, heard in reach.items() if any(g in usable for g in heard)}
    for size in range(len(gateways) + 1):
        for combo in itertools.combinations(gateways, size):
            if all(any(g in combo for g in reach[m]) for m in targets):
                return size
    raise AssertionError("unreachable")


topologies = st.dictionaries(
    keys=st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=4),
    values=st.dictionaries(st.sampled_from([f"gw{i}" for i in range(9)]), st.floats(-20, 10), max_size=4),
    min_size=1, max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(topologies, st.sets(st.sampled_from([f"gw{i}" for i in range(9)])))
def test_cover_is_minimal_and_complete(reach: dict[str, dict[str, float]], usable: set[str]) -> None:
    cover = minimum_cover(reach, lambda g: g in usable)
    assert set(cover.gateways) <= usable
    for member, heard in reach.items():
        if any(g in usable for g in heard):
            assert member in cover.reached and any(g in cover.gateways for g in heard), member
        else:
            assert member in cover.unreached
    assert len(cover.gateways) == brute_force_minimum(reach, usable)


def test_flow_layout_needs_exactly_g1_and_g3() -> None:
    ranges = {"G1": range(0, 25), "G2": range(15, 35), "G3": range(25, 50), "G4": [*range(40, 50), *range(0, 10)]}
    reach = {f"lamp{i}": {g: 5.0 for g, r in ranges.items() if i in r} for i in range(50)}
    assert set(minimum_cover(reach, lambda g: True).gateways) == {"G1", "G3"}
    # G1 out of budget (or another tenant's private gateway): the cover works around it with more gateways,
    # and the lamps only G1 hears are reported as not reached
    without = minimum_cover(reach, lambda g: g != "G1")
    assert set(without.gateways) == {"G2", "G3", "G4"}
    assert without.unreached == tuple(sorted(f"lamp{i}" for i in range(10, 15)))


def test_equal_sized_covers_prefer_the_better_links() -> None:
    reach = {"a": {"weak": -15.0, "strong": 8.0}, "b": {"weak": -14.0, "strong": 7.0}}
    assert minimum_cover(reach, lambda g: True).gateways == ("strong",)


def test_members_never_heard_are_reported_not_covered() -> None:
    cover = minimum_cover({"a": {}, "b": {"gw": 1.0}}, lambda g: True)
    assert cover.gateways == ("gw",) and cover.unreached == ("a",)


def test_large_topology_falls_back_to_a_complete_greedy_cover() -> None:
    # 200 gateways in a ring, each hearing 5 neighbouring lamps of 1000: far too many subsets to try exactly
    reach = {f"l{i}": {f"g{(i // 5 + k) % 200}": 1.0 for k in range(2)} for i in range(1000)}
    cover = minimum_cover(reach, lambda g: True)
    assert not cover.unreached
    assert all(any(g in cover.gateways for g in heard) for heard in reach.values())
    assert len(cover.gateways) <= 110  # optimum 100; greedy stays close
