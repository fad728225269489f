"""MAC commands: known bytes from the vectors, every command both ways, and malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.mac import (
    COMMANDS,
    CommandSpec,
    MacCommand,
    encode_mac_commands,
    parse_mac_commands,
)


def test_vector_fopts_decode_with_names() -> None:
    # brocaar_confirmed_up_fopts_devstatusans: DevStatusAns(battery 115, margin 7)
    (ans,) = parse_mac_commands(bytes.fromhex("067307"), uplink=True)
    assert (ans.cid, ans.name, ans["battery"], ans["margin"]) == (6, "DevStatusAns", 115, 7)
    # brocaar_up_fopts_linkcheckreq_linkadrans: LinkCheckReq + LinkADRAns(ch mask ack, power ack)
    req, adr = parse_mac_commands(bytes.fromhex("020305"), uplink=True)
    assert req.name == "LinkCheckReq"
    assert (adr.name, adr["channel_mask_ack"], adr["data_rate_ack"], adr["power_ack"]) == (
        "LinkADRAns",
        1,
        0,
        1,
    )
    # vector lp_issue35_downlink_fopts_2x_linkadrreq of tests/fixtures/lorawan.json (helium/erlang-lorawan
    # src/lora_core.erl sample_02, from anthonykirby/lora-packet issue #35): two LinkADRReq in a downlink's FOpts
    first, second = parse_mac_commands(bytes.fromhex("0340020071033500ff01"), uplink=False)
    assert first.to_dict() == {
        "cid": 3,
        "name": "LinkADRReq",
        "tx_power": 0,
        "data_rate": 4,
        "ch_mask": 0x0002,
        "nb_trans": 1,
        "ch_mask_cntl": 7,
    }
    assert (second["data_rate"], second["tx_power"], second["ch_mask"], second["ch_mask_cntl"]) == (
        3,
        5,
        0xFF00,
        0,
    )
    # brocaar_1_1_downlink_encrypted_fopts_nfcnt plaintext: LinkCheckAns(margin 7, gw_cnt 1)
    (check,) = parse_mac_commands(bytes.fromhex("020701"), uplink=False)
    assert (check.name, check["margin"], check["gw_cnt"]) == ("LinkCheckAns", 7, 1)


def test_same_cid_differs_by_direction() -> None:
    assert parse_mac_commands(b"\x02", uplink=True)[0].name == "LinkCheckReq"
    with pytest.raises(LoRaWANError, match="LinkCheckAns"):
        parse_mac_commands(b"\x02", uplink=False)  # LinkCheckAns needs 2 payload bytes


def test_frequencies_are_hz_and_must_be_100hz_multiples() -> None:
    cmd = MacCommand("NewChannelReq", {"ch_index": 3, "frequency": 867_100_000, "min_dr": 0, "max_dr": 5})
    wire = cmd.to_bytes()
    assert wire == bytes.fromhex("0703184f8450")
    assert parse_mac_commands(wire, uplink=False) == [cmd]
    rx = MacCommand("RXParamSetupReq", {"rx1_dr_offset": 1, "rx2_data_rate": 3, "frequency": 869_525_000})
    assert rx.to_bytes() == bytes.fromhex("0513d2ad84")
    with pytest.raises(LoRaWANError, match="multiple of 100"):
        MacCommand("DlChannelReq", {"frequency": 868_100_050}).to_bytes()


def test_signed_margin_and_device_time() -> None:
    (ans,) = parse_mac_commands(bytes.fromhex("06ff20"), uplink=True)
    assert (ans["battery"], ans["margin"]) == (255, -32)
    assert MacCommand("DevStatusAns", {"battery": 255, "margin": -32}).to_bytes() == bytes.fromhex("06ff20")
    time_ans = MacCommand("DeviceTimeAns", {"seconds": 1_300_000_000, "fractional_second": 128})
    assert time_ans.to_bytes() == b"\x0d" + (1_300_000_000).to_bytes(4, "little") + b"\x80"


@pytest.mark.parametrize(
    ("data", "uplink", "where"),
    [
        (b"\x03\x40\x02", False, "byte 0"),  # truncated LinkADRReq
        (b"\x02\x80", True, "byte 1"),  # proprietary CID: cannot delimit
        (b"\x06\x01\x02\x7f", True, "byte 3"),  # unknown CID after a good one
    ],
)
def test_malformed_names_field_and_offset(data: bytes, uplink: bool, where: str) -> None:
    with pytest.raises(LoRaWANError, match=where):
        parse_mac_commands(data, uplink)


def test_bad_values_when_building() -> None:
    with pytest.raises(LoRaWANError, match="tx_power"):
        MacCommand("LinkADRReq", {"tx_power": 16}).to_bytes()
    with pytest.raises(LoRaWANError, match="unknown field"):
        MacCommand("LinkADRReq", {"power": 1})
    with pytest.raises(LoRaWANError, match="unknown command"):
        MacCommand("FooReq")
    with pytest.raises(LoRaWANError, match="cid"):
        MacCommand.from_dict({"cid": 4, "name": "LinkADRReq"})


def test_every_eu868_command_is_known() -> None:
    names = {spec.name for spec in COMMANDS}
    for base in (
        "LinkCheck",
        "LinkADR",
        "DutyCycle",
        "RXParamSetup",
        "DevStatus",
        "NewChannel",
        "RXTimingSetup",
        "TxParamSetup",
        "DlChannel",
        "DeviceTime",
        "ADRParamSetup",
        "RejoinParamSetup",
    ):
        assert {base + "Req", base + "Ans"} <= names
    assert {"ResetInd", "ResetConf", "RekeyInd", "RekeyConf", "ForceRejoinReq"} <= names


@st.composite
def commands(draw: st.DrawFn, uplink: bool) -> MacCommand:
    spec: CommandSpec = draw(st.sampled_from([s for s in COMMANDS if s.uplink == uplink]))
    fields = {}
    for f in spec.fields:
        low, high = (-(1 << (f.width - 1)), (1 << (f.width - 1)) - 1) if f.signed else (0, (1 << f.width) - 1)
        fields[f.name] = draw(st.integers(low, high)) * f.scale
    return MacCommand(spec.name, fields)


@settings(max_examples=300)
@given(uplink=st.booleans(), data=st.data())
def test_round_trip_every_command(uplink: bool, data: st.DataObject) -> None:
    cmds = data.draw(st.lists(commands(uplink), max_size=6))
    wire = encode_mac_commands(cmds)
    assert parse_mac_commands(wire, uplink) == cmds
    assert [MacCommand.from_dict(c.to_dict()) for c in cmds] == cmds


@settings(max_examples=300)
@given(data=st.binary(max_size=40), uplink=st.booleans())
def test_random_bytes_only_raise_lorawan_error(data: bytes, uplink: bool) -> None:
    try:
        parsed = parse_mac_commands(data, uplink)
    except LoRaWANError:
        return
    assert len(encode_mac_commands(parsed)) == len(data)


def test_ping_slot_channel_ans_status_bits_table_71() -> None:
    """TS001-1.0.4 §13.2 Table 71: PingSlotChannelAns Status bit 0 is "Channel frequency ok", bit 1 "Data rate
    ok". A device that can use the frequency but not the data rate answers 0x01."""
    [ans] = parse_mac_commands(bytes((0x11, 0x01)), uplink=True)
    assert (ans["channel_frequency_ok"], ans["data_rate_ok"]) == (1, 0)
    [ans] = parse_mac_commands(bytes((0x11, 0x02)), uplink=True)
    assert (ans["channel_frequency_ok"], ans["data_rate_ok"]) == (0, 1)
