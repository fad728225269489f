"""Where and when a downlink goes: gateway choice by link margin, RX1/RX2 or immediately, duty-cycle budget.

Class A (LoRaWAN 1.0.4 §3.3): the device listens RX_DELAY s after its uplink on the uplink channel at
DR - RX1DROffset (RX1), and one second later on 869.525 MHz (RX2, RP002 §2.2.8). We list both in one
DownlinkFrame so the gateway falls back to RX2 when RX1 fails. Join-accepts use JOIN_ACCEPT_DELAY1/2 = 5/6 s
(RP002 §2.2.8, table "EU868 default settings"). Class C (§17): the device listens on RX2 parameters all the
time, so the frame goes out at once through the gateway that heard it best.

Among the gateways that heard the device, the one with the best link margin (SNR minus the SNR the DR needs)
goes first; a gateway whose sub-band budget (``DutyCycleTracker``) cannot take the transmission is skipped, RX1
may be dropped for RX2 (a different sub-band with 10 %), and when no gateway can send, the downlink is refused.
"""

from __future__ import annotations

import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from lora_city.downlink.duty_cycle import DutyCycleTracker
from lora_city.downlink.radio import (
    DOWNLINK_POWER_DBM,
    EU868_MAX_MAC_PAYLOAD,
    EU868_RX2_FREQUENCY,
    modulation_for,
    required_snr,
    rx1_dr,
    time_on_air_s,
)
from lora_city.gateway.frames import DownlinkFrame, DownlinkItem, DownlinkTxAck, TimingKind
from lora_city.metrics import Metrics
from lora_city.network.gateway_directory import GatewayDirectory
from lora_city.sinks.events import DeviceEvent, DeviceInfo, LogEvent, TxAckEvent

log = logging.getLogger(__name__)

JOIN_ACCEPT_DELAY1_S = 5
JOIN_ACCEPT_DELAY2_S = 6
_IN_FLIGHT_MAX = 50_000


class Transmitter(Protocol):
    """The gateway side as the scheduler sees it (the network server routes to the right backend)."""

    def reachable(self, gateway_id: str) -> bool: ...

    async def send(self, frame: DownlinkFrame) -> None: ...


@dataclass(frozen=True, slots=True)
class Heard:
    gateway_id: str
    snr: float
    context: bytes = b""  # the uplink's timing context at this gateway (class A)


@dataclass(frozen=True, slots=True)
class Window:
    """One transmission opportunity before the gateway is chosen."""

    dr: int
    frequency: int
    timing: TimingKind
    delay_s: int = 0


@dataclass(slots=True)
class InFlight:
    device: DeviceInfo
    gateway_id: str
    f_cnt_down: int
    queue_item_id: str | None
    airtime_ms: float
    phy_size: int


def max_frm_payload(dr: int) -> int:
    """N, the largest FRMPayload+FOpts at a DR: M minus FHDR (7) and FPort (1) (RP002 §2.2.6)."""
    return EU868_MAX_MAC_PAYLOAD[dr] - 8


def class_a_windows(uplink_dr: int, uplink_frequency: int, rx_delay: int, rx1_dr_offset: int, rx2_dr: int,
                    *, join: bool = False) -> list[Window]:
    d1 = JOIN_ACCEPT_DELAY1_S if join else max(rx_delay, 1)
    return [
        Window(rx1_dr(uplink_dr, rx1_dr_offset), uplink_frequency, TimingKind.DELAY, d1),
        Window(rx2_dr, EU868_RX2_FREQUENCY, TimingKind.DELAY, d1 + 1),
    ]


def class_c_windows(rx2_dr: int) -> list[Window]:
    return [Window(rx2_dr, EU868_RX2_FREQUENCY, TimingKind.IMMEDIATELY)]


class DownlinkScheduler:
    def __init__(
        self,
        transmitter: Transmitter,
        duty_cycle: DutyCycleTracker,
        metrics: Metrics,
        emit: Callable[[DeviceEvent], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        gateways: GatewayDirectory | None = None,
    ) -> None:
        self._gateways = gateways or GatewayDirectory()
        self._tx = transmitter
        self._duty = duty_cycle
        self._metrics = metrics
        self._emit = emit
        self._clock = clock
        self._rng = rng or random.Random()
        self._in_flight: OrderedDict[int, InFlight] = OrderedDict()

    def choose(self, heard: list[Heard], uplink_dr: int, windows: list[Window], phy_len: int
               ) -> tuple[Heard, list[DownlinkItem], float] | None:
        """The best gateway and the windows its budget allows, or None (refused). Also returns the airtime
        charged to the budget: the first window's, the one the device will most likely receive."""
        need = required_snr(uplink_dr)
        for gw in sorted(heard, key=lambda h: h.snr - need, reverse=True):
            if not self._tx.reachable(gw.gateway_id):
                continue
            items: list[DownlinkItem] = []
            charged = 0.0
            for w in windows:
                modulation = modulation_for(w.dr, w.frequency)
                airtime = time_on_air_s(modulation, phy_len)
                if not self._duty.allows(gw.gateway_id, w.frequency, airtime):
                    continue
                if not items:
                    charged = airtime
                items.append(DownlinkItem(
                    phy_payload=b"", modulation=modulation, power=DOWNLINK_POWER_DBM, timing=w.timing,
                    delay_s=w.delay_s, context=gw.context if w.timing is TimingKind.DELAY else b"",
                ))
            if items:
                return gw, items, charged
        return None

    async def transmit(
        self,
        kind: str,
        device: DeviceInfo,
        phy_payload: bytes,
        heard: list[Heard],
        uplink_dr: int,
        windows: list[Window],
        *,
        f_cnt_down: int = 0,
        queue_item_id: str | None = None,
    ) -> bool:
        """Pick a gateway, charge its budget, send. False when refused (counted) or the send failed (logged)."""
        # another tenant's private downlink gateway never transmits for this device (issue 7)
        heard = [h for h in heard if self._gateways.may_transmit_for(h.gateway_id, device.tenant_id)]
        choice = self.choose(heard, uplink_dr, windows, len(phy_payload))
        if choice is None:
            self._metrics.downlink_refused.labels("no_gateway" if not heard else "duty_cycle").inc()
            self._emit(LogEvent(
                time=datetime.now(UTC), device=device, level="WARNING", code="DOWNLINK_GATEWAY",
                description="no gateway that heard the device can transmit now (duty cycle or unreachable)",
            ))
            return False
        gw, items, airtime = choice
        items = [DownlinkItem(phy_payload, i.modulation, i.power, i.timing, i.delay_s, i.context,
                              i.polarization_inversion) for i in items]
        frame = DownlinkFrame(gw.gateway_id, self._rng.getrandbits(32), items, dev_eui=device.dev_eui)
        try:
            await self._tx.send(frame)
        except Exception:  # broker away, gateway gone: the window is lost; log once with context
            log.exception("downlink send failed: dev_eui=%s gateway_id=%s", device.dev_eui, gw.gateway_id)
            self._metrics.downlink_refused.labels("send_failed").inc()
            return False
        first = items[0]
        self._duty.record(gw.gateway_id, first.modulation.frequency, airtime)
        self._metrics.downlinks.labels(kind).inc()
        self._in_flight[frame.downlink_id] = InFlight(device, gw.gateway_id, f_cnt_down, queue_item_id,
                                                      airtime * 1000.0, len(phy_payload))
        while len(self._in_flight) > _IN_FLIGHT_MAX:
            self._in_flight.popitem(last=False)
        return True

    def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        flight = self._in_flight.pop(ack.downlink_id, None)
        if flight is None:
            return  # not ours (another server instance) or too old
        status = next((s for s in ack.statuses if s == "OK"), ack.statuses[0] if ack.statuses else "UNKNOWN")
        if status != "OK":
            self._metrics.downlink_refused.labels(f"gateway_{status.lower()}").inc()
        self._emit(TxAckEvent(
            time=datetime.now(UTC), device=flight.device, downlink_id=ack.downlink_id, gateway_id=ack.gateway_id,
            status=status, f_cnt_down=flight.f_cnt_down, queue_item_id=flight.queue_item_id,
            airtime_ms=flight.airtime_ms, phy_size=flight.phy_size,
        ))
