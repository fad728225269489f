"""Device profiles: class, MAC version, region, codec and the expected uplink interval of a device model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.applayer.profile import parse_app_layer
from lora_city.codec.registry import CodecRegistry
from lora_city.errors import Conflict, InvalidInput, NotFound
from lora_city.services.catalogue import profile_from_model
from lora_city.services.common import INPUT_CONFIG, NotNull, target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.services.profile_codecs import is_profile_codec, profile_of
from lora_city.storage.models import Device, DeviceProfile, utcnow

MacVersion = Literal["1.0.2", "1.0.3", "1.0.4", "1.1.0"]


class AppLayerSettings(BaseModel):
    """The LoRa Alliance application-layer packages the profile's devices run, each with its version (1 for
    v1.0.0, 2 for v2.0.0); absent or null: not run (the port goes to the codec like any other)."""

    model_config = INPUT_CONFIG

    clock_sync: Literal[1, 2] | None = None  # TS003, FPort 202
    multicast_setup: Literal[1, 2] | None = None  # TS005, FPort 200
    fragmentation: Literal[1, 2] | None = None  # TS004, FPort 201


def _app_layer(value: AppLayerSettings | dict[str, object] | None) -> dict[str, object]:
    raw = value.model_dump() if isinstance(value, AppLayerSettings) else dict(value or {})
    setting = {k: v for k, v in raw.items() if v is not None}
    parse_app_layer(setting)  # the same rules the network server applies
    return setting


class ProfileFields(BaseModel):
    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    region: Literal["EU868"] | NotNull = None
    mac_version: MacVersion | NotNull = None
    device_class: Literal["A", "B", "C"] | NotNull = None
    supports_otaa: bool | NotNull = None
    codec_id: str | None = Field(default=None, max_length=100)
    adr_enabled: bool | NotNull = None
    uplink_interval_s: Annotated[int, Field(ge=1, le=31 * 86400)] | NotNull = None
    app_layer: AppLayerSettings | None = None
    catalogue_model: str | None = Field(
        default=None, max_length=80,
        description="A catalogue model (vendor/model): fills name, codec, class, MAC version, OTAA and regional "
                    "parameters from its EU868 profile; fields given beside it win")
    firmware_version: str | None = Field(default=None, max_length=40,
                                         description="The model's firmware (default: the newest with EU868)")


class ProfileCreate(ProfileFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tenant_id: str | None = None


_NOT_NULL = {"name", "region", "mac_version", "device_class", "supports_otaa", "adr_enabled", "uplink_interval_s"}


def _from_model(session: Session, model: str | None, firmware: str | None) -> dict[str, Any]:
    if model is None:
        if firmware is not None:
            raise InvalidInput("firmware_version needs catalogue_model", code="invalid_catalogue_model")
        return {}
    fields = profile_from_model(session, model, firmware)
    fields["reg_params_revision"] = str(fields["reg_params_revision"])[:16]
    return fields


def check_codec(codecs: CodecRegistry | None, codec: str | None, profile_id: str | None = None) -> None:
    """A profile names a codec its devices will decode with: one the registry knows (a codec folder, an entry
    point or a catalogue codec ``vendor/codec[@N]``), the rule devices follow (issue 21: profiles took any).
    A profile's own script (``device-profiles/<id>``) is named by that profile only, never by another tenant's."""
    if is_profile_codec(codec) and profile_of(codec) != profile_id:
        raise InvalidInput(f"codec {codec!r} is another device profile's own script", code="unknown_codec")
    if codec is not None and codecs is not None and codec not in codecs:
        raise InvalidInput(f"no codec {codec!r}", code="unknown_codec")


def create_profile(session: Session, principal: Principal, data: ProfileCreate, *,
                   codecs: CodecRegistry | None = None) -> DeviceProfile:
    principal.require(Perm.PROFILES_WRITE)
    tenant = target_tenant(session, principal, data.tenant_id)
    check_codec(codecs, data.codec_id)
    # The core column reg_params_revision is String(8), too short for the model's own default "RP002-1.0.3"
    # (PostgreSQL refuses it). Nothing reads it yet; store the document name until the core widens the column.
    fields: dict[str, Any] = {"reg_params_revision": "RP002"}
    fields.update(_from_model(session, data.catalogue_model, data.firmware_version))
    fields.update(data.model_dump(exclude={"tenant_id", "app_layer"}, exclude_none=True))
    if not fields.get("name"):
        raise InvalidInput("a profile needs a name (or a catalogue_model to take it from)", code="missing_name")
    profile = DeviceProfile(tenant_id=tenant, app_layer=_app_layer(data.app_layer), **fields)
    session.add(profile)
    session.commit()
    return profile


def profile_for_model(session: Session, tenant_id: str, model: str, firmware: str | None) -> DeviceProfile:
    """The tenant's profile made from this catalogue model and firmware, made now if it has none (adding a
    device from a model): one profile per model and firmware, shared by the tenant's devices of that model."""
    fields = _from_model(session, model, firmware)
    existing = session.scalars(select(DeviceProfile).where(
        DeviceProfile.tenant_id == tenant_id, DeviceProfile.catalogue_model == fields["catalogue_model"],
        DeviceProfile.firmware_version == fields["firmware_version"]).order_by(DeviceProfile.created_at)).first()
    if existing is not None:
        return existing
    profile = DeviceProfile(tenant_id=tenant_id, **fields)
    session.add(profile)
    session.flush()
    return profile


def default_profile(session: Session, tenant_id: str, codec_id: str | None, device_class: str | None,
                    mac_version: str = "1.0.3") -> DeviceProfile:
    """The tenant's profile for a device registered with a codec and class but no profile (the simple API), made
    on first use and shared by such devices: every device then has a profile, as ChirpStack's API expects.
    ``mac_version``: what the network server assumed for a device without a profile (1.1.0 when registered
    with a NwkKey, else 1.0.3: uplink/join.py ``mac_version_of``), so the profile changes nothing on the air."""
    cls = (device_class or "A").upper()
    name = f"{codec_id or 'no codec'} (class {cls}, LoRaWAN {mac_version})"
    existing = session.scalars(select(DeviceProfile).where(
        DeviceProfile.tenant_id == tenant_id, DeviceProfile.name == name, DeviceProfile.catalogue_model.is_(None),
    ).order_by(DeviceProfile.created_at)).first()
    if existing is not None:
        return existing
    profile = DeviceProfile(tenant_id=tenant_id, name=name, codec_id=codec_id, device_class=cls,
                            mac_version=mac_version)
    session.add(profile)
    session.flush()
    return profile


def get_profile(session: Session, principal: Principal, profile_id: str) -> DeviceProfile:
    principal.require(Perm.PROFILES_READ)
    profile = session.get(DeviceProfile, profile_id)
    if profile is None or not principal.sees(profile.tenant_id):
        raise NotFound("device profile not found")
    return profile


def list_profiles(session: Session, principal: Principal) -> list[DeviceProfile]:
    principal.require(Perm.PROFILES_READ)
    stmt = select(DeviceProfile).order_by(DeviceProfile.name, DeviceProfile.id)
    stmt = visible_only(stmt, principal, DeviceProfile.tenant_id)
    return list(session.scalars(stmt))


def update_profile(session: Session, principal: Principal, profile_id: str, data: ProfileFields, *,
                   codecs: CodecRegistry | None = None) -> DeviceProfile:
    principal.require(Perm.PROFILES_WRITE)
    profile = get_profile(session, principal, profile_id)
    check_codec(codecs, data.codec_id, profile.id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("catalogue_model") is not None:  # re-fill from the model; fields given beside it win
        changes = {**_from_model(session, changes["catalogue_model"], changes.get("firmware_version")), **changes}
    for name, value in changes.items():
        if value is None and name in _NOT_NULL:
            raise InvalidInput(f"{name} may not be null")
        setattr(profile, name, _app_layer(value) if name == "app_layer" else value)
    profile.updated_at = utcnow()
    session.commit()
    return profile


def devices_of(session: Session, profile_id: str) -> list[str]:
    """DevEUIs using the profile: the network server must forget their cached identity when it changes."""
    return list(session.scalars(select(Device.dev_eui).where(Device.device_profile_id == profile_id)))


def delete_profile(session: Session, principal: Principal, profile_id: str) -> None:
    """A profile some devices use is not deleted (their codec, class and radio settings come from it): 409 with
    how many, so the operator moves them to another profile first."""
    principal.require(Perm.PROFILES_WRITE)
    profile = get_profile(session, principal, profile_id)
    in_use = session.scalar(select(func.count()).select_from(Device).where(Device.device_profile_id == profile.id))
    if in_use:
        raise Conflict(f"{in_use} device(s) use this device profile: give them another profile first",
                       code="profile_in_use")
    session.delete(profile)
    session.commit()
