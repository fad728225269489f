"""Settings.load: the configuration file (issue 15 §4) under the LORA_CITY_ variables, found through --config,
LORA_CITY_CONFIG or the default place, with clear errors for a named file that is missing or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_city.errors import ConfigurationError
from lora_city.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("LORA_CITY_"):
            monkeypatch.delenv(key)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_file_values_under_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "etc" / "lora-city.toml", 'http_listen = "0.0.0.0:8080"\nlog_json = true\n'
                   'dedup_window_ms = 350\nadmin_token = "from-file"\n')
    monkeypatch.setenv("LORA_CITY_ADMIN_TOKEN", "from-env")
    settings = Settings.load(config, default_file=tmp_path / "absent.toml")
    assert (settings.http_listen, settings.log_json, settings.dedup_window_ms) == ("0.0.0.0:8080", True, 350)
    assert settings.admin_token == "from-env"  # the variable wins over the file
    assert settings.config_file == config.resolve()
    assert settings.udp_listen == Settings().udp_listen  # neither file nor variable: the default


def test_relative_sqlite_path_is_relative_to_the_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write(tmp_path / "etc" / "lora-city.toml", 'database_url = "sqlite:///data/city.db"\n'
                   'export_dir = "exports"\n')
    for cwd in (tmp_path, tmp_path / "etc"):
        monkeypatch.chdir(cwd)
        settings = Settings.load(config, default_file=tmp_path / "absent.toml")
        assert settings.database_url == f"sqlite:///{(tmp_path / 'etc' / 'data' / 'city.db').resolve()}"
        assert settings.export_dir == tmp_path / "etc" / "exports"
    absolute = write(tmp_path / "b.toml", 'database_url = "postgresql+psycopg://u:p@db/city"\n')
    assert Settings.load(absolute).database_url == "postgresql+psycopg://u:p@db/city"


def test_which_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = write(tmp_path / "default.toml", 'mqtt_topic_prefix = "default"\n')
    by_env = write(tmp_path / "env.toml", 'mqtt_topic_prefix = "env"\n')
    by_option = write(tmp_path / "option.toml", 'mqtt_topic_prefix = "option"\n')
    assert Settings.load(default_file=default).mqtt_topic_prefix == "default"
    assert Settings.load(default_file=tmp_path / "none.toml").config_file is None  # no default file: fine
    monkeypatch.setenv("LORA_CITY_CONFIG", str(by_env))
    assert Settings.load(default_file=default).mqtt_topic_prefix == "env"
    assert Settings.load(by_option, default_file=default).mqtt_topic_prefix == "option"


@pytest.mark.parametrize(("text", "message"), [
    (None, "does not exist"),
    ("database_url = ", "is not valid TOML"),
    ('databse_url = "sqlite:///x.db"\n', "unknown setting 'databse_url'"),
    ('dedup_window_ms = "soon"\n', "dedup_window_ms: Input should be a valid integer"),
])
def test_a_named_file_that_is_wrong_is_an_error_naming_it(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "lora-city.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        Settings.load(path)
    assert message in caught.value.message and str(path) in caught.value.message


def test_a_named_file_through_the_environment_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORA_CITY_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"missing\.toml does not exist"):
        Settings.load(default_file=tmp_path / "absent.toml")
