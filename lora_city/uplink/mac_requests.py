"""The radio settings the network wants every device to use, and the MAC commands that bring a device there.

A device learns RX1 delay, RX1 DR offset, RX2 data rate and the extra channels from its join-accept (1.0.4
§6.2.6, RP002-1.0.4 §2.4.4), but an ABP device starts from the regional defaults, and some settings (the RX2
frequency, the aggregated duty cycle) have no join-accept field. So on each new uplink the session's view of the
device is compared with the ``RadioPlan`` and the missing requests are added to the answer:

- RXTimingSetupReq (§5.8) for the RX1 delay; RXParamSetupReq (§5.5) for RX1DROffset, RX2 DR and frequency;
- NewChannelReq (§5.7) for each channel of the plan the device does not know (indexes 3..7 in EU868);
- DutyCycleReq (§5.4) for MaxDCycle;
- DlChannelReq (§5.10) for an RX1 frequency other than the uplink channel's, once the device has the channel;
- LoRaWAN 1.1 devices only (the CIDs 0x0C and 0x0F mean nothing to a 1.0 device, which would stop reading its
  FOpts there): ADRParamSetupReq (1.1 §5.11) for the ADR back-off, RejoinParamSetupReq (1.1 §5.14) for a
  periodic rejoin-request type 0.

One request of a kind is in flight at a time; the session takes the new value when the device's answer
accepts it (an RXTimingSetupAns, an RXParamSetupAns or NewChannelAns with every bit set, a DutyCycleAns, an
ADRParamSetupAns, any RejoinParamSetupAns: its TimeOK bit only says whether the time period applies too). A
request refused is not asked again in the session (the device cannot do it); one left unanswered for
``RESEND_AFTER`` uplinks is sent again (its downlink was lost).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lora_city.errors import ConfigurationError
from lora_city.lorawan.mac import MacCommand
from lora_city.lorawan.region import Region
from lora_city.settings import Settings
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.context import UplinkContext

log = logging.getLogger(__name__)

RESEND_AFTER = 3  # uplinks without an answer before a request is sent again
ANSWERS = frozenset({"RXTimingSetupAns", "RXParamSetupAns", "DutyCycleAns", "NewChannelAns", "ADRParamSetupAns",
                     "RejoinParamSetupAns", "DlChannelAns"})
# RP002-1.0.4 §3 (every region): ADR_ACK_LIMIT 64 = 2^6 and ADR_ACK_DELAY 32 = 2^5, what a device starts with
DEFAULT_ADR_ACK_LIMIT_EXP, DEFAULT_ADR_ACK_DELAY_EXP = 6, 5
LONGEST_REJOIN_PERIOD_N = 15  # MaxCountN / MaxTimeN range 0..15 (1.1 §5.14): the least air time


@dataclass(frozen=True, slots=True)
class RadioPlan:
    rx_delay: int  # s, RX1 after the uplink's end (0 means 1, §5.8)
    rx1_dr_offset: int
    rx2_dr: int
    rx2_frequency: int  # Hz
    extra_channels: tuple[int, ...]  # Hz, channel indexes after the region's default ones
    max_duty_cycle: int  # MaxDCycle: aggregated duty cycle 1/2^n, 0 = no limit (§5.4)
    adr_ack_limit_exp: int = DEFAULT_ADR_ACK_LIMIT_EXP  # 1.1 §5.11: ADR_ACK_LIMIT = 2^exp
    adr_ack_delay_exp: int = DEFAULT_ADR_ACK_DELAY_EXP  # ADR_ACK_DELAY = 2^exp
    rejoin: tuple[int, int] | None = None  # 1.1 §5.14 (MaxCountN, MaxTimeN); None: no periodic rejoin asked
    dl_channels: tuple[tuple[int, int], ...] = ()  # (channel index, RX1 Hz) for DlChannelReq (§5.10)

    @classmethod
    def from_settings(cls, settings: Settings, region: Region) -> RadioPlan:
        region.rx1_data_rate(0, settings.rx1_dr_offset)  # validates the offset for the region
        rx2_dr = region.rx2_data_rate if settings.rx2_dr is None else settings.rx2_dr
        region.data_rate(rx2_dr)
        channels = len(region.default_channels) + len(region.extra_channels_hz)
        for index, frequency in settings.dl_channels_hz.items():
            if not (0 <= index < channels and region.in_band(frequency)):
                raise ConfigurationError(f"dl_channels_hz: channel {index} -> {frequency} Hz is not a channel of the "
                                 f"{region.name} plan (0..{channels - 1}) with a frequency in its band")
        rejoin = None
        if settings.rejoin_max_count_n is not None or settings.rejoin_max_time_n is not None:
            rejoin = (LONGEST_REJOIN_PERIOD_N if settings.rejoin_max_count_n is None else settings.rejoin_max_count_n,
                      LONGEST_REJOIN_PERIOD_N if settings.rejoin_max_time_n is None else settings.rejoin_max_time_n)
        return cls(max(settings.rx1_delay_s, 1), settings.rx1_dr_offset, rx2_dr,
                   settings.rx2_frequency_hz or region.rx2_frequency_hz, tuple(region.extra_channels_hz),
                   settings.max_duty_cycle,
                   DEFAULT_ADR_ACK_LIMIT_EXP if settings.adr_ack_limit_exp is None else settings.adr_ack_limit_exp,
                   DEFAULT_ADR_ACK_DELAY_EXP if settings.adr_ack_delay_exp is None else settings.adr_ack_delay_exp,
                   rejoin, tuple(sorted(settings.dl_channels_hz.items())))


def channel_mask(session: NetworkSession, region: Region) -> int:
    """ChMask (LinkADRReq, §5.3) with the channels the device knows: a bit for a channel it does not have would
    make it refuse the whole request (1.0.4 §5.3: "Channel mask ACK")."""
    mask = (1 << len(region.default_channels)) - 1
    for index in session.extra_channels:
        mask |= 1 << int(index)
    return mask


def request_radio_plan(ctx: UplinkContext, plan: RadioPlan, region: Region) -> None:
    """Add the requests that move the device towards ``plan`` (on a new uplink, not a retransmission)."""
    session = ctx.session
    assert session is not None
    _expire(session, ctx.f_cnt)
    pending, refused = session.pending_mac, session.mac_refused
    wanted: list[MacCommand] = []
    if session.rx_delay != plan.rx_delay and "RXTimingSetupReq" not in pending:
        wanted.append(MacCommand("RXTimingSetupReq", {"delay": plan.rx_delay}))
    rx2_frequency = session.rx2_frequency or region.rx2_frequency_hz
    if ((session.rx1_dr_offset, session.rx2_dr, rx2_frequency) != (plan.rx1_dr_offset, plan.rx2_dr, plan.rx2_frequency)
            and "RXParamSetupReq" not in pending):
        wanted.append(MacCommand("RXParamSetupReq", {
            "rx1_dr_offset": plan.rx1_dr_offset, "rx2_data_rate": plan.rx2_dr, "frequency": plan.rx2_frequency}))
    if session.max_duty_cycle != plan.max_duty_cycle and "DutyCycleReq" not in pending:
        wanted.append(MacCommand("DutyCycleReq", {"max_duty_cycle": plan.max_duty_cycle}))
    if "NewChannelReq" not in pending:
        first = len(region.default_channels)
        missing = [(first + i, f) for i, f in enumerate(plan.extra_channels)
                   if session.extra_channels.get(first + i) != f]
        max_dr = region.max_adr_data_rate
        wanted += [MacCommand("NewChannelReq", {"ch_index": i, "frequency": f, "min_dr": 0, "max_dr": max_dr})
                   for i, f in missing]
    if "DlChannelReq" not in pending and "NewChannelReq" not in pending:
        known = set(range(len(region.default_channels))) | set(session.extra_channels)
        wanted += [MacCommand("DlChannelReq", {"ch_index": i, "frequency": f}) for i, f in plan.dl_channels
                   if i in known and session.dl_channels.get(i) != f]
    if session.is_11:
        wanted += _requests_11(session, plan)
    for command in wanted:
        if command.name in refused:
            continue
        ctx.mac_answers.append(command)
        entry = pending.setdefault(command.name, {"f_cnt": ctx.f_cnt, "requests": []})
        entry["requests"].append(dict(command.fields))
    if wanted:
        session.dirty = True


def rx1_frequency(session: NetworkSession, region: Region, uplink_frequency: int) -> int:
    """RX1's frequency after an uplink on ``uplink_frequency``: the channel's own, or the one DlChannelReq gave
    it (1.0.4 §5.10; RP002-1.0.4 §2.4.7)."""
    if not session.dl_channels:
        return uplink_frequency
    plan = {f: i for i, f in enumerate(c.frequency_hz for c in region.default_channels)}
    plan |= {f: i for i, f in session.extra_channels.items()}
    index = plan.get(uplink_frequency)
    return session.dl_channels.get(index, uplink_frequency) if index is not None else uplink_frequency


def _requests_11(session: NetworkSession, plan: RadioPlan) -> list[MacCommand]:
    pending = session.pending_mac
    wanted: list[MacCommand] = []
    if ((session.adr_ack_limit_exp, session.adr_ack_delay_exp) != (plan.adr_ack_limit_exp, plan.adr_ack_delay_exp)
            and "ADRParamSetupReq" not in pending):
        wanted.append(MacCommand("ADRParamSetupReq", {"limit_exp": plan.adr_ack_limit_exp,
                                                      "delay_exp": plan.adr_ack_delay_exp}))
    if (plan.rejoin is not None and (session.rejoin_max_count_n, session.rejoin_max_time_n) != plan.rejoin
            and "RejoinParamSetupReq" not in pending):
        wanted.append(MacCommand("RejoinParamSetupReq", {"max_count_n": plan.rejoin[0], "max_time_n": plan.rejoin[1]}))
    return wanted


def _expire(session: NetworkSession, f_cnt: int) -> None:
    for name in [n for n, e in session.pending_mac.items() if f_cnt - int(e["f_cnt"]) >= RESEND_AFTER]:
        del session.pending_mac[name]  # the downlink carrying it was lost: ask again


def apply_answer(ctx: UplinkContext, command: MacCommand) -> None:
    """A device's answer to one of the requests above: the session takes the value when it was accepted."""
    session = ctx.session
    assert session is not None
    name = command.name.replace("Ans", "Req")
    entry = session.pending_mac.get(name)
    if entry is None or not entry["requests"]:
        return  # not ours, or already applied (sticky answers repeat)
    request = entry["requests"].pop(0)
    if not entry["requests"]:
        del session.pending_mac[name]
    # RejoinParamSetupAns has no refusal: the count period always applies, TimeOK says if the time one does too
    accepted = name == "RejoinParamSetupReq" or all(v for k, v in command.fields.items())
    session.dirty = True
    if not accepted:
        session.mac_refused = (*session.mac_refused, name)
        log.info("device refused %s %s: dev_eui=%s answer=%s", name, request, session.dev_eui, dict(command.fields))
        return
    if name == "RXTimingSetupReq":
        session.rx_delay = max(int(request["delay"]), 1)
    elif name == "RXParamSetupReq":
        session.rx1_dr_offset, session.rx2_dr = int(request["rx1_dr_offset"]), int(request["rx2_data_rate"])
        session.rx2_frequency = int(request["frequency"])
    elif name == "DutyCycleReq":
        session.max_duty_cycle = int(request["max_duty_cycle"])
    elif name == "NewChannelReq":
        session.extra_channels = {**session.extra_channels, int(request["ch_index"]): int(request["frequency"])}
        # a channel created or changed anew answers on its uplink frequency until told otherwise (§5.10)
        session.dl_channels = {i: f for i, f in session.dl_channels.items() if i != int(request["ch_index"])}
    elif name == "DlChannelReq":
        session.dl_channels = {**session.dl_channels, int(request["ch_index"]): int(request["frequency"])}
    elif name == "ADRParamSetupReq":
        session.adr_ack_limit_exp, session.adr_ack_delay_exp = int(request["limit_exp"]), int(request["delay_exp"])
    elif name == "RejoinParamSetupReq":
        session.rejoin_max_count_n, session.rejoin_max_time_n = int(request["max_count_n"]), int(request["max_time_n"])
        session.rejoin_time_ok = bool(command.fields.get("time_ok"))
