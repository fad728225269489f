"""Semtech UDP packet-forwarder protocol (PROTOCOL.TXT, version 2): datagrams and rxpk/stat/txpk JSON.

Pure: parse and build bytes and dicts, no sockets. Datagram layout: version (1 byte), random token (2 bytes),
identifier (1 byte), then the gateway EUI (8 bytes) for PUSH_DATA, PULL_DATA and TX_ACK, then JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lora_city.gateway.bad_input import BadGatewayInput
from lora_city.gateway.frames import (
    DownlinkItem,
    GatewayStats,
    LoRaModulation,
    RxInfo,
    TimingKind,
    Transport,
    UplinkFrame,
)

PUSH_DATA, PUSH_ACK, PULL_DATA, PULL_RESP, PULL_ACK, TX_ACK = range(6)
SUPPORTED_VERSIONS = (1, 2)
_WITH_EUI = (PUSH_DATA, PULL_DATA, TX_ACK)
_DATR = re.compile(r"SF(\d+)BW(\d+)")

# TX_ACK "error" values (PROTOCOL.TXT §6) -> chirpstack TxAckStatus names used in DownlinkTxAck.statuses
TX_ACK_ERRORS = {
    "NONE": "OK",
    "TOO_LATE": "TOO_LATE",
    "TOO_EARLY": "TOO_EARLY",
    "COLLISION_PACKET": "COLLISION_PACKET",
    "COLLISION_BEACON": "COLLISION_BEACON",
    "TX_FREQ": "TX_FREQ",
    "TX_POWER": "TX_POWER",
    "GPS_UNLOCKED": "GPS_UNLOCKED",
}
STATUS_TO_TX_ACK_ERROR = {v: k for k, v in TX_ACK_ERRORS.items()}


@dataclass(frozen=True, slots=True)
class Datagram:
    version: int
    token: int
    kind: int
    gateway_id: str | None  # lowercase hex EUI for PUSH_DATA / PULL_DATA / TX_ACK
    body: bytes  # the JSON part, possibly empty


def parse_datagram(data: bytes) -> Datagram:
    if len(data) < 4:
        raise BadGatewayInput("udp_too_short", f"{len(data)} bytes")
    version, kind = data[0], data[3]
    if version not in SUPPORTED_VERSIONS:
        raise BadGatewayInput("udp_bad_version", str(version))
    if kind > TX_ACK:
        raise BadGatewayInput("udp_bad_identifier", str(kind))
    token = (data[1] << 8) | data[2]
    if kind in _WITH_EUI:
        if len(data) < 12:
            raise BadGatewayInput("udp_too_short", f"{len(data)} bytes for identifier {kind}")
        return Datagram(version, token, kind, data[4:12].hex(), data[12:])
    return Datagram(version, token, kind, None, data[4:])


def build(version: int, token: int, kind: int, gateway_id: str | None = None, body: bytes = b"") -> bytes:
    eui = bytes.fromhex(gateway_id) if gateway_id is not None else b""
    return bytes((version, token >> 8, token & 0xFF, kind)) + eui + body


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadGatewayInput("udp_bad_json", str(exc)[:120]) from exc
    if not isinstance(obj, dict):
        raise BadGatewayInput("udp_bad_json", "not a JSON object")
    return obj


def context_from_tmst(tmst: int) -> bytes:
    return (tmst & 0xFFFFFFFF).to_bytes(4, "big")


def tmst_from_context(context: bytes) -> int:
    return int.from_bytes(context[-4:], "big") if context else 0


def _parse_time(value: Any) -> datetime | None:
    """rxpk ``time`` (ISO 8601, possibly with nanoseconds) or stat ``time`` (``2014-01-12 08:59:28 GMT``)."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)  # Python 3.11 reads "Z" and truncates extra fraction digits
    except ValueError:
        try:
            dt = datetime.strptime(value, "%Y-%m-%d %H:%M:%S %Z")
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _gps_ms(value: Any) -> float | None:
    """rxpk ``tmms``: GPS time of reception in ms since 1980-01-06 (PROTOCOL.TXT §4), only with a GPS fix."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value / 1000.0
    return None


def parse_datr(datr: Any) -> tuple[int, int]:
    m = _DATR.fullmatch(datr) if isinstance(datr, str) else None
    if m is None:
        raise BadGatewayInput("not_lora", f"datr={datr!r}")
    return int(m.group(1)), int(m.group(2)) * 1000


def rxpk_to_uplink(rxpk: dict[str, Any], gateway_id: str, uplink_id: int, received_at: float) -> UplinkFrame:
    stat = rxpk.get("stat", 1)
    if stat == -1:
        raise BadGatewayInput("crc_bad")
    if stat == 0:
        raise BadGatewayInput("crc_missing")
    if rxpk.get("modu", "LORA") != "LORA":
        raise BadGatewayInput("not_lora", f"modu={rxpk.get('modu')!r}")
    sf, bw = parse_datr(rxpk.get("datr"))
    try:
        payload = base64.b64decode(rxpk["data"], validate=True)
        rsig = rxpk.get("rsig") or [{}]
        rssi = rxpk.get("rssi", rsig[0].get("rssic"))
        snr = rxpk.get("lsnr", rsig[0].get("lsnr"))
        frame = UplinkFrame(
            phy_payload=payload,
            modulation=LoRaModulation(round(float(rxpk["freq"]) * 1_000_000), sf, bw, str(rxpk.get("codr", "4/5"))),
            rx_info=RxInfo(
                gateway_id=gateway_id,
                uplink_id=uplink_id,
                rssi=float(rssi),
                snr=float(snr),
                channel=int(rxpk.get("chan", 0)),
                rf_chain=int(rxpk.get("rfch", 0)),
                context=context_from_tmst(int(rxpk["tmst"])),
                time=_parse_time(rxpk.get("time")),
                gps_time_s=_gps_ms(rxpk.get("tmms")),
            ),
            transport=Transport.UDP,
            received_at=received_at,
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError, IndexError, binascii.Error) as exc:
        raise BadGatewayInput("udp_bad_rxpk", f"{type(exc).__name__}: {str(exc)[:80]}") from exc
    if not payload:
        raise BadGatewayInput("empty_payload")
    return frame


def uplink_to_rxpk(frame: UplinkFrame) -> dict[str, Any]:
    """The reverse, for the virtual packet forwarder."""
    m, rx = frame.modulation, frame.rx_info
    rxpk: dict[str, Any] = {
        "tmst": tmst_from_context(rx.context),
        "chan": rx.channel,
        "rfch": rx.rf_chain,
        "freq": m.frequency / 1_000_000,
        "stat": 1 if rx.crc_ok else -1,
        "modu": "LORA",
        "datr": f"SF{m.spreading_factor}BW{m.bandwidth // 1000}",
        "codr": m.code_rate,
        "rssi": round(rx.rssi),
        "lsnr": rx.snr,
        "size": len(frame.phy_payload),
        "data": base64.b64encode(frame.phy_payload).decode(),
    }
    if rx.time is not None:
        rxpk["time"] = rx.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if rx.gps_time_s is not None:
        rxpk["tmms"] = round(rx.gps_time_s * 1000)
    return rxpk


def _num(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def stat_to_stats(stat: dict[str, Any], gateway_id: str) -> GatewayStats:
    def count(key: str) -> int:
        value = stat.get(key, 0)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    return GatewayStats(
        gateway_id=gateway_id,
        time=_parse_time(stat.get("time")),
        rx_packets_received=count("rxnb"),
        rx_packets_received_ok=count("rxok"),
        tx_packets_received=count("dwnb"),
        tx_packets_emitted=count("txnb"),
        latitude=_num(stat, "lati"),
        longitude=_num(stat, "long"),
        altitude=_num(stat, "alti"),
    )


def stats_to_stat(stats: GatewayStats) -> dict[str, Any]:
    stat: dict[str, Any] = {
        "rxnb": stats.rx_packets_received, "rxok": stats.rx_packets_received_ok, "rwfw": stats.rx_packets_received_ok,
        "ackr": 100.0, "dwnb": stats.tx_packets_received, "txnb": stats.tx_packets_emitted,
    }
    if stats.time is not None:
        stat["time"] = stats.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S GMT")
    if stats.latitude is not None:
        stat.update(lati=stats.latitude, long=stats.longitude, alti=stats.altitude or 0)
    return stat


def item_to_txpk(item: DownlinkItem) -> dict[str, Any]:
    m = item.modulation
    txpk: dict[str, Any] = {
        "freq": m.frequency / 1_000_000,
        "rfch": 0,
        "powe": item.power,
        "modu": "LORA",
        "datr": f"SF{m.spreading_factor}BW{m.bandwidth // 1000}",
        "codr": m.code_rate,
        "ipol": item.polarization_inversion,
        "size": len(item.phy_payload),
        "data": base64.b64encode(item.phy_payload).decode(),
    }
    if item.timing is TimingKind.IMMEDIATELY:
        txpk["imme"] = True
    elif item.timing is TimingKind.DELAY:
        # The concentrator counter wraps at 2^32 µs (~71 min).
        txpk["tmst"] = (tmst_from_context(item.context) + item.delay_s * 1_000_000) & 0xFFFFFFFF
    elif item.timing is TimingKind.GPS_EPOCH and item.gps_time_s is not None:
        # PROTOCOL.TXT §6: "tmms" sends at a GPS time (ms since the GPS epoch); the forwarder needs a GPS fix.
        txpk["tmms"] = round(item.gps_time_s * 1000)
    else:
        raise ValueError(f"timing {item.timing} is not supported over UDP")
    return txpk


@dataclass(frozen=True, slots=True)
class Txpk:
    """A PULL_RESP transmission as the packet forwarder sees it (for the virtual gateway)."""

    phy_payload: bytes
    modulation: LoRaModulation
    power: int
    immediately: bool
    tmst: int | None
    polarization_inversion: bool
    tmms: int | None = None  # GPS time of transmission (ms since the GPS epoch), for class B


def parse_txpk(txpk: dict[str, Any]) -> Txpk:
    try:
        sf, bw = parse_datr(txpk["datr"])
        return Txpk(
            phy_payload=base64.b64decode(txpk["data"], validate=True),
            modulation=LoRaModulation(round(float(txpk["freq"]) * 1_000_000), sf, bw, str(txpk.get("codr", "4/5"))),
            power=int(txpk.get("powe", 14)),
            immediately=bool(txpk.get("imme", False)),
            tmst=int(txpk["tmst"]) if "tmst" in txpk else None,
            polarization_inversion=bool(txpk.get("ipol", False)),
            tmms=int(txpk["tmms"]) if "tmms" in txpk else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError, binascii.Error) as exc:
        raise BadGatewayInput("udp_bad_txpk", str(exc)[:120]) from exc


def tx_ack_status(body: bytes) -> str:
    """The chirpstack status name of a TX_ACK body; an empty body means success (PROTOCOL.TXT §6)."""
    if not body.strip(b"\x00 \r\n\t"):
        return "OK"
    obj = parse_json_object(body.rstrip(b"\x00"))
    ack = obj.get("txpk_ack")
    if not isinstance(ack, dict):
        return "OK"
    error = ack.get("error", "NONE")
    return TX_ACK_ERRORS.get(error, "INTERNAL_ERROR") if isinstance(error, str) else "INTERNAL_ERROR"
