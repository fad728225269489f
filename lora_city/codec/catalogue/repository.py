"""Read a checkout in the LoRaWAN device repository format (the layout of TheThingsNetwork/lorawan-devices).

    vendor/index.yaml                  vendors: [{id, name, vendorID, website, draft}]
    vendor/<vendor>/index.yaml         endDevices: [<device>, ...]
    vendor/<vendor>/<device>.yaml      name, description, sensors, hardwareVersions,
                                       firmwareVersions: [{version, numeric, hardwareVersions,
                                                           profiles: {<region>: {id, codec, lorawanCertified}}}]
    vendor/<vendor>/<profile>.yaml     vendorProfileID, macVersion, regionalParametersVersion, supportsJoin,
                                       supportsClassB, supportsClassC, maxEIRP, ...
    vendor/<vendor>/<codec>.yaml       uplinkDecoder / downlinkEncoder / downlinkDecoder: {fileName, examples}
    vendor/<vendor>/<file>.js          the scripts, run unmodified

Nothing here raises for one bad file: each problem is recorded with the file it concerns and the rest is read,
so a repository of hundreds of vendors imports what it can and says what it could not.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROLES = ("uplink", "downlink_encoder", "downlink_decoder")
_ROLE_KEYS = {"uplink": "uplinkDecoder", "downlink_encoder": "downlinkEncoder", "downlink_decoder": "downlinkDecoder"}
_IDENTIFIER = re.compile(r"^[a-z0-9](?:-?[a-z0-9]){1,}$")  # the format's identifier (schema: 3+ chars, max 36)
_LOCAL_FILE = re.compile(r"^(?:[a-z0-9-]+/)*(?:[A-Za-z0-9_-]+\.)+[A-Za-z0-9]+$")


class _Loader(yaml.SafeLoader):
    """YAML read as the repository's own tools read it (js-yaml, YAML 1.2 core schema), not as PyYAML's YAML 1.1:
    ``on``/``off``/``yes``/``no`` stay text (Milesight's decoders answer ``switch_1: "on"``), ``00012074`` is
    12074 (not octal), ``1:20`` is text (not sexagesimal), and ``time: 2024-01-02`` stays the text a decoder
    returns (js-yaml would make a Date no decoder can equal)."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                                r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _yaml12_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _yaml12_int)


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # the file, relative to the repository
    message: str


@dataclass(frozen=True, slots=True)
class Vendor:
    id: str
    name: str
    vendor_id: int | None  # TR005 VendorID
    website: str | None


@dataclass(frozen=True, slots=True)
class ProfileRef:
    profile: str  # "vendor/profile-id"
    codec: str | None  # "vendor/codec-id"
    lorawan_certified: bool


@dataclass(frozen=True, slots=True)
class Firmware:
    version: str
    numeric: int | None
    hardware_versions: list[str]
    profiles: dict[str, ProfileRef]  # by region, e.g. "EU863-870"


@dataclass(slots=True)
class Model:
    id: str  # "vendor/device"
    vendor: str
    name: str
    description: str
    sensors: list[str]
    hardware: list[dict[str, Any]]
    firmware: list[Firmware]
    product_url: str | None
    datasheet_url: str | None


@dataclass(frozen=True, slots=True)
class Profile:
    id: str  # "vendor/profile-id"
    vendor: str
    vendor_profile_id: int | None
    mac_version: str
    regional_parameters_version: str
    supports_join: bool
    supports_class_b: bool
    supports_class_c: bool
    max_eirp: int | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Script:
    file: str  # relative to the vendor folder
    source: str
    sha256: str


@dataclass(slots=True)
class CodecDef:
    id: str  # "vendor/codec-id"
    vendor: str
    scripts: dict[str, Script]  # by role: uplink, downlink_encoder, downlink_decoder
    examples: dict[str, list[dict[str, Any]]]  # by role, as documented
    missing: list[str] = field(default_factory=list)  # script files named but not found or unreadable

    @property
    def content_hash(self) -> str:
        """What makes a new version: the scripts' content per role (examples only document)."""
        parts = {role: script.sha256 for role, script in sorted(self.scripts.items())}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(slots=True)
class Repository:
    root: Path
    vendors: dict[str, Vendor] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    codecs: dict[str, CodecDef] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _read_yaml(repo: Repository, path: Path) -> Any:
    where = str(path.relative_to(repo.root))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        repo.problems.append(Problem(where, "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        repo.problems.append(Problem(where, f"cannot read: {exc}"))
        return None
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        repo.problems.append(Problem(where, f"invalid YAML: {' '.join(str(exc).split())}"))
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_repository(root: Path) -> Repository:
    """Every non-draft vendor, the devices its index lists, and the profiles and codecs they name."""
    root = root.resolve()
    repo = Repository(root)
    index = _read_yaml(repo, root / "vendor" / "index.yaml")
    if not isinstance(index, dict) or not isinstance(index.get("vendors"), list):
        if index is not None:
            repo.problems.append(Problem("vendor/index.yaml", "no 'vendors' list"))
        return repo
    for entry in index["vendors"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or entry.get("draft"):
            continue
        vendor_id = entry["id"]
        if not _IDENTIFIER.match(vendor_id) or len(vendor_id) > 36:
            repo.problems.append(Problem("vendor/index.yaml", f"vendor id {vendor_id!r} is not an identifier"))
            continue
        repo.vendors[vendor_id] = Vendor(vendor_id, str(entry.get("name") or vendor_id),
                                         _int(entry.get("vendorID")), _str(entry.get("website")))
    for vendor in list(repo.vendors.values()):
        folder = root / "vendor" / vendor.id
        if not (folder / "index.yaml").is_file():
            continue  # a vendor with an id and no devices (most of the LoRa Alliance list)
        devices = _read_yaml(repo, folder / "index.yaml")
        names = devices.get("endDevices") if isinstance(devices, dict) else None
        if not isinstance(names, list):
            if devices is not None:
                repo.problems.append(Problem(f"vendor/{vendor.id}/index.yaml", "no 'endDevices' list"))
            continue
        for name in names:
            if isinstance(name, str) and _IDENTIFIER.match(name):
                _read_model(repo, vendor.id, name)
            else:
                repo.problems.append(Problem(f"vendor/{vendor.id}/index.yaml", f"bad device entry {name!r}"))
    return repo


def _read_model(repo: Repository, vendor: str, device: str) -> None:
    where = f"vendor/{vendor}/{device}.yaml"
    doc = _read_yaml(repo, repo.root / where)
    if doc is None:
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        repo.problems.append(Problem(where, "a device needs a name"))
        return
    firmware: list[Firmware] = []
    for fw in doc.get("firmwareVersions") or []:
        if not isinstance(fw, dict) or fw.get("version") is None:
            repo.problems.append(Problem(where, "a firmware version without 'version'"))
            continue
        profiles: dict[str, ProfileRef] = {}
        for region, ref in (fw.get("profiles") or {}).items():
            if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
                repo.problems.append(Problem(where, f"firmware {fw['version']}: profile for {region} has no id"))
                continue
            # A profile or codec may live in another vendor's folder (a module maker's profile).
            other = ref.get("vendorID")
            owner: str = other if isinstance(other, str) else vendor
            profile = _read_profile(repo, owner, ref["id"])
            codec_name = ref.get("codec")
            codec = _read_codec(repo, owner, codec_name) if isinstance(codec_name, str) else None
            if profile is not None:
                profiles[str(region)] = ProfileRef(profile, codec, bool(ref.get("lorawanCertified", False)))
        firmware.append(Firmware(str(fw["version"]), _int(fw.get("numeric")),
                                 [str(h) for h in fw.get("hardwareVersions") or []], profiles))
    hardware = [h for h in doc.get("hardwareVersions") or [] if isinstance(h, dict)]
    sensors = [str(s) for s in doc.get("sensors") or []]
    repo.models[f"{vendor}/{device}"] = Model(
        f"{vendor}/{device}", vendor, doc["name"], str(doc.get("description") or ""), sensors, hardware, firmware,
        _str(doc.get("productURL")), _str(doc.get("dataSheetURL")),
    )


def _read_profile(repo: Repository, vendor: str, name: str) -> str | None:
    key = f"{vendor}/{name}"
    if key in repo.profiles:
        return key
    where = f"vendor/{vendor}/{name}.yaml"
    if not _IDENTIFIER.match(name):
        repo.problems.append(Problem(where, f"profile id {name!r} is not an identifier"))
        return None
    doc = _read_yaml(repo, repo.root / where)
    if not isinstance(doc, dict):
        return None
    mac = doc.get("macVersion")
    if mac is None or doc.get("regionalParametersVersion") is None:
        repo.problems.append(Problem(where, "a profile needs macVersion and regionalParametersVersion"))
        return None
    repo.profiles[key] = Profile(
        key, vendor, _int(doc.get("vendorProfileID")), str(mac), str(doc["regionalParametersVersion"]),
        bool(doc.get("supportsJoin", True)), bool(doc.get("supportsClassB", False)),
        bool(doc.get("supportsClassC", False)), _int(doc.get("maxEIRP")), _plain(doc),
    )
    return key


def _read_codec(repo: Repository, vendor: str, name: str) -> str | None:
    key = f"{vendor}/{name}"
    if key in repo.codecs:
        return key
    where = f"vendor/{vendor}/{name}.yaml"
    if not _IDENTIFIER.match(name):
        repo.problems.append(Problem(where, f"codec id {name!r} is not an identifier"))
        return None
    doc = _read_yaml(repo, repo.root / where)
    if not isinstance(doc, dict):
        return None
    codec = CodecDef(key, vendor, {}, {})
    for role, yaml_key in _ROLE_KEYS.items():
        part = doc.get(yaml_key)
        if not isinstance(part, dict):
            continue
        examples = [e for e in part.get("examples") or [] if isinstance(e, dict)]
        codec.examples[role] = _plain(examples)
        file = part.get("fileName")
        if not isinstance(file, str) or not _LOCAL_FILE.match(file):
            codec.missing.append(f"{yaml_key}: bad fileName {file!r}")
            continue
        script = _read_script(repo, vendor, file)
        if script is None:
            codec.missing.append(f"{yaml_key}: {file} not found or unreadable")
        else:
            codec.scripts[role] = script
    if not codec.scripts and not codec.missing:
        repo.problems.append(Problem(where, "no uplinkDecoder, downlinkEncoder or downlinkDecoder"))
        return None
    repo.codecs[key] = codec
    return key



def _read_script(repo: Repository, vendor: str, file: str) -> Script | None:
    folder = (repo.root / "vendor" / vendor).resolve()
    path = (folder / file).resolve()
    if not path.is_relative_to(folder):  # the pattern forbids "..": belt and braces
        return None
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return Script(file, source, hashlib.sha256(source.encode("utf-8")).hexdigest())


def _plain(value: Any) -> Any:
    """YAML values as JSON would carry them (keys as strings; the documents go into JSON columns)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return list(value)
    return value
