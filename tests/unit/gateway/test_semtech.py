"""Semtech UDP packet forwarder: datagrams, rxpk/stat/txpk conversions, TX_ACK errors, and fuzzed garbage."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as s

from lora_city.gateway import semtech as st
from lora_city.gateway.bad_input import BadGatewayInput
from lora_city.gateway.frames import DownlinkItem, LoRaModulation, TimingKind, Transport

GW = "aa555a0000000101"


def _rxpk(**over: object) -> dict[str, object]:
    rxpk: dict[str, object] = {
        "time": "2013-03-31T16:21:17.528002Z", "tmst": 3512348611, "chan": 2, "rfch": 0, "freq": 866.349812,
        "stat": 1, "modu": "LORA", "datr": "SF7BW125", "codr": "4/6", "rssi": -35, "lsnr": 5.1, "size": 32,
        "data": base64.b64encode(b"\x40" + bytes(range(31))).decode(),
    }
    rxpk.update(over)
    return rxpk


def test_datagram_header_parse_and_build() -> None:
    raw = st.build(2, 0xBEEF, st.PUSH_DATA, GW, b'{"rxpk":[]}')
    dg = st.parse_datagram(raw)
    assert (dg.version, dg.token, dg.kind, dg.gateway_id, dg.body) == (2, 0xBEEF, st.PUSH_DATA, GW, b'{"rxpk":[]}')
    assert st.build(2, 0xBEEF, st.PUSH_ACK) == b"\x02\xbe\xef\x01"
    pull_resp = st.parse_datagram(st.build(2, 7, st.PULL_RESP, body=b"{}"))
    assert pull_resp.gateway_id is None and pull_resp.body == b"{}"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x02\x00", "udp_too_short"),
        (b"\x07\x00\x01\x00" + bytes(8), "udp_bad_version"),
        (b"\x02\x00\x01\x09" + bytes(8), "udp_bad_identifier"),
        (b"\x02\x00\x01\x02\x01\x02", "udp_too_short"),
    ],
)
def test_bad_datagrams(raw: bytes, reason: str) -> None:
    with pytest.raises(BadGatewayInput) as exc:
        st.parse_datagram(raw)
    assert exc.value.reason == reason


def test_rxpk_to_uplink_keeps_the_radio_metadata() -> None:
    frame = st.rxpk_to_uplink(_rxpk(future_key={"x": 1}), GW, 77, 1.5)  # unknown keys are ignored
    assert frame.phy_payload == b"\x40" + bytes(range(31))
    assert frame.modulation == LoRaModulation(866_349_812, 7, 125_000, "4/6")
    rx = frame.rx_info
    assert (rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr, rx.channel, rx.rf_chain) == (GW, 77, -35.0, 5.1, 2, 0)
    assert rx.context == (3512348611).to_bytes(4, "big")
    assert rx.time == datetime(2013, 3, 31, 16, 21, 17, 528002, UTC)
    assert frame.transport is Transport.UDP and frame.received_at == 1.5


def test_rxpk_nanosecond_time_and_rsig_fallback() -> None:
    rxpk = _rxpk(time="2013-03-31T16:21:17.528002123Z", rsig=[{"rssic": -90, "lsnr": -2.5}])
    del rxpk["rssi"], rxpk["lsnr"]
    rx = st.rxpk_to_uplink(rxpk, GW, 1, 0.0).rx_info
    assert rx.rssi == -90.0 and rx.snr == -2.5 and rx.time is not None and rx.time.microsecond == 528002


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"stat": -1}, "crc_bad"),
        ({"stat": 0}, "crc_missing"),
        ({"modu": "FSK", "datr": 50000}, "not_lora"),
        ({"datr": "SF7"}, "not_lora"),
        ({"data": "!!!"}, "udp_bad_rxpk"),
        ({"freq": "high"}, "udp_bad_rxpk"),
        ({"tmst": None}, "udp_bad_rxpk"),
    ],
)
def test_bad_rxpk(over: dict[str, object], reason: str) -> None:
    with pytest.raises(BadGatewayInput) as exc:
        st.rxpk_to_uplink(_rxpk(**over), GW, 1, 0.0)
    assert exc.value.reason == reason


def test_uplink_to_rxpk_round_trip() -> None:
    frame = st.rxpk_to_uplink(_rxpk(), GW, 5, 0.0)
    again = st.rxpk_to_uplink(st.uplink_to_rxpk(frame), GW, 5, 0.0)
    assert again == frame


def test_stat_to_stats() -> None:
    stats = st.stat_to_stats(
        {"time": "2014-01-12 08:59:28 GMT", "lati": 46.24, "long": 3.2523, "alti": 145, "rxnb": 2, "rxok": 2,
         "rwfw": 2, "ackr": 100.0, "dwnb": 3, "txnb": 1, "unknown": True},
        GW,
    )
    assert stats.time == datetime(2014, 1, 12, 8, 59, 28, tzinfo=UTC)
    assert (stats.rx_packets_received, stats.rx_packets_received_ok) == (2, 2)
    assert (stats.tx_packets_received, stats.tx_packets_emitted) == (3, 1)
    assert (stats.latitude, stats.longitude, stats.altitude) == (46.24, 3.2523, 145.0)
    assert st.stat_to_stats(st.stats_to_stat(stats), GW) == stats


def test_txpk_for_class_a_adds_the_delay_to_the_context_and_wraps() -> None:
    item = DownlinkItem(b"\x60\x01\x02", LoRaModulation(869_525_000, 12, 125_000), 27, TimingKind.DELAY, 2,
                        (0xFFFFFFFF - 500_000).to_bytes(4, "big"))
    txpk = st.item_to_txpk(item)
    assert txpk["tmst"] == 2_000_000 - 500_000 - 1
    assert "imme" not in txpk
    assert (txpk["freq"], txpk["powe"], txpk["datr"], txpk["codr"], txpk["ipol"], txpk["size"]) == (
        869.525, 27, "SF12BW125", "4/5", True, 3)
    parsed = st.parse_txpk(txpk)
    assert parsed.phy_payload == b"\x60\x01\x02" and parsed.modulation == item.modulation
    assert parsed.tmst == txpk["tmst"] and not parsed.immediately


def test_txpk_for_class_c_is_immediate() -> None:
    item = DownlinkItem(b"\x60", LoRaModulation(869_525_000, 12, 125_000), 27, TimingKind.IMMEDIATELY)
    txpk = st.item_to_txpk(item)
    assert txpk["imme"] is True and "tmst" not in txpk


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", "OK"),
        (b'{"txpk_ack":{"error":"NONE"}}', "OK"),
        (b'{"txpk_ack":{"error":"TOO_LATE"}}', "TOO_LATE"),
        (b'{"txpk_ack":{"error":"TOO_EARLY"}}', "TOO_EARLY"),
        (b'{"txpk_ack":{"error":"COLLISION_PACKET"}}', "COLLISION_PACKET"),
        (b'{"txpk_ack":{"error":"COLLISION_BEACON"}}', "COLLISION_BEACON"),
        (b'{"txpk_ack":{"error":"TX_FREQ"}}', "TX_FREQ"),
        (b'{"txpk_ack":{"error":"TX_POWER"}}', "TX_POWER"),
        (b'{"txpk_ack":{"error":"GPS_UNLOCKED"}}', "GPS_UNLOCKED"),
        (b'{"txpk_ack":{"error":"SOMETHING_NEW"}}', "INTERNAL_ERROR"),
        (b'{"txpk_ack":{"warn":"TX_POWER"}}\x00', "OK"),
    ],
)
def test_tx_ack_error_mapping(body: bytes, status: str) -> None:
    assert st.tx_ack_status(body) == status


@given(s.binary(max_size=64))
def test_any_datagram_parses_or_is_rejected_cleanly(raw: bytes) -> None:
    try:
        dg = st.parse_datagram(raw)
    except BadGatewayInput:
        return
    assert dg.version in st.SUPPORTED_VERSIONS


@given(s.dictionaries(s.sampled_from(["tmst", "freq", "datr", "data", "stat", "rssi", "lsnr", "rsig", "time",
                                       "chan", "codr", "modu"]),
                      s.one_of(s.none(), s.integers(), s.floats(allow_nan=True), s.text(max_size=12),
                               s.lists(s.dictionaries(s.text(max_size=5), s.integers()), max_size=2))))
def test_any_rxpk_converts_or_is_rejected_cleanly(rxpk: dict[str, object]) -> None:
    try:
        frame = st.rxpk_to_uplink({**_rxpk(), **rxpk}, GW, 1, 0.0)
    except BadGatewayInput:
        return
    assert frame.phy_payload and len(frame.rx_info.context) == 4


def test_json_helpers_reject_non_objects() -> None:
    with pytest.raises(BadGatewayInput):
        st.parse_json_object(json.dumps([1, 2]).encode())
    with pytest.raises(BadGatewayInput):
        st.parse_json_object(b"\xff\xfe")
