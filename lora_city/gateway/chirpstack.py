"""ChirpStack gateway messages (``chirpstack_api.gw``, protobuf or its proto3 JSON form) ↔ ``frames`` types.

Pure conversion, no I/O. The JSON form is google.protobuf's JSON mapping (camelCase names, bytes as base64,
enums by name), which is what the ChirpStack MQTT forwarder and gateway bridge emit with ``json`` marshaling.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar, cast

from chirpstack_api.gw import gw_pb2
from google.protobuf import duration_pb2, json_format
from google.protobuf.message import DecodeError, Message

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

M = TypeVar("M", bound=Message)

_CODE_RATE_TO_STR = {
    gw_pb2.CR_4_5: "4/5", gw_pb2.CR_4_6: "4/6", gw_pb2.CR_4_7: "4/7", gw_pb2.CR_4_8: "4/8",
    gw_pb2.CR_LI_4_5: "4/5LI", gw_pb2.CR_LI_4_6: "4/6LI", gw_pb2.CR_LI_4_8: "4/8LI",
}
_STR_TO_CODE_RATE = {v: k for k, v in _CODE_RATE_TO_STR.items()}


def is_json(payload: bytes) -> bool:
    """JSON starts with ``{``; a protobuf message of these types never does (0x7b would be field 15 with the
    deprecated group wire type), so one byte tells the two forms apart."""
    return payload[:1] == b"{" or payload.lstrip()[:1] == b"{"


def decode(payload: bytes, message_type: type[M], *, as_json: bool) -> M:
    msg: M = message_type()
    try:
        if as_json:
            json_format.Parse(payload, msg, ignore_unknown_fields=True)
        else:
            msg.ParseFromString(payload)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, ValueError, TypeError) as exc:
        kind = "bad_json" if as_json else "bad_protobuf"
        raise BadGatewayInput(kind, f"{message_type.__name__}: {str(exc)[:120]}") from exc
    return msg


def encode(msg: Message, *, as_json: bool) -> bytes:
    if as_json:
        return cast(str, json_format.MessageToJson(msg, indent=None)).encode()
    return cast(bytes, msg.SerializeToString())


def _check_gateway_id(claimed: str, topic_gateway_id: str) -> None:
    # The topic is what the broker's ACLs protect, so the payload may not claim another gateway.
    if claimed and claimed.lower() != topic_gateway_id:
        raise BadGatewayInput("gateway_id_mismatch", f"payload says {claimed}, topic says {topic_gateway_id}")


def _timestamp(msg: Message, field: str) -> datetime | None:
    if not msg.HasField(field):
        return None
    ts = getattr(msg, field)
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC)


def _duration_s(duration: duration_pb2.Duration) -> float:
    return float(duration.seconds) + float(duration.nanos) / 1e9


def _set_duration(duration: duration_pb2.Duration, seconds: float) -> None:
    # µs resolution: a float of ~1.4e9 s carries no more, and ping slots are whole milliseconds
    whole, micros = divmod(round(seconds * 1_000_000), 1_000_000)
    duration.seconds, duration.nanos = whole, micros * 1000


def uplink_from_pb(pb: gw_pb2.UplinkFrame, topic_gateway_id: str, transport: Transport, received_at: float
                   ) -> UplinkFrame:
    rx, tx = pb.rx_info, pb.tx_info
    _check_gateway_id(rx.gateway_id, topic_gateway_id)
    if not pb.phy_payload:
        raise BadGatewayInput("empty_payload")
    if not tx.modulation.HasField("lora"):
        raise BadGatewayInput("not_lora", "only LoRa modulation is supported")
    if rx.crc_status == gw_pb2.BAD_CRC:
        raise BadGatewayInput("crc_bad")
    if rx.crc_status == gw_pb2.NO_CRC:
        raise BadGatewayInput("crc_missing")  # LoRaWAN uplinks always carry a CRC (RP002 / LoRaWAN 1.0.4 §4)
    lora = tx.modulation.lora
    location = rx.location if rx.HasField("location") else None
    return UplinkFrame(
        phy_payload=pb.phy_payload,
        modulation=LoRaModulation(
            frequency=tx.frequency,
            spreading_factor=lora.spreading_factor,
            bandwidth=lora.bandwidth,
            code_rate=_CODE_RATE_TO_STR.get(lora.code_rate, lora.code_rate_legacy or "4/5"),
        ),
        rx_info=RxInfo(
            gateway_id=topic_gateway_id,
            uplink_id=rx.uplink_id,
            rssi=float(rx.rssi),
            snr=rx.snr,
            channel=rx.channel,
            rf_chain=rx.rf_chain,
            context=rx.context,
            time=_timestamp(rx, "gw_time"),
            gps_time_s=_duration_s(rx.time_since_gps_epoch) if rx.HasField("time_since_gps_epoch") else None,
            crc_ok=True,
            latitude=location.latitude if location else None,
            longitude=location.longitude if location else None,
            altitude=location.altitude if location else None,
        ),
        transport=transport,
        received_at=received_at,
    )


def uplink_to_pb(frame: UplinkFrame, *, crc_status: int = gw_pb2.CRC_OK) -> gw_pb2.UplinkFrame:
    """The reverse, for virtual gateways and tests."""
    m, rx = frame.modulation, frame.rx_info
    pb = gw_pb2.UplinkFrame(phy_payload=frame.phy_payload)
    pb.tx_info.frequency = m.frequency
    lora = pb.tx_info.modulation.lora
    lora.bandwidth, lora.spreading_factor = m.bandwidth, m.spreading_factor
    lora.code_rate = _STR_TO_CODE_RATE.get(m.code_rate, gw_pb2.CR_4_5)
    r = pb.rx_info
    r.gateway_id, r.uplink_id, r.rssi, r.snr = rx.gateway_id, rx.uplink_id, round(rx.rssi), rx.snr
    r.channel, r.rf_chain, r.context, r.crc_status = rx.channel, rx.rf_chain, rx.context, crc_status
    if rx.time is not None:
        r.gw_time.FromDatetime(rx.time)
    if rx.gps_time_s is not None:
        _set_duration(r.time_since_gps_epoch, rx.gps_time_s)
    if rx.latitude is not None and rx.longitude is not None:
        r.location.latitude, r.location.longitude = rx.latitude, rx.longitude
        r.location.altitude = rx.altitude or 0.0
    return pb


def downlink_to_pb(frame: DownlinkFrame) -> gw_pb2.DownlinkFrame:
    pb = gw_pb2.DownlinkFrame(downlink_id=frame.downlink_id, gateway_id=frame.gateway_id)
    for item in frame.items:
        pi = pb.items.add(phy_payload=item.phy_payload)
        tx = pi.tx_info
        tx.frequency, tx.power = item.modulation.frequency, item.power
        lora = tx.modulation.lora
        lora.bandwidth, lora.spreading_factor = item.modulation.bandwidth, item.modulation.spreading_factor
        lora.code_rate = _STR_TO_CODE_RATE.get(item.modulation.code_rate, gw_pb2.CR_4_5)
        lora.polarization_inversion = item.polarization_inversion
        if item.timing is TimingKind.IMMEDIATELY:
            tx.timing.immediately.SetInParent()
        elif item.timing is TimingKind.DELAY:
            tx.timing.delay.delay.seconds = item.delay_s
            tx.context = item.context
        elif item.timing is TimingKind.GPS_EPOCH and item.gps_time_s is not None:
            _set_duration(tx.timing.gps_epoch.time_since_gps_epoch, item.gps_time_s)
        else:
            raise ValueError(f"timing {item.timing} is not supported")
    return pb


def downlink_from_pb(pb: gw_pb2.DownlinkFrame) -> DownlinkFrame:
    items = []
    for pi in pb.items:
        tx = pi.tx_info
        lora = tx.modulation.lora
        which = tx.timing.WhichOneof("parameters")
        timing = {"immediately": TimingKind.IMMEDIATELY, "delay": TimingKind.DELAY}.get(
            which or "", TimingKind.GPS_EPOCH
        )
        items.append(DownlinkItem(
            phy_payload=pi.phy_payload,
            modulation=LoRaModulation(tx.frequency, lora.spreading_factor, lora.bandwidth,
                                      _CODE_RATE_TO_STR.get(lora.code_rate, "4/5")),
            power=tx.power,
            timing=timing,
            delay_s=tx.timing.delay.delay.seconds if timing is TimingKind.DELAY else 0,
            context=tx.context,
            polarization_inversion=lora.polarization_inversion,
            gps_time_s=_duration_s(tx.timing.gps_epoch.time_since_gps_epoch) if which == "gps_epoch" else None,
        ))
    return DownlinkFrame(gateway_id=pb.gateway_id, downlink_id=pb.downlink_id, items=items)


def tx_ack_from_pb(pb: gw_pb2.DownlinkTxAck, topic_gateway_id: str) -> DownlinkTxAck:
    _check_gateway_id(pb.gateway_id, topic_gateway_id)
    statuses = tuple(gw_pb2.TxAckStatus.Name(item.status) for item in pb.items)
    return DownlinkTxAck(gateway_id=topic_gateway_id, downlink_id=pb.downlink_id, statuses=statuses)


def tx_ack_to_pb(ack: DownlinkTxAck) -> gw_pb2.DownlinkTxAck:
    pb = gw_pb2.DownlinkTxAck(gateway_id=ack.gateway_id, downlink_id=ack.downlink_id)
    for status in ack.statuses:
        pb.items.add(status=gw_pb2.TxAckStatus.Value(status))
    return pb


def stats_from_pb(pb: gw_pb2.GatewayStats, topic_gateway_id: str) -> GatewayStats:
    _check_gateway_id(pb.gateway_id, topic_gateway_id)
    loc = pb.location if pb.HasField("location") else None
    return GatewayStats(
        gateway_id=topic_gateway_id,
        time=_timestamp(pb, "time"),
        rx_packets_received=pb.rx_packets_received,
        rx_packets_received_ok=pb.rx_packets_received_ok,
        tx_packets_received=pb.tx_packets_received,
        tx_packets_emitted=pb.tx_packets_emitted,
        latitude=loc.latitude if loc else None,
        longitude=loc.longitude if loc else None,
        altitude=loc.altitude if loc else None,
        metadata=dict(pb.metadata),
    )


def stats_to_pb(stats: GatewayStats) -> gw_pb2.GatewayStats:
    pb = gw_pb2.GatewayStats(
        gateway_id=stats.gateway_id,
        rx_packets_received=stats.rx_packets_received,
        rx_packets_received_ok=stats.rx_packets_received_ok,
        tx_packets_received=stats.tx_packets_received,
        tx_packets_emitted=stats.tx_packets_emitted,
        metadata=stats.metadata,
    )
    if stats.time is not None:
        pb.time.FromDatetime(stats.time)
    if stats.latitude is not None and stats.longitude is not None:
        pb.location.latitude, pb.location.longitude = stats.latitude, stats.longitude
        pb.location.altitude = stats.altitude or 0.0
    return pb


def conn_state_from_pb(pb: gw_pb2.ConnState, topic_gateway_id: str) -> GatewayConnState:
    _check_gateway_id(pb.gateway_id, topic_gateway_id)
    return GatewayConnState(gateway_id=topic_gateway_id, online=pb.state == gw_pb2.ConnState.ONLINE)


def conn_state_to_pb(state: GatewayConnState) -> gw_pb2.ConnState:
    return gw_pb2.ConnState(
        gateway_id=state.gateway_id,
        state=gw_pb2.ConnState.ONLINE if state.online else gw_pb2.ConnState.OFFLINE,
    )
