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
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from lora_city.errors import ConfigurationError

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


def display_url(database_url: str) -> str:
    """The URL as shown to people: password hidden, SQLite path absolute (which file, from any directory)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=True)


def check_ready(database_url: str, extra_locations: Sequence[Path] | None = None) -> None:
    """Raise ConfigurationError unless the database exists and is at the newest revision of every branch.

    Commands other than ``migrate`` and ``serve`` call this first, so a mistyped URL or the wrong working
    directory is reported instead of silently creating an empty database beside the real one."""
    shown = display_url(database_url)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database or "")
        if not path.is_file() or path.stat().st_size == 0:
            raise ConfigurationError(f"database {shown} does not exist")
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(f"database {shown} cannot be opened: {reason}") from None
    finally:
        engine.dispose()
    if not current:
        raise ConfigurationError(f"database {shown} has no lora_city schema (not migrated)")
    script = ScriptDirectory.from_config(alembic_config(database_url, extra_locations))
    unknown = sorted(r for r in current if _lookup(script, r) is None)
    if unknown:
        raise ConfigurationError(f"database {shown} is at revision {unknown[0]}, unknown to this lora_city "
                                 "(a newer version migrated it)")
    # Applied: the current heads and everything below them (a branch that depends on another leaves only its
    # own head in alembic_version). Pending: any revision of any installed branch not applied yet.
    applied = {r.revision for r in script.iterate_revisions(tuple(current), "base")}
    pending = sorted({r.revision for r in script.walk_revisions()} - applied)
    if pending:
        raise ConfigurationError(f"database {shown} is not migrated to this version (missing {', '.join(pending)})")


def _lookup(script: ScriptDirectory, revision: str) -> object | None:
    try:
        return script.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown id
        return None
