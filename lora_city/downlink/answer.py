"""What a device is sent: the class-A answer to an uplink (ACK, MAC commands, next queue item), class-C
queue items at once, and join-accepts. Counters are consumed on the session; the queue is touched only when the
session says it may hold items, so the common uplink never waits for the database.

Every frame respects the region's maximum payload of the window it goes in (RP002-1.0.4 §2.4.6: FOpts and
FRMPayload together at most N = M - 8 bytes when FPort is present): a window the frame does not fit is left out
(an item that fits RX1 at the uplink's DR but not RX2 goes in RX1 alone); MAC answers come first, so when an
item does not fit beside them it waits for the next occasion and FPending tells the device there is more
(1.0.4 §4.3.1.7). An item that fits no window of the answer is dropped with a DOWNLINK_PAYLOAD_SIZE log event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lora_city.downlink.class_b import gps_now, ping_slot_window
from lora_city.downlink.frame import MAX_F_OPTS, build_data_downlink
from lora_city.downlink.scheduler import (
    DownlinkScheduler,
    Heard,
    Window,
    class_a_windows,
    class_c_windows,
)
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.mac import MacCommand, parse_mac_commands
from lora_city.lorawan.region import EU868, Region
from lora_city.sinks.events import DeviceEvent, DeviceInfo, LogEvent
from lora_city.storage.device_queue import DeviceQueue, QueueItem
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.context import UplinkContext
from lora_city.uplink.dedup import CollectedUplink
from lora_city.uplink.mac_requests import rx1_frequency
from lora_city.uplink.quota import AllowAll, QuotaPolicy

log = logging.getLogger(__name__)


def _described(mac: bytes) -> list[dict[str, Any]]:
    """The MAC commands just encoded, as the live log shows them (they were built from valid commands)."""
    try:
        return [c.to_dict() for c in parse_mac_commands(mac, uplink=False)] if mac else []
    except LoRaWANError:
        return [{"name": "unparsed", "hex": mac.hex()}]


def heard_from(collected: CollectedUplink) -> list[Heard]:
    return [Heard(f.rx_info.gateway_id, f.rx_info.snr, f.rx_info.context) for f in collected.frames]


class DeviceDownlinks:
    def __init__(self, scheduler: DownlinkScheduler, queue: DeviceQueue, emit: Callable[[DeviceEvent], None],
                 quota: QuotaPolicy | None = None, region: Region = EU868) -> None:
        self._region = region
        self._scheduler = scheduler
        self._queue = queue
        self._emit = emit
        self._quota = quota or AllowAll()

    async def send_join_accept(self, collected: CollectedUplink, accept: bytes, device: DeviceInfo,
                               uplink_dr: int) -> bool:
        windows = class_a_windows(self._region, uplink_dr, collected.first.modulation.frequency, 0, 0, 0, join=True)
        return await self._scheduler.transmit("join_accept", device, accept, heard_from(collected), uplink_dr,
                                              windows, frame_log={"kind": "join_accept"})

    async def send_rejoin_accept(self, collected: CollectedUplink, accept: bytes, device: DeviceInfo,
                                 uplink_dr: int, current: NetworkSession | None) -> bool:
        """The answer to a 1.1 rejoin-request, in the windows the joined device opens after any uplink: its
        RX delay and RX parameters (uplink/rejoin.py)."""
        region = self._region
        if current is None:
            windows = class_a_windows(region, uplink_dr, collected.first.modulation.frequency, 0, 0, 0, join=True)
        else:
            windows = class_a_windows(region, uplink_dr,
                                      rx1_frequency(current, region, collected.first.modulation.frequency),
                                      current.rx_delay, current.rx1_dr_offset, current.rx2_dr, rx2_frequency=current.rx2_frequency)
        return await self._scheduler.transmit("join_accept", device, accept, heard_from(collected), uplink_dr,
                                              windows)

    async def answer_uplink(self, ctx: UplinkContext) -> bool:
        """The class-A answer in RX1 and/or RX2, as soon as the dedup window closed."""
        session = ctx.session
        assert session is not None
        windows = class_a_windows(self._region, ctx.dr, rx1_frequency(session, self._region, ctx.frequency),
                                  session.rx_delay, session.rx1_dr_offset,
                                  session.rx2_dr, rx2_frequency=session.rx2_frequency)
        mac = self._fit_mac(ctx.mac_answers, self._largest_payload(windows))
        if self._ping_slot_ahead(session):
            # A class B frame handed to a gateway for a ping slot still to come carries the last FCntDown: a queue
            # item sent now would take a higher counter, reach the device first, and the device would then discard
            # the ping-slot frame as a replay (TS001-1.0.4 §4.3.1.5, FCntDown only increases). The next item
            # waits for the next ping slot (the class B loop looks at the queue once the slot has passed).
            item, more = None, session.has_queue
        else:
            item, more = self._item_beside(session, mac, windows)
        if not (ctx.confirmed or mac or item is not None or ctx.answer_required):
            return False
        size = len(mac) + (len(item.payload) if item is not None else 0)
        return await self._send(session, item, more, mac, ack=ctx.confirmed, ack_f_cnt=ctx.f_cnt,
                                heard=heard_from(ctx.collected), uplink_dr=ctx.dr,
                                windows=self._fitting(windows, size), kind="class_a")

    async def send_class_c(self, session: NetworkSession) -> bool:
        """Class C: the next queue item goes out now, through the gateway that heard the device best. Not
        before the device's first uplink of the session: only then does the server know the device has the
        session (1.1: its RekeyInd confirmed the keys) and which gateways hear it."""
        if session.last_f_cnt_up is None:
            return False
        windows = class_c_windows(self._region, session.rx2_dr, session.rx2_frequency)
        item, more = self._item_beside(session, b"", windows)
        if item is None or item.is_pending:
            return False  # nothing, or a confirmed item waiting for its ACK (resent on the next uplink)
        heard = [Heard(gateway_id, snr) for gateway_id, snr, _rssi in session.heard_by]
        return await self._send(session, item, more, b"", ack=False, ack_f_cnt=0, heard=heard,
                                uplink_dr=session.last_uplink_dr, windows=windows, kind="class_c")

    @staticmethod
    def _ping_slot_ahead(session: NetworkSession) -> bool:
        return session.device_class == "B" and session.last_ping_slot > gps_now()

    # --- payload sizes (RP002-1.0.4 §2.4.6) ----------------------------------------------------------------

    def _largest_payload(self, windows: list[Window]) -> int:
        return max(self._region.max_payload_size(w.dr)[1] for w in windows)

    def _fitting(self, windows: list[Window], size: int) -> list[Window]:
        """The windows whose data rate carries ``size`` bytes of FOpts + FRMPayload."""
        return [w for w in windows if size <= self._region.max_payload_size(w.dr)[1]]

    @staticmethod
    def _fit_mac(commands: list[MacCommand], budget: int) -> bytes:
        """The MAC answers that fit the largest window, whole commands in order; the rest are asked again."""
        out = b""
        for command in commands:
            raw = command.to_bytes()
            if len(out) + len(raw) <= budget:
                out += raw
        return out

    def _item_beside(self, session: NetworkSession, mac: bytes, windows: list[Window]
                     ) -> tuple[QueueItem | None, bool]:
        """The queue item to send with ``mac`` (in FOpts), and whether more is waiting (FPending). An item that
        fits no window even alone is dropped (DOWNLINK_PAYLOAD_SIZE); one that fits alone but not beside the MAC
        answers waits for the next occasion."""
        while True:
            item, more = self._within_budget(session, *self._next_item(session))
            if item is None:
                return None, False
            if not self._fitting(windows, len(item.payload)):
                self._drop_too_large(session, item, windows)
                continue
            if item.is_mac and not session.is_11:
                # queued for a 1.1 session, now 1.0.x (re-activated): a 1.0 device stops reading at CID 0x0E
                self._queue.remove(item.id)
                log.info("MAC queue item dropped: the session is LoRaWAN %s: dev_eui=%s", session.mac_version,
                         session.dev_eui)
                continue
            if item.is_mac:  # the operator's MAC commands join the answers in one FPort 0 FRMPayload
                if mac and not self._fitting(windows, len(mac) + len(item.payload)):
                    return None, True
                return item, more
            if mac and (len(mac) > MAX_F_OPTS or not self._fitting(windows, len(mac) + len(item.payload))):
                return None, True  # the MAC answers go alone (FPort 0); the item waits, FPending set
            return item, more

    def _drop_too_large(self, session: NetworkSession, item: QueueItem, windows: list[Window]) -> None:
        largest = self._largest_payload(windows)
        self._queue.remove(item.id)
        self._emit(LogEvent(
            time=datetime.now(UTC), device=session.device, level="ERROR", code="DOWNLINK_PAYLOAD_SIZE",
            description=f"queue item of {len(item.payload)} bytes exceeds the {largest} bytes the device's "
                        f"receive windows allow (DR{', DR'.join(str(w.dr) for w in windows)})",
            context={"queue_item_id": item.id},
        ))

    async def send_class_b(self, session: NetworkSession, gps_now_s: float,
                           has_gps: Callable[[str], bool]) -> float | None:
        """Class B: the next queue item waits for the device's next ping slot, through the best gateway with a GPS
        fix that heard it. Returns the slot's GPS time when a frame was handed to a gateway, else None (nothing
        queued, a confirmed item awaiting its ACK, the device not locked on the beacon, or no GPS gateway: the
        item then waits for the device's next class A window)."""
        if not session.class_b_locked:
            return None
        heard = [Heard(gateway_id, snr) for gateway_id, snr, _rssi in session.heard_by if has_gps(gateway_id)]
        if not heard:
            return None
        if session.last_f_cnt_up is None:
            return None  # as for class C: not before the session's first uplink
        window = ping_slot_window(session, self._region, gps_now_s)
        item, more = self._item_beside(session, b"", [window])
        if item is None or item.is_pending:
            return None
        sent = await self._send(session, item, more, b"", ack=False, ack_f_cnt=0, heard=heard,
                                uplink_dr=session.last_uplink_dr, windows=[window], kind="class_b")
        return window.gps_time_s if sent else None

    # --- helpers ---------------------------------------------------------------------------------------

    def _within_budget(self, session: NetworkSession, item: QueueItem | None, more: bool
                       ) -> tuple[QueueItem | None, bool]:
        """An application item goes out only within the tenant's downlink budget (issue 7); refused, it stays
        queued. ACKs and MAC answers are the network's own and are never refused."""
        if item is None or item.is_mac or session.device.is_critical:
            return item, more
        if self._quota.allow_downlink(session.device, len(item.payload), 0.0):
            return item, more
        return None, False

    def _next_item(self, session: NetworkSession) -> tuple[QueueItem | None, bool]:
        if not session.has_queue:
            return None, False
        item, count = self._queue.head(session.dev_eui)
        if item is None:
            session.has_queue = False
            return None, False
        return item, count > 1

    async def _send(self, session: NetworkSession, item: QueueItem | None, more: bool, mac: bytes, *, ack: bool,
                    ack_f_cnt: int, heard: list[Heard], uplink_dr: int, windows: list[Window], kind: str) -> bool:
        app = item if item is not None and not item.is_mac else None
        if item is not None and item.is_mac:
            mac += item.payload  # after the answers: FPort 0, NFCntDown, NwkSEncKey (1.1 §4.3.1.5, §4.3.1.6)
        built = build_data_downlink(
            session, ack=ack, mac=mac, f_port=app.f_port if app else None,
            payload=app.payload if app else b"", confirmed=bool(app and app.confirmed), f_pending=more,
            ack_f_cnt=ack_f_cnt,
        )
        session.dirty = True
        frame_log = {"kind": kind, "f_port": app.f_port if app else None, "ack": ack, "f_pending": more,
                     "confirmed": bool(app and app.confirmed), "payload_size": len(app.payload) if app else 0,
                     "mac_commands": _described(mac)}
        sent = await self._scheduler.transmit(
            kind, session.device, built.phy_payload, heard, uplink_dr, windows, f_cnt_down=built.f_cnt_down,
            queue_item_id=item.id if item else None, frame_log=frame_log,
        )
        if sent and item is not None and item.is_mac:
            self._queue.remove(item.id)  # no answer to wait for: the device's rejoin-request is the answer
            if not more:
                session.has_queue = False
        elif sent and item is not None and built.carries_app_data:
            retries = item.retries + 1 if item.is_pending else 0
            self._queue.mark_sent(item.id, built.f_cnt_down, pending=item.confirmed, retries=retries)
            if item.confirmed:  # its ACK's MIC carries this counter (1.1 §4.4.2 ConfFCnt)
                session.conf_f_cnt_down = built.f_cnt_down
            if not item.confirmed and not more:
                session.has_queue = False
        return sent
