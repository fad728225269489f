"""Class B on the uplink side (TS001-1.1 §13, unchanged in 1.0.4 §12-13): what a class B device tells the network
and what the network asks of it, handled on each uplink.

- FCtrl.ClassB (bit 4 of an uplink's FCtrl) says the device is locked on the beacon and opens its ping slots:
  only then may a downlink wait for a ping slot (otherwise it waits for the next class A window).
- PingSlotInfoReq (0x10) gives the periodicity of its ping slots (pingNb = 2^(7 - periodicity)); answered with
  PingSlotInfoAns.
- PingSlotChannelReq (0x11) and BeaconFreqReq (0x13) move the ping slots and the beacon off the region's default
  channel; they are sent when the network's plan (``ClassBPlan``, from Settings) differs from what the device
  uses, one request at a time, until the device accepts (PingSlotChannelAns / BeaconFreqAns).
- DeviceTimeReq (answered in ``mac_commands``) lets the device find the beacon in the first place.
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_city.lorawan.mac import MacCommand
from lora_city.lorawan.region import Region
from lora_city.uplink.context import UplinkContext


@dataclass(frozen=True, slots=True)
class ClassBPlan:
    """Where the network wants class B devices to listen; None keeps the region's default."""

    ping_slot_frequency: int | None = None
    ping_slot_dr: int | None = None
    beacon_frequency: int | None = None


def region_ping_slot(region: Region) -> tuple[int, int]:
    """(frequency, DR) of the region's default ping-slot channel (EU868: 869.525 MHz, DR3; RP002 §2.4.8)."""
    return (int(getattr(region, "ping_slot_frequency_hz", region.rx2_frequency_hz)),
            int(getattr(region, "ping_slot_data_rate", region.rx2_data_rate)))


def handle_class_b(ctx: UplinkContext, region: Region, plan: ClassBPlan) -> None:
    session, frame = ctx.session, ctx.frame
    assert session is not None and frame is not None
    session.class_b_locked = frame.f_ctrl.class_b
    for cmd in ctx.mac_commands:
        if cmd.name == "PingSlotInfoReq":
            session.ping_slot_periodicity = int(cmd.fields.get("periodicity", 7))
            ctx.mac_answers.append(MacCommand("PingSlotInfoAns"))
        elif cmd.name == "PingSlotChannelAns":
            pending = session.pending_class_b or {}
            if pending.get("kind") == 0x11 and cmd.fields.get("data_rate_ok") and cmd.fields.get(
                    "channel_frequency_ok"):
                session.ping_slot_frequency, session.ping_slot_dr = pending["frequency"], pending["dr"]
            session.pending_class_b = None
        elif cmd.name == "BeaconFreqAns":
            pending = session.pending_class_b or {}
            if pending.get("kind") == 0x13 and cmd.fields.get("beacon_frequency_ok"):
                session.beacon_frequency = pending["frequency"]
            session.pending_class_b = None
    if session.device_class != "B" or session.pending_class_b is not None:
        return
    default_freq, default_dr = region_ping_slot(region)
    want_freq = plan.ping_slot_frequency or default_freq
    want_dr = default_dr if plan.ping_slot_dr is None else plan.ping_slot_dr
    have_freq = session.ping_slot_frequency or default_freq
    have_dr = default_dr if session.ping_slot_dr is None else session.ping_slot_dr
    if (want_freq, want_dr) != (have_freq, have_dr):
        session.pending_class_b = {"kind": 0x11, "frequency": want_freq, "dr": want_dr}
        ctx.mac_answers.append(MacCommand("PingSlotChannelReq", {"frequency": want_freq, "data_rate": want_dr}))
    elif plan.beacon_frequency is not None and plan.beacon_frequency != (session.beacon_frequency or 0):
        session.pending_class_b = {"kind": 0x13, "frequency": plan.beacon_frequency}
        ctx.mac_answers.append(MacCommand("BeaconFreqReq", {"frequency": plan.beacon_frequency}))
