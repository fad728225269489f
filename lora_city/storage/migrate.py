"""Run Alembic migrations from code (``lora-city migrate``, tests, ``serve`` on start).

The core's migrations live beside this file. Packages built on the core (tenants/, billing/) ship their own
migration folders as separate Alembic branches that depend on ``0001_core``; the composition root passes their
folders in ``extra_locations`` (the core never imports them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str, extra_locations: Sequence[Path] = ()) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(MIGRATIONS / "versions"), *(str(p) for p in extra_locations)]
    cfg.set_main_option("path_separator", "os")  # os.pathsep between version locations
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, extra_locations: Sequence[Path] = (), engine: Engine | None = None) -> None:
    """Bring the schema to the newest revision of every branch (core and plugins)."""
    cfg = alembic_config(database_url, extra_locations)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    else:
        command.upgrade(cfg, "heads")
