"""Where every migration branch lives and which modules declare tables, for tests that build a full schema."""

from __future__ import annotations

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_PACKAGES = ("tenants", "billing")


def all_migration_locations() -> list[Path]:
    """Version folders of the packages built on the core (the core's own folder is always included), as the
    core discovers them through the ``lora_city.migrations`` entry points."""
    from lora_city.storage.migrate import plugin_locations

    found = plugin_locations()
    expected = {ROOT / pkg / "migrations" for pkg in PLUGIN_PACKAGES if (ROOT / pkg / "migrations").is_dir()}
    assert expected <= set(found), f"plugin migrations not announced as entry points: {expected - set(found)}"
    return found


def import_all_models() -> None:
    import lora_city.storage.models  # noqa: F401

    for pkg in PLUGIN_PACKAGES:
        if (ROOT / pkg / "models.py").exists() or (ROOT / pkg / "models").is_dir():
            importlib.import_module(f"{pkg}.models")
