"""Run a codec's documented examples (the ``examples`` of the repository's codec YAML) and say, for each, whether
the script gives the documented output, and if not, where it differs.

Equality is JSON's: numbers by value (the YAML's ``1`` equals a decoder's ``1.0``), everything else exactly, and
a key the documentation has that the answer lacks (or the reverse) is a difference. Errors are compared always
(absent means none); warnings only when the example documents them (a console.warn the example does not mention
does not fail it).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from lora_city.codec.catalogue.runtime import CatalogueRuntime
from lora_city.codec.runtime import CodecFailure
from lora_city.errors import ConfigurationError

MAX_DIFFERENCES = 10
EXAMPLE_TIME = datetime(2024, 1, 1, tzinfo=UTC)  # recvTime when an example gives none: reproducible


@dataclass(slots=True)
class ExampleResult:
    role: str
    description: str
    passed: bool
    differences: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CodecCheck:
    """What the import found: scripts that did not load, and each example's result."""

    load_errors: list[str] = field(default_factory=list)
    results: list[ExampleResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]

    def as_report(self) -> dict[str, Any]:
        return {
            "loaded": not self.load_errors,
            "load_errors": self.load_errors,
            "examples": len(self.results),
            "passed": self.passed,
            "failed": [asdict(r) for r in self.failed],
        }


def check_codec(runtime: CatalogueRuntime, roles: list[str], examples: dict[str, list[dict[str, Any]]],
                missing: list[str]) -> CodecCheck:
    check = CodecCheck(load_errors=list(missing))
    for role in roles:
        try:
            runtime.codec(role)
        except ConfigurationError as exc:
            check.load_errors.append(f"{role}: {exc.message}")
    for role, items in examples.items():
        for i, example in enumerate(items):
            description = str(example.get("description") or f"{role} example {i + 1}")
            check.results.append(_run(runtime, role, description, example))
    return check


def _answer(runtime: CatalogueRuntime, role: str, given: dict[str, Any]) -> Any:
    try:
        if role == "downlink_encoder":
            return runtime.encode_downlink(_object(given.get("data")), int(given.get("fPort") or 1))
        payload = bytes(int(b) & 0xFF for b in given.get("bytes") or [])
        f_port = int(given.get("fPort") or 1)
        if role == "downlink_decoder":
            return runtime.decode_downlink(f_port, payload)
        return runtime.decode_uplink(f_port, payload, _recv_time(given.get("recvTime")))
    except (CodecFailure, ConfigurationError) as exc:
        return {"errors": [str(exc)]}


def _recv_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return EXAMPLE_TIME


def _run(runtime: CatalogueRuntime, role: str, description: str, example: dict[str, Any]) -> ExampleResult:
    given = _object(example.get("input"))
    expected = _object(example.get("output"))
    answer = _answer(runtime, role, given)
    if not isinstance(answer, dict):
        return ExampleResult(role, description, False, [f"answer: expected an object, got {_show(answer)}"])
    differences: list[str] = []
    if role == "downlink_encoder":
        _compare(answer.get("bytes"), expected.get("bytes"), "bytes", differences)
        if "fPort" in expected:
            _compare(answer.get("fPort"), expected.get("fPort"), "fPort", differences)
    elif "data" in expected or answer.get("data") is not None:
        _compare(answer.get("data"), expected.get("data"), "data", differences)
    _compare(answer.get("errors") or [], expected.get("errors") or [], "errors", differences)
    if "warnings" in expected:
        _compare(answer.get("warnings") or [], expected.get("warnings") or [], "warnings", differences)
    return ExampleResult(role, description, not differences, differences[:MAX_DIFFERENCES])


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(actual: Any, expected: Any, where: str, out: list[str]) -> None:
    if len(out) >= MAX_DIFFERENCES:
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                out.append(f"{where}.{key}: missing (expected {_show(expected[key])})")
            else:
                _compare(actual[key], expected[key], f"{where}.{key}", out)
        for key in actual:
            if key not in expected:
                out.append(f"{where}.{key}: not in the documented output (got {_show(actual[key])})")
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(actual) != len(expected):
            out.append(f"{where}: expected {len(expected)} items, got {len(actual)}: {_show(actual)}")
            return
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _compare(a, e, f"{where}[{i}]", out)
    elif _is_number(expected) and _is_number(actual):
        same = actual == expected or (math.isnan(actual) and math.isnan(expected))
        if not same:
            out.append(f"{where}: expected {_show(expected)}, got {_show(actual)}")
    elif not (type(actual) is type(expected) and actual == expected):
        out.append(f"{where}: expected {_show(expected)}, got {_show(actual)}")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
