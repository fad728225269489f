"""The QuickJS runtime: TS013 and legacy entry points, limits, isolation from the host, and JS twins that agree
with the native codecs on thousands of fuzzed payloads."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from lora_city.codec.js import JsCodec, JsLimits
from lora_city.codec.loader import load_folder
from lora_city.codec.registry import CodecRegistry
from lora_city.codec.runtime import run_decode_downlink, run_decode_uplink, run_encode_downlink
from lora_city.errors import ConfigurationError
from tests.unit.codec.support import CODECS, JS_DIR, same

FAST = JsLimits(time_limit_ms=50, memory_limit_mb=16)


def js(name: str, limits: JsLimits = FAST) -> JsCodec:
    return JsCodec.from_file(JS_DIR / name, limits)


def test_infinite_loop_is_stopped_and_the_next_decode_works() -> None:
    codec = js("hostile-loop.js")
    started = time.perf_counter()
    result = run_decode_uplink(codec, 1, b"\x00")
    elapsed = time.perf_counter() - started
    assert result.errors and "limit" in result.errors[0] and "interrupted" in result.errors[0]
    assert result.data is None
    assert elapsed < 1.0, f"a 50 ms limit took {elapsed:.3f} s"
    after = run_decode_uplink(codec, 2, b"\x00\x01")
    assert after.ok and after.data == {"length": 2}


def test_memory_hog_is_stopped_and_the_context_rebuilt() -> None:
    codec = js("hostile-memory.js")
    result = run_decode_uplink(codec, 1, b"")
    assert result.errors and "out of memory" in result.errors[0]
    after = run_decode_uplink(codec, 2, b"\x07")
    # hoarded == 0 shows the next call ran in a fresh context, not in the exhausted one.
    assert after.ok and after.data == {"length": 1, "hoarded": 0}


@pytest.mark.parametrize(
    ("f_port", "message"),
    [(1, "threw: Error: vendor codec gave up"), (2, "stack"), (3, "circular"), (4, "not JSON")],
)
def test_throw_deep_recursion_and_unserialisable_results_are_errors(f_port: int, message: str) -> None:
    codec = js("hostile-throw.js")
    result = run_decode_uplink(codec, f_port, b"\x01")
    assert result.data is None and len(result.errors) == 1 and message in result.errors[0]
    assert run_decode_uplink(codec, 9, b"\x01\x02\x03").data == {"length": 3}


@pytest.mark.parametrize(
    ("f_port", "name"), [(1, "require"), (2, "process"), (3, "std"), (4, "os"), (5, "fetch")]
)
def test_host_objects_do_not_exist(f_port: int, name: str) -> None:
    result = run_decode_uplink(js("hostile-host.js"), f_port, b"\x00")
    assert result.errors == [f"JavaScript codec threw: ReferenceError: {name} is not defined"]


def test_no_host_globals_and_no_module_loading() -> None:
    codec = js("hostile-host.js")
    assert run_decode_uplink(codec, 7, b"").data == {"host_globals": []}
    # import() yields a promise that is never run: nothing is read from disk, nothing leaks.
    assert run_decode_uplink(codec, 6, b"").data == {"leaked": {}}


def test_legacy_decoder_and_encoder() -> None:
    codec = js("legacy-decoder.js")
    assert run_decode_uplink(codec, 7, b"\x2a\x00").data == {"first": 42, "port": 7}
    down = run_encode_downlink(codec, {"level": 80})
    assert down.ok and down.payload == bytes([80, 1]) and down.f_port == 1


def test_legacy_decode_declared_with_const() -> None:
    assert run_decode_uplink(js("legacy-decode.js"), 3, b"\x01\x02\x03").data == {"sum": 6, "port": 3}


def test_missing_functions_are_error_results() -> None:
    codec = js("legacy-decode.js")
    assert run_encode_downlink(codec, {"x": 1}).errors == [
        "this codec has no encodeDownlink, Encoder or Encode"
    ]
    assert run_decode_downlink(codec, 1, b"\x00").errors == ["this codec has no decodeDownlink"]


def test_console_warn_and_error_become_warnings_log_is_dropped() -> None:
    source = """
    function decodeUplink(input) {
      console.log("debug noise"); console.warn("odd value", {v: input.bytes[0]}); console.error("bad");
      return {data: {v: input.bytes[0], t: input.recvTime.getUTCFullYear()}, warnings: ["own"]};
    }"""
    result = run_decode_uplink(JsCodec.from_source(source, "console", FAST), 1, b"\x05")
    assert result.data is not None and result.data["v"] == 5 and result.data["t"] >= 2024
    assert result.warnings == ["own", 'console.warn: odd value {"v":5}', "console.error: bad"]


@pytest.mark.parametrize(
    "source", ["function decodeUplink( {", "throw new Error('at load')", "while (true) {}"], ids=str
)
def test_a_codec_that_does_not_load_is_a_configuration_error(source: str) -> None:
    with pytest.raises(ConfigurationError, match=r"JavaScript codec bad\.js"):
        JsCodec.from_source(source, "bad.js", FAST)


def test_each_thread_gets_its_own_context() -> None:
    codec = js("legacy-decoder.js")
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(run_decode_uplink(codec, 2, b"\x09").data))
    worker.start()
    worker.join()
    assert results == [{"first": 9, "port": 2}]
    assert run_decode_uplink(codec, 3, b"\x08").data == {"first": 8, "port": 3}


def test_javascript_codec_folder_through_the_registry(tmp_path: Path) -> None:
    folder = tmp_path / "js-lamp"
    folder.mkdir()
    manifest = {
        "id": "js-lamp", "vendor": "Test", "model": "Lamp", "family": "streetlight", "runtime": "javascript",
        "measurements": [{"name": "dim_level", "path": "level", "unit": "%"},
                         {"name": "lamp_on", "path": "on"}],
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "codec.js").write_text(
        "function decodeUplink(i) { return {data: {level: i.bytes[0], on: i.bytes[0] > 0}}; }"
    )
    registry = CodecRegistry.load(tmp_path, entry_points=False)
    result = registry.decode_uplink("js-lamp", 1, b"\x32")
    assert result.data == {"level": 50, "on": True}
    assert {m.key: m.value for m in result.measurements} == {"dim_level": 50, "lamp_on": True}


# --- JS twins of native codecs ---------------------------------------------------------------------------------

LPP_SHAPES = {0: 1, 1: 1, 2: 2, 3: 2, 100: 4, 101: 2, 102: 1, 103: 2, 104: 1, 113: 6, 115: 2, 116: 2, 117: 2,
              118: 4, 120: 1, 121: 2, 125: 2, 128: 2, 130: 4, 131: 4, 132: 2, 133: 4, 134: 6, 135: 3, 136: 9,
              142: 1}  # fmt: skip
WS558_SHAPES = {(0x03, 0x74): 2, (0x04, 0x80): 4, (0x05, 0x81): 1, (0x06, 0x83): 4, (0x07, 0xC9): 2,
                (0x08, 0x31): 2, (0xFF, 0x01): 1, (0xFF, 0x09): 2, (0xFF, 0x0A): 2, (0xFF, 0xFF): 2,
                (0xFF, 0x16): 8, (0xFF, 0x0F): 1, (0xFF, 0xFE): 1, (0xFF, 0x0B): 1}  # fmt: skip


def _fuzz(rng: random.Random, records: list[bytes]) -> bytes:
    """Mostly well-formed record sequences, some cut short, some with junk appended, some pure noise."""
    roll = rng.random()
    if roll < 0.1:
        return rng.randbytes(rng.randrange(0, 24))
    payload = b"".join(rng.choice(records) for _ in range(rng.randrange(1, 6)))
    if roll < 0.25:
        payload = payload[: rng.randrange(0, len(payload) + 1)]
    elif roll < 0.35:
        payload += rng.randbytes(rng.randrange(1, 6))
    return payload


def _records(rng: random.Random, shapes: dict[object, int], header: object) -> list[bytes]:
    out = []
    for key, size in shapes.items():
        for _ in range(8):
            out.append(header(rng, key) + rng.randbytes(size))  # type: ignore[operator]
    return out


def _agree(
    native_folder: str, twin: str, f_ports: list[int], shapes: dict[object, int], header: object
) -> None:
    rng = random.Random(f"{native_folder}-{twin}")
    native = load_folder(CODECS / native_folder, JsLimits())
    codec = js(twin, JsLimits())
    records = _records(rng, shapes, header)
    ok = 0
    for _ in range(2000):
        payload, f_port = _fuzz(rng, records), rng.choice(f_ports)
        a = run_decode_uplink(native.runtime, f_port, payload)
        b = run_decode_uplink(codec, f_port, payload)
        where = f"fPort {f_port} payload {payload.hex()}"
        assert bool(a.errors) == bool(b.errors), f"{where}: native {a.errors} js {b.errors}"
        if not a.errors:
            ok += 1
            same(a.data, b.data, where)
            assert a.warnings == b.warnings, where
    assert ok > 800, f"only {ok} of 2000 fuzzed payloads decoded: the fuzzer is not exercising the codecs"


def test_cayenne_lpp_js_twin_agrees_with_native() -> None:
    _agree("cayenne-lpp", "cayenne-lpp.js", [1, 2], LPP_SHAPES,  # type: ignore[arg-type]
           lambda rng, code: bytes([rng.randrange(256), code]))  # fmt: skip


def test_milesight_ws558_js_twin_agrees_with_native() -> None:
    _agree("milesight-ws558", "milesight-ws558.js", [85, 85, 85, 1], WS558_SHAPES,  # type: ignore[arg-type]
           lambda rng, key: bytes(key))  # fmt: skip


def test_ws558_js_twin_encodes_like_native() -> None:
    native = load_folder(CODECS / "milesight-ws558", JsLimits())
    codec = js("milesight-ws558.js", JsLimits())
    rng = random.Random(558)
    for _ in range(300):
        data = {f"switch_{i}": rng.choice(["on", "off"]) for i in range(1, 9) if rng.random() < 0.5}
        a, b = run_encode_downlink(native.runtime, data), run_encode_downlink(codec, data)
        assert bool(a.errors) == bool(b.errors) and (a.f_port, a.payload) == (b.f_port, b.payload), data


LONG_NUMBERS = """
function decodeUplink(input) {
  return { data: { unit: "°C", exact: 18446744073709551615, big: 1e20, negative: -1e19, huge: 1e21,
                   in_text: "12345678901234567890", small: 26.06725769042969 } };
}
"""


def test_integers_past_64_bits_keep_the_digits_node_writes() -> None:
    """ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) writes an integral number below 1e21 with all its digits
    and switches to exponent form at 1e21, so node's JSON answer is "big":100000000000000000000. The answer is
    read as that integer, not as a float (orjson's reading of integers past 64 bits), whatever else the answer
    holds (a non-ASCII unit here, the fast path's trouble case). node 20 prints the same object as
    {"unit":"°C","exact":18446744073709552000,"big":100000000000000000000,"negative":-10000000000000000000,
    "huge":1e+21,...}."""
    answer = JsCodec.from_source(LONG_NUMBERS, "long-numbers", FAST).decode_uplink(1, b"", None)
    data = answer["data"]
    assert json.dumps(data, ensure_ascii=False) == (
        '{"unit": "°C", "exact": 18446744073709552000, "big": 100000000000000000000, '
        '"negative": -10000000000000000000, "huge": 1e+21, "in_text": "12345678901234567890", '
        '"small": 26.06725769042969}')
    assert isinstance(data["big"], int) and isinstance(data["huge"], float)
