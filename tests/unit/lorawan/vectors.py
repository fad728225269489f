"""Known-answer vectors from tests/fixtures/lorawan.json, for the LoRaWAN tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load_vectors() -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / "lorawan.json").read_text())
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


def vectors_of(*kinds: str) -> list[Any]:
    """pytest params (id = vector name) for the vectors whose kind starts with one of ``kinds``."""
    import pytest

    return [pytest.param(v, id=v["name"]) for v in load_vectors() if v["kind"].startswith(kinds)]


def key(vector: dict[str, Any], name: str) -> bytes:
    return bytes.fromhex(vector["keys"][name])
