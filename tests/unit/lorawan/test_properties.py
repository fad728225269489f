"""Property tests: build -> parse is the identity for every frame type; random bytes only raise LoRaWANError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lora_city.lorawan import crypto
from lora_city.lorawan.describe import DecodeOptions, describe_phy_payload
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.frames import (
    DataFrame,
    DLSettings,
    EncryptedJoinAccept,
    FCtrl,
    JoinAccept,
    JoinRequest,
    MType,
    PHYPayload,
    Proprietary,
    RejoinRequest,
    parse_join_accept,
    parse_phy_payload,
)

EXAMPLES = 400


def hexid(size: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=size, max_size=size).map(bytes.hex)


mics = st.binary(min_size=4, max_size=4)
keys = st.binary(min_size=16, max_size=16)


@st.composite
def data_frames(draw: st.DrawFn) -> DataFrame:
    mtype = draw(st.sampled_from([m for m in MType if m.is_data]))
    f_port = draw(st.none() | st.integers(0, 255))
    f_opts = b"" if f_port == 0 else draw(st.binary(max_size=15))
    payload = b"" if f_port is None else draw(st.binary(max_size=64))
    ctrl = FCtrl(draw(st.booleans()), draw(st.booleans()), draw(st.booleans()), draw(st.booleans()))
    return DataFrame(
        mtype, draw(hexid(4)), ctrl, draw(st.integers(0, 0xFFFF)), f_opts, f_port, payload, draw(mics)
    )


join_requests = st.builds(JoinRequest, hexid(8), hexid(8), st.integers(0, 0xFFFF), mics)
rejoin_requests = st.one_of(
    st.builds(
        RejoinRequest, st.sampled_from([0, 2]), hexid(8), st.integers(0, 0xFFFF), net_id=hexid(3), mic=mics
    ),
    st.builds(RejoinRequest, st.just(1), hexid(8), st.integers(0, 0xFFFF), join_eui=hexid(8), mic=mics),
)
encrypted_accepts = st.builds(
    EncryptedJoinAccept, st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
)
proprietary = st.builds(Proprietary, st.binary(max_size=64), st.integers(0, 3), st.integers(0, 7))
join_accepts = st.builds(
    JoinAccept,
    st.integers(0, 0xFFFFFF),
    hexid(3),
    hexid(4),
    st.builds(DLSettings, st.booleans(), st.integers(0, 7), st.integers(0, 15)),
    st.integers(0, 255),
    st.sampled_from([0, 16]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    mics,
)
wire_frames: st.SearchStrategy[PHYPayload] = st.one_of(
    data_frames(), join_requests, rejoin_requests, encrypted_accepts, proprietary
)


@settings(max_examples=EXAMPLES)
@given(wire_frames)
def test_build_then_parse_is_identity(frame: PHYPayload) -> None:
    wire = frame.to_bytes()
    assert parse_phy_payload(wire) == frame
    assert parse_phy_payload(wire).to_bytes() == wire


@settings(max_examples=EXAMPLES)
@given(join_accepts, keys)
def test_join_accept_build_encrypt_decrypt_parse(accept: JoinAccept, key: bytes) -> None:
    plain = accept.to_bytes()
    assert parse_join_accept(plain) == accept
    wire = crypto.encrypt_join_accept(key, plain)
    assert isinstance(parse_phy_payload(wire), EncryptedJoinAccept)
    assert crypto.decrypt_join_accept(key, wire) == plain


@settings(max_examples=EXAMPLES)
@given(
    st.binary(max_size=80) | st.binary(min_size=1, max_size=40).map(lambda b: bytes([b[0] & 0xE0]) + b[1:])
)
def test_random_bytes_parse_exactly_or_raise_lorawan_error(data: bytes) -> None:
    try:
        frame = parse_phy_payload(data)
    except LoRaWANError as exc:
        assert exc.field and str(exc)
        return
    assert frame.to_bytes() == data  # whatever parses re-serialises to the same bytes


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=40))
def test_random_plain_join_accept_parse_or_error(data: bytes) -> None:
    try:
        accept = parse_join_accept(data)
    except LoRaWANError:
        return
    assert accept.to_bytes() == data


@settings(max_examples=200)
@given(st.binary(max_size=60), keys, st.sampled_from(["1.0", "1.1"]), st.none() | st.integers(0, 0xFFFFFFFF))
def test_describe_with_keys_only_raises_lorawan_error(
    data: bytes, key: bytes, version: str, last: int | None
) -> None:
    options = DecodeOptions(
        lorawan=version, nwk_s_key=key, app_s_key=key, app_key=key, dev_nonce=1, join_eui="00" * 8, dev_eui="01" * 8,
        last_f_cnt=last,
    )  # fmt: skip
    try:
        out = describe_phy_payload(data, options)
    except LoRaWANError:
        return
    assert out["mtype"] == MType(data[0] >> 5).spec_name


@settings(max_examples=EXAMPLES)
@given(data_frames(), keys, st.integers(0, 0xFFFFFFFF), st.integers(0, 15))
def test_mic_detects_any_flipped_byte(frame: DataFrame, key: bytes, f_cnt32: int, position: int) -> None:
    msg = frame.mic_input()
    mic = crypto.data_mic_10(key, msg, frame.dev_addr, f_cnt32, frame.uplink)
    index = position % len(msg)
    tampered = msg[:index] + bytes([msg[index] ^ 0x01]) + msg[index + 1 :]
    assert crypto.data_mic_10(key, tampered, frame.dev_addr, f_cnt32, frame.uplink) != mic
    assert crypto.data_mic_10(key, msg, frame.dev_addr, f_cnt32, not frame.uplink) != mic


@settings(max_examples=EXAMPLES)
@given(keys, hexid(4), st.integers(0, 0xFFFFFFFF), st.booleans(), st.binary(max_size=100))
def test_payload_encryption_is_an_involution(
    key: bytes, dev_addr: str, f_cnt: int, up: bool, data: bytes
) -> None:
    cipher = crypto.encrypt_frm_payload(key, dev_addr, f_cnt, up, data)
    assert len(cipher) == len(data)
    assert crypto.encrypt_frm_payload(key, dev_addr, f_cnt, up, cipher) == data
    if len(data) >= 4:
        assert cipher != crypto.encrypt_frm_payload(key, dev_addr, f_cnt ^ 1, up, data)


def test_bad_crypto_arguments_raise_lorawan_error() -> None:
    import pytest

    for call in (
        lambda: crypto.data_mic_10(b"short", b"", "01020304", 0, True),
        lambda: crypto.data_mic_10(bytes(16), b"", "0102", 0, True),
        lambda: crypto.data_mic_10(bytes(16), b"", "01020304", 1 << 32, True),
        lambda: crypto.data_mic_10(bytes(16), bytes(300), "01020304", 0, True),
        lambda: crypto.encrypt_f_opts(bytes(16), "01020304", 0, True, bytes(16)),
        lambda: crypto.decrypt_join_accept(bytes(16), bytes(20)),
        lambda: crypto.derive_session_keys_10(bytes(16), 1 << 24, "000000", 0),
        lambda: crypto.join_accept_mic_11(bytes(16), 0xFF, "xyz", 0, b""),
    ):
        with pytest.raises(LoRaWANError):
            call()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(1 << 40), 1 << 40)
    | st.text(max_size=20)
    | st.sampled_from(["00" * 16, "01020304", "00" * 8]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
frame_keys = st.sampled_from(
    ["dev_addr", "f_cnt", "f_cnt32", "f_port", "f_ctrl", "f_opts", "frm_payload", "mac_commands", "mic", "major",
     "nwk_s_key", "app_s_key", "app_key", "lorawan", "last_f_cnt", "tx_dr", "conf_f_cnt", "join_eui", "dev_eui",
     "dev_nonce", "join_nonce", "net_id", "dl_settings", "rx_delay", "cf_list", "cf_list_frequencies", "rejoin_type",
     "payload", "encrypted", "bogus"]
)  # fmt: skip


@settings(max_examples=200)
@given(
    st.sampled_from([m.spec_name for m in MType] + ["Nope"]),
    st.dictionaries(frame_keys, json_values, max_size=8),
)
def test_compose_random_json_only_raises_lorawan_error(mtype: str, obj: dict[str, object]) -> None:
    from lora_city.lorawan.compose import compose_phy_payload

    try:
        wire = compose_phy_payload({"mtype": mtype, **obj})
    except LoRaWANError:
        return
    assert parse_phy_payload(wire).mtype.spec_name == mtype
