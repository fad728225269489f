"""Reading a checkout in the LoRaWAN device repository format: vendors, devices with firmware, profiles and
codecs per region, scripts and examples; and every bad file reported with its path while the rest is read.
The repositories are our own (tests/support/device_repository.py), in the format of TheThingsNetwork's."""

from __future__ import annotations

from pathlib import Path

from lora_city.codec.catalogue.repository import read_repository
from tests.support.device_repository import METER_EXAMPLES, DeviceRepo, sample_repository


def test_reads_vendors_models_profiles_codecs_and_examples(tmp_path: Path) -> None:
    repo = read_repository(sample_repository(tmp_path).save())
    assert repo.problems == []
    assert set(repo.vendors) == {"aquameter", "citylevel"}  # the draft vendor is left out
    assert repo.vendors["aquameter"].vendor_id == 0x0A11 and repo.vendors["aquameter"].name == "Aqua Meters SA"
    assert set(repo.models) == {"aquameter/am-100", "citylevel/cl-level", "citylevel/cl-lamp", "citylevel/cl-gauge"}
    meter = repo.models["aquameter/am-100"]
    assert [fw.version for fw in meter.firmware] == ["1.0", "1.2"]
    newest = meter.firmware[-1].profiles
    assert set(newest) == {"EU863-870", "US902-928"}
    assert newest["EU863-870"].profile == "aquameter/meter-profile-eu868"
    assert newest["EU863-870"].codec == "aquameter/meter-codec"
    profile = repo.profiles["aquameter/meter-profile-eu868"]
    assert (profile.vendor_profile_id, profile.mac_version, profile.regional_parameters_version) == (7, "1.0.4",
                                                                                                   "RP002-1.0.1")
    assert repo.profiles["citylevel/lamp-profile-eu868"].supports_class_c is True
    codec = repo.codecs["aquameter/meter-codec"]
    assert set(codec.scripts) == {"uplink", "downlink_encoder", "downlink_decoder"}
    assert codec.scripts["uplink"] is not None and "decodeUplink" in codec.scripts["uplink"].source
    assert codec.examples["uplink"] == METER_EXAMPLES  # hex byte lists arrive as integers


def test_same_scripts_same_content_hash_and_a_changed_script_changes_it(tmp_path: Path) -> None:
    first = read_repository(sample_repository(tmp_path / "a").save()).codecs["aquameter/meter-codec"]
    again = read_repository(sample_repository(tmp_path / "b").save()).codecs["aquameter/meter-codec"]
    assert first.content_hash == again.content_hash
    changed = sample_repository(tmp_path / "c")
    changed.script("aquameter", "meter.js", "function decodeUplink(i) { return { data: {} }; }")
    assert read_repository(changed.save()).codecs["aquameter/meter-codec"].content_hash != first.content_hash


def test_examples_are_read_as_yaml_1_2_like_the_repository_tools_do(tmp_path: Path) -> None:
    """js-yaml (YAML 1.2 core schema), not PyYAML's YAML 1.1: on/off/yes stay text, leading zeros are decimal,
    1:20 is text; and unquoted dates stay text."""
    repo = DeviceRepo(tmp_path).vendor("acme", "Acme")
    repo.profile("acme", "p-eu868")
    repo.script("acme", "c.js", "function decodeUplink(i) { return { data: { day: '2024-01-02' } }; }")
    repo.codec("acme", "c-codec", uplink="c.js")
    repo.device("acme", "dev-one", "Dev One", firmware=[("1", {"EU863-870": ("p-eu868", "c-codec")})])
    repo.save()
    (tmp_path / "vendor" / "acme" / "c-codec.yaml").write_text(
        "uplinkDecoder:\n  fileName: c.js\n  examples:\n    - input: {fPort: 1, bytes: [0x01]}\n"
        "      output: {data: {day: 2024-01-02, switch_1: on, valve: off, ok: yes, counter: 00012074, at: 1:20,"
        " flag: true, hex: 0x1F, none: null}}\n")
    codec = read_repository(tmp_path).codecs["acme/c-codec"]
    assert codec.examples["uplink"][0]["output"]["data"] == {
        "day": "2024-01-02", "switch_1": "on", "valve": "off", "ok": "yes", "counter": 12074, "at": "1:20",
        "flag": True, "hex": 31, "none": None}


def test_bad_files_are_reported_with_their_path_and_the_rest_is_read(tmp_path: Path) -> None:
    repo = sample_repository(tmp_path)
    repo.vendor("broken", "Broken Devices", 0x0C33)
    repo.profile("broken", "ok-profile")
    repo.codec("broken", "escape-codec", uplink="../../aquameter/meter.js")  # leaves the vendor folder
    repo.codec("broken", "missing-codec", uplink="nowhere.js")
    repo.device("broken", "escapes", "Escapes", firmware=[("1", {"EU863-870": ("ok-profile", "escape-codec")})])
    repo.device("broken", "missing", "Missing", firmware=[("1", {"EU863-870": ("ok-profile", "missing-codec")})])
    repo.device("broken", "no-profile", "No Profile", firmware=[("1", {"EU863-870": ("absent-profile", None)})])
    repo.save()
    (tmp_path / "vendor" / "broken" / "index.yaml").write_text(
        "endDevices:\n  - escapes\n  - missing\n  - no-profile\n  - bad-yaml\n  - not-there\n")
    (tmp_path / "vendor" / "broken" / "bad-yaml.yaml").write_text("name: [unclosed\n")
    read = read_repository(tmp_path)
    problems = {(p.where, p.message.split(":")[0]) for p in read.problems}
    assert ("vendor/broken/bad-yaml.yaml", "invalid YAML") in problems
    assert ("vendor/broken/not-there.yaml", "file not found") in problems
    assert ("vendor/broken/absent-profile.yaml", "file not found") in problems
    assert read.codecs["broken/escape-codec"].scripts == {}
    assert read.codecs["broken/escape-codec"].missing == ["uplinkDecoder: bad fileName '../../aquameter/meter.js'"]
    assert read.codecs["broken/missing-codec"].missing == ["uplinkDecoder: nowhere.js not found or unreadable"]
    # Everything good is still there, and the model without a usable profile has no region for it.
    assert {"aquameter/am-100", "broken/escapes", "broken/missing"} <= set(read.models)
    assert read.models["broken/no-profile"].firmware[0].profiles == {}


def test_a_checkout_without_an_index_is_one_problem(tmp_path: Path) -> None:
    read = read_repository(tmp_path)
    assert [(p.where, p.message) for p in read.problems] == [("vendor/index.yaml", "file not found")]
    assert read.models == {}
