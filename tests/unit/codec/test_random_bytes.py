"""Random bytes into every native codec under codecs/ never raise: each call gives a well-formed result
(``errors`` for nonsense). Calls the codec module directly, so the runtime's own catch cannot hide a raise."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from lora_city.codec.js import JsLimits
from lora_city.codec.loader import CodecInfo, load_folder
from lora_city.codec.runtime import NotSupported, PythonCodec, uplink_result
from tests.unit.codec.support import codec_folders, read_examples

PAYLOADS_PER_CODEC = 1500


@cache
def _load(folder: Path) -> CodecInfo:
    return load_folder(folder, JsLimits())


def _native(folder: Path) -> bool:
    return (folder / "codec.py").is_file()


def _ports(info: CodecInfo, folder: Path) -> list[int]:
    ports = set(info.manifest.f_ports) | {
        e["f_port"] for e in read_examples(folder) if isinstance(e.get("f_port"), int)
    }
    return sorted(ports | {1, 2, 224})


def _mutations(rng: random.Random, seeds: list[bytes]) -> bytes:
    """Pure noise, or a real example payload cut, extended or with flipped bytes (reaches deeper branches)."""
    if not seeds or rng.random() < 0.4:
        return rng.randbytes(rng.randrange(0, 64))
    payload = bytearray(rng.choice(seeds))
    for _ in range(rng.randrange(1, 4)):
        action = rng.randrange(3)
        if action == 0 and payload:
            payload[rng.randrange(len(payload))] = rng.randrange(256)
        elif action == 1:
            del payload[rng.randrange(len(payload) + 1) :]
        else:
            payload += rng.randbytes(rng.randrange(1, 8))
    return bytes(payload)


def _well_formed(raw: Any, info: CodecInfo) -> None:
    assert isinstance(raw, dict), raw
    result = uplink_result(raw, info.mappings)
    assert result.errors or isinstance(result.data, dict)
    assert all(isinstance(m, str) for m in result.errors + result.warnings)


@pytest.mark.parametrize("folder", [f for f in codec_folders() if _native(f)], ids=lambda p: p.name)
def test_random_bytes_never_raise(folder: Path) -> None:
    info = _load(folder)
    assert isinstance(info.runtime, PythonCodec)
    rng = random.Random(folder.name)
    seeds = [
        bytes.fromhex(e["bytes_hex"]) for e in read_examples(folder) if isinstance(e.get("bytes_hex"), str)
    ]
    ports = _ports(info, folder)
    for _ in range(PAYLOADS_PER_CODEC):
        payload, f_port = _mutations(rng, seeds), rng.choice(ports)
        try:
            _well_formed(info.runtime.decode_uplink(f_port, payload, None), info)
            try:
                raw = info.runtime.decode_downlink(f_port, payload)
            except NotSupported:  # the codec has no downlink decoder: nothing to fuzz
                continue
            _well_formed(raw, info)
        except Exception as exc:  # report which payload broke it, then fail
            pytest.fail(f"{folder.name} raised on fPort {f_port} payload {payload.hex()}: {exc!r}")
