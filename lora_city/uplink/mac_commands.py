"""Answers to the MAC commands a device sends, and the ones the server decides to send (LoRaWAN 1.0.4 §5).

LinkCheckReq is answered with the demodulation margin of the best gateway and the number of gateways that heard
the frame (§5.2); DeviceTimeReq with the GPS time of the uplink's reception (§5.11); DevStatusAns becomes a
StatusEvent (§5.6: battery 0 = external power, 255 = cannot measure, 1..254 = level); a LinkADRAns with all
three bits set means the device applied our LinkADRReq (§5.3), so the session takes the new values.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from lora_city.lorawan.mac import MacCommand
from lora_city.lorawan.region import Region
from lora_city.sinks.events import StatusEvent
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink import mac_requests
from lora_city.uplink.adr import decide
from lora_city.uplink.context import UplinkContext

log = logging.getLogger(__name__)

GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)
GPS_LEAP_SECONDS = 18  # GPS - UTC since 2017-01-01 (IERS Bulletin C: no leap second announced since)
DEV_STATUS_EVERY = 100  # uplinks between two DevStatusReq (ChirpStack asks per a configured daily count)


def gps_time(t: datetime) -> tuple[int, int]:
    """(whole GPS seconds, fractional second in 1/256 s) for DeviceTimeAns."""
    delta = (t - GPS_EPOCH).total_seconds() + GPS_LEAP_SECONDS
    seconds = int(delta)
    return seconds & 0xFFFFFFFF, min(255, int((delta - seconds) * 256))


def answer_device_commands(ctx: UplinkContext, region: Region) -> None:
    session = ctx.session
    assert session is not None
    for cmd in ctx.mac_commands:
        name = cmd.name
        if name == "LinkCheckReq":
            best = max(f.rx_info.snr for f in ctx.collected.frames)
            margin = max(0, min(254, int(best - region.required_snr_db(ctx.dr))))
            ctx.mac_answers.append(MacCommand("LinkCheckAns", {"margin": margin, "gw_cnt": len(ctx.collected.frames)}))
        elif name == "DeviceTimeReq":
            # A gateway with a GPS fix timestamps the reception in GPS time itself: the most exact answer, which
            # a class B device needs to find the beacon (1.0.4 §5.9: the time at the end of the uplink).
            gps = next((f.rx_info.gps_time_s for f in ctx.collected.frames if f.rx_info.gps_time_s), None)
            rx_time = next((f.rx_info.time for f in ctx.collected.frames if f.rx_info.time), None) or ctx.time
            if gps is not None:
                seconds, fraction = int(gps) & 0xFFFFFFFF, min(255, int((gps - int(gps)) * 256))
            else:
                seconds, fraction = gps_time(rx_time)
            ctx.mac_answers.append(MacCommand("DeviceTimeAns", {"seconds": seconds, "fractional_second": fraction}))
        elif name == "DevStatusAns":
            battery = int(cmd.fields.get("battery", 255))
            session.status_requested = False
            ctx.events.append(StatusEvent(
                time=ctx.time, device=session.device, margin=int(cmd.fields.get("margin", 0)),
                battery_level=None if battery in (0, 255) else round(battery / 254 * 100, 2),
                external_power=battery == 0, deduplication_id=ctx.uplink_id,
            ))
        elif name == "LinkADRAns":
            pending = session.pending_link_adr
            session.pending_link_adr = None
            ok = all(cmd.fields.get(k) for k in ("channel_mask_ack", "data_rate_ack", "power_ack"))
            if pending is not None and ok:
                session.dr, session.tx_power_index = pending["dr"], pending["tx_power_index"]
                session.nb_trans = pending["nb_trans"]
        elif name == "RekeyInd":
            # 1.1 §5.10: a 1.1 device sends it after every (re)join until answered; the answer carries the
            # version both sides speak (minor 1 = LoRaWAN 1.1).
            ctx.mac_answers.append(MacCommand("RekeyConf", {"minor": min(int(cmd.fields.get("minor", 1)), 1)}))
        elif name == "ResetInd":
            # 1.1 §5.1: a 1.1 ABP device restarted with its default radio parameters (counters kept); so does
            # the session, and it says which version it speaks.
            reset_radio_parameters(session, region)
            ctx.mac_answers.append(MacCommand("ResetConf", {"minor": min(int(cmd.fields.get("minor", 1)), 1)}))
        elif name == "DeviceModeInd":
            # 1.1 §18.1 (DeviceModeInd/Conf): the device switches between class A (0) and C (2); the network
            # follows at once and confirms the class it will use (its current one for an RFU value).
            wanted = int(cmd.fields.get("device_class", 0))
            if wanted in DEVICE_MODES:
                session.device_class = DEVICE_MODES[wanted]
            current = next(k for k, v in DEVICE_MODES.items() if v == session.device_class)
            ctx.mac_answers.append(MacCommand("DeviceModeConf", {"device_class": current}))
        if name in STICKY_ANSWERS:
            ctx.sticky_answers = True
        if name in mac_requests.ANSWERS:
            mac_requests.apply_answer(ctx, cmd)


DEVICE_MODES = {0: "A", 2: "C"}  # DeviceModeInd Class field (1 is RFU)

# Answers the device repeats in every uplink until it receives a class A downlink (1.0.4 §5.5, §5.8, §5.10, and
# PingSlotChannelAns §13.2: "added ... of all uplinks until a Class A downlink is received").
STICKY_ANSWERS = frozenset({"RXParamSetupAns", "RXTimingSetupAns", "DlChannelAns", "PingSlotChannelAns"})


def reset_radio_parameters(session: NetworkSession, region: Region) -> None:
    """The defaults a device starts with (RP002-1.0.4 §2.4, §3): DR0 at full power, one transmission, RX1
    RECEIVE_DELAY1 after the uplink on its channel and DR, RX2 at the region's default DR."""
    session.dr, session.tx_power_index, session.nb_trans = 0, 0, 1
    session.rx1_dr_offset, session.rx2_dr, session.rx_delay = 0, region.rx2_data_rate, region.receive_delay1_s
    session.rx2_frequency, session.extra_channels, session.max_duty_cycle = 0, {}, 0
    session.pending_link_adr, session.pending_mac, session.mac_refused = None, {}, ()
    session.adr_ack_limit_exp = mac_requests.DEFAULT_ADR_ACK_LIMIT_EXP
    session.adr_ack_delay_exp = mac_requests.DEFAULT_ADR_ACK_DELAY_EXP
    session.rejoin_max_count_n = session.rejoin_max_time_n = session.rejoin_time_ok = None
    session.dl_channels = {}


def request_link_adr(ctx: UplinkContext, region: Region) -> None:
    """Run the ADR engine on the session's history; ask the device to change when it should (§5.3)."""
    session, frame = ctx.session, ctx.frame
    assert session is not None and frame is not None
    if not (frame.f_ctrl.adr and session.adr_enabled) or session.pending_link_adr is not None:
        return
    # The device tells us its current DR by using it; power and NbTrans we know from what it accepted.
    session.dr = ctx.dr
    decision = decide(session.adr_history, ctx.dr, session.tx_power_index, session.nb_trans, region=region)
    if not decision.differs(ctx.dr, session.tx_power_index, session.nb_trans):
        return
    session.pending_link_adr = {"dr": decision.dr, "tx_power_index": decision.tx_power_index,
                                "nb_trans": decision.nb_trans}
    ctx.mac_answers.append(MacCommand("LinkADRReq", {
        "data_rate": decision.dr, "tx_power": decision.tx_power_index,
        "ch_mask": mac_requests.channel_mask(session, region),
        "ch_mask_cntl": 0, "nb_trans": decision.nb_trans,
    }))


def request_dev_status(ctx: UplinkContext) -> None:
    """Ask for battery and margin on the first uplink of a session and every DEV_STATUS_EVERY uplinks after."""
    session = ctx.session
    assert session is not None
    session.uplinks_since_status += 1
    if session.status_requested and session.uplinks_since_status < DEV_STATUS_EVERY:
        return
    if session.uplinks_since_status == 1 or session.uplinks_since_status >= DEV_STATUS_EVERY:
        session.uplinks_since_status = 1
        session.status_requested = True
        ctx.mac_answers.append(MacCommand("DevStatusReq"))
