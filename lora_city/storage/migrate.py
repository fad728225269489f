"""Run Alembic migrations from code (``lora-city migrate``, tests, ``serve`` on start).

The core's migrations live beside this file. Packages built on the core (tenants/, billing/) ship their own
migration folders as separate Alembic branches that depend on ``0001_core``, announced through the entry-point
group ``lora_city.migrations`` (value: the package name; its ``migrations`` folder is used). The core finds the
folders without importing the packages.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def plugin_locations() -> list[Path]:
    """Migration folders of the installed packages that extend the schema (entry points)."""
    found: list[Path] = []
    for ep in sorted(entry_points(group="lora_city.migrations"), key=lambda e: e.name):
        spec = importlib.util.find_spec(ep.value)
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations))) / "migrations"
            if folder.is_dir():
                found.append(folder)
    return found


def alembic_config(database_url: str, extra_locations: Sequence[Path] | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    extra = plugin_locations() if extra_locations is None else list(extra_locations)
    locations = [str(MIGRATIONS / "versions"), *dict.fromkeys(str(p) for p in extra)]
    cfg.set_main_option("path_separator", "os")  # os.pathsep between version locations
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, extra_locations: Sequence[Path] | None = None, engine: Engine | None = None) -> None:
    """Bring the schema to the newest revision of every branch (core and plugins; ``extra_locations`` None means
    the installed plugins')."""
    cfg = alembic_config(database_url, extra_locations)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    else:
        command.upgrade(cfg, "heads")
