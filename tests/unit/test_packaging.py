"""Packaging: one distribution with lora_city, tenants and billing; codecs/ shipped as plugin files (data), never
as an importable top-level ``codecs`` package; migrations and portal assets inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_codec_folder_is_shipped() -> None:
    data_files = _pyproject()["tool"]["setuptools"]["data-files"]
    shipped = {k.rsplit("/", 1)[1] for k in data_files if k.startswith("share/lora_city/codecs/")}
    folders = {p.name for p in (ROOT / "codecs").iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert shipped == folders, "update [tool.setuptools.data-files] in pyproject.toml"


def test_console_script_and_python_version() -> None:
    project = _pyproject()["project"]
    assert project["scripts"]["lora-city"] == "lora_city.cli.main:app"
    assert project["requires-python"] == ">=3.11"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True)
    [path] = out.glob("lora_city-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_contents(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert {"lora_city", "tenants", "billing"} <= tops
    assert "codecs" not in tops  # never a package that would shadow the standard library
    assert any(n.endswith("share/lora_city/codecs/milesight-ws558/manifest.json") for n in names)
    assert "lora_city/storage/migrations/versions/0001_core.py" in names
    assert any(n.startswith("tenants/migrations/") for n in names)
    assert any(n.startswith("billing/migrations/") for n in names)
    assert "lora_city/alerts/feed.schema.json" in names
    assert "billing/pages/templates/billing/plan_form.html" in names  # plugin pages ship their templates
