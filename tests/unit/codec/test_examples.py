"""Every example of every codec folder under codecs/: a new codec needs an examples.json, no new test code.

Each folder is loaded on its own, so one broken codec fails its own tests and not everyone else's.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from lora_city.codec.contract import UplinkResult
from lora_city.codec.js import JsLimits
from lora_city.codec.loader import CodecInfo, load_folder
from lora_city.codec.runtime import run_decode_downlink, run_decode_uplink, run_encode_downlink
from tests.unit.codec.support import codec_folders, read_examples, same

KINDS = {"uplink", "downlink_encode", "downlink_decode"}


@cache
def _load(folder: Path) -> CodecInfo:
    return load_folder(folder, JsLimits())


def _cases() -> list[Any]:
    cases = []
    for folder in codec_folders():
        for index, example in enumerate(read_examples(folder)):
            label = f"{folder.name}[{index}]"
            cases.append(pytest.param(folder, example, id=label))
    return cases


@pytest.mark.parametrize("folder", codec_folders(), ids=lambda p: p.name)
def test_codec_folder_loads_and_has_examples(folder: Path) -> None:
    info = _load(folder)
    assert info.id == folder.name
    examples = read_examples(folder)
    assert examples, f"{folder.name}: examples.json is missing or empty"
    kinds = {example.get("kind") for example in examples}
    assert kinds <= KINDS, f"{folder.name}: unknown example kinds {kinds - KINDS}"
    assert "uplink" in kinds, f"{folder.name}: needs at least one uplink example"


def _check_uplink(result: UplinkResult, example: dict[str, Any]) -> None:
    expected_errors = example.get("errors") or []
    assert result.errors == expected_errors if expected_errors else not result.errors, result.errors
    if "data" in example and not expected_errors:
        same(result.data, example["data"])
    if example.get("warnings") is not None:
        assert result.warnings == example["warnings"]
    if "measurements" in example:
        got = {m.key: m.value for m in result.measurements}
        same(got, example["measurements"], "measurements")


@pytest.mark.parametrize(("folder", "example"), _cases())
def test_codec_example(folder: Path, example: dict[str, Any]) -> None:
    info = _load(folder)
    kind = example["kind"]
    assert kind in KINDS, kind
    if kind == "uplink":
        payload = bytes.fromhex(example["bytes_hex"])
        _check_uplink(run_decode_uplink(info.runtime, example["f_port"], payload, info.mappings), example)
    elif kind == "downlink_decode":
        payload = bytes.fromhex(example["bytes_hex"])
        _check_uplink(run_decode_downlink(info.runtime, example["f_port"], payload, info.mappings), example)
    else:
        result = run_encode_downlink(info.runtime, example["data"])
        expected_errors = example.get("errors") or []
        if expected_errors:
            assert result.errors == expected_errors
            return
        assert not result.errors, result.errors
        assert result.f_port == example["f_port"]
        assert result.payload is not None and result.payload.hex() == example["bytes_hex"].lower()
        if example.get("warnings") is not None:
            assert result.warnings == example["warnings"]
