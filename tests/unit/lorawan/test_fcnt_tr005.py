"""32-bit frame-counter reconstruction and TR005 QR codes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.fcnt import full_f_cnt
from lora_city.lorawan.tr005 import SCHEMA_DRAFT2, SCHEMA_DRAFT3, QRCode, crc16, parse_qr


@pytest.mark.parametrize(
    ("last", "wire", "expected"),
    [
        (None, 5, 5),
        (0, 0, 0),
        (10, 10, 10),  # retransmission keeps the counter
        (10, 11, 11),
        (0xFFFF, 0x0000, 0x10000),  # low half wrapped
        (0x1FFFE, 0x0003, 0x20003),
        (0x2_0005, 0x0004, 0x3_0004),  # older low bits: next roll-over, never backwards
    ],
)
def test_full_f_cnt(last: int | None, wire: int, expected: int) -> None:
    assert full_f_cnt(last, wire) == expected


def test_full_f_cnt_bad_input() -> None:
    with pytest.raises(LoRaWANError, match="16-bit"):
        full_f_cnt(0, 0x10000)
    with pytest.raises(LoRaWANError, match="exhausted"):
        full_f_cnt(0xFFFF_FFF0, 0x0001)


@settings(max_examples=300)
@given(last=st.integers(0, 0xFFFE_0000), step=st.integers(0, 0xFFFF))
def test_full_f_cnt_recovers_any_gap_below_2_16(last: int, step: int) -> None:
    true_value = last + step
    assert full_f_cnt(last, true_value & 0xFFFF) == true_value


def test_qr_d0_parse_and_generate() -> None:
    code = parse_qr("LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:O0123ABCD:SSN42:PXYZ")
    assert (code.join_eui, code.dev_eui, code.profile_id) == (
        "70b3d57ed0000010",
        "0018b20000000101",
        "000af8be",
    )
    assert (code.vendor_id, code.vendor_profile_id) == ("000a", "f8be")
    assert (code.owner_token, code.serial_number, code.proprietary, code.checksum) == (
        "0123ABCD",
        "SN42",
        "XYZ",
        None,
    )
    assert code.to_string() == "LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:O0123ABCD:SSN42:PXYZ"
    signed = code.to_string(with_checksum=True)
    assert signed.endswith(f":C{crc16(code.to_string()):04X}")
    again = parse_qr(signed)
    assert again.checksum_valid is True
    assert parse_qr(signed[:-1] + ("0" if signed[-1] != "0" else "1")).checksum_valid is False
    # TR005 leaves open whether the ':' before 'C' is covered; a code computed with it also validates.
    with_colon = f"{code.to_string()}:C{crc16(code.to_string() + ':'):04X}"
    assert parse_qr(with_colon).checksum_valid is True


def test_crc16_known_value() -> None:
    assert crc16("123456789") == 0x4B37  # the catalogued CRC-16/MODBUS check value


def test_qr_drafts() -> None:
    d2 = parse_qr("URN:LW:DP:70B3D57ED0000010:0018B20000000101:000AF8BE:%V0123%SSER1")
    assert (d2.schema, d2.owner_token, d2.serial_number, d2.profile_id) == (
        SCHEMA_DRAFT2,
        "0123",
        "SER1",
        "000af8be",
    )
    assert d2.to_string() == "URN:LW:DP:70B3D57ED0000010:0018B20000000101:000AF8BE:%V0123%SSER1"
    d3 = parse_qr("URN:DEV:LW:70B3D57ED0000010_0018B20000000101_000AF8BE_V0123_PABC")
    assert (d3.schema, d3.join_eui, d3.owner_token, d3.proprietary) == (
        SCHEMA_DRAFT3,
        "70b3d57ed0000010",
        "0123",
        "ABC",
    )
    assert d3.to_string() == "URN:DEV:LW:70B3D57ED0000010_0018B20000000101_000AF8BE_V0123_PABC"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("LW:D0:70B3D57ED00000:0018B20000000101:000AF8BE", "JoinEUI"),
        ("LW:D0:70B3D57ED0000010:0018B2000000010G:000AF8BE", "DevEUI"),
        ("LW:D0:70B3D57ED0000010:0018B20000000101", "ProfileID"),
        ("LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:X1", "field 5"),
        ("LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C1234:SAB", "last"),
        ("LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:CXYZ", "CheckSum"),
        ("HTTP://EXAMPLE.COM", "not a LoRaWAN QR"),
    ],
)
def test_qr_errors(text: str, field: str) -> None:
    with pytest.raises(LoRaWANError, match=field):
        parse_qr(text)


@settings(max_examples=200)
@given(
    join_eui=st.binary(min_size=8, max_size=8),
    dev_eui=st.binary(min_size=8, max_size=8),
    profile=st.binary(min_size=4, max_size=4),
    token=st.none() | st.text("0123456789ABCDEF", min_size=1, max_size=32),
    serial=st.none() | st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=16),
    schema=st.sampled_from(["D0", SCHEMA_DRAFT2, SCHEMA_DRAFT3]),
    with_checksum=st.booleans(),
)
def test_qr_round_trip(
    join_eui: bytes,
    dev_eui: bytes,
    profile: bytes,
    token: str | None,
    serial: str | None,
    schema: str,
    with_checksum: bool,
) -> None:
    code = QRCode(join_eui.hex(), dev_eui.hex(), profile.hex(), token, serial, schema=schema)
    parsed = parse_qr(code.to_string(with_checksum=with_checksum))
    assert (parsed.join_eui, parsed.dev_eui, parsed.profile_id) == (
        code.join_eui,
        code.dev_eui,
        code.profile_id,
    )
    assert (parsed.owner_token, parsed.serial_number, parsed.schema) == (token, serial, schema)
    if schema == "D0":
        assert parsed.checksum_valid is (True if with_checksum else None)


@settings(max_examples=300)
@given(st.text(max_size=80) | st.text("LW:D0:0123456789ABCDEFOSPC", max_size=80).map(lambda t: "LW:D0:" + t))
def test_qr_garbage_only_raises_lorawan_error(text: str) -> None:
    try:
        code = parse_qr(text)
    except LoRaWANError:
        return
    assert parse_qr(code.to_string()).dev_eui == code.dev_eui
