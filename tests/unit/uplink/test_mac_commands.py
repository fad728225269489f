"""MAC command answers and requests on an uplink context (LinkCheck, DeviceTime, DevStatus, LinkADR)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from lora_city.errors import ConfigurationError
from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.lorawan.frames import DataFrame, FCtrl, MType
from lora_city.lorawan.mac import MacCommand
from lora_city.lorawan.region import EU868
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceInfo, StatusEvent
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.adr import UplinkSample
from lora_city.uplink.context import UplinkContext
from lora_city.uplink.dedup import CollectedUplink
from lora_city.uplink.mac_commands import (
    DEV_STATUS_EVERY,
    answer_device_commands,
    gps_time,
    request_dev_status,
    request_link_adr,
)
from lora_city.uplink.mac_requests import RadioPlan, rx1_frequency

T = datetime(2026, 11, 22, 1, 0, 0, 500_000, tzinfo=UTC)


def _ctx(commands: list[MacCommand], snrs: tuple[float, ...] = (4.0, -1.0), adr: bool = True) -> UplinkContext:
    frames = [UplinkFrame(b"x", LoRaModulation(868_100_000, 12, 125_000), RxInfo(f"gw{i}", 1, -100.0, snr, time=T),
                          Transport.UDP) for i, snr in enumerate(snrs)]
    session = NetworkSession(id="s", dev_addr="26011bda", mac_version="1.0.3", f_nwk_s_int_key=bytes(16),
                             s_nwk_s_int_key=bytes(16), nwk_s_enc_key=bytes(16), app_s_key=bytes(16),
                             device=DeviceInfo(dev_eui="0102030405060708", tenant_id="t"))
    ctx = UplinkContext(CollectedUplink(b"x", frames, 0.0), "u1", T, dr=0, frequency=868_100_000, airtime_ms=1.0)
    ctx.session = session
    ctx.frame = DataFrame(MType.UNCONFIRMED_DATA_UP, "26011bda", FCtrl(adr=adr))
    ctx.mac_commands = commands
    return ctx


def test_link_check_and_device_time_answers() -> None:
    ctx = _ctx([MacCommand("LinkCheckReq"), MacCommand("DeviceTimeReq")])
    answer_device_commands(ctx, EU868)
    link, dtime = ctx.mac_answers
    assert link.name == "LinkCheckAns" and link.fields == {"margin": 24, "gw_cnt": 2}  # 4 dB - (-20 dB) at SF12
    seconds, fraction = gps_time(T)
    assert dtime.fields == {"seconds": seconds, "fractional_second": fraction}
    # 2026-11-22T01:00:00.5Z in GPS seconds: UTC seconds since 1980-01-06 plus 18 leap seconds.
    assert seconds == int((T - datetime(1980, 1, 6, tzinfo=UTC)).total_seconds()) + 18 and fraction == 128


def test_dev_status_answer_becomes_a_status_event() -> None:
    ctx = _ctx([MacCommand("DevStatusAns", {"battery": 127, "margin": -3})])
    answer_device_commands(ctx, EU868)
    (event,) = ctx.events
    assert isinstance(event, StatusEvent)
    assert event.margin == -3 and event.battery_level == 50.0 and not event.external_power
    ctx = _ctx([MacCommand("DevStatusAns", {"battery": 0, "margin": 5})])
    answer_device_commands(ctx, EU868)
    assert ctx.events[0].battery_level is None and ctx.events[0].external_power  # type: ignore[union-attr]


def test_dev_status_is_requested_on_the_first_uplink_then_periodically() -> None:
    ctx = _ctx([])
    request_dev_status(ctx)
    assert [c.name for c in ctx.mac_answers] == ["DevStatusReq"]
    session = ctx.session
    assert session is not None
    asked = 0
    for _ in range(DEV_STATUS_EVERY * 2):
        later = _ctx([])
        later.session = session
        request_dev_status(later)
        asked += len(later.mac_answers)
    assert asked == 2


def test_link_adr_request_then_answer_applies_it() -> None:
    ctx = _ctx([])
    session = ctx.session
    assert session is not None
    for f_cnt in range(20):
        session.add_sample(UplinkSample(f_cnt, 5.0, 2))
    # ChMask covers the channels the device knows (1.0.4 §5.3): the 3 defaults, then the CFList's 3..7
    request_link_adr(ctx, EU868)
    assert ctx.mac_answers[0].fields["ch_mask"] == 0x0007
    ctx.mac_answers.clear()
    session.pending_link_adr = None
    session.extra_channels = {3 + i: f for i, f in enumerate(EU868.extra_channels_hz)}
    request_link_adr(ctx, EU868)
    (req,) = ctx.mac_answers
    assert req.name == "LinkADRReq" and req.fields["data_rate"] == 5 and req.fields["ch_mask"] == 0x00FF
    assert session.pending_link_adr is not None and session.dr == 0
    again = _ctx([])
    again.session = session
    request_link_adr(again, EU868)
    assert again.mac_answers == []  # one request in flight at a time
    ans = _ctx([MacCommand("LinkADRAns", {"channel_mask_ack": 1, "data_rate_ack": 1, "power_ack": 1})])
    ans.session = session
    answer_device_commands(ans, EU868)
    assert session.dr == 5 and session.pending_link_adr is None
    off = _ctx([], adr=False)
    request_link_adr(off, EU868)
    assert off.mac_answers == []


def test_lorawan_11_adr_and_rejoin_parameters_plan_state_and_reset() -> None:
    """TS001-1.1 §5.11 / §5.14 settings: unset means RP002 §3's ADR_ACK_LIMIT 64 (2^6) and ADR_ACK_DELAY 32 (2^5)
    and no periodic rejoin; one rejoin period alone gets the longest other (15); out of range 0..15 is refused.
    What the device accepted survives a restart (session state) and ResetInd (1.1 §5.1) returns to defaults."""
    default = RadioPlan.from_settings(Settings(), EU868)
    assert (default.adr_ack_limit_exp, default.adr_ack_delay_exp, default.rejoin) == (6, 5, None)
    plan = RadioPlan.from_settings(Settings(adr_ack_limit_exp=2, rejoin_max_count_n=0), EU868)
    assert (plan.adr_ack_limit_exp, plan.adr_ack_delay_exp, plan.rejoin) == (2, 5, (0, 15))
    with pytest.raises(ValidationError):
        Settings(rejoin_max_time_n=16)

    ctx = _ctx([MacCommand("ResetInd", {"minor": 1})])
    session = ctx.session
    assert session is not None
    session.adr_ack_limit_exp, session.rejoin_max_count_n, session.rejoin_time_ok = 2, 0, False
    restored = NetworkSession(id="s", dev_addr=session.dev_addr, mac_version="1.1", f_nwk_s_int_key=bytes(16),
                              s_nwk_s_int_key=bytes(16), nwk_s_enc_key=bytes(16), app_s_key=bytes(16),
                              device=session.device)
    restored.load_state(session.state_dict())
    assert (restored.adr_ack_limit_exp, restored.rejoin_max_count_n, restored.rejoin_time_ok) == (2, 0, False)
    answer_device_commands(ctx, EU868)
    assert (session.adr_ack_limit_exp, session.adr_ack_delay_exp, session.rejoin_max_count_n) == (6, 5, None)


def test_dl_channels_plan_validation_and_rx1_frequency() -> None:
    """TS001-1.0.4 §5.10 settings: a DlChannelReq target must be a channel of the region's plan (EU868: 0..7)
    with a frequency in the band (863-870 MHz); RX1 follows what the device accepted, per channel."""
    plan = RadioPlan.from_settings(Settings(dl_channels_hz={3: 869_100_000}), EU868)
    assert plan.dl_channels == ((3, 869_100_000),)
    for bad in ({8: 869_100_000}, {3: 870_100_000}):
        with pytest.raises(ConfigurationError):
            RadioPlan.from_settings(Settings(dl_channels_hz=bad), EU868)
    session = _ctx([]).session
    assert session is not None
    session.extra_channels = {3: 867_100_000}
    assert rx1_frequency(session, EU868, 867_100_000) == 867_100_000
    session.dl_channels = {3: 869_100_000, 0: 869_000_000}
    assert [rx1_frequency(session, EU868, f) for f in (867_100_000, 868_100_000, 868_300_000, 867_300_000)] == [
        869_100_000, 869_000_000, 868_300_000, 867_300_000]
