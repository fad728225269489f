"""``lora-city codec decode`` reads its three values (codec folder, JavaScript limits) without building Settings
(issue 15 §5), and gets what Settings would give: the same defaults, the file's values relative to the file, and
Settings itself -- its checks and messages -- whenever a LORA_CITY_ variable or an odd value is involved."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lora_city.cli.main import app
from lora_city.config_file import CodecValues, codec_values
from lora_city.settings import Settings
from tests.unit.codec.support import CODECS

# Dragino LDDS75 uplink on FPort 2: battery 2885 mV, distance 500 mm, 25.4 °C (the vendor's decoder documentation)
LDDS75 = ["codec", "decode", "dragino-ldds75", "--f-port", "2", "0b4501f40000fe01"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.upper().startswith("LORA_CITY_"):
            monkeypatch.delenv(key)


def as_settings_gives(settings: Settings) -> CodecValues:
    return CodecValues(settings.codecs_path, settings.js_time_limit_ms, settings.js_memory_limit_mb)


def test_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    assert codec_values(None, absent) == as_settings_gives(Settings.load(default_file=absent))


def test_file_values_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "etc" / "lora-city.toml"
    config.parent.mkdir()
    config.write_text('codecs_path = "codecs"\njs_time_limit_ms = 250\nlog_level = "DEBUG"\n')
    monkeypatch.chdir(tmp_path)
    quick = codec_values(config)
    assert quick == CodecValues(tmp_path / "etc" / "codecs", 250, 32)
    assert quick == as_settings_gives(Settings.load(config))


@pytest.mark.parametrize("case", [
    ("env", "LORA_CITY_JS_MEMORY_LIMIT_MB", "64"),
    ("env", "lora_city_codecs_path", "/srv/codecs"),  # pydantic-settings matches variables in any case
    ("file", "js_time_limit_ms", '"fast"'),
    ("file", "codecs_path", "3"),
    ("missing file", "", ""),
], ids=["variable", "lowercase-variable", "bad-limit", "bad-path", "missing-file"])
def test_anything_not_plain_is_left_to_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[str, str, str],
) -> None:
    where, key, value = case
    config = tmp_path / "lora-city.toml"
    if where == "env":
        monkeypatch.setenv(key, value)
    elif where == "file":
        config.write_text(f"{key} = {value}\n")
    assert codec_values(config if where != "env" else None, tmp_path / "absent.toml") is None


def test_the_decode_honours_a_folder_named_in_the_config_file(tmp_path: Path) -> None:
    """The quick path reads the file: a codec folder only the file names is found (relative to the file)."""
    shutil.copytree(CODECS / "dragino-ldds75", tmp_path / "city-codecs" / "dragino-ldds75")
    config = tmp_path / "lora-city.toml"
    config.write_text('codecs_path = "city-codecs"\n')
    result = CliRunner().invoke(app, ["--config", str(config), *LDDS75])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["data"]["distance"] == 500
    missing = CliRunner().invoke(app, ["--config", str(config), "codec", "decode", "milesight-ws558", "00"])
    assert missing.exit_code == 2 and "no codec 'milesight-ws558'" in missing.output


def test_a_bad_value_gets_the_settings_error(tmp_path: Path) -> None:
    config = tmp_path / "lora-city.toml"
    config.write_text('js_time_limit_ms = "fast"\n')
    result = CliRunner().invoke(app, ["--config", str(config), *LDDS75])
    assert result.exit_code == 2
    assert "invalid setting" in result.output and "js_time_limit_ms" in result.output
