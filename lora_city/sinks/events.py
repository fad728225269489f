"""The events the network server emits and every sink consumes (the contract between uplink/ and sinks/).

Shapes follow ChirpStack v4 integration events (up, join, ack, txack, status, log) so the MQTT integration can
publish them unchanged in ChirpStack's JSON form. Times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lora_city.applayer.profile import AppLayer


@dataclass(slots=True, frozen=True)
class DeviceInfo:
    dev_eui: str
    tenant_id: str
    tenant_name: str = ""
    application_id: str | None = None
    application_name: str = ""
    device_name: str = ""
    device_profile_id: str | None = None
    device_profile_name: str = ""
    codec_id: str | None = None
    family: str | None = None  # streetlight | water | flood | other
    is_critical: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    app_layer: AppLayer = ()  # the application-layer packages of the device's profile (lora_city/applayer)
    device_class: str = "A"  # the class the device works in now: A, B or C (ChirpStack's deviceClassEnabled)


@dataclass(slots=True, frozen=True)
class GatewayRx:
    """One gateway's reception of the uplink (after dedup, the uplink carries all of them)."""

    gateway_id: str
    rssi: float
    snr: float
    channel: int = 0
    time: datetime | None = None  # the gateway's reception time, when it knows it (ChirpStack's gwTime)
    latitude: float | None = None
    longitude: float | None = None
    uplink_id: int = 0  # the gateway connector's id of this copy (ChirpStack's rxInfo.uplinkId)
    ns_time: datetime | None = None  # when the network server received this copy (rxInfo.nsTime)
    rf_chain: int = 0
    context: bytes = b""  # the gateway's opaque timing context
    crc_ok: bool = True  # copies with a bad or missing CRC are dropped at the gateway boundary
    altitude: float | None = None


@dataclass(slots=True, frozen=True)
class DownlinkTx:
    """How a downlink was transmitted (ChirpStack's gw.DownlinkTxInfo), for the txack event."""

    frequency: int
    power: int  # dBm EIRP
    spreading_factor: int
    bandwidth: int
    code_rate: str = "4/5"
    polarization_inversion: bool = True
    timing: str = "delay"  # delay | immediately | gps_epoch
    delay_s: int = 0
    gps_time_s: float | None = None
    context: bytes = b""


@dataclass(slots=True, frozen=True)
class UplinkEvent:
    uplink_id: str  # unique per handled uplink (dedup set); sinks use it as an idempotency key
    time: datetime
    device: DeviceInfo
    dev_addr: str
    f_cnt: int
    f_port: int | None
    confirmed: bool
    adr: bool
    payload: bytes  # decrypted FRMPayload
    data: dict[str, Any] | None  # the codec's object (None: no codec or decode error)
    measurements: dict[str, tuple[float | bool, str | None]]  # name -> (value, canonical unit)
    codec_errors: list[str]
    codec_warnings: list[str]
    rx: list[GatewayRx]
    frequency: int
    spreading_factor: int
    bandwidth: int
    dr: int
    airtime_ms: float  # time on air of this uplink (billing, duty cycle)
    phy_size: int  # PHYPayload bytes (billing)
    copies: int  # gateway copies received (billing counts duplicates)
    region_config_id: str = ""  # ChirpStack's regionConfigId: the region configuration that handled it (eu868)
    # The frame's MAC commands (FOpts or FPort 0), decoded: the device's live log shows them (MacCommand.to_dict)
    mac_commands: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True, frozen=True)
class JoinEvent:
    time: datetime
    device: DeviceInfo
    dev_addr: str
    rx: list[GatewayRx]
    deduplication_id: str = ""  # the join-request's uplink id (a UUID)
    region_config_id: str = ""


@dataclass(slots=True, frozen=True)
class AckEvent:
    """A confirmed downlink was acknowledged (or not, after its retries)."""

    time: datetime
    device: DeviceInfo
    queue_item_id: str
    acknowledged: bool
    f_cnt_down: int
    deduplication_id: str = ""  # the uplink that carried the ACK (or, for a give-up, that ended the retries)


@dataclass(slots=True, frozen=True)
class TxAckEvent:
    time: datetime
    device: DeviceInfo
    downlink_id: int
    gateway_id: str
    status: str
    f_cnt_down: int
    queue_item_id: str | None
    airtime_ms: float
    phy_size: int
    tx: DownlinkTx | None = None  # the item the gateway transmitted
    # What went out, for the device's live log: kind (class_a, class_c, join_accept), RX1 radio settings,
    # FPort, ACK, MAC commands. Stored with the event; not part of ChirpStack's integration JSON.
    frame: dict[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class StatusEvent:
    time: datetime
    device: DeviceInfo
    margin: int
    battery_level: float | None  # percent; None when the device cannot measure
    external_power: bool
    deduplication_id: str = ""  # the uplink that carried the DevStatusAns


@dataclass(slots=True, frozen=True)
class LogEvent:
    time: datetime
    device: DeviceInfo
    level: str  # INFO | WARNING | ERROR
    code: str  # e.g. UPLINK_CODEC, DOWNLINK_PAYLOAD_SIZE, F_CNT_DOWN, QUOTA
    description: str
    context: dict[str, str] = field(default_factory=dict)


DeviceEvent = UplinkEvent | JoinEvent | AckEvent | TxAckEvent | StatusEvent | LogEvent


class Sink(Protocol):
    """A destination for device events. ``submit`` must be cheap and never raise or block the radio side;
    a sink does its I/O on its own task or thread and keeps what it cannot deliver (outbox)."""

    name: str

    async def start(self) -> None: ...

    def submit(self, event: DeviceEvent) -> None: ...

    async def stop(self) -> None: ...
