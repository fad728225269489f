"""Math.pow, exp, log, log2 and log10 give node's doubles to the last bit (QuickJS's C library differs in a few
percent of arguments: Math.pow(10, -5) is 0.000009999999999999999 in node, 0.00001 in QuickJS), compared with node
in the same run on arguments decoders meet: scale factors, sensor ranges, powers of ten, tiny and huge values."""

from __future__ import annotations

import math
import random
import struct

from lora_city.codec.js import JsCodec
from lora_city.codec.runtime import run_decode_uplink
from tests.unit.codec.node_oracle import assert_same, corpus, node_answers, quickjs_answers, uplink

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 10.0, 1e-300, 5e-324, 1e300, 1.7976931348623157e308, float("inf"),
           float("-inf"), float("nan"), math.e, math.pi, 0.1, 709.78, -745.2, 710.0, -746.0, 1 - 2**-53, 1 + 2**-52]


def _payload(values: list[float]) -> bytes:
    return b"".join(struct.pack(">d", v) for v in values)


def _arguments(rng: random.Random, n: int) -> list[float]:
    out = list(SPECIAL)
    for i in range(n):
        kind = i % 6
        if kind == 0:
            out.append(rng.uniform(-20, 20))
        elif kind == 1:
            out.append(rng.uniform(0, 2))
        elif kind == 2:
            out.append(rng.uniform(0, 100000))
        elif kind == 3:
            out.append(10 ** rng.uniform(-300, 300))
        elif kind == 4:
            out.append(rng.uniform(-745, 709))
        else:
            out.append(struct.unpack(">d", rng.randbytes(8))[0])
    return out


def _pairs(rng: random.Random, n: int) -> list[float]:
    out: list[float] = []
    specials = [(10.0, -5.0), (10.0, 21.0), (10.0, -2.0), (2.0, 0.5), (-8.0, 1 / 3), (-2.0, 3.0), (-0.0, -3.0),
                (1.0, float("inf")), (-1.0, float("nan")), (0.0, 0.0), (2.0, -1074.0), (2.0, 1023.0), (2.0, 1024.0),
                (1.0000001, 1e10), (0.9999999, -1e10), (float("inf"), -0.5), (-float("inf"), 3.0), (1e-310, 0.5)]
    for x, y in specials:
        out += [x, y]
    for i in range(n):
        kind = i % 5
        if kind == 0:
            out += [10.0, float(rng.randrange(-30, 30))]  # x * Math.pow(10, -decimals)
        elif kind == 1:
            out += [rng.uniform(0, 100), rng.uniform(-20, 20)]
        elif kind == 2:
            out += [-rng.uniform(0, 10), float(rng.randrange(-40, 40))]
        elif kind == 3:
            out += [rng.uniform(0, 2), rng.uniform(-2000, 2000)]
        else:
            out += [2.0, float(rng.randrange(-1080, 1030))]
    return out


def test_math_functions_give_node_s_doubles() -> None:
    rng = random.Random(2024)
    xs, ps = _arguments(rng, 6000), _pairs(rng, 6000)
    calls = [uplink("math.js", 1, _payload(xs[i:i + 30])) for i in range(0, len(xs), 30)]
    calls += [uplink("math.js", 2, _payload(ps[i:i + 60])) for i in range(0, len(ps), 60)]
    scripts = corpus("math.js")
    assert_same(calls, quickjs_answers(scripts, calls), node_answers(scripts, calls))


def test_the_issue_s_example() -> None:
    source = "function decodeUplink(i) { return { data: { v: 12345 * Math.pow(10, -5), p: Math.pow(10, -5) } }; }"
    result = run_decode_uplink(JsCodec.from_source(source, "pow"), 1, b"")
    assert result.data == {"v": 0.12344999999999999, "p": 0.000009999999999999999}
