"""TR005 QR codes find the project's codecs by ProfileID (``VVVVPPPP``), and a ProfileID a vendor gives to many of
its models finds none instead of an arbitrary one. Profile IDs come from TheThingsNetwork/lorawan-devices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import ConfigurationError
from lora_city.lorawan.tr005 import QRCode, parse_qr
from tests.unit.codec.support import CODECS

JOIN_EUI, DEV_EUI = "70b3d57ed0000000", "647fda0000001234"


@pytest.fixture(scope="module")
def registry() -> CodecRegistry:
    return CodecRegistry.load(CODECS, entry_points=False)


def scan(registry: CodecRegistry, profile_id: str) -> tuple[str | None, list[str]]:
    """What onboarding does with a scanned QR: parse it, then look its ProfileID up."""
    text = QRCode(JOIN_EUI, DEV_EUI, profile_id, serial_number="SN1").to_string(with_checksum=True)
    qr = parse_qr(text)
    assert qr.checksum_valid is True and qr.profile_id == profile_id.lower()
    found = registry.find_by_profile(qr.vendor_id, qr.vendor_profile_id)
    candidates = registry.codecs_for_profile(qr.vendor_id, qr.vendor_profile_id)
    return (found.id if found else None), [c.id for c in candidates]


@pytest.mark.parametrize(
    ("profile_id", "codec_id"),
    [
        ("019F0025", "tektelic-ac-switch"),  # Tektelic 415, t000589x-915-profile vendorProfileID 37
        ("03380003", "mclimate-flood-sensor"),  # MClimate 824, flood-sensor-profile 3
        ("02100000", "bmeters-iwm-lr3"),  # B Meters 528, iwmlr3-profile-868 0
        ("01da0001", "zenner-edc"),  # Minol ZENNER 474, edc-communication-module-profile 1
        ("00100005", "adeunis-pulse"),  # Adeunis 16, pulse-profile-eu868 5
    ],
)
def test_a_model_specific_profile_finds_its_codec(
    registry: CodecRegistry, profile_id: str, codec_id: str
) -> None:
    assert scan(registry, profile_id) == (codec_id, [codec_id])


def test_a_region_profile_shared_by_every_model_finds_no_codec_but_lists_candidates(
    registry: CodecRegistry,
) -> None:
    # Milesight (601 = 0x0259) gives profile-eu868 (vendorProfileID 3) to the WS558 and every EM sensor alike.
    found, candidates = scan(registry, "02590003")
    assert found is None
    assert {"milesight-ws558", "milesight-em300-di", "milesight-em310-udl"} <= set(candidates)
    assert all(c.startswith("milesight-") for c in candidates)
    # Adeunis' default profile (0) is the Pulse 4's and other Adeunis models': shared even with one candidate.
    assert scan(registry, "00100000") == (None, ["adeunis-pulse"])


def test_unknown_profiles_find_nothing(registry: CodecRegistry) -> None:
    assert scan(registry, "019F0026") == (None, [])  # Tektelic, another profile
    assert scan(registry, "FFFF0001") == (None, [])  # unknown vendor


def _codec(root: Path, codec_id: str, **manifest: object) -> None:
    folder = root / codec_id
    folder.mkdir()
    base = {"id": codec_id, "vendor": "Acme", "model": codec_id, "family": "other", **manifest}
    (folder / "manifest.json").write_text(json.dumps(base))
    (folder / "codec.py").write_text("def decode_uplink(f_port, payload):\n    return {'data': {}}\n")


def test_a_profile_two_codecs_claim_is_ambiguous(tmp_path: Path) -> None:
    _codec(tmp_path, "acme-a", lora_alliance_vendor_id="02a4", vendor_profile_ids=["0001", "0002"])
    _codec(tmp_path, "acme-b", lora_alliance_vendor_id="0x02A4", vendor_profile_ids=["1"])
    _codec(tmp_path, "acme-c", lora_alliance_vendor_id="02a4", shared_vendor_profile_ids=["0002"])
    registry = CodecRegistry.load(tmp_path, entry_points=False)
    assert registry.find_by_profile("02a4", "0001") is None
    assert [c.id for c in registry.codecs_for_profile("02A4", "0x0001")] == ["acme-a", "acme-b"]
    # Own for one codec, shared for another: still ambiguous.
    assert registry.find_by_profile("02a4", "0002") is None
    assert [c.id for c in registry.codecs_for_profile("02a4", "0002")] == ["acme-a", "acme-c"]


@pytest.mark.parametrize("bad", [{"vendor_profile_ids": ["00012"]}, {"shared_vendor_profile_ids": ["zz"]},
                                 {"lora_alliance_vendor_id": "Dragino"}])  # fmt: skip
def test_profile_ids_must_be_hex(tmp_path: Path, bad: dict[str, object]) -> None:
    _codec(tmp_path, "acme-a", **bad)
    with pytest.raises(ConfigurationError, match="hex digits"):
        CodecRegistry.load(tmp_path, entry_points=False)
