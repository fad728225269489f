"""Loading codecs: manifests validated before import, ids equal folder names, duplicates refused, entry points,
TR005 profile lookup, measurement conversion, and a codec that misbehaves giving an error result."""

from __future__ import annotations

import json
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from lora_city.codec.loader import MODULE_PREFIX
from lora_city.codec.registry import CodecRegistry, js_limits_from
from lora_city.errors import ConfigurationError, NotFound
from tests.unit.codec.support import CODECS

CODEC_PY = """
def decode_uplink(f_port, payload):
    if f_port == 9:
        raise ZeroDivisionError("boom")
    if f_port == 8:
        return ["not", "a", "dict"]
    return {"data": {"mm": int.from_bytes(payload[:2], "big"), "lamp": "ON" if payload[2:3] == b"\\x01" else "OFF",
                     "deep": {"list": [{"w": 1500}]}, "text": "x"}}

def encode_downlink(data):
    if data.get("bad_port"):
        return {"f_port": 0, "bytes": [1]}
    if data.get("bad_byte"):
        return {"f_port": 1, "bytes": [256]}
    return {"fPort": 5, "bytes": [data["level"]]}
"""


def manifest(codec_id: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": codec_id, "vendor": "Acme", "model": "L1", "family": "streetlight"}
    base.update(extra)
    return base


def make_codec(root: Path, folder: str, man: dict[str, Any] | str, code: str = CODEC_PY) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(man if isinstance(man, str) else json.dumps(man))
    (path / "codec.py").write_text(code)
    return path


def test_the_project_codecs_load_together() -> None:
    registry = CodecRegistry.load(CODECS, entry_points=False)
    ids = [info.id for info in registry.list()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    for mine in (
        "milesight-ws558",
        "milesight-ws50x",
        "dragino-lt22222-l",
        "tektelic-ac-switch",
        "cayenne-lpp",
    ):
        assert mine in registry
    # codecs/ is loaded by path: never importable as a package, each module under its own unique name.
    assert not (CODECS / "__init__.py").exists()
    assert f"{MODULE_PREFIX}milesight_ws558" in sys.modules


def test_measurements_are_converted_to_catalogue_units(tmp_path: Path) -> None:
    mappings = [
        {"name": "distance", "path": "mm", "unit": "mm"},
        {"name": "lamp_on", "path": "lamp", "true_values": ["ON"]},
        {"name": "power", "path": "deep.list.0.w", "unit": "kW", "scale": 0.001},
        {"name": "voltage", "path": "text", "unit": "V"},
        {"name": "current", "path": "absent", "unit": "A"},
    ]
    make_codec(tmp_path, "acme-l1", manifest("acme-l1", measurements=mappings))
    result = CodecRegistry.load(tmp_path, entry_points=False).decode_uplink("acme-l1", 1, b"\x04\xd2\x01")
    assert result.ok
    got = {(m.name, m.value, m.unit) for m in result.measurements}
    assert got == {("distance", 1.234, "m"), ("lamp_on", True, None), ("power", 1500.0, "W")}
    assert result.warnings == ["measurement voltage: text is not a finite number"]


def test_a_codec_that_raises_or_returns_garbage_gives_an_error_result(tmp_path: Path) -> None:
    make_codec(tmp_path, "acme-l1", manifest("acme-l1"))
    registry = CodecRegistry.load(tmp_path, entry_points=False)
    raised = registry.decode_uplink("acme-l1", 9, b"")
    assert raised.data is None and raised.errors == ["codec failed: ZeroDivisionError: boom"]
    garbage = registry.decode_uplink("acme-l1", 8, b"")
    assert garbage.errors == ["codec returned list, not an object"]
    assert registry.decode_downlink("acme-l1", 1, b"").errors == ["this codec has no downlink decoder"]


def test_downlink_results_are_checked(tmp_path: Path) -> None:
    make_codec(tmp_path, "acme-l1", manifest("acme-l1"))
    registry = CodecRegistry.load(tmp_path, entry_points=False)
    good = registry.encode_downlink("acme-l1", {"level": 80})
    assert (good.f_port, good.payload, good.errors) == (5, b"\x50", [])
    assert registry.encode_downlink("acme-l1", {"bad_port": 1}).errors == [
        "codec returned an invalid fPort: 0"
    ]
    assert registry.encode_downlink("acme-l1", {"bad_byte": 1}).errors == [
        "codec returned bytes outside 0..255"
    ]
    assert registry.encode_downlink("acme-l1", {}).errors == ["codec failed: KeyError: 'level'"]


def test_unknown_codec_id_is_not_found(tmp_path: Path) -> None:
    registry = CodecRegistry.load(tmp_path, entry_points=False)
    with pytest.raises(NotFound):
        registry.decode_uplink("nope", 1, b"")


@pytest.mark.parametrize(
    ("folder", "man", "message"),
    [
        ("acme-l1", "{not json", "manifest.json is not valid JSON"),
        ("acme-l1", manifest("acme-l1", family="lamps"), "family"),
        ("acme-l1", {"id": "acme-l1", "vendor": "Acme"}, "model: Field required"),
        ("acme-l1", manifest("acme-l1", colour="red"), "colour: Extra inputs are not permitted"),
        ("acme-l1", manifest("Acme L1"), "id must be lowercase"),
        ("acme-l1", manifest("acme-l2"), "manifest id 'acme-l2' must equal the folder name"),
        ("acme-l1", manifest("acme-l1", measurements=[{"name": "speed", "path": "v"}]), "not in the measurement"),
        ("acme-l1", manifest("acme-l1", measurements=[{"name": "distance", "path": "d", "unit": "kg"}]),
         "does not convert"),
        ("acme-l1", manifest("acme-l1", measurements=[{"name": "distance", "path": "d"}]), "needs a unit"),
    ],
)  # fmt: skip
def test_invalid_manifests_are_configuration_errors_naming_the_folder(
    tmp_path: Path, folder: str, man: dict[str, Any] | str, message: str
) -> None:
    # The codec would raise at import: a manifest error must be found before any code runs.
    make_codec(tmp_path, folder, man, code="raise RuntimeError('imported before the manifest was checked')")
    with pytest.raises(ConfigurationError) as caught:
        CodecRegistry.load(tmp_path, entry_points=False)
    assert str(tmp_path / folder) in caught.value.message
    assert message in caught.value.message


def test_import_errors_and_missing_decoders_are_configuration_errors(tmp_path: Path) -> None:
    make_codec(tmp_path, "acme-l1", manifest("acme-l1"), code="import does_not_exist_anywhere\n")
    with pytest.raises(ConfigurationError, match="import failed: ModuleNotFoundError"):
        CodecRegistry.load(tmp_path, entry_points=False)
    other = tmp_path / "other"
    make_codec(other, "acme-l1", manifest("acme-l1"), code="def encode_downlink(data):\n    return {}\n")
    with pytest.raises(ConfigurationError, match="must define decode_uplink"):
        CodecRegistry.load(other, entry_points=False)


def test_a_duplicate_id_is_a_configuration_error(tmp_path: Path) -> None:
    # Folder names are unique on disk, so a duplicate id comes from an entry point clashing with a folder.
    make_codec(tmp_path / "codecs", "acme-l1", manifest("acme-l1"))
    module = tmp_path / "plugins" / "acme_plugin.py"
    module.parent.mkdir()
    module.write_text(CODEC_PY + f"\nMANIFEST = {manifest('acme-l1')!r}\n")
    sys.path.insert(0, str(module.parent))
    try:
        ep = EntryPoint(name="acme", value="acme_plugin", group="lora_city.codecs")
        with pytest.raises(ConfigurationError, match="duplicate codec id 'acme-l1'"):
            CodecRegistry.load(tmp_path / "codecs", entry_points=[ep])
    finally:
        sys.path.remove(str(module.parent))
        sys.modules.pop("acme_plugin", None)


def test_entry_point_codecs_load(tmp_path: Path) -> None:
    module = tmp_path / "ep_pkg" / "lamp_codec.py"
    module.parent.mkdir()
    module.write_text(CODEC_PY + f"\nMANIFEST = {manifest('ep-lamp', lora_alliance_vendor_id='02A4')!r}\n")
    js_module = tmp_path / "ep_pkg" / "js_codec.py"
    js_module.write_text(
        f"MANIFEST = {manifest('ep-js', runtime='javascript')!r}\n"
        "JS_SOURCE = 'function decodeUplink(i) { return {data: {n: i.bytes.length}}; }'\n"
    )
    (tmp_path / "empty").mkdir()
    sys.path.insert(0, str(module.parent))
    try:
        eps = [
            EntryPoint(name="lamp", value="lamp_codec", group="lora_city.codecs"),
            EntryPoint(name="js", value="js_codec", group="lora_city.codecs"),
        ]
        registry = CodecRegistry.load(tmp_path / "empty", entry_points=eps, js_limits=js_limits_from(50, 16))
        assert [info.id for info in registry.list()] == ["ep-js", "ep-lamp"]
        assert registry.get("ep-lamp").source == "entry point lamp = lamp_codec"
        assert registry.decode_uplink("ep-lamp", 1, b"\x00\x07").data["mm"] == 7  # type: ignore[index]
        assert registry.decode_uplink("ep-js", 1, b"abc").data == {"n": 3}
        bad = EntryPoint(name="bad", value="lamp_codec:no_such_attribute", group="lora_city.codecs")
        with pytest.raises(ConfigurationError, match="entry point bad"):
            CodecRegistry.load(tmp_path / "empty", entry_points=[bad])
    finally:
        sys.path.remove(str(module.parent))
        sys.modules.pop("lamp_codec", None)
        sys.modules.pop("js_codec", None)


def test_find_by_tr005_profile(tmp_path: Path) -> None:
    make_codec(
        tmp_path,
        "acme-l1",
        manifest("acme-l1", lora_alliance_vendor_id="02A4", vendor_profile_ids=["0001", "1A"]),
    )
    registry = CodecRegistry.load(tmp_path, entry_points=False)
    assert registry.find_by_profile("02a4", "0001") is registry.get("acme-l1")
    assert registry.find_by_profile("0x02A4", "001a") is registry.get("acme-l1")
    assert registry.find_by_profile("02a4", "0002") is None
    assert registry.find_by_profile("0259", "0001") is None
