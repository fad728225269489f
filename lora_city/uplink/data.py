"""The data-uplink flow, one ordered list of named steps (as ChirpStack's uplink/data.rs reads).

Each step either fills the context or raises ``DropFrame(reason)``; the server counts the reason and moves on.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any, Protocol

from lora_city.applayer.decode import commands_of
from lora_city.applayer.decode import decode_uplink as decode_app_layer
from lora_city.applayer.profile import PackagePort, package_on
from lora_city.codec.registry import CodecRegistry
from lora_city.errors import DropFrame
from lora_city.lorawan.applayer.commands import AppCommand
from lora_city.lorawan.crypto import data_mic_10, data_uplink_mic_11, encrypt_f_opts, encrypt_frm_payload
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.frames import DataFrame
from lora_city.lorawan.mac import parse_mac_commands
from lora_city.lorawan.region import EU868, Region
from lora_city.metrics import Metrics
from lora_city.network.gateway_directory import GatewayDirectory
from lora_city.sinks.events import AckEvent, LogEvent, UplinkEvent
from lora_city.storage.device_queue import DeviceQueue
from lora_city.storage.sessions import NetworkSession, SessionStore
from lora_city.uplink.adr import UplinkSample
from lora_city.uplink.class_b import ClassBPlan, handle_class_b
from lora_city.uplink.context import UplinkContext
from lora_city.uplink.fcnt import FCntVerdict, f_cnt_candidates, retransmission_allowed
from lora_city.uplink.mac_commands import answer_device_commands, request_dev_status, request_link_adr
from lora_city.uplink.mac_requests import RadioPlan, request_radio_plan
from lora_city.uplink.quota import QuotaPolicy

log = logging.getLogger(__name__)

MAX_CONFIRMED_RETRIES = 3  # a confirmed downlink not acknowledged after this many resends is given up


class AppLayerHook(Protocol):
    """Answers the application-layer commands of an uplink before its class A answer is built (lora_city/applayer):
    True when something was queued for the device."""

    def answer(self, dev_eui: str, entry: PackagePort, commands: list[AppCommand], received_at: datetime) -> bool: ...


class DataUplinkHandler:
    def __init__(
        self,
        sessions: SessionStore,
        queue: DeviceQueue,
        codecs: CodecRegistry | None,
        quota: QuotaPolicy,
        metrics: Metrics,
        gateways: GatewayDirectory | None = None,
        app_layer: AppLayerHook | None = None,
        region: Region = EU868,
        radio_plan: RadioPlan | None = None,
        class_b: ClassBPlan | None = None,
    ) -> None:
        self._region = region
        self._radio_plan = radio_plan  # None: devices keep what their join-accept or activation gave them
        self._region_config_id = region.name.lower()
        self._class_b = class_b or ClassBPlan()
        self._gateways = gateways or GatewayDirectory()
        self._sessions = sessions
        self._queue = queue
        self._codecs = codecs
        self._quota = quota
        self._metrics = metrics
        self._app_layer = app_layer

    def handle(self, ctx: UplinkContext) -> None:
        """Everything up to the downlink decision; the caller then schedules the class-A answer if needed."""
        candidates = self.get_sessions_for_dev_addr(ctx)
        self.validate_mic_and_f_cnt(ctx, candidates)
        self.promote_rejoined_session(ctx)
        self.check_payload_size(ctx)
        self.filter_private_gateways(ctx)
        self.check_retransmission(ctx)
        self.update_session(ctx)
        self.handle_downlink_acknowledgement(ctx)
        self.decrypt_frm_payload(ctx)
        self.handle_mac_commands(ctx)
        self.check_quota(ctx)
        if not ctx.retransmission:  # the application already has this frame
            self.decode_and_emit(ctx)

    # --- steps -----------------------------------------------------------------------------------------

    def get_sessions_for_dev_addr(self, ctx: UplinkContext) -> list[NetworkSession]:
        frame = ctx.frame
        assert frame is not None
        sessions = self._sessions.for_dev_addr(frame.dev_addr)
        if not sessions:
            raise DropFrame("unknown_dev_addr", frame.dev_addr)
        return sessions

    def filter_private_gateways(self, ctx: UplinkContext) -> None:
        """Copies from another tenant's private gateway are not the device's to use (issue 7): they are left out
        of the reading, the link metrics and the downlink choice; with none left the frame is dropped."""
        assert ctx.session is not None
        tenant = ctx.session.device.tenant_id
        frames = ctx.collected.frames
        allowed = [f for f in frames if self._gateways.may_receive_for(f.rx_info.gateway_id, tenant)]
        if not allowed:
            raise DropFrame("private_gateway", ctx.session.dev_eui)
        if len(allowed) != len(frames):
            ctx.collected.frames = allowed

    def validate_mic_and_f_cnt(self, ctx: UplinkContext, sessions: list[NetworkSession]) -> None:
        """The session whose key gives a valid MIC owns the frame (several may share the DevAddr, 1.0.4 §6.1.1)."""
        frame = ctx.frame
        assert frame is not None
        msg = ctx.collected.phy_payload[:-4]
        for session in sessions:
            for f_cnt, verdict in f_cnt_candidates(session.last_f_cnt_up, session.f_cnt_up, frame.f_cnt):
                if self._mic(session, msg, frame, f_cnt, ctx, self._region) != frame.mic:
                    continue
                if verdict is FCntVerdict.REPLAY:
                    ctx.session = session
                    raise DropFrame("replay", f"f_cnt {f_cnt} < expected {session.f_cnt_up}")
                ctx.session, ctx.f_cnt = session, f_cnt
                ctx.retransmission = verdict is FCntVerdict.RETRANSMISSION
                return
        raise DropFrame("bad_mic", frame.dev_addr)

    def promote_rejoined_session(self, ctx: UplinkContext) -> None:
        """The device speaks under the session its 1.1 rejoin got: that one is now its session, the old one is
        retired (uplink/rejoin.py)."""
        session = ctx.session
        assert session is not None
        if session.pending_rejoin:
            self._sessions.promote(session)
            ctx.promoted = True

    def check_payload_size(self, ctx: UplinkContext) -> None:
        """RP002-1.0.4 §2.4.6: at most M MACPayload bytes at the uplink's DR. A device over it breaks the
        region's rules (air time, duty cycle), yet its frame is authentic: kept, and the operator is told once
        per frame in the device's events (UPLINK_PAYLOAD_SIZE)."""
        session = ctx.session
        assert session is not None
        size = len(ctx.collected.phy_payload) - 5  # MHDR and MIC around the MACPayload
        limit = self._region.max_payload_size(ctx.dr)[0]
        if size > limit and not ctx.retransmission:
            ctx.events.append(LogEvent(
                time=ctx.time, device=session.device, level="WARNING", code="UPLINK_PAYLOAD_SIZE",
                description=f"uplink MACPayload of {size} bytes over the {limit} bytes {self._region.name} allows "
                            f"at DR{ctx.dr}", context={"f_cnt": str(ctx.f_cnt)},
            ))

    def check_retransmission(self, ctx: UplinkContext) -> None:
        """Same counter: a genuine retransmission repeats the exact bytes, within the device's allowance."""
        session = ctx.session
        assert session is not None
        if not ctx.retransmission:
            return
        frame = ctx.frame
        assert frame is not None
        if int.from_bytes(frame.mic) != session.last_mic or not retransmission_allowed(
            session.transmissions, session.nb_trans, ctx.confirmed
        ):
            raise DropFrame("replay", f"f_cnt {ctx.f_cnt} seen {session.transmissions} times")
        session.transmissions += 1
        self._metrics.uplinks.labels("retransmission").inc()

    def update_session(self, ctx: UplinkContext) -> None:
        session, frame = ctx.session, ctx.frame
        assert session is not None and frame is not None
        if not ctx.retransmission:
            session.last_f_cnt_up = ctx.f_cnt
            session.f_cnt_up = ctx.f_cnt + 1
            session.last_mic = int.from_bytes(frame.mic)
            session.transmissions = 1
            frames = ctx.collected.frames
            session.add_sample(UplinkSample(ctx.f_cnt, frames[0].rx_info.snr, len(frames)))
        # interned: 100,000 sessions share the few gateway ids instead of a string per session and copy
        session.heard_by = tuple((sys.intern(f.rx_info.gateway_id), f.rx_info.snr, f.rx_info.rssi)
                                 for f in ctx.collected.frames[:3])
        session.last_uplink_dr, session.last_uplink_frequency = ctx.dr, ctx.frequency
        session.last_seen_at = ctx.time
        session.dirty = True

    def handle_downlink_acknowledgement(self, ctx: UplinkContext) -> None:
        """A confirmed downlink stays pending until an uplink carries ACK (1.0.4 §4.3.1.2); without one the
        item is resent on this uplink's answer, and given up after MAX_CONFIRMED_RETRIES."""
        session, frame = ctx.session, ctx.frame
        assert session is not None and frame is not None
        if not session.has_queue or ctx.retransmission:
            return
        pending = self._queue.pending(session.dev_eui)
        if pending is None:
            return
        if frame.f_ctrl.ack or pending.retries >= MAX_CONFIRMED_RETRIES:
            self._queue.remove(pending.id)
            ctx.acked_item = pending
            ctx.events.append(AckEvent(
                time=ctx.time, device=session.device, queue_item_id=pending.id, acknowledged=frame.f_ctrl.ack,
                f_cnt_down=pending.f_cnt_down or 0, deduplication_id=ctx.uplink_id,
            ))

    def decrypt_frm_payload(self, ctx: UplinkContext) -> None:
        session, frame = ctx.session, ctx.frame
        assert session is not None and frame is not None
        ctx.f_port = frame.f_port
        if frame.f_port is None or not frame.frm_payload:
            ctx.payload = b""
        else:
            key = session.nwk_s_enc_key if frame.f_port == 0 else session.app_s_key
            ctx.payload = encrypt_frm_payload(key, frame.dev_addr, ctx.f_cnt, True, frame.frm_payload)

    def handle_mac_commands(self, ctx: UplinkContext) -> None:
        session, frame = ctx.session, ctx.frame
        assert session is not None and frame is not None
        raw = frame.f_opts
        if raw and session.is_11:  # 1.1 encrypts FOpts (§4.3.1.6)
            raw = encrypt_f_opts(session.nwk_s_enc_key, frame.dev_addr, ctx.f_cnt, True, raw)
        if frame.f_port == 0:
            raw = ctx.payload
        if raw:
            try:
                ctx.mac_commands = parse_mac_commands(raw, uplink=True)
            except LoRaWANError as exc:  # the data part may still be fine: log, keep going
                log.warning("bad MAC commands: dev_eui=%s uplink_id=%s %s", session.dev_eui, ctx.uplink_id, exc)
        if ctx.retransmission:
            return
        answer_device_commands(ctx, self._region)
        handle_class_b(ctx, self._region, self._class_b)
        request_link_adr(ctx, self._region)
        request_dev_status(ctx)
        if self._radio_plan is not None:
            request_radio_plan(ctx, self._radio_plan, self._region)

    def check_quota(self, ctx: UplinkContext) -> None:
        session = ctx.session
        assert session is not None
        device = session.device
        if device.is_critical:  # the flood cell's sensors are never dropped (issue 7)
            return
        if not self._quota.allow_uplink(device, len(ctx.collected.phy_payload), ctx.airtime_ms):
            # The tenant sees each dropped uplink as a log event where its "up" event would have been (no more
            # traffic than the uplinks themselves); ChirpStack has no quota code: UNKNOWN with context.code.
            ctx.events.append(LogEvent(
                time=ctx.time, device=device, level="WARNING", code="QUOTA",
                description="uplink dropped: the tenant's daily allowance is used up",
                context={"deduplication_id": ctx.uplink_id, "f_cnt": str(ctx.f_cnt), "action": "drop"},
            ))
            raise DropFrame("quota", device.tenant_id)

    def decode_and_emit(self, ctx: UplinkContext) -> None:
        session, frame = ctx.session, ctx.frame
        assert session is not None and frame is not None
        data: dict[str, Any] | None = None
        measurements: dict[str, tuple[float | bool, str | None]] = {}
        errors: list[str] = []
        warnings: list[str] = []
        codec_id = session.device.codec_id
        app_layer = package_on(session.device.app_layer, ctx.f_port) if session.device.app_layer else None
        if app_layer is not None:  # TS003/TS004/TS005 ports of the profile: the package's commands, not the codec
            data, errors = decode_app_layer(app_layer, ctx.payload) if ctx.payload else (None, [])
            if self._app_layer is not None and data is not None and self._app_layer.answer(
                    session.dev_eui, app_layer, commands_of(data), ctx.time):
                session.has_queue = True  # the answer leaves in this uplink's receive window
        elif codec_id and self._codecs is not None and ctx.f_port and ctx.payload:
            try:
                result = self._codecs.decode_uplink(codec_id, ctx.f_port, ctx.payload, recv_time=ctx.time)
                data, errors, warnings = result.data, list(result.errors), list(result.warnings)
                measurements = {m.key: (m.value, m.unit) for m in result.measurements}
            except Exception as exc:  # unknown codec id, broken plugin: the reading still goes out undecoded
                errors = [f"{type(exc).__name__}: {exc}"]
            if errors:
                self._metrics.codec_errors.labels(codec_id).inc()
                # ChirpStack sends the uplink (without object) and a log event UPLINK_CODEC beside it.
                ctx.events.append(LogEvent(
                    time=ctx.time, device=session.device, level="ERROR", code="UPLINK_CODEC",
                    description="; ".join(errors)[:1000],
                    context={"deduplication_id": ctx.uplink_id, "codec": codec_id, "f_port": str(ctx.f_port)},
                ))
        first = ctx.collected.first
        ctx.events.append(UplinkEvent(
            uplink_id=ctx.uplink_id, time=ctx.time, device=session.device, dev_addr=frame.dev_addr,
            f_cnt=ctx.f_cnt, f_port=ctx.f_port, confirmed=ctx.confirmed, adr=frame.f_ctrl.adr,
            payload=ctx.payload if ctx.f_port else b"", data=data, measurements=measurements,
            codec_errors=errors, codec_warnings=warnings, rx=ctx.gateway_rx(), frequency=ctx.frequency,
            spreading_factor=first.modulation.spreading_factor, bandwidth=first.modulation.bandwidth,
            dr=ctx.dr, airtime_ms=ctx.airtime_ms, phy_size=len(ctx.collected.phy_payload),
            copies=len(ctx.collected.frames), region_config_id=self._region_config_id,
            mac_commands=tuple(c.to_dict() for c in ctx.mac_commands),
        ))

    # --- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def _mic(session: NetworkSession, msg: bytes, frame: DataFrame, f_cnt: int, ctx: UplinkContext,
             region: Region) -> bytes:
        if session.is_11:
            # TxCh: the uplink channel's index: the default channels, then the CFList ones (RP002 §2.4.4)
            ch = region.channel_index(ctx.frequency) or 0
            # ConfFCnt: an uplink acknowledging a confirmed downlink signs that downlink's AFCntDown (1.1 §4.4.2)
            conf = session.conf_f_cnt_down & 0xFFFF if frame.f_ctrl.ack else 0
            return data_uplink_mic_11(
                session.f_nwk_s_int_key, session.s_nwk_s_int_key, msg, frame.dev_addr, f_cnt,
                conf_f_cnt=conf, tx_dr=ctx.dr, tx_ch=ch,
            )
        return data_mic_10(session.f_nwk_s_int_key, msg, frame.dev_addr, f_cnt, True)
