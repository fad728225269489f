"""ABP activation (a session set by hand: DevAddr and session keys) and deactivation of a device.

Session keys are encrypted like root keys, with the DevEUI as context. For LoRaWAN 1.0.x the one NwkSKey fills
the three 1.1 network key columns (LoRaWAN 1.1 §6.1.2: FNwkSIntKey = SNwkSIntKey = NwkSEncKey for 1.0 devices).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.services.common import INPUT_CONFIG, hex_field, hex_id, key_bytes
from lora_city.services.devices import DeviceView, find_device, get_device
from lora_city.services.principal import Perm, Principal
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Device, DeviceSession

Key = hex_field(16)


class AbpActivation(BaseModel):
    """ABP activation (LoRaWAN 1.0.4 §6.3): the session written into the device, given to the network.

    Frame counters are the NEXT values, as the device holds them: ``f_cnt_up`` is the counter the device puts
    in its next uplink, so the first frame accepted is the first one carrying ``f_cnt_up`` or more; a frame with
    a lower counter is a replay and dropped (counted as ``uplink_drops{reason="replay"}``). If you know the
    last counter the device sent instead, give that value + 1. A device that restarts its counters at 0 needs
    a new activation (LoRaWAN 1.0.4 §4.3.1.5: counters never go back within a session).
    """

    model_config = INPUT_CONFIG

    dev_addr: str = hex_field(4)
    mac_version: Literal["1.0.2", "1.0.3", "1.0.4", "1.1.0"] = "1.0.3"
    nwk_s_key: str | None = hex_field(16, default=None)  # 1.0.x
    f_nwk_s_int_key: str | None = hex_field(16, default=None)  # 1.1
    s_nwk_s_int_key: str | None = hex_field(16, default=None)
    nwk_s_enc_key: str | None = hex_field(16, default=None)
    app_s_key: str = Key
    f_cnt_up: int = Field(
        default=0, ge=0, le=0xFFFFFFFF,
        description="Next expected uplink FCnt: the counter of the device's NEXT uplink (the last one received "
                    "+ 1; 0 for a freshly personalised device). Lower counters are dropped as replays.")
    n_f_cnt_down: int = Field(
        default=0, ge=0, le=0xFFFFFFFF,
        description="Counter of the next downlink: the only one in 1.0.x; in 1.1 NFCntDown (MAC-only frames, "
                    "FPort 0 or none). Must be above the last one the device received.")
    a_f_cnt_down: int = Field(
        default=0, ge=0, le=0xFFFFFFFF,
        description="LoRaWAN 1.1 only: AFCntDown, the counter of the next downlink carrying application data.")


def _network_keys(data: AbpActivation) -> tuple[str, str, str]:
    if data.mac_version == "1.1.0":
        if not (data.f_nwk_s_int_key and data.s_nwk_s_int_key and data.nwk_s_enc_key):
            raise InvalidInput("LoRaWAN 1.1 needs f_nwk_s_int_key, s_nwk_s_int_key and nwk_s_enc_key",
                               code="missing_session_keys")
        return data.f_nwk_s_int_key, data.s_nwk_s_int_key, data.nwk_s_enc_key
    if not data.nwk_s_key:
        raise InvalidInput("LoRaWAN 1.0.x needs nwk_s_key", code="missing_session_keys")
    return data.nwk_s_key, data.nwk_s_key, data.nwk_s_key


def activate_abp(
    session: Session, principal: Principal, vault: KeyVault, dev_eui: str, data: AbpActivation, *, now: datetime,
) -> DeviceView:
    principal.require(Perm.DEVICES_WRITE)
    device = find_device(session, principal, dev_eui)
    dev_addr = hex_id(data.dev_addr, 4, "dev_addr")
    ctx = device.dev_eui.encode()
    f_int, s_int, enc = (vault.encrypt(key_bytes(k, "session_key"), context=ctx) for k in _network_keys(data))
    app_s = vault.encrypt(key_bytes(data.app_s_key, "app_s_key"), context=ctx)
    # One active session per device from the API's side: a new activation replaces the previous one.
    session.execute(update(DeviceSession).where(DeviceSession.dev_eui == device.dev_eui).values(is_active=False))
    session.add(DeviceSession(
        dev_eui=device.dev_eui, dev_addr=dev_addr, mac_version=data.mac_version, f_nwk_s_int_key_enc=f_int,
        s_nwk_s_int_key_enc=s_int, nwk_s_enc_key_enc=enc, app_s_key_enc=app_s, f_cnt_up=data.f_cnt_up,
        n_f_cnt_down=data.n_f_cnt_down, a_f_cnt_down=data.a_f_cnt_down, is_active=True,
        created_at=now, updated_at=now,
    ))
    device.dev_addr = dev_addr
    device.is_disabled = False
    session.commit()
    return get_device(session, principal, device.dev_eui)


def deactivate(session: Session, principal: Principal, dev_eui: str, *, commit: bool = True) -> DeviceView:
    """End every session and disable the device: the network server drops its frames until re-enabled."""
    principal.require(Perm.DEVICES_WRITE)
    device = find_device(session, principal, dev_eui)
    disable(session, device)
    if commit:
        session.commit()
    return get_device(session, principal, device.dev_eui)


def disable(session: Session, device: Device) -> None:
    """The deactivation itself, for callers that checked their own permission (an onboarding swap)."""
    session.execute(update(DeviceSession).where(DeviceSession.dev_eui == device.dev_eui).values(is_active=False))
    device.dev_addr = None
    device.is_disabled = True
    session.flush()
