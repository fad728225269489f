"""Run the same TS013 calls through node's ``vm`` (tests/js/ts013_node.js, the outside reference) and through
lora_city's QuickJS runtime, and put both answers in one comparable shape.

The comparison is exact: both answers become JSON text (key order, integer vs float, every digit), so a last-bit
difference of a float, a reordered key or a lost answer shows. The one documented difference is applied to node's
answer before comparing: lone UTF-16 surrogates become U+FFFD with a warning (lora_city/codec/js_text.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lora_city.codec.js import JsCodec, JsCodecError, JsLimits
from lora_city.codec.js_text import surrogate_warning, well_formed
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[3]
ORACLE = ROOT / "tests" / "js" / "ts013_node.js"
CORPUS = Path(__file__).resolve().parent / "corpus"
RECV_MS = 1_861_135_436_000.0  # 2028-12-24T... a fixed reception time both sides get

Call = dict[str, Any]


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is not installed: the QuickJS runtime is compared with node in CI")
        pytest.skip("node is not installed")
    return node


def corpus(*names: str) -> dict[str, str]:
    return {name: (CORPUS / name).read_text(encoding="utf-8") for name in names}


def uplink(script: str, f_port: int, payload: bytes | Iterable[int], recv_ms: float = RECV_MS) -> Call:
    return {"script": script, "op": "decode_uplink", "fPort": f_port, "bytes": list(payload), "recvTimeMs": recv_ms}


def downlink_decode(script: str, f_port: int, payload: bytes | Iterable[int]) -> Call:
    return {"script": script, "op": "decode_downlink", "fPort": f_port, "bytes": list(payload)}


def encode(script: str, data: dict[str, Any], f_port: int = 1) -> Call:
    return {"script": script, "op": "encode_downlink", "data": data, "fPort": f_port}


def node_answers(scripts: Mapping[str, str], calls: list[Call], env: Mapping[str, str] | None = None) -> list[Any]:
    job = json.dumps({"scripts": scripts, "calls": calls})
    proc = subprocess.run(
        [node_binary(), str(ORACLE)], input=job, capture_output=True, text=True, timeout=600, check=True,
        env={**os.environ, **(env or {})},
    )
    answers = [json.loads(line) for line in proc.stdout.split("\n") if line]  # not splitlines: U+2028
    assert len(answers) == len(calls), proc.stderr
    return [_node_canon(a, c["op"]) for a, c in zip(answers, calls, strict=True)]


def quickjs_answers(scripts: Mapping[str, str], calls: list[Call], limits: JsLimits | None = None) -> list[Any]:
    codecs = {name: JsCodec.from_source(source, name, limits or JsLimits()) for name, source in scripts.items()}
    out = []
    for c in calls:
        codec = codecs[c["script"]]
        try:
            if c["op"] == "decode_uplink":
                when = datetime.fromtimestamp(c["recvTimeMs"] / 1000.0, UTC)
                raw = codec.decode_uplink(c["fPort"], bytes(c["bytes"]), when)
            elif c["op"] == "decode_downlink":
                raw = codec.decode_downlink(c["fPort"], bytes(c["bytes"]))
            else:
                raw = codec.encode_downlink(c["data"], c["fPort"])
        except JsCodecError as exc:
            message = str(exc)
            out.append({"thrown": message.removeprefix("JavaScript codec threw: ")})
            continue
        out.append(canon(raw, c["op"]))
    return out


def canon(raw: Any, op: str) -> Any:
    """The parts of an answer a host hands on, with absent lists as empty ones."""
    if not isinstance(raw, dict):
        return {"answer": raw}
    if op == "encode_downlink":
        return {"answer": {"bytes": raw.get("bytes"), "fPort": raw.get("fPort"),
                           "warnings": raw.get("warnings") or [], "errors": raw.get("errors") or []}}
    return {"answer": {"data": raw.get("data"), "warnings": raw.get("warnings") or [],
                       "errors": raw.get("errors") or []}}


def _node_canon(answer: dict[str, Any], op: str) -> Any:
    found: list[str] = []
    if "thrown" in answer:
        return {"thrown": well_formed(answer["thrown"], "data", found)}
    raw = answer["answer"]
    if isinstance(raw, dict):
        raw = {key: well_formed(item, key, found) for key, item in raw.items()}
        if found:  # the runtime's documented replacement (js_text), with its warning after the others
            raw["warnings"] = [*(raw.get("warnings") or []), surrogate_warning(found)]
    else:
        raw = well_formed(raw, "data", found)
    return canon(raw, op)


def text(answer: Any) -> str:
    return json.dumps(answer, ensure_ascii=True, allow_nan=True)


def first_difference(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two answers part, down to the leaf (a long list of texts shows the item, not the first 400 chars)."""
    if isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b):
        out: list[str] = []
        for key in a:
            out += first_difference(a[key], b[key], f"{where}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += first_difference(x, y, f"{where}[{i}]")
        return out
    if text(a) == text(b):
        return []
    return [f"  {where}: quickjs {text(a)[:300]}  node {text(b)[:300]}"]


def assert_same(calls: list[Call], ours: list[Any], node: list[Any], label: str = "") -> None:
    differences = [
        f"{c['script']} {c['op']} fPort {c.get('fPort')} {bytes(c.get('bytes', [])).hex()[:40]}:\n"
        + "\n".join(first_difference(a, b)[:8])
        for c, a, b in zip(calls, ours, node, strict=True) if text(a) != text(b)
    ]
    assert not differences, f"{label}{len(differences)} of {len(calls)} answers differ from node:\n" + "\n".join(
        differences[:10])


def quickjs_answers_in(env: Mapping[str, str], scripts: Mapping[str, str], calls: list[Call]) -> list[Any]:
    """``quickjs_answers`` in a child Python with ``env`` (a TZ the C library reads at start, as node does)."""
    job = json.dumps({"scripts": scripts, "calls": calls})
    code = ("import json, sys; from tests.unit.codec.node_oracle import quickjs_answers; "
            "job = json.load(sys.stdin); print(json.dumps(quickjs_answers(job['scripts'], job['calls'])))")
    proc = subprocess.run([sys.executable, "-c", code], input=job, capture_output=True, text=True, timeout=600,
                          check=False, cwd=ROOT, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers: list[Any] = json.loads(proc.stdout)
    return answers
