"""Write small repositories of our own in the LoRaWAN device repository format (the layout of
TheThingsNetwork/lorawan-devices, described in lora_city/codec/catalogue/repository.py). Nothing of that
repository is copied here: vendors, devices, scripts and examples are made up for the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def _dump(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


class DeviceRepo:
    """``vendor()``, ``profile()``, ``codec()``, ``device()`` write their files; ``save()`` writes the indexes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.vendors: list[dict[str, Any]] = []
        self.devices: dict[str, list[str]] = {}

    def vendor(self, vendor: str, name: str, vendor_id: int | None = None, **extra: Any) -> DeviceRepo:
        entry: dict[str, Any] = {"id": vendor, "name": name, **extra}
        if vendor_id is not None:
            entry["vendorID"] = vendor_id
        self.vendors.append(entry)
        self.devices.setdefault(vendor, [])
        return self

    def profile(self, vendor: str, profile: str, *, vendor_profile_id: int | None = None, mac: str = "1.0.3",
                regional: str = "RP001-1.0.3-RevA", join: bool = True, class_b: bool = False,
                class_c: bool = False, max_eirp: int = 16) -> str:
        doc: dict[str, Any] = {"supportsClassB": class_b, "supportsClassC": class_c, "macVersion": mac,
                               "regionalParametersVersion": regional, "supportsJoin": join, "maxEIRP": max_eirp,
                               "supports32bitFCnt": True}
        if vendor_profile_id is not None:
            doc = {"vendorProfileID": vendor_profile_id, **doc}
        _dump(self.root / "vendor" / vendor / f"{profile}.yaml", doc)
        return profile

    def script(self, vendor: str, file: str, source: str) -> str:
        path = self.root / "vendor" / vendor / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        return file

    def codec(self, vendor: str, codec: str, *, uplink: str | None = None, uplink_examples: list[Any] = (),  # type: ignore[assignment]
              encoder: str | None = None, encoder_examples: list[Any] = (),  # type: ignore[assignment]
              decoder: str | None = None, decoder_examples: list[Any] = ()) -> str:  # type: ignore[assignment]
        doc: dict[str, Any] = {}
        for key, file, examples in (("uplinkDecoder", uplink, uplink_examples),
                                    ("downlinkEncoder", encoder, encoder_examples),
                                    ("downlinkDecoder", decoder, decoder_examples)):
            if file is not None:
                doc[key] = {"fileName": file, **({"examples": list(examples)} if examples else {})}
        _dump(self.root / "vendor" / vendor / f"{codec}.yaml", doc)
        return codec

    def device(self, vendor: str, device: str, name: str, *, firmware: list[tuple[str, dict[str, tuple[str, str | None]]]],
               sensors: list[str] = (), description: str = "") -> str:  # type: ignore[assignment]
        """``firmware``: [(version, {region: (profile, codec)})]."""
        doc = {
            "name": name, "description": description or f"{name}, a test device",
            "hardwareVersions": [{"version": "1.0", "numeric": 1}],
            "firmwareVersions": [
                {"version": version, "numeric": i + 1, "hardwareVersions": ["1.0"],
                 "profiles": {region: {"id": profile, "lorawanCertified": True, **({"codec": codec} if codec else {})}
                              for region, (profile, codec) in regions.items()}}
                for i, (version, regions) in enumerate(firmware)
            ],
            "sensors": list(sensors),
        }
        _dump(self.root / "vendor" / vendor / f"{device}.yaml", doc)
        if device not in self.devices.setdefault(vendor, []):
            self.devices[vendor].append(device)
        return device

    def save(self) -> Path:
        _dump(self.root / "vendor" / "index.yaml", {"vendors": self.vendors})
        for vendor, devices in self.devices.items():
            if devices:
                _dump(self.root / "vendor" / vendor / "index.yaml", {"endDevices": devices})
        return self.root


# A made-up water meter: index in litres (4 bytes LE), a leak flag and battery in 10 mV.
METER_JS = """
function decodeUplink(input) {
  var b = input.bytes;
  if (input.fPort !== 1) return { errors: ["unknown fPort " + input.fPort] };
  if (b.length < 7) return { errors: ["payload too short"] };
  return { data: { index_l: (b[0] | b[1] << 8 | b[2] << 16) + b[3] * 16777216, leak: (b[4] & 1) === 1,
                   battery_v: ((b[5] << 8) | b[6]) / 100 } };
}
function encodeDownlink(input) {
  if (typeof input.data.interval_min !== "number") return { errors: ["interval_min is required"] };
  return { bytes: [0x01, input.data.interval_min & 0xff], fPort: 2 };
}
function decodeDownlink(input) { return { data: { interval_min: input.bytes[1] } }; }
"""

METER_EXAMPLES = [
    {"description": "Index 1000 l, no leak, 3.6 V", "input": {"fPort": 1, "bytes": [0xE8, 0x03, 0, 0, 0, 0x01, 0x68]},
     "output": {"data": {"index_l": 1000, "leak": False, "battery_v": 3.6}}},
    {"description": "Wrong port", "input": {"fPort": 9, "bytes": [0]}, "output": {"errors": ["unknown fPort 9"]}},
]


def sample_repository(root: Path) -> DeviceRepo:
    """Two vendors, a water meter with two firmware versions, a level sensor sharing its vendor's region profile
    with a lamp controller, and a codec whose documented example is wrong."""
    repo = DeviceRepo(root)
    repo.vendor("aquameter", "Aqua Meters SA", 0x0A11).vendor("citylevel", "City Level GmbH", 0x0B22)
    repo.vendor("draft-co", "Draft Company", 999, draft=True)
    repo.profile("aquameter", "meter-profile-eu868", vendor_profile_id=7, mac="1.0.4", regional="RP002-1.0.1")
    repo.script("aquameter", "meter.js", METER_JS)
    repo.codec("aquameter", "meter-codec", uplink="meter.js", uplink_examples=METER_EXAMPLES, encoder="meter.js",
               encoder_examples=[{"description": "Every 15 min", "input": {"data": {"interval_min": 15}},
                                  "output": {"bytes": [1, 15], "fPort": 2}}],
               decoder="meter.js",
               decoder_examples=[{"input": {"fPort": 2, "bytes": [1, 30]}, "output": {"data": {"interval_min": 30}}}])
    repo.device("aquameter", "am-100", "AM-100 Water Meter", sensors=["water", "battery"],
                firmware=[("1.0", {"EU863-870": ("meter-profile-eu868", "meter-codec")}),
                          ("1.2", {"EU863-870": ("meter-profile-eu868", "meter-codec"),
                                   "US902-928": ("meter-profile-eu868", "meter-codec")})])
    repo.profile("citylevel", "profile-eu868", vendor_profile_id=1, mac="1.0.2", regional="RP001-1.0.2-RevB")
    repo.profile("citylevel", "lamp-profile-eu868", vendor_profile_id=2, mac="1.0.3", class_c=True)
    repo.script("citylevel", "level.js", "function decodeUplink(input) {\n"
                "  return { data: { distance_mm: (input.bytes[0] << 8) | input.bytes[1] } };\n}\n")
    repo.codec("citylevel", "level-codec", uplink="level.js", uplink_examples=[
        {"description": "1234 mm", "input": {"fPort": 1, "bytes": [0x04, 0xD2]}, "output": {"data": {"distance_mm": 1234}}},
        {"description": "Documented wrong", "input": {"fPort": 1, "bytes": [0x00, 0x10]},
         "output": {"data": {"distance_mm": 15}}},
    ])
    repo.script("citylevel", "lamp.js", "function decodeUplink(input) { return { data: { on: input.bytes[0] === 1 } }; }\n"
                "function encodeDownlink(input) { return { bytes: [input.data.on ? 1 : 0], fPort: 10 }; }\n")
    repo.codec("citylevel", "lamp-codec", uplink="lamp.js", encoder="lamp.js")
    repo.device("citylevel", "cl-level", "CL Level Radar", sensors=["distance", "level"],
                firmware=[("2.0", {"EU863-870": ("profile-eu868", "level-codec")})])
    repo.device("citylevel", "cl-lamp", "CL Lamp Controller", sensors=["power"],
                firmware=[("3.1", {"EU863-870": ("lamp-profile-eu868", "lamp-codec")})])
    repo.device("citylevel", "cl-gauge", "CL Gauge", sensors=["level"],
                firmware=[("1.0", {"EU863-870": ("profile-eu868", "level-codec")})])
    return repo


def generated_repository(root: Path, codecs: int, *, per_vendor: int = 25, variant: int = 0) -> DeviceRepo:
    """A repository of ``codecs`` models, each with its own codec (a sensor-table decoder of realistic size with
    its own scale), two documented examples and an encoder, over vendors of ``per_vendor`` models: the size of the
    public repository's catalogue for the import benchmark. ``variant`` changes every script (a re-import that
    updates all)."""
    template = (Path(__file__).resolve().parents[1] / "unit" / "codec" / "corpus" / "sensor-table.js").read_text()
    repo = DeviceRepo(root)
    for v in range((codecs + per_vendor - 1) // per_vendor):
        vendor = f"vendor-{v:03d}"
        repo.vendor(vendor, f"Vendor {v:03d} Ltd", 0x1000 + v)
        repo.profile(vendor, "profile-eu868", vendor_profile_id=1, mac="1.0.3")
        for m in range(per_vendor):
            n = v * per_vendor + m
            if n >= codecs:
                break
            scale = 1000 + n + variant
            script = template.replace("return x[0] / 1000;", f"return x[0] / {scale};") + (
                "\nfunction encodeDownlink(input) { return { bytes: [1, input.data.period & 255], fPort: 1 }; }\n")
            file = repo.script(vendor, f"model-{m:02d}.js", script)
            battery = 0x0B8F / scale
            examples = [
                {"description": "battery only", "input": {"fPort": 1, "bytes": [2, 1, 0xA5, 0, 8, 0x0B, 0x8F]},
                 "output": {"data": {"protocol_version": 2, "device_id": 421, "battery_voltage": {
                     "displayName": "Battery voltage", "value": battery, "unit": "V"}}}},
                {"description": "wrong version", "input": {"fPort": 1, "bytes": [3, 1, 0xA5, 0, 8, 0x0B, 0x8F]},
                 "output": {"errors": ["protocol version 3 doesn't match v2"]}},
            ]
            codec = repo.codec(vendor, f"model-{m:02d}-codec", uplink=file, uplink_examples=examples, encoder=file,
                               encoder_examples=[{"input": {"data": {"period": 10}},
                                                  "output": {"bytes": [1, 10], "fPort": 1}}])
            repo.device(vendor, f"model-{m:02d}", f"Model {n:03d}", sensors=["temperature", "battery"],
                        firmware=[("1.0", {"EU863-870": ("profile-eu868", codec)})])
    return repo
