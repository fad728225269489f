"""Every device of the known-answer vectors (tests/fixtures/codec_uplinks.json, codec_downlinks.json) has a codec,
and that codec's examples.json carries every vendor example for it, so test_examples.py checks them all.

No xfail: a device whose codec is missing fails here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.codec.support import CODECS, FIXTURES, read_examples

# (vendor, device) as the vectors name them -> codec id (= folder under codecs/).
CODEC_FOR_DEVICE: dict[tuple[str, str], str] = {
    ("milesight-iot", "ws558"): "milesight-ws558",
    ("milesight-iot", "ws50x"): "milesight-ws50x",
    ("dragino", "lt22222-l"): "dragino-lt22222-l",
    ("tektelic", "t000589x-ac-switch-gen1"): "tektelic-ac-switch",
    ("milesight-iot", "em300-di"): "milesight-em300-di",
    ("netvox", "r718h"): "netvox-r718h",
    ("dragino", "sw3l"): "dragino-sw3l",
    ("aquascope", "aqs"): "aquascope-aqs",
    ("axioma", "qalcosonic-w1"): "axioma-qalcosonic-w1",
    ("adeunis", "pulse"): "adeunis-pulse",
    ("b-meters", "iwmlr3"): "bmeters-iwm-lr3",
    ("minol-zenner", "edc-communication-module"): "zenner-edc",
    ("decentlab", "dl-dlr2-002"): "decentlab-dl-dlr2-002",
    ("milesight-iot", "em310-udl"): "milesight-em310-udl",
    ("milesight-iot", "em400-udl"): "milesight-em400-udl",
    ("milesight-iot", "em500-udl"): "milesight-em500-udl",
    ("milesight-iot", "em500-swl"): "milesight-em500-swl",
    ("dragino", "ldds75"): "dragino-ldds75",
    ("dragino", "ldds20"): "dragino-ldds20",
    ("dragino", "ldds45"): "dragino-ldds45",
    ("dragino", "llms01"): "dragino-llms01",
    ("decentlab", "dl-mbx"): "decentlab-dl-mbx",
    ("decentlab", "dl-pr26"): "decentlab-dl-pr26",
    ("decentlab", "dl-pr21"): "decentlab-dl-pr21",
    ("dingtek", "df555"): "dingtek-df555",
    ("mclimate", "flood-sensor"): "mclimate-flood-sensor",
    ("aquascope", "wwd"): "aquascope-wwd",
    ("elsys", "elt-ultrasonic"): "elsys-elt-ultrasonic",
}


def _vectors(name: str) -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))["examples"]
    return examples


UPLINKS = _vectors("codec_uplinks.json")
DOWNLINKS = _vectors("codec_downlinks.json")
DEVICES = sorted({(e["vendor"], e["device"]) for e in UPLINKS + DOWNLINKS})


def _label(device: tuple[str, str]) -> str:
    return "/".join(device)


def test_the_mapping_names_exactly_the_vector_devices() -> None:
    assert set(CODEC_FOR_DEVICE) == set(DEVICES)


@pytest.mark.parametrize("device", DEVICES, ids=_label)
def test_every_vector_device_has_a_codec(device: tuple[str, str]) -> None:
    codec_id = CODEC_FOR_DEVICE[device]
    folder = CODECS / codec_id
    assert (folder / "manifest.json").is_file(), f"{_label(device)}: no codec folder codecs/{codec_id}"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["id"] == codec_id


def _has(examples: list[dict[str, Any]], kind: str, f_port: int | None, bytes_hex: str) -> bool:
    return any(
        e.get("kind") == kind
        and (f_port is None or e.get("f_port") == f_port)
        and str(e.get("bytes_hex", "")).lower() == bytes_hex
        for e in examples
    )


@pytest.mark.parametrize("device", DEVICES, ids=_label)
def test_every_vendor_example_is_in_the_codec_examples(device: tuple[str, str]) -> None:
    examples = read_examples(CODECS / CODEC_FOR_DEVICE[device])
    missing = []
    for vector in (v for v in UPLINKS if (v["vendor"], v["device"]) == device):
        if not _has(examples, "uplink", vector["fPort"], vector["bytes_hex"].lower()):
            missing.append(f"uplink fPort {vector['fPort']} {vector['bytes_hex']}")
    for vector in (v for v in DOWNLINKS if (v["vendor"], v["device"]) == device):
        if vector["kind"] == "downlinkEncoder":
            expected = bytes(vector["output"]["bytes"]).hex()
            if not _has(examples, "downlink_encode", vector["output"].get("fPort"), expected):
                missing.append(f"downlink encode -> {expected}")
        else:
            given = bytes(vector["input"]["bytes"]).hex()
            if not _has(examples, "downlink_decode", vector["input"].get("fPort"), given):
                missing.append(f"downlink decode {given}")
    assert not missing, f"{_label(device)}: examples.json lacks {missing}"
