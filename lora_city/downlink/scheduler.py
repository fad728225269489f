"""Where and when a downlink goes: gateway choice by link margin, RX1/RX2 or immediately, duty-cycle budget.

Class A (LoRaWAN 1.0.4 §3.3): the device listens RX_DELAY s after its uplink on the uplink channel at
DR - RX1DROffset (RX1), and one second later on the RX2 frequency and DR (869.525 MHz DR0 by default in EU868,
RP002-1.0.4 §2.4.7). We list both in one DownlinkFrame so the gateway falls back to RX2 when RX1 fails.
Join-accepts use JOIN_ACCEPT_DELAY1/2 = 5/6 s (RP002 §3). Class C (1.0.4 §6): the device listens on RX2
parameters all the time, so the frame goes out at once through the gateway that heard it best. Every radio
figure (data rates, power, SNR floors, time on air, sub-bands) comes from the ``Region``.

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
from typing import Any, Protocol

from lora_city.downlink.duty_cycle import DutyCycleTracker, budget_s
from lora_city.gateway.frames import DownlinkFrame, DownlinkItem, DownlinkTxAck, LoRaModulation, TimingKind
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868, Region
from lora_city.metrics import Metrics
from lora_city.network.gateway_directory import GatewayDirectory
from lora_city.sinks.events import DeviceEvent, DeviceInfo, DownlinkTx, LogEvent, TxAckEvent

log = logging.getLogger(__name__)

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
    gps_time_s: float | None = None  # GPS_EPOCH: the ping slot (seconds since the GPS epoch)


@dataclass(slots=True)
class InFlight:
    device: DeviceInfo | None  # None for a multicast group's downlink
    gateway_id: str
    f_cnt_down: int
    queue_item_id: str | None
    airtime_ms: float
    phy_size: int
    items: tuple[DownlinkItem, ...] = ()  # what the gateway was offered (RX1, RX2): the txack names the one sent
    frame: dict[str, Any] | None = None  # what the device's live log shows once the gateway confirms


def downlink_tx(item: DownlinkItem) -> DownlinkTx:
    m = item.modulation
    return DownlinkTx(frequency=m.frequency, power=item.power, spreading_factor=m.spreading_factor,
                      bandwidth=m.bandwidth, code_rate=m.code_rate,
                      polarization_inversion=item.polarization_inversion, timing=item.timing.value,
                      delay_s=item.delay_s, gps_time_s=item.gps_time_s, context=item.context)


def class_a_windows(region: Region, uplink_dr: int, uplink_frequency: int, rx_delay: int, rx1_dr_offset: int,
                    rx2_dr: int, *, rx2_frequency: int | None = None, join: bool = False) -> list[Window]:
    """RX1 then RX2 after an uplink. A join-accept uses JOIN_ACCEPT_DELAY1/2 and the default RX parameters:
    the device only learns the network's from that very frame (1.0.4 §6.2.6)."""
    if join:
        d1 = region.join_accept_delay1_s
        return [
            Window(region.rx1_data_rate(uplink_dr, 0), uplink_frequency, TimingKind.DELAY, d1),
            Window(region.rx2_data_rate, region.rx2_frequency_hz, TimingKind.DELAY, region.join_accept_delay2_s),
        ]
    d1 = max(rx_delay, 1)  # RxDelay 0 means 1 s (1.0.4 §5.7)
    return [
        Window(region.rx1_data_rate(uplink_dr, rx1_dr_offset), uplink_frequency, TimingKind.DELAY, d1),
        Window(rx2_dr, rx2_frequency or region.rx2_frequency_hz, TimingKind.DELAY, d1 + 1),
    ]


def class_c_windows(region: Region, rx2_dr: int, rx2_frequency: int | None = None) -> list[Window]:
    return [Window(rx2_dr, rx2_frequency or region.rx2_frequency_hz, TimingKind.IMMEDIATELY)]


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
        region: Region = EU868,
    ) -> None:
        self._region = region
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
        region = self._region
        need = region.required_snr_db(uplink_dr)
        for gw in sorted(heard, key=lambda h: h.snr - need, reverse=True):
            if not self._tx.reachable(gw.gateway_id):
                continue
            items: list[DownlinkItem] = []
            charged = 0.0
            for w in windows:
                dr = region.data_rate(w.dr)
                assert dr.spreading_factor is not None, "downlinks are LoRa"
                modulation = LoRaModulation(w.frequency, dr.spreading_factor, dr.bandwidth_hz, "4/5")
                airtime = region.time_on_air_s(w.dr, phy_len, uplink=False)
                if not self._duty.allows(gw.gateway_id, w.frequency, airtime):
                    continue
                if not items:
                    charged = airtime
                items.append(DownlinkItem(
                    phy_payload=b"", modulation=modulation, power=region.downlink_tx_power_dbm(w.frequency),
                    timing=w.timing, delay_s=w.delay_s, context=gw.context if w.timing is TimingKind.DELAY else b"",
                    gps_time_s=w.gps_time_s,
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
        frame_log: dict[str, Any] | None = None,
    ) -> bool:
        """Pick a gateway, charge its budget, send. False when refused (counted) or the send failed (logged).
        ``frame_log`` describes the frame for the device's live log (completed with the radio settings)."""
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
                              i.polarization_inversion, i.gps_time_s) for i in items]
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
        described = None if frame_log is None else {
            **frame_log, "f_cnt_down": f_cnt_down, "frequency": first.modulation.frequency,
            "spreading_factor": first.modulation.spreading_factor, "bandwidth": first.modulation.bandwidth,
            "windows": len(items), "size": len(phy_payload)}
        self._in_flight[frame.downlink_id] = InFlight(device, gw.gateway_id, f_cnt_down, queue_item_id,
                                                      airtime * 1000.0, len(phy_payload), tuple(items), described)
        while len(self._in_flight) > _IN_FLIGHT_MAX:
            self._in_flight.popitem(last=False)
        return True

    # --- one given gateway (multicast groups, class B) ----------------------------------------------------

    def may_use(self, gateway_id: str, tenant_id: str) -> bool:
        """Reachable, and not another tenant's private downlink gateway (issue 7)."""
        return self._tx.reachable(gateway_id) and self._gateways.may_transmit_for(gateway_id, tenant_id)

    def airtime_s(self, window: Window, phy_len: int) -> float:
        return self._region.time_on_air_s(window.dr, phy_len, uplink=False)

    def has_budget(self, gateway_id: str, window: Window, phy_len: int) -> bool:
        return self._duty.allows(gateway_id, window.frequency, self.airtime_s(window, phy_len))

    def budget_left_s(self, gateway_id: str, frequency: int) -> float:
        """Airtime (s) the gateway may still use this hour in the sub-band of ``frequency``."""
        try:
            band = self._region.sub_band(frequency)
        except LoRaWANError:
            return 0.0
        return max(0.0, budget_s(band) - self._duty.used_s(gateway_id, frequency))

    async def transmit_on(self, kind: str, gateway_id: str, phy_payload: bytes, window: Window, *,
                          device: DeviceInfo | None = None, dev_eui: str | None = None, f_cnt_down: int = 0,
                          queue_item_id: str | None = None) -> float | None:
        """Send through ``gateway_id`` (chosen by the caller: a multicast cover set, a class-B GPS gateway),
        charging the same duty-cycle budget as every other downlink. The airtime, or None when refused."""
        region = self._region
        airtime = self.airtime_s(window, len(phy_payload))
        if not self._duty.allows(gateway_id, window.frequency, airtime):
            self._metrics.downlink_refused.labels("duty_cycle").inc()
            return None
        dr = region.data_rate(window.dr)
        assert dr.spreading_factor is not None, "downlinks are LoRa"
        modulation = LoRaModulation(window.frequency, dr.spreading_factor, dr.bandwidth_hz, "4/5")
        item = DownlinkItem(phy_payload, modulation, region.downlink_tx_power_dbm(window.frequency), window.timing,
                            window.delay_s, gps_time_s=window.gps_time_s)
        frame = DownlinkFrame(gateway_id, self._rng.getrandbits(32), [item],
                              dev_eui=device.dev_eui if device else dev_eui)
        try:
            await self._tx.send(frame)
        except Exception:
            log.exception("downlink send failed: kind=%s gateway_id=%s", kind, gateway_id)
            self._metrics.downlink_refused.labels("send_failed").inc()
            return None
        self._duty.record(gateway_id, window.frequency, airtime)
        self._metrics.downlinks.labels(kind).inc()
        self._in_flight[frame.downlink_id] = InFlight(device, gateway_id, f_cnt_down, queue_item_id,
                                                      airtime * 1000.0, len(phy_payload), (item,))
        while len(self._in_flight) > _IN_FLIGHT_MAX:
            self._in_flight.popitem(last=False)
        return airtime

    def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        flight = self._in_flight.pop(ack.downlink_id, None)
        if flight is None:
            return  # not ours (another server instance) or too old
        status = next((s for s in ack.statuses if s == "OK"), ack.statuses[0] if ack.statuses else "UNKNOWN")
        if status != "OK":
            self._metrics.downlink_refused.labels(f"gateway_{status.lower()}").inc()
        if flight.device is None:
            return  # a group's downlink: counted; there is no device to tell
        sent = ack.statuses.index("OK") if "OK" in ack.statuses else 0
        self._emit(TxAckEvent(
            time=datetime.now(UTC), device=flight.device, downlink_id=ack.downlink_id, gateway_id=ack.gateway_id,
            status=status, f_cnt_down=flight.f_cnt_down, queue_item_id=flight.queue_item_id,
            airtime_ms=flight.airtime_ms, phy_size=flight.phy_size,
            tx=downlink_tx(flight.items[sent]) if sent < len(flight.items) else None, frame=flight.frame,
        ))
