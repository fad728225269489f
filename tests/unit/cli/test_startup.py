"""The command line imports what a command needs when it runs (issue 15 §5): ``--help``, ``frame decode`` and
``codec decode`` never load the API, the portal, the database layer or the billing plugin. Start-up time itself
is measured by bench/cli.py, not here; these tests check the behaviour that makes it fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lora_city.cli.main import COMMANDS, app

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "lora_city.portal", "lora_city.api",
         "lora_city.storage", "lora_city.services", "billing", "tenants", "rich", "jinja2", "grpc", "httpx")
PROBE = """
import json, sys
sys.argv = ["lora-city", *json.loads(sys.argv[1])]
from lora_city.cli.main import app
try:
    app()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded_after(argv: list[str]) -> set[str]:
    # Without LORA_CITY_ variables (a codec setting among them sends the command through Settings, on purpose)
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("LORA_CITY_")}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                          timeout=60, env=env)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return set(report["modules"])


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["frame", "decode", "40f17dbe4900020001954378762b11ff0d"],
    # Dragino LDDS75 uplink: battery 2885 mV, distance 500 mm (the vendor's decoder documentation)
    ["codec", "decode", "dragino-ldds75", "--f-port", "2", "0b4501f40000fe01"],
], ids=["help", "frame-decode", "codec-decode"])
def test_quick_commands_leave_the_server_unloaded(argv: list[str]) -> None:
    modules = loaded_after(argv)
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"lora-city {' '.join(argv)} imported {heavy[:10]}"


@pytest.mark.parametrize("argv", [
    ["frame", "decode", "40f17dbe4900020001954378762b11ff0d"],
    ["codec", "decode", "dragino-ldds75", "--f-port", "2", "0b4501f40000fe01"],
], ids=["frame-decode", "codec-decode"])
def test_quick_commands_do_without_pydantic(argv: list[str]) -> None:
    """pydantic and pydantic-settings cost ~150 ms of start-up: the decodes read their few values plainly
    (lora_city/config_file.py) and the codec manifest is a plain dataclass (bench/cli.py has the figures)."""
    modules = loaded_after(argv)
    assert not sorted(m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_settings", "pydantic_core"))


def test_codec_decode_loads_only_the_codec_it_runs() -> None:
    modules = loaded_after(["codec", "decode", "dragino-ldds75", "--f-port", "2", "0b4501f40000fe01"])
    from lora_city.codec.loader import MODULE_PREFIX

    assert sorted(m for m in modules if m.startswith(MODULE_PREFIX)) == [MODULE_PREFIX + "dragino_ldds75"]


def test_root_help_lists_every_command_with_its_line() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name, (_, _, line) in COMMANDS.items():
        assert name in result.output
        assert line.split()[0] in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_loads_and_shows_its_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and name in result.output
