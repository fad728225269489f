"""One database for server and CLI (issue 15 §4): every command that touches the database reads the same
configuration (file, then LORA_CITY_*), prints which database it uses, and refuses one that does not exist or is
not migrated; only ``migrate`` and ``serve`` create one. The server itself is started from the same file and
answers for what the CLI wrote from another directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from lora_city.cli.main import app
from lora_city.storage.migrate import upgrade
from tests.support import services as svc

ROOT = Path(__file__).resolve().parents[2]
CSV = "dev_eui,name\n0004a30b001c0530,Pluviomètre Arènes\n0004a30b001c0531,Pluviomètre Gare\n"
# (command line, input file needed) of every command that reads or writes the database
DATABASE_COMMANDS = [
    ["import", "devices.csv"],
    ["user", "create", "ops@city.test", "--role", "operator"],
    ["billing", "run", "--period", "2026-10"],
    ["billing", "usage", "--tenant", "city", "--period", "2026-10", "--out", "usage.csv"],
    ["opendata", "export", "--date", "2026-10-01", "--out", "od"],
    ["rotate-secret", "--new-secret", "another-secret"],
    ["user", "disable", "ops@city.test"],
    ["billing", "config", "--legal-name", "Ville", "--address", "1 place", "--siret", "12345678200010",
     "--vat-number", "FR00123456782", "--iban", "FR7630006000011234567890189"],
    ["codec", "import-repository", "."],
    ["import", "chirpstack", "--url", "127.0.0.1:9", "--token", "t"],  # refused before dialling anything
]


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for key in list(os.environ):
        if key.startswith("LORA_CITY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LORA_CITY_NEW_PASSWORD", "a long password")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "devices.csv").write_text(CSV)
    return CliRunner()


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_missing_database_is_refused_and_not_created(runner: CliRunner, tmp_path: Path, argv: list[str]) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    db = (tmp_path / "lora_city.db").resolve()
    assert f"database: sqlite:///{db} (no config file)" in result.output
    assert f"database sqlite:///{db} does not exist" in result.output
    assert "lora-city migrate" in result.output
    assert not (tmp_path / "lora_city.db").exists()  # no empty database left behind


def test_unmigrated_and_partly_migrated_databases_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))  # another application's file
    engine.dispose()
    result = runner.invoke(app, ["import", "devices.csv"], env={"LORA_CITY_DATABASE_URL": f"sqlite:///{foreign}"})
    assert result.exit_code == 2 and "has no lora_city schema (not migrated)" in result.output, result.output
    core_only = tmp_path / "core.db"
    upgrade(f"sqlite:///{core_only}", [])  # the core's branch only: tenants and billing not installed yet
    result = runner.invoke(app, ["billing", "run", "--period", "2026-10"],
                           env={"LORA_CITY_DATABASE_URL": f"sqlite:///{core_only}"})
    assert result.exit_code == 2, result.output
    assert "is not migrated to this version (missing " in result.output and "b0001_billing" in result.output
    migrated = runner.invoke(app, ["migrate"], env={"LORA_CITY_DATABASE_URL": f"sqlite:///{core_only}"})
    assert migrated.exit_code == 0, migrated.output
    again = runner.invoke(app, ["import", "devices.csv"], env={"LORA_CITY_DATABASE_URL": f"sqlite:///{core_only}"})
    assert again.exit_code == 0 and "imported 2 devices" in again.output, again.output


def test_config_file_names_one_database_from_any_directory(runner: CliRunner, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "lora-city.toml"
    config.write_text('database_url = "sqlite:///city.db"\nsecret_key = "file-secret"\n')
    created = runner.invoke(app, ["--config", str(config), "migrate"])
    assert created.exit_code == 0, created.output
    db = etc / "city.db"
    assert db.is_file() and f"database: sqlite:///{db} (config {config})" in created.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "devices.csv").write_text(CSV)
    monkeypatch.chdir(elsewhere)
    imported = runner.invoke(app, ["import", "devices.csv"], env={"LORA_CITY_CONFIG": str(config)})
    assert imported.exit_code == 0, imported.output
    assert f"database: sqlite:///{db} (config {config})" in imported.output and "imported 2 devices" in imported.output
    assert not (elsewhere / "lora_city.db").exists() and not (elsewhere / "city.db").exists()
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM devices")).scalar_one() == 2
    engine.dispose()
    missing = runner.invoke(app, ["--config", str(tmp_path / "nope.toml"), "import", "devices.csv"])
    assert missing.exit_code == 2 and "nope.toml does not exist" in missing.output


def test_postgresql_database_that_does_not_exist(runner: CliRunner, postgres_server: svc.Service) -> None:
    url = svc.create_pg_database(postgres_server)
    absent = url.rsplit("/", 1)[0] + "/no_such_database"
    result = runner.invoke(app, ["user", "create", "a@city.test", "--role", "admin"],
                           env={"LORA_CITY_DATABASE_URL": absent})
    assert result.exit_code == 2, result.output
    assert "no_such_database cannot be opened" in result.output and "lora-city migrate" in result.output
    empty = runner.invoke(app, ["user", "create", "a@city.test", "--role", "admin"],
                          env={"LORA_CITY_DATABASE_URL": url})
    assert empty.exit_code == 2 and "has no lora_city schema" in empty.output, empty.output
    assert runner.invoke(app, ["migrate"], env={"LORA_CITY_DATABASE_URL": url}).exit_code == 0
    made = runner.invoke(app, ["user", "create", "a@city.test", "--role", "admin"],
                         env={"LORA_CITY_DATABASE_URL": url})
    assert made.exit_code == 0, made.output
    assert f"database: {url} (no config file)" in made.output


def test_the_printed_url_hides_the_password() -> None:
    from lora_city.storage.migrate import display_url

    assert display_url("postgresql+psycopg://city:s3cret@db:5432/lora") == "postgresql+psycopg://city:***@db:5432/lora"


@pytest.mark.slow
def test_server_answers_for_what_the_cli_imported_from_another_directory(tmp_path: Path) -> None:
    """The issue's own story: ``cd /elsewhere && lora-city import devices.csv`` used to fill a new empty database
    while the server answered 404. With one config file both use the same database."""
    etc, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    etc.mkdir()
    elsewhere.mkdir()
    port = svc.free_port()
    config = etc / "lora-city.toml"
    config.write_text(f'database_url = "sqlite:///city.db"\nhttp_listen = "127.0.0.1:{port}"\nudp_listen = ""\n'
                      'admin_token = "one-database-token"\nsecret_key = "one-database"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORA_CITY_")}
    env["LORA_CITY_CONFIG"] = str(config)
    exe = [sys.executable, "-m", "lora_city.cli.main"]
    server = subprocess.Popen([*exe, "serve"], cwd=etc, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        svc.wait_for_port(port, timeout=60, proc=server)  # type: ignore[arg-type]
        (elsewhere / "devices.csv").write_text(CSV)
        done = subprocess.run([*exe, "import", "devices.csv"], cwd=elsewhere, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "imported 2 devices" in done.stdout and f"sqlite:///{etc / 'city.db'}" in done.stderr
        deadline = time.monotonic() + 10
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/devices/0004a30b001c0531",
                           headers={"Authorization": "Bearer one-database-token"}, timeout=30)
        while answer.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/devices/0004a30b001c0531",
                               headers={"Authorization": "Bearer one-database-token"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["name"] == "Pluviomètre Gare"
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
    assert not (elsewhere / "lora_city.db").exists()
