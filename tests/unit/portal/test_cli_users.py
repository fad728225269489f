"""``lora-city user create`` writes a user who can then log in; bad input exits 1 with a message."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lora_city.cli.main import app
from lora_city.portal import users
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.migrate import upgrade


def test_user_create_then_authenticate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    env = {"LORA_CITY_DATABASE_URL": url, "LORA_CITY_NEW_PASSWORD": "a long password"}
    runner = CliRunner()
    ok = runner.invoke(app, ["user", "create", "Ops@City.test", "--role", "operator"], env=env)
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(app, ["user", "create", "ops@city.test", "--role", "operator"], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    weak = runner.invoke(app, ["user", "create", "w@city.test", "--role", "operator"],
                         env={**env, "LORA_CITY_NEW_PASSWORD": "short"})
    assert weak.exit_code == 1 and "at least 10" in weak.output
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        user = users.authenticate(s, "ops@city.test", "a long password")
        assert user is not None and user.role == "operator" and user.password_hash.startswith("$argon2id$")
        assert users.authenticate(s, "ops@city.test", "a wrong password") is None
    engine.dispose()
