"""GPS-timed (class B) downlinks and GPS reception times on both gateway protocols: chirpstack ``gw.proto``
(``timing.gps_epoch.time_since_gps_epoch``, ``rx_info.time_since_gps_epoch``) and Semtech UDP PROTOCOL.TXT
(txpk ``tmms`` / rxpk ``tmms``: milliseconds since the GPS epoch)."""

from __future__ import annotations

import base64

from chirpstack_api.gw import gw_pb2

from lora_city.gateway import chirpstack as cs
from lora_city.gateway import semtech as st
from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkItem,
    LoRaModulation,
    RxInfo,
    TimingKind,
    Transport,
    UplinkFrame,
)

SLOT = 1_417_000_074.3  # a ping slot, seconds since 1980-01-06


def item() -> DownlinkItem:
    return DownlinkItem(b"\x60\x01\x02\x03\x04", LoRaModulation(869_525_000, 9, 125_000), 27, TimingKind.GPS_EPOCH,
                        gps_time_s=SLOT)


def test_chirpstack_gps_epoch_timing_both_ways() -> None:
    pb = cs.downlink_to_pb(DownlinkFrame("0102030405060708", 7, [item()]))
    timing = pb.items[0].tx_info.timing
    assert timing.WhichOneof("parameters") == "gps_epoch"
    assert (timing.gps_epoch.time_since_gps_epoch.seconds, timing.gps_epoch.time_since_gps_epoch.nanos) == (
        1_417_000_074, 300_000_000)
    back = cs.downlink_from_pb(pb).items[0]
    assert back.timing is TimingKind.GPS_EPOCH and back.gps_time_s == SLOT


def test_chirpstack_uplink_gps_reception_time() -> None:
    pb = gw_pb2.UplinkFrame(phy_payload=b"\x40\x00")
    pb.tx_info.frequency = 868_100_000
    pb.tx_info.modulation.lora.spreading_factor, pb.tx_info.modulation.lora.bandwidth = 7, 125_000
    pb.rx_info.crc_status = gw_pb2.CRC_OK
    pb.rx_info.time_since_gps_epoch.seconds, pb.rx_info.time_since_gps_epoch.nanos = 1_417_000_000, 500_000_000
    frame = cs.uplink_from_pb(pb, "0102030405060708", Transport.MQTT_PROTOBUF, 0.0)
    assert frame.rx_info.gps_time_s == 1_417_000_000.5


def test_semtech_tmms_both_ways() -> None:
    txpk = st.item_to_txpk(item())
    assert txpk["tmms"] == 1_417_000_074_300 and "tmst" not in txpk and "imme" not in txpk
    assert st.parse_txpk(txpk).tmms == 1_417_000_074_300
    rxpk = {"tmst": 1, "tmms": 1_417_000_000_500, "freq": 868.1, "stat": 1, "modu": "LORA", "datr": "SF7BW125",
            "codr": "4/5", "rssi": -80, "lsnr": 7.0, "size": 2, "data": base64.b64encode(b"\x40\x00").decode()}
    assert st.rxpk_to_uplink(rxpk, "0102030405060708", 1, 0.0).rx_info.gps_time_s == 1_417_000_000.5
    del rxpk["tmms"]
    assert st.rxpk_to_uplink(rxpk, "0102030405060708", 1, 0.0).rx_info.gps_time_s is None  # no GPS fix
    frame = UplinkFrame(b"\x40\x00", LoRaModulation(868_100_000, 7, 125_000),
                        RxInfo("0102030405060708", 1, -80.0, 7.0, context=b"\x00\x00\x00\x01",
                               gps_time_s=1_417_000_000.5), Transport.UDP)
    assert st.uplink_to_rxpk(frame)["tmms"] == 1_417_000_000_500
