"""The session's per-uplink state (ADR history, gateways that heard the last uplink): what is persisted, what is
read back, and that it stays out of the cyclic garbage collector's reach (issue 18: full collections walking
millions of per-session objects were the ACK latency's p99)."""

from __future__ import annotations

import gc
import json

from lora_city.sinks.events import DeviceInfo
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.adr import UplinkSample


def _session() -> NetworkSession:
    key = bytes(16)
    return NetworkSession("s", "26011bda", "1.0.3", key, key, key, key, DeviceInfo("0102030405060708", "t"))


def test_adr_history_keeps_the_last_20_samples_in_order() -> None:
    s = _session()
    for f_cnt in range(25):
        s.add_sample(UplinkSample(f_cnt, -7.25 + f_cnt, 1 + f_cnt % 3))
    # LoRaWAN ADR uses the last 20 uplinks (the history length of ChirpStack's and TTS's default ADR)
    assert s.adr_history == tuple(UplinkSample(c, -7.25 + c, 1 + c % 3) for c in range(5, 25))


def test_adr_history_keeps_32_bit_frame_counters_and_exact_snr() -> None:
    s = _session()
    s.add_sample(UplinkSample(0xFFFFFFFF, 9.8, 3))
    s.add_sample(UplinkSample(0x1_0000_0000 + 4, -20.1, 1))  # a 32-bit counter wraps to 4
    assert s.adr_history == (UplinkSample(0xFFFFFFFF, 9.8, 3), UplinkSample(4, -20.1, 1))


def test_state_written_before_the_compact_form_is_read_back() -> None:
    """Rows written by earlier versions hold lists: [f_cnt, max_snr, gateway_count] and [gateway_id, snr, rssi]."""
    stored = json.loads('{"dr": 5, "adr_history": [[10, 7.5, 2], [11, -3.0, 1]], '
                        '"heard_by": [["b0b0b0b0b0b00001", 8.0, -80], ["b0b0b0b0b0b00002", 5.0, -85.5]]}')
    s = _session()
    s.load_state(stored)
    assert s.dr == 5
    assert s.adr_history == (UplinkSample(10, 7.5, 2), UplinkSample(11, -3.0, 1))
    assert s.heard_by == (("b0b0b0b0b0b00001", 8.0, -80.0), ("b0b0b0b0b0b00002", 5.0, -85.5))
    # and written again in the same JSON form, so an older server reading the row still understands it
    state = json.loads(json.dumps(s.state_dict()))
    assert state["adr_history"] == [[10, 7.5, 2], [11, -3.0, 1]]
    assert state["heard_by"] == [["b0b0b0b0b0b00001", 8.0, -80.0], ["b0b0b0b0b0b00002", 5.0, -85.5]]


def test_round_trip_through_the_persisted_state() -> None:
    s = _session()
    for f_cnt in range(30):
        s.add_sample(UplinkSample(f_cnt, f_cnt / 4, 3))
    s.heard_by = (("gw-a", 1.5, -100.0), ("gw-b", -2.0, -110.0))
    again = _session()
    again.load_state(json.loads(json.dumps(s.state_dict())))
    assert again.adr_history == s.adr_history and len(again.adr_history) == 20
    assert again.heard_by == s.heard_by


def test_per_uplink_state_is_not_tracked_by_the_cyclic_collector() -> None:
    s = _session()
    for f_cnt in range(20):
        s.add_sample(UplinkSample(f_cnt, 3.0, 3))
    s.heard_by = tuple((gw, 3.0, -90.0) for gw in ("gw-a", "gw-b", "gw-c"))
    # A tuple of atoms is untracked by the first collection that sees it, a tuple of such tuples by the next
    # (its items must be untracked first); a dataclass or NamedTuple would stay tracked for ever.
    gc.collect()
    gc.collect()
    assert not gc.is_tracked(s.adr_samples)
    assert not gc.is_tracked(s.heard_by)
    assert not any(gc.is_tracked(h) for h in s.heard_by)
