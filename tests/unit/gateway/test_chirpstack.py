"""ChirpStack gw messages ↔ frames: protobuf and JSON round trips, and rejection of bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from chirpstack_api.gw import gw_pb2

from lora_city.gateway import chirpstack as cs
from lora_city.gateway.bad_input import BadGatewayInput
from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    GatewayConnState,
    GatewayStats,
    LoRaModulation,
    RxInfo,
    TimingKind,
    Transport,
    UplinkFrame,
)

GW = "0102030405060708"


def _uplink() -> UplinkFrame:
    return UplinkFrame(
        phy_payload=bytes.fromhex("40aabbccdd00010001"),
        modulation=LoRaModulation(868_300_000, 9, 125_000, "4/5"),
        rx_info=RxInfo(
            gateway_id=GW, uplink_id=12345, rssi=-97.0, snr=-3.25, channel=1, rf_chain=1,
            context=b"\x01\x02\x03\x04", time=datetime(2026, 11, 22, 1, 2, 3, 456000, UTC),
            latitude=52.5, longitude=13.4, altitude=40.0,
        ),
        transport=Transport.MQTT_PROTOBUF,
        received_at=7.0,
    )


@pytest.mark.parametrize("as_json", [False, True])
def test_uplink_round_trip_keeps_every_field(as_json: bool) -> None:
    sent = _uplink()
    wire = cs.encode(cs.uplink_to_pb(sent), as_json=as_json)
    assert cs.is_json(wire) is as_json
    transport = Transport.MQTT_JSON if as_json else Transport.MQTT_PROTOBUF
    got = cs.uplink_from_pb(cs.decode(wire, gw_pb2.UplinkFrame, as_json=as_json), GW, transport, 7.0)
    sent.transport = transport
    assert got == sent


def test_json_form_is_protobufs_json_mapping() -> None:
    doc = json.loads(cs.encode(cs.uplink_to_pb(_uplink()), as_json=True))
    assert doc["rxInfo"]["gatewayId"] == GW
    assert doc["rxInfo"]["context"] == "AQIDBA=="
    assert doc["rxInfo"]["crcStatus"] == "CRC_OK"
    assert doc["txInfo"]["modulation"]["lora"]["spreadingFactor"] == 9
    assert doc["txInfo"]["modulation"]["lora"]["codeRate"] == "CR_4_5"


def test_unknown_json_fields_are_ignored() -> None:
    doc = json.loads(cs.encode(cs.uplink_to_pb(_uplink()), as_json=True))
    doc["someFutureField"] = 1
    doc["rxInfo"]["alsoNew"] = "x"
    pb = cs.decode(json.dumps(doc).encode(), gw_pb2.UplinkFrame, as_json=True)
    assert pb.rx_info.uplink_id == 12345


@pytest.mark.parametrize(
    ("payload", "as_json", "reason"),
    [
        (b"\xff\xff\xff\xff", False, "bad_protobuf"),
        (b"{not json", True, "bad_json"),
        (b'{"rxInfo": {"rssi": "loud"}}', True, "bad_json"),
        (b"\x80", False, "bad_protobuf"),
    ],
)
def test_garbage_is_rejected_with_a_reason(payload: bytes, as_json: bool, reason: str) -> None:
    with pytest.raises(BadGatewayInput) as exc:
        cs.decode(payload, gw_pb2.UplinkFrame, as_json=as_json)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    ("crc_status", "reason"), [(gw_pb2.BAD_CRC, "crc_bad"), (gw_pb2.NO_CRC, "crc_missing")]
)
def test_crc_bad_or_missing_is_dropped(crc_status: int, reason: str) -> None:
    pb = cs.uplink_to_pb(_uplink(), crc_status=crc_status)
    with pytest.raises(BadGatewayInput) as exc:
        cs.uplink_from_pb(pb, GW, Transport.MQTT_PROTOBUF, 0.0)
    assert exc.value.reason == reason


def test_payload_cannot_claim_another_gateway_than_its_topic() -> None:
    with pytest.raises(BadGatewayInput) as exc:
        cs.uplink_from_pb(cs.uplink_to_pb(_uplink()), "ffffffffffffffff", Transport.MQTT_PROTOBUF, 0.0)
    assert exc.value.reason == "gateway_id_mismatch"


def test_fsk_uplink_is_rejected() -> None:
    pb = cs.uplink_to_pb(_uplink())
    pb.tx_info.modulation.fsk.datarate = 50000
    with pytest.raises(BadGatewayInput) as exc:
        cs.uplink_from_pb(pb, GW, Transport.MQTT_PROTOBUF, 0.0)
    assert exc.value.reason == "not_lora"


def _downlink() -> DownlinkFrame:
    rx1 = DownlinkItem(b"\x60\x01", LoRaModulation(868_100_000, 7, 125_000), 14, TimingKind.DELAY, 1, b"\x00\x00\x10\x00")
    rx2 = DownlinkItem(b"\x60\x01", LoRaModulation(869_525_000, 12, 125_000), 27, TimingKind.DELAY, 2, b"\x00\x00\x10\x00")
    return DownlinkFrame(gateway_id=GW, downlink_id=4242, items=[rx1, rx2])


@pytest.mark.parametrize("as_json", [False, True])
def test_downlink_round_trip(as_json: bool) -> None:
    sent = _downlink()
    wire = cs.encode(cs.downlink_to_pb(sent), as_json=as_json)
    got = cs.downlink_from_pb(cs.decode(wire, gw_pb2.DownlinkFrame, as_json=as_json))
    assert got == sent


def test_downlink_timing_on_the_wire() -> None:
    pb = cs.downlink_to_pb(_downlink())
    assert pb.items[0].tx_info.timing.delay.delay.seconds == 1
    assert pb.items[1].tx_info.timing.delay.delay.seconds == 2
    assert pb.items[0].tx_info.context == b"\x00\x00\x10\x00"
    assert pb.items[0].tx_info.modulation.lora.polarization_inversion is True
    class_c = DownlinkFrame(GW, 1, [DownlinkItem(b"\x60", LoRaModulation(869_525_000, 12, 125_000), 27,
                                                 TimingKind.IMMEDIATELY)])
    assert cs.downlink_to_pb(class_c).items[0].tx_info.timing.WhichOneof("parameters") == "immediately"


@pytest.mark.parametrize("as_json", [False, True])
def test_tx_ack_statuses_are_enum_names(as_json: bool) -> None:
    ack = DownlinkTxAck(GW, 99, ("TOO_LATE", "OK"))
    wire = cs.encode(cs.tx_ack_to_pb(ack), as_json=as_json)
    got = cs.tx_ack_from_pb(cs.decode(wire, gw_pb2.DownlinkTxAck, as_json=as_json), GW)
    assert got == ack and got.ok


@pytest.mark.parametrize("as_json", [False, True])
def test_stats_and_conn_state_round_trip(as_json: bool) -> None:
    stats = GatewayStats(GW, datetime(2026, 1, 1, tzinfo=UTC), 10, 9, 3, 2, 52.0, 13.0, 30.0, {"fw": "1.2"})
    wire = cs.encode(cs.stats_to_pb(stats), as_json=as_json)
    assert cs.stats_from_pb(cs.decode(wire, gw_pb2.GatewayStats, as_json=as_json), GW) == stats
    for online in (True, False):
        state = GatewayConnState(GW, online)
        wire = cs.encode(cs.conn_state_to_pb(state), as_json=as_json)
        assert cs.conn_state_from_pb(cs.decode(wire, gw_pb2.ConnState, as_json=as_json), GW) == state
