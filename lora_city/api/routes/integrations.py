"""A tenant's integrations (webhooks, its MQTT broker): create, read, change, delete, rotate the signing secret,
send a test event, read the last deliveries. A change applies to the next event (lora_city/sinks)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, ErrorBody, Out, UtcTime
from lora_city.services import integrations
from lora_city.services.integrations import IntegrationCreate, IntegrationFields
from lora_city.sinks.integrations import DEFAULT_TOPIC
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Integration

router = APIRouter(prefix="/integrations", tags=["integrations"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


class IntegrationOut(BaseModel):
    id: str
    tenant_id: str
    kind: str = Field(description="webhook | mqtt")
    name: str
    url: str
    enabled: bool
    events: list[str] | None = Field(description="Event kinds delivered; null: all")
    encoding: str = Field(description="json | protobuf (ChirpStack's integration messages)")
    created_at: UtcTime
    updated_at: UtcTime
    # webhook
    header_names: list[str] = Field(description="Names of the extra headers (their values are write-only)")
    event_urls: dict[str, str]
    # mqtt
    username: str | None
    has_password: bool
    ca_cert: str | None
    client_cert: str | None
    has_client_key: bool
    topic_template: str | None
    qos: int | None
    # status, from the delivery log
    last_delivery_at: UtcTime | None = Field(description="Time of the last delivery the endpoint accepted")
    last_error: str | None = Field(description="Why the last failed attempt failed")
    last_error_at: UtcTime | None


class IntegrationCreated(IntegrationOut):
    secret: str | None = Field(description="The webhook's signing secret: shown once, when created or rotated")


class DeliveryOut(Out):
    id: int
    time: UtcTime
    event: str = Field(description="up, join, ack, txack, status, log, or test")
    dev_eui: str | None
    ok: bool
    status: int | None = Field(description="HTTP status (webhook) or MQTT reason code")
    error: str | None
    attempt: int
    duration_ms: float


class TestResult(BaseModel):
    ok: bool
    status: int | None
    error: str | None
    duration_ms: float
    time: datetime


def describe(session: SessionDep, vault: KeyVault, row: Integration) -> IntegrationOut:
    status = integrations.status(session, row.id)
    mqtt = row.kind == "mqtt"
    return IntegrationOut(
        id=row.id, tenant_id=row.tenant_id, kind=row.kind, name=row.name, url=row.url, enabled=row.enabled,
        events=row.events, encoding=row.encoding, created_at=row.created_at, updated_at=row.updated_at,
        header_names=integrations.header_names(row, vault), event_urls=dict(row.event_urls or {}),
        username=row.username, has_password=row.password_enc is not None, ca_cert=row.ca_cert,
        client_cert=row.client_cert, has_client_key=row.client_key_enc is not None,
        topic_template=(row.topic_template or DEFAULT_TOPIC) if mqtt else None, qos=row.qos if mqtt else None,
        last_delivery_at=status.last_delivery_at, last_error=status.last_error, last_error_at=status.last_error_at,
    )


# Rules JSON Schema cannot state (they depend on the kind, on another field, or on parsing a certificate), each
# with its error code: said in the operation's published 422.
_SETTINGS_422: dict[int | str, dict[str, Any]] = {422: {"model": ErrorBody, "description": (
    "validation_error: the body breaks the schema. Beyond it: invalid_url (a webhook's URL is http(s)://, an MQTT "
    "broker's mqtt(s)://host[:port] with no path; a port from 1 to 65535), https_required (a webhook's plain http:// "
    "only to this machine's loopback), invalid_field (a setting of the other kind; a password without a username), "
    "invalid_events (an empty or repeated kind), "
    "invalid_headers (names are HTTP tokens, not set by lora_city, at most 20, values without line breaks), "
    "invalid_topic_template (known fields only, no wildcard, no leading $), invalid_certificate (PEM certificates "
    "and key that load and match, over mqtts:// only)")}}


@router.post("", status_code=201, responses=_SETTINGS_422)
def create_integration(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep,
                       body: IntegrationCreate) -> IntegrationCreated:
    row, secret = integrations.create(session, ctx.vault, principal, body)
    return IntegrationCreated(**describe(session, ctx.vault, row).model_dump(), secret=secret)


@router.get("")
def list_integrations(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep) -> list[IntegrationOut]:
    return [describe(session, ctx.vault, r) for r in integrations.list_for(session, principal)]


@router.get("/{integration_id}")
def get_integration(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep,
                    integration_id: str) -> IntegrationOut:
    return describe(session, ctx.vault, integrations.get(session, principal, integration_id))


@router.patch("/{integration_id}", responses=_SETTINGS_422)
def update_integration(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep, integration_id: str,
                       body: IntegrationFields) -> IntegrationCreated:
    row, secret = integrations.update(session, ctx.vault, principal, integration_id, body)
    return IntegrationCreated(**describe(session, ctx.vault, row).model_dump(), secret=secret)


@router.delete("/{integration_id}", status_code=204)
def delete_integration(session: SessionDep, principal: CurrentPrincipal, integration_id: str) -> Response:
    integrations.remove(session, principal, integration_id)
    return Response(status_code=204)


@router.post("/{integration_id}/secret")
def rotate_secret(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep,
                  integration_id: str) -> IntegrationCreated:
    row, secret = integrations.rotate_secret(session, ctx.vault, principal, integration_id)
    return IntegrationCreated(**describe(session, ctx.vault, row).model_dump(), secret=secret)


@router.get("/{integration_id}/deliveries")
def list_deliveries(session: SessionDep, principal: CurrentPrincipal, integration_id: str,
                    limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[DeliveryOut]:
    return [DeliveryOut.model_validate(d) for d in integrations.deliveries(session, principal, integration_id,
                                                                          limit)]


@router.post("/{integration_id}/test")
def test_integration(session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep,
                     integration_id: str) -> TestResult:
    """Sends a test event (a ChirpStack ``log`` event of level INFO, DevEUI 0000000000000000) now, to this
    integration only, even when disabled, and answers how it went. The attempt is logged as event "test"."""
    outcome, duration_ms = integrations.send_test(session, ctx.vault, principal, integration_id)
    return TestResult(ok=outcome.ok, status=outcome.status, error=outcome.error, duration_ms=duration_ms,
                      time=ctx.clock())
