"""A tenant's integrations: where its device events go (its webhooks, its MQTT broker), their last deliveries,
and a test send. Every change bumps the configuration generation in the same transaction, so the integration
sink of every process applies it to the next event (lora_city/sinks/integrations.py).

Secrets (the webhook's signing secret, header values, the MQTT password and client key) are stored encrypted
and never returned: the signing secret is shown once, when created or rotated; the others are write-only (the
API says which are set).
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import ssl
import string
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput, NotFound
from lora_city.services.common import INPUT_CONFIG, NotNull, as_utc, page_limit, target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.sinks.deliveries import Attempt, write_attempts
from lora_city.sinks.integrations import DEFAULT_TOPIC, bump_generation, seal, to_config
from lora_city.sinks.tenant_mqtt import TOPIC_FIELDS
from lora_city.sinks.webhooks import RESERVED_HEADERS, Outcome
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Integration, IntegrationDelivery, new_id, utcnow

# Integrations deliver a tenant's application data, so they follow the applications' permissions.
READ, WRITE = Perm.APPLICATIONS_READ, Perm.APPLICATIONS_WRITE

EventKind = Literal["up", "join", "ack", "txack", "status", "log"]
# What a URL field takes, published as its pattern (issue 19): a scheme lora_city speaks, "://", an authority
# without credentials (no "@"), then any path, query or fragment; no blank or control character anywhere (Python's
# urlsplit would silently drop tabs and newlines). Explicit character ranges rather than \s: JSON Schema's, Python's
# and pydantic's regex engines do not agree on what whitespace is. What the pattern cannot say (the scheme that
# fits the integration's kind, https except to this machine, a valid port) _check_url says, with its own code.
_AUTHORITY_AND_REST = r"://[^@/?#\x00-\x20\x7F]+(?:[/?#][^\x00-\x20\x7F]*)?$"
URL_PATTERN = "^(?:https?|mqtts?)" + _AUTHORITY_AND_REST
WEB_URL_PATTERN = "^https?" + _AUTHORITY_AND_REST
Url = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=URL_PATTERN)]
WebUrl = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=WEB_URL_PATTERN)]
Pem = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")  # RFC 9110 section 5.6.2, token
MAX_HEADERS = 20

WEBHOOK_FIELDS = ("secret", "headers", "event_urls")
MQTT_FIELDS = ("username", "password", "ca_cert", "client_cert", "client_key", "topic_template", "qos")


class IntegrationFields(BaseModel):
    """What PATCH takes (each field optional; null clears an optional one). POST takes the same plus ``kind``."""

    model_config = INPUT_CONFIG

    # NotNull: may be left out, but null is no value for these (the service refuses it, the schema says so).
    name: Annotated[str, Field(max_length=100)] | NotNull = None
    url: Url | NotNull = None
    enabled: bool | NotNull = None
    events: list[EventKind] | None = Field(default=None, description="Event kinds to deliver; null: all")
    encoding: Literal["json", "protobuf"] | NotNull = None
    # webhook
    secret: Annotated[str, Field(min_length=16, max_length=200)] | NotNull = Field(
        default=None, description="HMAC-SHA256 signing key; generated when not given")
    headers: dict[str, str] | None = Field(default=None, description="Extra HTTP headers (values write-only)")
    event_urls: dict[EventKind, WebUrl] | None = Field(default=None, description="A URL per event kind")
    # mqtt
    username: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=500)
    ca_cert: Pem | None = Field(default=None, description="PEM CA certificate(s) to verify the broker")
    client_cert: Pem | None = Field(default=None, description="PEM client certificate (with client_key)")
    client_key: Pem | None = Field(default=None, description="PEM private key of client_cert (write-only)")
    topic_template: str | None = Field(default=None, min_length=1, max_length=300)
    qos: Annotated[int, Field(ge=0, le=2)] | NotNull = None


class IntegrationCreate(IntegrationFields):
    kind: Literal["webhook", "mqtt"]
    url: Url
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    last_delivery_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


# --- validation ---------------------------------------------------------------------------------------------

def _check_url(kind: str, url: str, field: str = "url") -> None:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidInput(f"{field} is not a valid URL: {exc}", code="invalid_url") from None
    schemes = ("http", "https") if kind == "webhook" else ("mqtt", "mqtts")
    if parts.scheme not in schemes or not host:
        raise InvalidInput(f"{field} must be a {' or '.join(s + '://' for s in schemes)} URL with a host",
                           code="invalid_url")
    if kind == "webhook" and parts.scheme == "http" and not _loopback(host):
        # A webhook carries the tenant's data across networks: TLS, except to a receiver on this very machine
        # (http://127.0.0.1, http://localhost), as browsers treat those as secure origins.
        raise InvalidInput(f"{field} must be an https:// URL (plain http only to this machine's loopback)",
                           code="https_required")
    if parts.username is not None or parts.password is not None:
        where = "headers" if kind == "webhook" else "username and password"
        raise InvalidInput(f"{field} must not hold credentials: give them in {where}", code="invalid_url")
    if kind == "mqtt" and (parts.path not in ("", "/") or parts.query or parts.fragment):
        raise InvalidInput(f"{field}: an MQTT URL is mqtt[s]://host[:port]", code="invalid_url")
    if port == 0:
        raise InvalidInput(f"{field} has port 0", code="invalid_url")


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_headers(headers: dict[str, str]) -> None:
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(f"at most {MAX_HEADERS} headers", code="invalid_headers")
    seen: set[str] = set()
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise InvalidInput(f"header name {name!r} is not an HTTP token", code="invalid_headers")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidInput(f"header {name!r} is set by lora_city itself", code="invalid_headers")
        if name.lower() in seen:
            raise InvalidInput(f"header {name!r} given twice", code="invalid_headers")
        seen.add(name.lower())
        if len(value) > 2000 or any(c in value for c in "\r\n\0"):
            raise InvalidInput(f"header {name!r}: value too long or with a line break", code="invalid_headers")


def _check_topic(template: str) -> None:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise InvalidInput(f"topic_template: {exc}", code="invalid_topic_template") from None
    unknown = [n for n in names if n not in TOPIC_FIELDS]
    if unknown:
        raise InvalidInput(f"topic_template: unknown field(s) {unknown}; use {list(TOPIC_FIELDS)}",
                           code="invalid_topic_template")
    if any(c in template for c in "#+\0") or template.startswith("$"):
        raise InvalidInput("topic_template: no wildcard (# +), no leading $", code="invalid_topic_template")


def _check_pem(ca_cert: str | None, client_cert: str | None, client_key: str | None) -> None:
    if ca_cert is not None:
        try:
            ssl.create_default_context(cadata=ca_cert)
        except (ssl.SSLError, ValueError) as exc:
            raise InvalidInput(f"ca_cert is not a PEM certificate: {exc}", code="invalid_certificate") from None
    if (client_cert is None) != (client_key is None):
        raise InvalidInput("client_cert and client_key go together", code="invalid_certificate")
    if client_cert is not None and client_key is not None:
        try:
            cert = x509.load_pem_x509_certificate(client_cert.encode())
            key = load_pem_private_key(client_key.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"client certificate or key unreadable (PEM, key without passphrase): {exc}",
                               code="invalid_certificate") from None
        if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
            raise InvalidInput("client_key is not the key of client_cert", code="invalid_certificate")


def _validate(kind: str, fields: dict[str, Any]) -> None:
    foreign = MQTT_FIELDS if kind == "webhook" else WEBHOOK_FIELDS
    given = [f for f in foreign if fields.get(f) is not None]
    if given:
        raise InvalidInput(f"{', '.join(given)}: not a setting of a {kind} integration", code="invalid_field")
    if fields.get("url") is not None:
        _check_url(kind, fields["url"])
    if fields.get("events") is not None:
        if not fields["events"]:
            raise InvalidInput("events: give at least one kind, or null for all", code="invalid_events")
        if len(set(fields["events"])) != len(fields["events"]):
            raise InvalidInput("events: a kind is listed twice", code="invalid_events")
    if kind == "webhook":
        if fields.get("headers") is not None:
            _check_headers(fields["headers"])
        for event, url in (fields.get("event_urls") or {}).items():
            _check_url("webhook", url, f"event_urls.{event}")
    else:
        if fields.get("topic_template") is not None:
            _check_topic(fields["topic_template"])
        if fields.get("password") is not None and fields.get("username") is None:
            raise InvalidInput("password needs a username", code="invalid_field")


def _check_tls(row: Integration, client_key_set: bool) -> None:
    """After applying a change: certificates make sense only over mqtts://."""
    if row.kind != "mqtt":
        return
    if (row.ca_cert or row.client_cert) and urlsplit(row.url).scheme != "mqtts":
        raise InvalidInput("certificates need an mqtts:// URL", code="invalid_certificate")
    if (row.client_cert is None) == client_key_set:
        raise InvalidInput("client_cert and client_key go together", code="invalid_certificate")


# --- writes -------------------------------------------------------------------------------------------------

def _apply(row: Integration, vault: KeyVault, fields: dict[str, Any]) -> str | None:
    """Write the given fields onto the row (secrets sealed); returns a new signing secret to show, if any."""
    shown: str | None = None
    for name, value in fields.items():
        if name in ("kind", "tenant_id"):
            continue
        if name in ("name", "url", "enabled", "encoding", "qos") and value is None:
            raise InvalidInput(f"{name} may not be null", code="invalid_field")
        if name == "secret":
            if value is None:
                raise InvalidInput("secret may not be null (rotate it instead)", code="invalid_field")
            row.secret = seal(vault, row.id, value.encode())
            shown = value
        elif name == "headers":
            row.headers_enc = seal(vault, row.id, json.dumps(value).encode()) if value else None
        elif name == "password":
            row.password_enc = seal(vault, row.id, value.encode() if value is not None else None)
        elif name == "client_key":
            row.client_key_enc = seal(vault, row.id, value.encode() if value is not None else None)
        elif name == "event_urls":
            row.event_urls = dict(value) if value else None
        elif name == "events":
            row.events = list(value) if value is not None else None
        elif name == "topic_template":
            row.topic_template = None if value in (None, DEFAULT_TOPIC) else value
        else:
            setattr(row, name, value)
    return shown


def create(session: Session, vault: KeyVault, principal: Principal, data: IntegrationCreate
           ) -> tuple[Integration, str | None]:
    """Returns the integration and, for a webhook, its signing secret (shown this once)."""
    principal.require(WRITE)
    tenant_id = target_tenant(session, principal, data.tenant_id)
    fields = data.model_dump(exclude_unset=True)
    _validate(data.kind, fields)
    _check_pem(data.ca_cert, data.client_cert, data.client_key)
    row = Integration(id=new_id(), tenant_id=tenant_id, kind=data.kind, url=data.url, name=data.name or "",
                      enabled=True if data.enabled is None else data.enabled)
    shown = _apply(row, vault, fields)
    if data.kind == "webhook" and row.secret is None:
        shown = secrets.token_urlsafe(32)
        row.secret = seal(vault, row.id, shown.encode())
    _check_tls(row, row.client_key_enc is not None)
    session.add(row)
    bump_generation(session)
    session.commit()
    return row, shown


def update(session: Session, vault: KeyVault, principal: Principal, integration_id: str,
           data: IntegrationFields) -> tuple[Integration, str | None]:
    row = get(session, principal, integration_id)  # another tenant's: 404 before any permission talk
    principal.require(WRITE)
    fields = data.model_dump(exclude_unset=True)
    _validate(row.kind, fields)
    cert = fields.get("client_cert", row.client_cert)
    if "client_key" in fields or "client_cert" in fields or "ca_cert" in fields:
        key = fields.get("client_key")
        if "client_cert" in fields and fields["client_cert"] is not None and key is None:
            raise InvalidInput("a new client_cert needs its client_key", code="invalid_certificate")
        _check_pem(fields.get("ca_cert"), cert if key is not None else None, key)
    shown = _apply(row, vault, fields)
    _check_tls(row, row.client_key_enc is not None)
    row.updated_at = utcnow()
    bump_generation(session)
    session.commit()
    return row, shown


def rotate_secret(session: Session, vault: KeyVault, principal: Principal, integration_id: str
                  ) -> tuple[Integration, str]:
    """A new signing secret for a webhook, shown once; the old one stops signing at once."""
    row = get(session, principal, integration_id)
    principal.require(WRITE)
    if row.kind != "webhook":
        raise InvalidInput("only a webhook has a signing secret", code="invalid_field")
    secret = secrets.token_urlsafe(32)
    row.secret = seal(vault, row.id, secret.encode())
    row.updated_at = utcnow()
    bump_generation(session)
    session.commit()
    return row, secret


def remove(session: Session, principal: Principal, integration_id: str) -> None:
    row = get(session, principal, integration_id)
    principal.require(WRITE)
    session.delete(row)
    bump_generation(session)
    session.commit()


# --- reads --------------------------------------------------------------------------------------------------

def list_for(session: Session, principal: Principal) -> list[Integration]:
    principal.require(READ)
    stmt = select(Integration).order_by(Integration.created_at, Integration.id)
    stmt = visible_only(stmt, principal, Integration.tenant_id)
    return list(session.scalars(stmt))


def get(session: Session, principal: Principal, integration_id: str) -> Integration:
    principal.require(READ)
    row = session.get(Integration, integration_id)
    if row is None or not principal.sees(row.tenant_id):
        raise NotFound("integration not found")
    return row


def header_names(row: Integration, vault: KeyVault) -> list[str]:
    return [name for name, _ in to_config(row, vault).headers]


def status(session: Session, integration_id: str) -> Status:
    def last(ok: bool) -> IntegrationDelivery | None:
        return session.scalars(
            select(IntegrationDelivery).where(IntegrationDelivery.integration_id == integration_id,
                                              IntegrationDelivery.ok == ok)
            .order_by(IntegrationDelivery.id.desc()).limit(1)
        ).first()

    good, bad = last(True), last(False)
    return Status(as_utc(good.time) if good else None, bad.error if bad else None,
                  as_utc(bad.time) if bad else None)


def deliveries(session: Session, principal: Principal, integration_id: str, limit: int = 50
               ) -> list[IntegrationDelivery]:
    get(session, principal, integration_id)
    return list(session.scalars(
        select(IntegrationDelivery).where(IntegrationDelivery.integration_id == integration_id)
        .order_by(IntegrationDelivery.id.desc()).limit(page_limit(min(limit, IntegrationDelivery.KEEP)))
    ))


def send_test(session: Session, vault: KeyVault, principal: Principal, integration_id: str
              ) -> tuple[Outcome, float]:
    """Send a test event (a ChirpStack ``log`` event of level INFO, DevEUI 0000000000000000) now, to this
    integration only, even when disabled; the attempt is logged as event "test". (outcome, duration in ms)."""
    from lora_city.sinks.integration_sink import Deliverer, send_sample
    from lora_city.sinks.tenant_mqtt import MqttSender
    from lora_city.sinks.webhooks import WebhookSender

    row = get(session, principal, integration_id)
    principal.require(WRITE)
    config = to_config(row, vault)
    deliverer = Deliverer(WebhookSender(timeout_s=5.0), MqttSender(timeout_s=5.0), deliveries=None)
    started = time.monotonic()
    try:
        outcome = send_sample(deliverer, config)
    finally:
        deliverer.close()
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    record_test(session, row.id, outcome, duration_ms)
    return outcome, duration_ms


def record_test(session: Session, integration_id: str, outcome: Outcome, duration_ms: float) -> None:
    write_attempts(session, [Attempt(integration_id, "test", outcome.ok, dev_eui=None, status=outcome.status,
                                     error=outcome.error, duration_ms=duration_ms, time=utcnow())])
    session.commit()
