"""A rule created or deleted through the services the API and the portal use applies to the very next uplink in
another process's alert sink (two engines on one database stand for two processes), with no tick in between: the
brief's "a change takes effect at once" (the tick's reload is only the fallback)."""

from __future__ import annotations

import asyncio

from lora_city.alerts.service import AlertService
from lora_city.alerts.sink import AlertSink
from lora_city.services.alert_rules import RuleIn, create_rule, delete_rule
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from tests.integration.alerts.conftest import FakeClock
from tests.unit.alerts.factories import device, uplink
from tests.unit.portal.build import ROOT


def test_a_rule_change_applies_to_the_next_uplink_in_another_process(
    database_url: str, sessions: SessionFactory, city_id: str, clock: FakeClock
) -> None:
    api_engine = make_engine(database_url)  # the API process: its own connections to the same database
    api_sessions = make_session_factory(api_engine)

    async def run() -> None:
        sink = AlertSink(AlertService(sessions, clock), None, clock, tick_s=3600)  # no tick during the test
        await sink.start()
        service = AlertService(sessions, clock)
        gauge = device("00000000000000a1", tenant=city_id)
        try:
            sink.submit(uplink(gauge, 0, water_level=2.5))
            await sink._queue.join()
            assert service.list_alerts(state="open") == []  # no rule yet

            with api_sessions() as s:
                rule = create_rule(s, ROOT, RuleIn.model_validate({
                    "name": "Vistre", "kind": "threshold", "scope_kind": "family", "scope_value": "flood",
                    "measurement": "water_level", "levels": [{"name": "yellow", "value": 1.0}]}))
                rule_id = rule.id
            sink.submit(uplink(gauge, 60, water_level=2.6))
            await sink._queue.join()
            [alert] = service.list_alerts(state="open")
            assert (alert.rule_id, alert.level) == (rule_id, "yellow")

            with api_sessions() as s:
                delete_rule(s, ROOT, rule_id)
            other = device("00000000000000a2", tenant=city_id)
            sink.submit(uplink(other, 120, water_level=3.0))
            await sink._queue.join()
            assert len(service.list_alerts(state="open")) == 1  # the deleted rule raised nothing new
        finally:
            await sink.stop()

    try:
        asyncio.run(run())
    finally:
        api_engine.dispose()
