"""Response bodies. Inputs are the services' own models (shared with the CLI and future gRPC API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC): always answer with an explicit offset.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcTime = Annotated[datetime, AfterValidator(_utc)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Per-item problems, e.g. every bad CSV row with its line and reason")


class ErrorBody(BaseModel):
    error: ErrorDetail


class TenantOut(Out):
    id: str
    name: str
    slug: str
    kind: str
    is_critical: bool
    status: str
    legal_name: str | None
    siret: str | None
    vat_number: str | None
    address: str | None
    email: str | None
    language: str
    plan_id: str | None
    description: str
    can_have_gateways: bool
    max_gateway_count: int
    max_device_count: int
    private_gateways_up: bool
    private_gateways_down: bool
    tags: dict[str, str]
    created_at: UtcTime
    updated_at: UtcTime


class ApiKeyOut(Out):
    id: str
    tenant_id: str
    name: str
    prefix: str
    role: str
    created_at: UtcTime
    expires_at: UtcTime | None
    revoked_at: UtcTime | None
    last_used_at: UtcTime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown once: only its hash is stored.")


class GatewayOut(Out):
    gateway_id: str
    tenant_id: str
    name: str
    description: str
    latitude: float | None
    longitude: float | None
    altitude: float | None
    private_up: bool
    private_down: bool
    online: bool
    last_seen_at: UtcTime | None
    stats: dict[str, Any]
    created_at: UtcTime


class UnknownGatewayOut(Out):
    """A gateway heard but not registered: its frames are dropped until it is (issue 23)."""

    gateway_id: str
    transport: str
    first_seen_at: UtcTime
    last_seen_at: UtcTime
    frames: int  # uplink copies dropped


class ProfileOut(Out):
    id: str
    tenant_id: str
    name: str
    region: str
    mac_version: str
    device_class: str
    supports_otaa: bool
    codec_id: str | None
    adr_enabled: bool
    uplink_interval_s: int
    app_layer: dict[str, int]
    catalogue_model: str | None = None
    firmware_version: str | None = None
    created_at: UtcTime


class ApplicationOut(Out):
    id: str
    tenant_id: str
    name: str
    description: str
    created_at: UtcTime


class DeviceOut(BaseModel):
    dev_eui: str
    tenant_id: str
    application_id: str | None
    device_profile_id: str | None
    name: str
    description: str
    join_eui: str
    codec: str | None
    device_class: str
    is_disabled: bool
    latitude: float | None
    longitude: float | None
    joined: bool
    dev_addr: str | None
    last_seen_at: UtcTime | None
    battery_level: float | None = Field(description="Battery charge in % from the device's last DevStatusAns "
                                                   "(LoRaWAN 1.0.4 §5.6: 1..254 -> 0.39..100 %); null: never "
                                                   "answered, cannot measure, or external power")
    margin: int | None = Field(description="Demodulation margin in dB of the last DevStatusAns")
    status_at: UtcTime | None = Field(description="When the device last answered DevStatusReq")
    external_power: bool | None = Field(description="The last DevStatusAns said: powered externally")
    tags: dict[str, Any]
    created_at: UtcTime


class DevicePage(BaseModel):
    items: list[DeviceOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last page.")


class ReadingOut(Out):
    id: int
    dev_eui: str
    time: UtcTime
    f_cnt: int
    f_port: int | None
    data: dict[str, Any] | None
    measurements: dict[str, Any]
    codec_id: str | None
    rx: list[Any]
    tx: dict[str, Any]


class ReadingPage(BaseModel):
    items: list[ReadingOut]
    next_cursor: str | None


class EventOut(Out):
    id: int
    dev_eui: str | None
    gateway_id: str | None
    kind: str
    time: UtcTime
    body: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class QueueItemOut(BaseModel):
    id: str
    dev_eui: str
    f_port: int
    data_hex: str
    confirmed: bool
    is_pending: bool
    retries: int
    created_at: UtcTime


class Flushed(BaseModel):
    deleted: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 422)},
    # rate limits (rate_limited), failed-authentication throttle (too_many_attempts), quotas (quota_exceeded)
    429: {"model": ErrorBody, "description": "Too many requests",
          "headers": {"Retry-After": {"description": "Seconds to wait before trying again",
                                      "schema": {"type": "integer", "minimum": 1}}}},
}


def device_out(view: Any) -> DeviceOut:
    d = view.device
    return DeviceOut(
        dev_eui=d.dev_eui, tenant_id=d.tenant_id, application_id=d.application_id,
        device_profile_id=d.device_profile_id, name=d.name, description=d.description, join_eui=d.join_eui,
        codec=view.codec, device_class=view.device_class, is_disabled=d.is_disabled, latitude=d.latitude,
        longitude=d.longitude, joined=view.joined, dev_addr=d.dev_addr, last_seen_at=d.last_seen_at,
        battery_level=d.battery_level, margin=d.margin, status_at=d.status_at, external_power=d.external_power,
        tags=d.tags or {}, created_at=d.created_at,
    )


def queue_item_out(item: Any) -> QueueItemOut:
    return QueueItemOut(
        id=item.id, dev_eui=item.dev_eui, f_port=item.f_port, data_hex=item.payload.hex(),
        confirmed=item.confirmed, is_pending=item.is_pending, retries=item.retries, created_at=item.created_at,
    )


class ImportOut(BaseModel):
    imported: int
    dry_run: bool
    separator: str = Field(description="The separator found in the header line: ',', ';' or a tab")
    mapping: dict[str, str | None] = Field(
        description="Each column of the file and the field it was read as (null: not recognised)")
