"""``lora-city codec list|decode|encode`` through the real CLI app and the project's codecs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lora_city.cli.main import app
from tests.unit.codec.support import CODECS, JS_DIR

ENV = {"LORA_CITY_CODECS_PATH": str(CODECS)}


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_list_shows_every_codec_folder(runner: CliRunner) -> None:
    result = runner.invoke(app, ["codec", "list"], env=ENV)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "VENDOR", "MODEL", "FAMILY"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) >= {p.name for p in CODECS.iterdir() if (p / "manifest.json").is_file()}
    ws558 = rows["milesight-ws558"]
    assert "Milesight" in ws558 and "streetlight" in ws558 and ws558.endswith(str(CODECS / "milesight-ws558"))


def test_decode_prints_ts013_result_with_measurements(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["codec", "decode", "milesight-ws558", "--f-port", "85", "068356040000"], env=ENV
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {
        "data": {"power_consumption": 1110},
        "warnings": [],
        "errors": [],
        "measurements": [{"name": "energy", "value": 1110, "unit": "Wh"}],
    }


def test_decode_error_result_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["codec", "decode", "dragino-lt22222-l", "--f-port", "42", "00"], env=ENV)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == ["unknown FPort"]


def test_encode_prints_port_and_bytes(runner: CliRunner) -> None:
    result = runner.invoke(app, ["codec", "encode", "milesight-ws50x", '{"switch_2": "on"}'], env=ENV)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "fPort": 85, "bytes": [0xFF, 0x29, 0x22], "hex": "ff2922", "warnings": [], "errors": []
    }  # fmt: skip


def test_js_file_instead_of_a_registered_codec(runner: CliRunner) -> None:
    script = JS_DIR / "cayenne-lpp.js"
    result = runner.invoke(
        app, ["codec", "decode", "--js", str(script), "--f-port", "1", "03670110"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["data"] == {"temperature_3": 27.2}
    encoded = runner.invoke(
        app, ["codec", "encode", "--js", str(JS_DIR / "milesight-ws558.js"), '{"switch_1": "on"}'], env=ENV
    )
    assert encoded.exit_code == 0, encoded.output
    assert json.loads(encoded.stdout)["hex"] == "080101"


def test_hostile_js_file_is_reported_not_fatal(runner: CliRunner) -> None:
    env = {**ENV, "LORA_CITY_JS_TIME_LIMIT_MS": "30"}
    result = runner.invoke(app, ["codec", "decode", "--js", str(JS_DIR / "hostile-loop.js"), "00"], env=env)
    assert result.exit_code == 1
    assert "interrupted" in json.loads(result.stdout)["errors"][0]


@pytest.mark.parametrize(
    "args",
    [
        ["codec", "decode", "no-such-codec", "00"],
        ["codec", "decode", "cayenne-lpp", "zz"],
        ["codec", "encode", "cayenne-lpp", "[1, 2]"],
        ["codec", "encode", "cayenne-lpp", "{oops"],
        ["codec", "decode", "--js", "/no/such/file.js", "00"],
    ],
)
def test_usage_errors_exit_2_with_a_message(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 2
    assert "error:" in result.output


def test_a_broken_codecs_folder_is_a_clear_startup_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{}")
    result = runner.invoke(app, ["codec", "list"], env={"LORA_CITY_CODECS_PATH": str(tmp_path)})
    assert result.exit_code == 2
    assert f"codec {tmp_path / 'broken'}: invalid manifest" in result.output


def test_decode_with_js_prints_lone_surrogates_as_replacement_characters(runner: CliRunner, tmp_path: Path) -> None:
    """Used to crash with a UnicodeEncodeError traceback (issue 20): the answer is data, with a warning."""
    script = tmp_path / "odd.js"
    script.write_text('function decodeUplink(i) { return {data: {name: "ab" + String.fromCharCode(0xd800)}}; }')
    result = runner.invoke(app, ["codec", "decode", "--js", str(script), "00"], env=ENV)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["data"] == {"name": "ab\ufffd"}
    assert document["warnings"] == ["codec returned text with lone UTF-16 surrogates, replaced by U+FFFD: data.name"]
