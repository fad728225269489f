"""The state one uplink carries through the pipeline (ChirpStack's ``uplink::data::Data`` struct, smaller)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lora_city.lorawan.frames import DataFrame
from lora_city.lorawan.mac import MacCommand
from lora_city.sinks.events import DeviceEvent, GatewayRx
from lora_city.storage.device_queue import QueueItem
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.dedup import CollectedUplink


@dataclass(slots=True)
class UplinkContext:
    collected: CollectedUplink
    uplink_id: str
    time: datetime  # reception time (UTC)
    dr: int
    frequency: int
    airtime_ms: float
    frame: DataFrame | None = None
    session: NetworkSession | None = None
    f_cnt: int = 0  # 32-bit
    retransmission: bool = False
    f_port: int | None = None
    payload: bytes = b""  # decrypted FRMPayload (application data, or MAC commands on FPort 0)
    mac_commands: list[MacCommand] = field(default_factory=list)  # what the device sent
    mac_answers: list[MacCommand] = field(default_factory=list)  # what we send back
    acked_item: QueueItem | None = None
    # The device sent answers it repeats until it hears any downlink (RXParamSetupAns, RXTimingSetupAns,
    # DlChannelAns: 1.0.4 §5.5, §5.8, §5.10): an answer must go out even with nothing in it.
    sticky_answers: bool = False
    promoted: bool = False  # the first uplink under a 1.1 rejoin's session: the device's old session retires
    events: list[DeviceEvent] = field(default_factory=list)  # emitted to the sinks at the end

    @property
    def confirmed(self) -> bool:
        return self.frame is not None and self.frame.confirmed

    @property
    def answer_required(self) -> bool:
        """Any downlink will do, even an empty one: the device asked (ADRACKReq, 1.0.4 §4.3.1.1) or repeats
        sticky MAC answers until it hears one."""
        return self.sticky_answers or (self.frame is not None and self.frame.f_ctrl.adr_ack_req)

    @property
    def needs_downlink(self) -> bool:
        """Class A: answer when we must ACK, have MAC commands, must answer anyway, or data waits."""
        frame, session = self.frame, self.session
        if frame is None or session is None:
            return False
        return self.confirmed or bool(self.mac_answers) or self.answer_required or session.has_queue

    def gateway_rx(self) -> list[GatewayRx]:
        # nsTime: the connector's wall-clock stamp of the copy when it kept one (the copy journal does), else
        # now, when the dedup window closed (at most its length, 200 ms by default, after the copy arrived).
        now = datetime.now(UTC)
        return [
            GatewayRx(
                gateway_id=f.rx_info.gateway_id, rssi=f.rx_info.rssi, snr=f.rx_info.snr,
                channel=f.rx_info.channel, time=f.rx_info.time, latitude=f.rx_info.latitude,
                longitude=f.rx_info.longitude, uplink_id=f.rx_info.uplink_id,
                ns_time=datetime.fromtimestamp(f.received_ns / 1e9, UTC) if f.received_ns else now,
                rf_chain=f.rx_info.rf_chain, context=f.rx_info.context, crc_ok=f.rx_info.crc_ok,
                altitude=f.rx_info.altitude,
            )
            for f in self.collected.frames
        ]
