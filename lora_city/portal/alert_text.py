"""An alert's message in the page's language. The engine stores an English sentence for the supervision feed
(machines and logs read it); people read one built here from the alert's rule (its kind and measurement), the
device's or gateway's name, the value and the level, with numbers and durations in the page's formats."""

from __future__ import annotations

from typing import Any

import jinja2
from sqlalchemy.orm import Session

from lora_city.codec.measurements import CATALOGUE
from lora_city.portal import measures
from lora_city.portal.formatting import Formatter
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Alert, AlertRule, Device, Gateway


def _name(session: Session, subject: str, gateway: bool) -> str:
    if gateway:
        row = session.get(Gateway, subject)
        return row.name if row is not None else subject
    device = session.get(Device, subject)
    return device.name if device is not None else subject


def _duration(t: measures.Translate, seconds: float) -> str:
    s = int(seconds)
    if s >= 86400:
        return t("duration.days", n=s // 86400)
    if s >= 3600:
        return t("duration.hours", n=s // 3600)
    if s >= 60:
        return t("duration.minutes", n=s // 60)
    return t("duration.seconds", n=s)


def message(session: Session, alert: Alert, t: measures.Translate, fmt: Formatter) -> str:
    rule = session.get(AlertRule, alert.rule_id)
    if rule is None:
        return alert.message  # a rule deleted since: the stored words are all there is
    kind = rule.kind
    name = _name(session, alert.subject, gateway=kind == "gateway_offline")
    measure = measures.label(t, rule.measurement) if rule.measurement else ""
    quantity = CATALOGUE.get(rule.measurement or "")
    unit = measures.unit_label(t, quantity.unit) if quantity is not None else None
    value = fmt.quantity(alert.value, unit) if alert.value is not None else "—"
    values: dict[str, Any] = {"name": name, "measure": measure, "value": value, "level": alert.level or ""}
    if kind == "absence":
        values["duration"] = _duration(t, alert.value or 0.0)
    text = t(f"alert_text.{kind}", **values)
    return alert.message if text == f"alert_text.{kind}" else text


def jinja_global(factory: SessionFactory) -> Any:
    """``alert_message(a)`` for templates: the page's ``t`` and ``fmt`` come from the render's context."""

    @jinja2.pass_context
    def alert_message(context: jinja2.runtime.Context, alert: Alert) -> str:
        with factory() as session:
            return message(session, alert, context["t"], context["fmt"])

    return alert_message
