"""The supervision feed's optional ``count`` (issue 21, flapping alerts): a reopened alert's document validates
against the published schema (lora_city/alerts/feed.schema.json, JSON Schema 2020-12), and documents written
before the field existed still do (the field is optional: the schema stays compatible)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from lora_city.alerts.feed import AlertMessage, alert_document
from lora_city.alerts.rules import Severity

SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "lora_city/alerts/feed.schema.json").read_text())


def _reopened(count: int) -> AlertMessage:
    return AlertMessage(alert_id="a1", transition="raised", service="flood_cell", tenant_id="city",
                        severity=Severity.MAJOR, state="raised", subject="70b3d57ed0001001", level="orange",
                        value=1.05, message="water_level 1.05 on gauge: level orange", rule_id="r1",
                        rule_name="Vistre", time=datetime(2026, 11, 23, 7, tzinfo=UTC), count=count)


def test_a_reopened_alert_says_its_count_and_validates() -> None:
    doc = alert_document(_reopened(29))
    assert doc["alert"]["count"] == 29 and doc["alert"]["transition"] == "raised"
    jsonschema.validate(doc, SCHEMA)


def test_a_document_without_count_still_validates() -> None:
    doc = alert_document(_reopened(1))
    del doc["alert"]["count"]
    jsonschema.validate(doc, SCHEMA)


def test_a_count_below_one_is_refused() -> None:
    doc = alert_document(_reopened(1))
    doc["alert"]["count"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
