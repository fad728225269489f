"""The internal, wire-format-free types every gateway connector produces and consumes.

Nothing after ``lora_city.gateway`` knows whether a frame came over MQTT (protobuf or JSON) or Semtech UDP.
Identifiers are lowercase MSB-first hex (``gateway_id`` is 16 hex characters).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Transport(StrEnum):
    MQTT_PROTOBUF = "mqtt-protobuf"
    MQTT_JSON = "mqtt-json"
    UDP = "udp"


@dataclass(slots=True, frozen=True)
class LoRaModulation:
    """Radio parameters of one transmission (uplink or downlink)."""

    frequency: int  # Hz
    spreading_factor: int  # 7..12
    bandwidth: int  # Hz, e.g. 125000
    code_rate: str = "4/5"


@dataclass(slots=True, frozen=True)
class RxInfo:
    """How one gateway received one copy of an uplink."""

    gateway_id: str
    uplink_id: int
    rssi: float
    snr: float
    channel: int = 0
    rf_chain: int = 0
    # Opaque gateway timing context: the concentrator counter (UDP ``tmst`` as 4 big-endian bytes, or the
    # chirpstack ``context`` bytes). Echoed back in a delayed downlink so the gateway can time RX1/RX2.
    context: bytes = b""
    time: datetime | None = None  # GPS/NTP time of reception, when the gateway knows it
    # Seconds since the GPS epoch of the reception, reported only by gateways with a GPS fix (chirpstack
    # ``time_since_gps_epoch``, Semtech ``tmms``): such a gateway can also transmit at a GPS time (class B).
    gps_time_s: float | None = None
    crc_ok: bool = True
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None


@dataclass(slots=True)
class UplinkFrame:
    """One copy of an uplink as one gateway heard it."""

    phy_payload: bytes
    modulation: LoRaModulation
    rx_info: RxInfo
    transport: Transport
    received_at: float = 0.0  # time.monotonic() when the connector got it
    # Wall clock (time.time_ns()) when the connector got it: kept by the copy journal, so an uplink replayed
    # after a crash gets the same reading time as the first time (gateway/journal.py).
    received_ns: int = 0
    journal_seq: int = -1  # this copy's record in the copy journal; -1 when not journaled


class TimingKind(StrEnum):
    DELAY = "delay"  # relative to the uplink's context (class A RX1/RX2)
    IMMEDIATELY = "immediately"  # class C
    GPS_EPOCH = "gps_epoch"  # at a GPS time (class B ping slots): needs a gateway with a GPS fix


@dataclass(slots=True, frozen=True)
class DownlinkItem:
    """One transmission opportunity; a DownlinkFrame lists RX1 then RX2 so the gateway can fall back."""

    phy_payload: bytes
    modulation: LoRaModulation
    power: int  # dBm EIRP
    timing: TimingKind
    delay_s: int = 0  # for DELAY: seconds after the uplink's context
    context: bytes = b""  # for DELAY: the RxInfo.context of the uplink being answered
    polarization_inversion: bool = True  # True for every LoRaWAN downlink to a device
    gps_time_s: float | None = None  # for GPS_EPOCH: when to transmit, in seconds since the GPS epoch


@dataclass(slots=True)
class DownlinkFrame:
    gateway_id: str
    downlink_id: int
    items: list[DownlinkItem]
    dev_eui: str | None = None  # for logs and acknowledgement bookkeeping only


@dataclass(slots=True, frozen=True)
class DownlinkTxAck:
    """The gateway's answer to a DownlinkFrame: one status per item (``OK``, ``TOO_LATE``, ``COLLISION_PACKET`` …)."""

    gateway_id: str
    downlink_id: int
    statuses: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return "OK" in self.statuses


@dataclass(slots=True, frozen=True)
class GatewayStats:
    gateway_id: str
    time: datetime | None
    rx_packets_received: int = 0
    rx_packets_received_ok: int = 0
    tx_packets_received: int = 0
    tx_packets_emitted: int = 0
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class GatewayConnState:
    gateway_id: str
    online: bool


class GatewayEvents(Protocol):
    """What a connector calls; implemented by the network server. Each call must not raise."""

    async def on_uplink(self, frame: UplinkFrame) -> None: ...

    async def on_stats(self, stats: GatewayStats) -> None: ...

    async def on_tx_ack(self, ack: DownlinkTxAck) -> None: ...

    async def on_conn_state(self, state: GatewayConnState) -> None: ...


class GatewayBackend(Protocol):
    """A connector: started with the event sink, sends downlinks, stopped on shutdown."""

    async def start(self, events: GatewayEvents) -> None: ...

    async def stop(self) -> None: ...

    async def send_downlink(self, frame: DownlinkFrame) -> None: ...

    def knows(self, gateway_id: str) -> bool:
        """True when this backend can reach the gateway (it has heard from it)."""
        ...


Callback = Callable[[], Awaitable[None]]
