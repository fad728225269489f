"""The QuickJS runtime gives node's answer, call for call, on a corpus of our own scripts (tests/unit/codec/corpus)
that exercise what an outside comparison of vendor codecs found broken: answers over ~512 characters (the rope
defect), warnings/errors/thrown values that are not strings, odd strings, deep recursion. node (``vm``) runs the
same scripts in the same test run through tests/js/ts013_node.js; answers are compared as exact JSON text."""

from __future__ import annotations

import pytest

from lora_city.codec.js import JsCodec, JsLimits
from lora_city.codec.runtime import run_decode_uplink
from tests.unit.codec.node_oracle import (
    assert_same,
    corpus,
    encode,
    node_answers,
    quickjs_answers,
    uplink,
)

SIZES = [1_000, 4_096, 10_000, 65_536, 250_000, 1_000_000]
# A 1 MB answer takes QuickJS a while to build; the time limit is not what these tests measure.
ROOMY = JsLimits(time_limit_ms=5_000, memory_limit_mb=256)


def _size(n: int) -> bytes:
    return n.to_bytes(3, "big")


@pytest.mark.slow
def test_answers_of_1_kb_to_1_mb_come_back_whole_as_node_gives_them() -> None:
    scripts = corpus("long-answers.js")
    calls = [uplink("long-answers.js", port, _size(n)) for n in SIZES for port in range(1, 8)]
    ours = quickjs_answers(scripts, calls, ROOMY)
    assert_same(calls, ours, node_answers(scripts, calls))
    # And they really are long: the largest string answer is the full megabyte.
    biggest = ours[[i for i, c in enumerate(calls) if c["fPort"] == 1][-1]]
    assert len(biggest["answer"]["data"]["text"]) == 1_000_000


def test_a_long_answer_through_the_registry_path_is_not_lost() -> None:
    """The defect's exact symptom: 'TypeError: Unknown quickjs tag: -6' for any answer over ~512 characters."""
    codec = JsCodec.from_source(corpus("long-answers.js")["long-answers.js"], "long", ROOMY)
    for n in (511, 512, 513, 600, 2_000, 20_000):
        result = run_decode_uplink(codec, 1, _size(n))
        assert result.ok, result.errors
        assert result.data is not None and len(result.data["text"]) == n


def test_warnings_errors_and_thrown_values_are_json_text_as_node_gives_them() -> None:
    scripts = corpus("messages.js")
    calls = [uplink("messages.js", port, b"\x05\x06") for port in range(1, 16)]
    calls += [encode("messages.js", data) for data in ({"level": 7, "note": "n"}, {"fail": True}, {"typed": 1},
                                                        {"level": 300})]
    ours = quickjs_answers(scripts, calls)
    assert_same(calls, ours, node_answers(scripts, calls))
    # The values themselves, not only agreement: JSON text, never Python's repr.
    assert ours[1]["answer"]["errors"] == ['["nested",["deeper"]]', '{"reason":"bad \\"quote\\"","byte":5}']
    assert ours[4] == {"thrown": '{"code":42,"detail":[5]}'}
    assert ours[9] == {"thrown": "VendorError: custom"}


def test_odd_strings_come_back_as_data_as_node_gives_them() -> None:
    scripts = corpus("odd-strings.js")
    payloads = [b"", b"\xd8\x00", b"\x00\x41\xdc\x00\x00\x42", b"\xd8\x3d\xde\x00", b"\x00\x00\x20\x28\xfe\xff"]
    calls = [uplink("odd-strings.js", 1, p) for p in payloads]
    calls += [uplink("odd-strings.js", port, b"\x00\x41") for port in range(2, 10)]
    ours = quickjs_answers(scripts, calls)
    assert_same(calls, ours, node_answers(scripts, calls))
    lone = ours[len(payloads)]["answer"]
    assert lone["data"] == {"lone": "x\ufffdy", "low": "\ufffd", "pair": "\U0001f600"}
    assert lone["warnings"] == ["codec returned text with lone UTF-16 surrogates, replaced by U+FFFD: "
                                "data.lone, data.low"]


def test_recursion_as_deep_as_decoders_need() -> None:
    scripts = corpus("recursion.js")
    tlv = bytes([1, 1, 0]) * 80  # 80 records, one recursion level each
    calls = [uplink("recursion.js", 1, tlv)]
    calls += [uplink("recursion.js", 2, n.to_bytes(2, "big")) for n in (10, 150, 1_000, 3_000)]
    calls += [uplink("recursion.js", 3, n.to_bytes(2, "big")) for n in (10, 500, 1_500)]
    assert_same(calls, quickjs_answers(scripts, calls), node_answers(scripts, calls))


def test_realistic_decoders_answer_as_node_on_fuzzed_payloads() -> None:
    """Decoders of realistic size (a sensor-table protocol, Cayenne LPP, a Milesight-style channel list) on
    payloads well-formed, cut short and random: every answer and every error as node gives it."""
    import random

    from tests.unit.codec.support import JS_DIR

    scripts = {**corpus("sensor-table.js"), "cayenne-lpp.js": (JS_DIR / "cayenne-lpp.js").read_text(),
               "milesight-ws558.js": (JS_DIR / "milesight-ws558.js").read_text()}
    rng = random.Random(20)
    well_formed = {
        "sensor-table.js": [bytes.fromhex("0201a5000f6a3b8f2a5ec004d200014000ad000b8f"), bytes.fromhex("0201a500080b8f")],
        "cayenne-lpp.js": [bytes.fromhex("03670110056700ff"), bytes.fromhex("0188060765f2960a0003e8")],
        "milesight-ws558.js": [bytes.fromhex("0374f60804802c01000005815f06831027000007c9e80308310005")],
    }
    calls = []
    for name, payloads in well_formed.items():
        port = 85 if name == "milesight-ws558.js" else 1
        for _ in range(120):
            p = rng.choice(payloads)
            roll = rng.random()
            if roll < 0.3:
                p = p[: rng.randrange(0, len(p) + 1)]
            elif roll < 0.5:
                p = bytes(b ^ (1 << rng.randrange(8)) if rng.random() < 0.2 else b for b in p)
            elif roll < 0.6:
                p = rng.randbytes(rng.randrange(0, 30))
            calls.append(uplink(name, port, p))
    ours = quickjs_answers(scripts, calls)
    assert_same(calls, ours, node_answers(scripts, calls))
    assert sum(1 for a in ours if "answer" in a and a["answer"]["data"]) > 150  # most decode to data
