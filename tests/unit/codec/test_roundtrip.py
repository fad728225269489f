"""Property tests: what an encoder writes, the matching decoder reads back (Cayenne LPP, the switch codecs)."""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lora_city.codec.js import JsLimits
from lora_city.codec.loader import CodecInfo, load_folder
from lora_city.codec.runtime import run_decode_downlink, run_encode_downlink
from tests.unit.codec.support import CODECS, same

# (LPP name, scale, byte size, signed) for single-value types; values are drawn as raw integers so the expected
# decoded value is exact.
LPP_SINGLE = [
    ("digital_in", 1, 1, False), ("digital_out", 1, 1, False), ("analog_in", 100, 2, True),
    ("analog_out", 100, 2, True), ("generic", 1, 4, False), ("luminosity", 1, 2, False),
    ("presence", 1, 1, False), ("temperature", 10, 2, True), ("relative_humidity", 2, 1, False),
    ("barometric_pressure", 10, 2, False), ("voltage", 100, 2, False), ("current", 1000, 2, False),
    ("frequency", 1, 4, False), ("percentage", 1, 1, False), ("altitude", 1, 2, True),
    ("concentration", 1, 2, False), ("power", 1, 2, False), ("distance", 1000, 4, False),
    ("energy", 1000, 4, False), ("direction", 1, 2, False), ("unixtime", 1, 4, False), ("switch", 1, 1, False),
]  # fmt: skip


@cache
def codec(codec_id: str) -> CodecInfo:
    return load_folder(CODECS / codec_id, JsLimits())


def _raw_int(size: int, signed: bool) -> st.SearchStrategy[int]:
    bits = 8 * size
    return (
        st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else st.integers(0, (1 << bits) - 1)
    )


@st.composite
def lpp_entry(draw: st.DrawFn) -> tuple[str, Any]:
    channel = draw(st.integers(0, 255))
    kind = draw(st.sampled_from([*LPP_SINGLE, "gps", "accelerometer", "colour"]))
    if kind == "gps":
        value = {
            "latitude": draw(_raw_int(3, True)) / 10000,
            "longitude": draw(_raw_int(3, True)) / 10000,
            "altitude": draw(_raw_int(3, True)) / 100,
        }
        return f"gps_{channel}", value
    if kind == "accelerometer":
        return f"accelerometer_{channel}", {axis: draw(_raw_int(2, True)) / 1000 for axis in "xyz"}
    if kind == "colour":
        return f"colour_{channel}", {c: draw(_raw_int(1, False)) for c in "rgb"}
    name, scale, size, signed = kind
    raw = draw(_raw_int(size, signed))
    return f"{name}_{channel}", raw if scale == 1 else raw / scale


@settings(max_examples=150, deadline=None)
@given(st.lists(lpp_entry(), min_size=1, max_size=6).map(dict))
def test_cayenne_lpp_encode_then_decode_is_identity(data: dict[str, Any]) -> None:
    info = codec("cayenne-lpp")
    encoded = run_encode_downlink(info.runtime, data)
    assert encoded.ok, encoded.errors
    assert encoded.payload is not None and encoded.f_port is not None
    decoded = run_decode_downlink(info.runtime, encoded.f_port, encoded.payload)
    assert decoded.ok, decoded.errors
    same(decoded.data, data)


SWITCH_STATES = st.sampled_from(["on", "off"])


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from([f"switch_{i}" for i in range(1, 9)]), SWITCH_STATES, min_size=1))
def test_ws558_switch_commands_round_trip(data: dict[str, str]) -> None:
    info = codec("milesight-ws558")
    encoded = run_encode_downlink(info.runtime, data)
    assert encoded.ok and encoded.payload is not None and encoded.f_port == 85
    assert run_decode_downlink(info.runtime, 85, encoded.payload).data == data


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["switch_1", "switch_2", "switch_3"]), SWITCH_STATES, min_size=1))
def test_ws50x_switch_commands_round_trip(data: dict[str, str]) -> None:
    info = codec("milesight-ws50x")
    encoded = run_encode_downlink(info.runtime, data)
    assert encoded.ok and encoded.payload is not None
    assert run_decode_downlink(info.runtime, 85, encoded.payload).data == data


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["RO1", "RO2"]), SWITCH_STATES, min_size=1))
def test_lt22222_relay_commands_round_trip(data: dict[str, str]) -> None:
    info = codec("dragino-lt22222-l")
    encoded = run_encode_downlink(info.runtime, data)
    assert encoded.ok and encoded.payload is not None
    assert run_decode_downlink(info.runtime, 1, encoded.payload).data == data
