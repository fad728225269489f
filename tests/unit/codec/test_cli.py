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


def test_decode_reads_json_lines_from_stdin_one_answer_per_line(runner: CliRunner) -> None:
    """Without a payload: captured uplinks in, one JSON answer per line out, in order; a bad line is answered
    with its error and the next one is read; exit 1 when any line had an error."""
    lines = "\n".join([
        json.dumps({"f_port": 85, "bytes_hex": "068356040000"}),
        json.dumps({"fPort": 85, "bytes": [3, 0x74, 0xB2, 0x08]}),
        "",
        "not json",
        json.dumps({"f_port": 85}),
        json.dumps({"f_port": 85, "bytes_hex": "0374b208", "recv_time": "2026-01-02T03:04:05Z"}),
    ]) + "\n"
    result = runner.invoke(app, ["codec", "decode", "milesight-ws558"], env=ENV, input=lines)
    assert result.exit_code == 1, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 4, 5, 6]
    assert answers[0]["data"] == {"power_consumption": 1110} and answers[0]["errors"] == []
    assert answers[1]["data"] == {"voltage": 222.6}
    assert answers[2] == {"line": 4, "errors": ["line 4: not JSON: Expecting value at column 1"]}
    assert answers[3] == {"line": 5, "errors": ["line 5: give bytes_hex (or bytes as a list of integers)"]}
    assert answers[4]["measurements"] == [{"name": "voltage", "value": 222.6, "unit": "V"}]


def test_decode_and_encode_batches_with_a_javascript_file(runner: CliRunner) -> None:
    script = str(JS_DIR / "legacy-decoder.js")
    decoded = runner.invoke(app, ["codec", "decode", "--js", script], env=ENV,
                            input='{"f_port": 7, "bytes_hex": "2a00"}\n{"f_port": 2, "bytes_hex": "09"}\n')
    assert decoded.exit_code == 0, decoded.output
    assert [json.loads(x)["data"] for x in decoded.stdout.splitlines()] == [{"first": 42, "port": 7},
                                                                           {"first": 9, "port": 2}]
    encoded = runner.invoke(app, ["codec", "encode", "--js", script], env=ENV,
                            input='{"data": {"level": 80}}\n{"level": 1}\n')
    assert encoded.exit_code == 1
    first, second = (json.loads(x) for x in encoded.stdout.splitlines())
    assert (first["fPort"], first["bytes"]) == (1, [80, 1])
    assert second["errors"] == ['line 2: give the downlink as {"data": {...}}']
