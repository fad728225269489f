"""What a field technician does with a phone: scan a device's QR code, bind it to an asset, watch it come alive,
swap a broken one. Every write runs through ``idempotency.run`` so a retry on a flaky connection is safe: each
operation flushes, and the answer is committed together with the stored response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import AlreadyExists, Conflict, InvalidInput, LoraCityError
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.tr005 import QRCode, parse_qr
from lora_city.services import activation, assets
from lora_city.services.common import (
    INPUT_CONFIG,
    as_utc,
    hex_field,
    hex_id,
    key_bytes,
    require_same_tenant,
    visible_only,
)
from lora_city.services.devices import (
    DeviceCreate,
    DeviceView,
    add_device,
    device_views,
    encrypt_keys,
    find_device,
    get_device,
)
from lora_city.services.idempotency import IdempotencyRequest, Outcome, run
from lora_city.services.install_status import ReasonOut
from lora_city.services.principal import Perm, Principal
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Asset, AssetDevice, Device, DeviceKeys, Tenant


# --- scan ---------------------------------------------------------------------------------------------------
class Enrollment(BaseModel):
    """Register an unknown device on site (or give the keys a directorate import lacked)."""

    model_config = INPUT_CONFIG

    name: str | None = Field(default=None, min_length=1, max_length=200)
    app_key: str | None = hex_field(16, default=None, description=(
        "32 hex digits; spaces, colons and hyphens between them are ignored (as printed on key sheets)"))
    nwk_key: str | None = hex_field(16, default=None)
    tenant_id: str | None = None
    application_id: str | None = None
    codec: str | None = Field(default=None, max_length=100, description=(
        "The device's model (codec id), when the QR's ProfileID does not name one model (codec_candidates)"))
    accept_bad_checksum: bool = Field(default=False, description=(
        "Register although the QR code's TR005 checksum is wrong (a mistyped code registers a wrong DevEUI)"))


class ScanRequest(BaseModel):
    model_config = INPUT_CONFIG

    qr: str = Field(min_length=1, max_length=500, description="TR005 (LW:D0:…) or draft (URN:LW:DP:…, URN:DEV:LW:…)")
    enroll: Enrollment | None = Field(default=None, description="Register the device (or its missing keys)")


class ScanResult(BaseModel):
    dev_eui: str
    join_eui: str
    profile_id: str
    serial_number: str | None
    checksum_valid: bool | None
    known: bool
    registered_now: bool
    has_keys: bool
    tenant_id: str | None
    tenant_name: str | None
    device_name: str | None
    codec: str | None = Field(description="The device's codec, else the one the QR's ProfileID names")
    codec_candidates: list[str] = Field(default_factory=list, description=(
        "Every codec that lists the QR's ProfileID: one for an unambiguous profile, several for a vendor's "
        "profile shared by models (a person chooses)"))


def _parse(text: str) -> QRCode:
    try:
        return parse_qr(text)
    except LoRaWANError as exc:
        raise InvalidInput(f"not a LoRaWAN QR code: {exc}", code="invalid_qr") from None


def _scan(
    session: Session, principal: Principal, vault: KeyVault, codecs: CodecRegistry | None, data: ScanRequest,
    now: datetime,
) -> ScanResult:
    qr = _parse(data.qr)
    profile_codec = codecs.find_by_profile(qr.vendor_id, qr.vendor_profile_id) if codecs else None
    codec_id = profile_codec.id if profile_codec else None
    candidates = [c.id for c in codecs.codecs_for_profile(qr.vendor_id, qr.vendor_profile_id)] if codecs else []
    device = session.get(Device, qr.dev_eui)
    visible = device is not None and principal.sees(device.tenant_id)
    registered_now = False
    reg = data.enroll
    if device is None and reg is not None:
        if reg.app_key is None:
            raise InvalidInput("an unknown device needs its app_key to be registered", code="missing_app_key")
        if qr.checksum_valid is False and not reg.accept_bad_checksum:
            raise InvalidInput("the QR code's checksum is wrong: check the code (or accept_bad_checksum)",
                               code="bad_checksum")
        model = reg.codec or codec_id
        device = add_device(session, principal, vault, DeviceCreate(
            dev_eui=qr.dev_eui, join_eui=qr.join_eui, name=reg.name or f"{model or 'device'} {qr.dev_eui[-6:]}",
            app_key=reg.app_key, nwk_key=reg.nwk_key, codec=model, tenant_id=reg.tenant_id,
            application_id=reg.application_id,
        ), codecs=codecs, now=now, commit=False)
        visible, registered_now = True, True
    elif device is not None and visible and reg is not None and reg.app_key is not None:
        _give_keys(session, vault, device.dev_eui, reg, now)
    elif device is not None and not visible and reg is not None:
        # Enrolling a DevEUI someone else registered: a clear conflict, as POST /devices answers (registering is
        # how a DevEUI's owner is settled), not a quiet "not registered" the installer would take for success.
        raise AlreadyExists(f"device {qr.dev_eui} is already registered to another tenant; ask the network "
                            "operator to transfer it", code="device_registered_elsewhere")
    if device is None or not visible:
        return ScanResult(dev_eui=qr.dev_eui, join_eui=qr.join_eui, profile_id=qr.profile_id,
                          serial_number=qr.serial_number, checksum_valid=qr.checksum_valid, known=False,
                          registered_now=False, has_keys=False, tenant_id=None, tenant_name=None,
                          device_name=None, codec=codec_id, codec_candidates=candidates)
    tenant = session.get(Tenant, device.tenant_id)
    view = get_device(session, principal, device.dev_eui) if principal.can(Perm.DEVICES_READ) else None
    return ScanResult(
        dev_eui=device.dev_eui, join_eui=device.join_eui, profile_id=qr.profile_id, serial_number=qr.serial_number,
        checksum_valid=qr.checksum_valid, known=True, registered_now=registered_now,
        has_keys=session.get(DeviceKeys, device.dev_eui) is not None, tenant_id=device.tenant_id,
        tenant_name=tenant.name if tenant else None, device_name=device.name,
        codec=(view.codec if view else device.codec_id) or codec_id, codec_candidates=candidates,
    )


def _give_keys(session: Session, vault: KeyVault, dev_eui: str, reg: Enrollment, now: datetime) -> None:
    """Store keys a directorate import lacked. The same key again is a no-op; another key is refused (changing a
    key is an operator's PATCH, not an installer's scan)."""
    assert reg.app_key is not None
    existing = session.get(DeviceKeys, dev_eui)
    if existing is not None:
        stored = vault.decrypt(existing.app_key_enc, context=dev_eui.encode())
        if stored != key_bytes(reg.app_key, "app_key"):
            raise InvalidInput("the device already has other keys", code="keys_exist")
        return
    keys = encrypt_keys(vault, dev_eui, reg.app_key, reg.nwk_key)
    keys.updated_at = now
    session.add(keys)
    session.flush()


def scan(
    session: Session, principal: Principal, vault: KeyVault, data: ScanRequest, *, codecs: CodecRegistry | None,
    idem: IdempotencyRequest | None, now: datetime,
) -> Outcome:
    principal.require(Perm.ONBOARDING)
    return run(session, idem, lambda: _outcome(200, _scan(session, principal, vault, codecs, data, now)), now=now)


def _outcome(status: int, model: BaseModel) -> Outcome:
    return Outcome(status, model.model_dump(mode="json"))


# --- bind and swap --------------------------------------------------------------------------------------------
class AssetRef(assets.AssetFields):
    """Find the asset by ``external_ref`` in the device's tenant, creating it when absent."""

    external_ref: str = Field(min_length=1, max_length=100)


class BindRequest(BaseModel):
    model_config = INPUT_CONFIG

    dev_eui: str = hex_field(8)
    asset_id: str | None = None
    asset: AssetRef | None = None
    use_existing: bool = Field(default=False, description=(
        "asset.external_ref names an asset that exists: bind to it as it is. Its name, kind and notes are never "
        "changed; only a missing position or address is filled in. Without it, such a bind is a 409 "
        "(asset_exists) whose details show the asset."))
    move: bool = Field(default=False, description=(
        "The device is on another asset: end that binding and move it here. Without it, a 409 (device_bound) "
        "whose details show the other asset."))


class SwapRequest(BaseModel):
    model_config = INPUT_CONFIG

    asset_id: str
    old_dev_eui: str = hex_field(8)
    new_dev_eui: str = hex_field(8)
    force: bool = Field(default=False, description=(
        "Swap even though the two devices are of different families (e.g. a street-light controller for a "
        "pulse counter), which mixes unrelated measurements in the asset's history. Without it, a 409 "
        "(family_mismatch)."))
    move: bool = Field(default=False, description="The new device is on another asset: take it off (else 409)")


def _open_binding(session: Session, dev_eui: str) -> AssetDevice | None:
    return session.scalar(select(AssetDevice).where(AssetDevice.dev_eui == dev_eui, AssetDevice.unbound_at.is_(None)))


def _attach(session: Session, principal: Principal, asset: Asset, dev_eui: str, now: datetime, move: bool) -> None:
    current = _open_binding(session, dev_eui)
    if current is not None and current.asset_id == asset.id:
        return
    if current is not None:  # a device is on one asset at a time: moving it ends the previous span
        if not move:
            other = session.get(Asset, current.asset_id)
            raise Conflict(
                f"device {dev_eui} is on asset {_label(other)}; confirm the move (move: true) or take another device",
                code="device_bound", details={"asset": _asset_json(session, other)})
        current.unbound_at = now
    session.add(AssetDevice(asset_id=asset.id, dev_eui=dev_eui, bound_at=now, bound_by=principal.identity))
    session.flush()


def _label(asset: Asset | None) -> str:
    if asset is None:
        return "?"
    return f"{asset.external_ref} ({asset.name})" if asset.external_ref else asset.name or asset.id


def _asset_json(session: Session, asset: Asset | None) -> dict[str, Any] | None:
    return assets.view(session, asset).model_dump(mode="json") if asset is not None else None


def _bind(session: Session, principal: Principal, data: BindRequest, now: datetime) -> assets.AssetView:
    if (data.asset_id is None) == (data.asset is None):
        raise InvalidInput("give exactly one of asset_id and asset", code="invalid_asset")
    device = find_device(session, principal, hex_id(data.dev_eui, 8, "dev_eui"))
    if data.asset_id is not None:
        asset = assets.find_asset(session, principal, data.asset_id)
    else:
        assert data.asset is not None
        found = assets.find_by_ref(session, device.tenant_id, data.asset.external_ref)
        if found is None:
            create = assets.AssetCreate(**data.asset.model_dump(exclude_unset=True), tenant_id=device.tenant_id)
            found = assets.new_asset(session, principal, create, now=now)
        elif not data.use_existing and not _is_on(session, device.dev_eui, found):
            # A reference typed on site that happens to exist must not rename the city's asset (issue 17):
            # show the asset and let the technician say it is the one.
            raise Conflict(f"asset {data.asset.external_ref!r} already exists ({_label(found)}): bind to it with "
                           "use_existing: true, or give another reference",
                           code="asset_exists", details={"asset": _asset_json(session, found)})
        else:
            assets.fill_missing(found, data.asset)
        asset = found
    require_same_tenant(asset.tenant_id, device.tenant_id, "asset")
    _attach(session, principal, asset, device.dev_eui, now, data.move)
    return assets.view(session, asset)


def _is_on(session: Session, dev_eui: str, asset: Asset) -> bool:
    current = _open_binding(session, dev_eui)
    return current is not None and current.asset_id == asset.id


def bind(
    session: Session, principal: Principal, data: BindRequest, *, idem: IdempotencyRequest | None, now: datetime,
) -> Outcome:
    principal.require(Perm.ONBOARDING)
    return run(session, idem, lambda: _outcome(200, _bind(session, principal, data, now)), now=now)


class SwapSide(BaseModel):
    dev_eui: str
    name: str
    codec: str | None
    family: str | None
    is_disabled: bool
    last_seen_at: datetime | None
    bound_asset_id: str | None


class SwapPreview(BaseModel):
    """What the confirmation step shows: both units, and what would stop the swap."""

    asset: assets.AssetView
    old: SwapSide
    new: SwapSide
    same_family: bool
    problems: list[ReasonOut]


def _side(session: Session, view: DeviceView, codecs: CodecRegistry | None) -> SwapSide:
    binding = _open_binding(session, view.device.dev_eui)
    return SwapSide(dev_eui=view.device.dev_eui, name=view.device.name, codec=view.codec,
                    family=family_of(codecs, view.codec), is_disabled=view.device.is_disabled,
                    last_seen_at=as_utc(view.device.last_seen_at),
                    bound_asset_id=binding.asset_id if binding else None)


def family_of(codecs: CodecRegistry | None, codec_id: str | None) -> str | None:
    """A device's family (streetlight, water, flood, other) is its codec's; None without a known codec."""
    if codecs is None or codec_id is None or codec_id not in codecs:
        return None
    return str(codecs.get(codec_id).manifest.family.value)


def _swap_check(
    session: Session, principal: Principal, data: SwapRequest, codecs: CodecRegistry | None,
) -> tuple[Asset, Device, Device, SwapPreview]:
    asset = assets.find_asset(session, principal, data.asset_id)
    old = find_device(session, principal, hex_id(data.old_dev_eui, 8, "old_dev_eui"))
    new = find_device(session, principal, hex_id(data.new_dev_eui, 8, "new_dev_eui"))
    old_side, new_side = (_side(session, v, codecs) for v in device_views(session, [old, new]))
    problems: list[ReasonOut] = []
    if old.dev_eui == new.dev_eui:
        problems.append(ReasonOut(code="same_device", message="old and new device are the same", blocking=True))
    if new.tenant_id != asset.tenant_id:
        problems.append(ReasonOut(code="tenant_mismatch", blocking=True,
                                  message="the new device belongs to another tenant than the asset"))
    if old_side.bound_asset_id != asset.id:
        problems.append(ReasonOut(code="not_bound", message="the old device is not on this asset", blocking=True))
    same_family = old_side.family == new_side.family
    if not same_family:
        problems.append(ReasonOut(code="family_mismatch", blocking=not data.force, message=(
            f"the old device is a {old_side.family or 'device of unknown family'} and the new one a "
            f"{new_side.family or 'device of unknown family'}: their measurements would mix in the asset's "
            "history (force: true to swap anyway)")))
    if new_side.bound_asset_id not in (None, asset.id):
        problems.append(ReasonOut(code="device_bound", blocking=not data.move,
                                  message="the new device is on another asset (move: true to take it off)"))
    preview = SwapPreview(asset=assets.view(session, asset), old=old_side, new=new_side, same_family=same_family,
                          problems=problems)
    return asset, old, new, preview


def swap_preview(
    session: Session, principal: Principal, data: SwapRequest, *, codecs: CodecRegistry | None,
) -> SwapPreview:
    principal.require(Perm.ONBOARDING)
    return _swap_check(session, principal, data, codecs)[3]


_SWAP_ERRORS: dict[str, type[LoraCityError]] = {
    "same_device": InvalidInput, "tenant_mismatch": InvalidInput, "not_bound": InvalidInput,
    "family_mismatch": Conflict, "device_bound": Conflict,
}


def _swap(
    session: Session, principal: Principal, data: SwapRequest, codecs: CodecRegistry | None, now: datetime,
) -> assets.AssetView:
    asset, old, new, preview = _swap_check(session, principal, data, codecs)
    for problem in preview.problems:
        if problem.blocking:
            raise _SWAP_ERRORS[problem.code](problem.message, code=problem.code,
                                             details=preview.model_dump(mode="json", include={"old", "new"}))
    binding = _open_binding(session, old.dev_eui)
    assert binding is not None
    binding.unbound_at = now
    activation.disable(session, old)
    if new.is_disabled:
        new.is_disabled = False
    _attach(session, principal, asset, new.dev_eui, now, move=True)
    return assets.view(session, asset)


def swap(
    session: Session, principal: Principal, data: SwapRequest, *, idem: IdempotencyRequest | None, now: datetime,
    codecs: CodecRegistry | None = None,
) -> Outcome:
    principal.require(Perm.ONBOARDING)
    return run(session, idem, lambda: _outcome(200, _swap(session, principal, data, codecs, now)), now=now)


def set_photo(
    session: Session, principal: Principal, asset_id: str, content: bytes, content_type: str, *,
    idem: IdempotencyRequest | None, now: datetime,
) -> Outcome:
    principal.require(Perm.ONBOARDING)

    def operation() -> Outcome:
        asset = assets.find_asset(session, principal, asset_id)
        kind = content_type.split(";")[0].strip().lower()
        if kind not in assets.PHOTO_TYPES:
            raise InvalidInput(f"photo must be one of {', '.join(assets.PHOTO_TYPES)}", code="invalid_photo")
        if not content or len(content) > assets.MAX_PHOTO:
            raise InvalidInput(f"photo must be 1 byte to {assets.MAX_PHOTO} bytes", code="invalid_photo")
        asset.photo, asset.photo_content_type = content, kind
        session.flush()
        return _outcome(200, assets.view(session, asset))

    return run(session, idem, operation, now=now)


def enrollment_tenants(session: Session, principal: Principal) -> list[tuple[str, str]]:
    """(id, name) of the tenants a device registered on site may go to: every tenant for the city's staff and
    technicians (they install for lessees too), the caller's own otherwise."""
    principal.require(Perm.ONBOARDING)
    stmt = (select(Tenant.id, Tenant.name).where(Tenant.status != "deleted")
            .order_by(Tenant.kind != "city", Tenant.name))
    stmt = visible_only(stmt, principal, Tenant.id)
    return [(tid, name) for tid, name in session.execute(stmt)]


def is_known(session: Session, principal: Principal, dev_eui: str) -> bool:
    """Registered and visible to the principal (another tenant's device is "unknown", as in a scan)."""
    principal.require(Perm.ONBOARDING)
    device = session.get(Device, dev_eui)
    return device is not None and principal.sees(device.tenant_id)
