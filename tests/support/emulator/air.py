"""The radio between emulated devices and gateways: an uplink is heard by some gateways (each with its own SNR);
a transmission reaches the device only if it falls in a window the device opens (TS001-1.0.4 §3.3 class A RX1 /
RX2, §6 class C continuous RX2), on the frequency and data rate that window uses."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from tests.support.emulator.device import Device, Downlink, Uplink
from tests.support.emulator.forwarder import MqttGateway, Transmission, UdpForwarder

Gateway = UdpForwarder | MqttGateway


@dataclass(frozen=True, slots=True)
class Reception:
    window: str  # "rx1" | "rx2" | "class_c"
    transmission: Transmission
    downlink: Downlink | None  # data downlink the device accepted (None: join-accept or not for it)
    accepted: bool  # the device took the frame (valid join-accept or data downlink)


@dataclass
class Sent:
    uplink: Uplink
    tmsts: dict[str, int]  # gateway id -> concentrator time of the reception
    join: bool = False  # a join-request: the answer is a join-accept in the join windows (5 s / 6 s)
    rejoin: bool = False  # a 1.1 rejoin-request: a join-accept in the device's normal windows


class Air:
    def __init__(self, gateways: list[Gateway]) -> None:
        self.gateways = gateways

    def send(self, uplink: Uplink, *, snrs: list[float] | None = None, via: list[Gateway] | None = None,
             join: bool = False, rejoin: bool = False) -> Sent:
        """Every gateway in ``via`` (default: all) hears ``uplink``; the first listed hears it best."""
        gws = via if via is not None else self.gateways
        snrs = snrs or [8.0 - 3 * i for i in range(len(gws))]
        tmsts = {gw.gateway_id: gw.send(uplink, snr=snr) for gw, snr in zip(gws, snrs, strict=False)}
        return Sent(uplink, tmsts, join, rejoin)

    async def next_transmission(self, timeout: float = 3.0) -> Transmission | None:
        waiters = {asyncio.ensure_future(gw.downlinks.get()): gw for gw in self.gateways}
        try:
            done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                if not w.done():
                    w.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await w
        if not done:
            return None
        first = next(iter(done))
        for w in done:  # more than one finished at once: put the others back
            if w is not first:
                waiters[w].downlinks.put_nowait(w.result())
        return first.result()

    async def receive(self, device: Device, sent: Sent | None, *, timeout: float = 3.0) -> Reception | None:
        """The next transmission, as ``device`` hears it (None when nothing was sent within ``timeout``).
        Raises AssertionError when it falls in no window the device opens."""
        tx = await self.next_transmission(timeout)
        if tx is None:
            return None
        window = self.window_of(device, sent, tx)
        assert window is not None, f"transmission outside every receive window of the device: {tx}"
        if sent is not None and (sent.join or sent.rejoin):
            return Reception(window, tx, None, device.accept(tx.phy))
        down = device.receive(tx.phy)
        return Reception(window, tx, down, down is not None)

    @staticmethod
    def window_of(device: Device, sent: Sent | None, tx: Transmission) -> str | None:
        if tx.immediately:
            rx2 = (device.rx2_frequency, device.rx2_dr)
            return "class_c" if device.device_class == "C" and (tx.frequency, tx.dr) == rx2 else None
        if sent is None or tx.gateway_id not in sent.tmsts:
            return None
        delay = tx.delay_after(sent.tmsts[tx.gateway_id])
        for name, (d, freq, dr) in (("rx1", device.rx1(sent.uplink, join=sent.join)),
                                    ("rx2", device.rx2(sent.uplink, join=sent.join))):
            if delay is not None and abs(delay - d) < 1e-6 and (tx.frequency, tx.dr) == (freq, dr):
                return name
        return None

    async def silence(self, seconds: float) -> None:
        """Assert that no gateway is asked to transmit for ``seconds``."""
        tx = await self.next_transmission(seconds)
        assert tx is None, f"unexpected transmission: {tx}"
