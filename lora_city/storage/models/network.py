"""The radio network: gateways, device profiles, devices, their keys, sessions, DevNonces and downlink queue.

EUIs and DevAddr are stored as lowercase MSB-first hex strings (as shown to people); keys are encrypted at rest
with ``lora_city.storage.keys.KeyVault`` and never returned by the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class Gateway(Base):
    __tablename__ = "gateways"

    gateway_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    altitude: Mapped[float | None] = mapped_column(default=None)
    # A tenant's private gateway: not shared with others for uplinks and/or downlinks (issue 7).
    private_up: Mapped[bool] = mapped_column(default=False)
    private_down: Mapped[bool] = mapped_column(default=False)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)  # latest counters from the health tracker
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)  # its settings' last change (not its traffic)


class UnknownGateway(Base):
    """A gateway heard but not registered: its frames are dropped (unless Settings.allow_unknown_gateways) and it
    is listed for the operator to register (issue 23, defect 11). Written by the network server."""

    __tablename__ = "unknown_gateways"

    gateway_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    transport: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    frames: Mapped[int] = mapped_column(BigInteger, default=0)  # uplink copies dropped


class DeviceProfile(Base):
    __tablename__ = "device_profiles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(16), default="EU868")
    mac_version: Mapped[str] = mapped_column(String(8), default="1.0.3")  # 1.0.2 | 1.0.3 | 1.0.4 | 1.1.0
    reg_params_revision: Mapped[str] = mapped_column(String(16), default="RP002-1.0.3")
    device_class: Mapped[str] = mapped_column(String(1), default="A")  # A | B | C
    supports_otaa: Mapped[bool] = mapped_column(default=True)
    codec_id: Mapped[str | None] = mapped_column(String(100), default=None)
    # The catalogue model ("vendor/model") and firmware version the profile was filled from, if any.
    catalogue_model: Mapped[str | None] = mapped_column(String(80), default=None)
    firmware_version: Mapped[str | None] = mapped_column(String(40), default=None)
    adr_enabled: Mapped[bool] = mapped_column(default=True)
    # Expected uplink interval: a device silent for longer (x a tolerance) is "silent" (overview, alerts).
    uplink_interval_s: Mapped[int] = mapped_column(default=3600)
    # LoRa Alliance application-layer packages the devices run, by name -> version (1 or 2): "clock_sync" (TS003,
    # FPort 202), "multicast_setup" (TS005, 200), "fragmentation" (TS004, 201). Empty: those ports go to the codec.
    app_layer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Device(Base):
    __tablename__ = "devices"

    dev_eui: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), index=True, default=None
    )
    device_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("device_profiles.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    join_eui: Mapped[str] = mapped_column(String(16), default="0000000000000000")
    # Per-device overrides of the profile (the simple API takes codec and class on the device itself).
    codec_id: Mapped[str | None] = mapped_column(String(100), default=None)
    device_class: Mapped[str | None] = mapped_column(String(1), default=None)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    dev_addr: Mapped[str | None] = mapped_column(String(8), index=True, default=None)  # current session's
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    battery_level: Mapped[float | None] = mapped_column(default=None)  # from DevStatusAns, %
    margin: Mapped[int | None] = mapped_column(default=None)  # from DevStatusAns, dB
    status_at: Mapped[datetime | None] = mapped_column(default=None)  # time of the last DevStatusAns
    external_power: Mapped[bool | None] = mapped_column(default=None)  # DevStatusAns battery 0 (1.0.4 §5.6)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)  # its settings' last change (not its traffic)


class DeviceKeys(Base):
    """Root keys (OTAA). 1.0.x uses AppKey only; 1.1 adds NwkKey."""

    __tablename__ = "device_keys"

    dev_eui: Mapped[str] = mapped_column(ForeignKey("devices.dev_eui", ondelete="CASCADE"), primary_key=True)
    app_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    nwk_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # LoRaWAN 1.0.x devices derive their application-layer keys (TS005 McRootKey, TS004 DataBlockIntKey) from a
    # GenAppKey of their own; 1.1 devices use AppKey.
    gen_app_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # JoinNonce of the last join-accept (a counter that never repeats: LoRaWAN 1.0.4 §6.2.6, 1.1 §6.2.3)
    join_nonce: Mapped[int] = mapped_column(default=0, server_default="0")
    rj_count1: Mapped[int | None] = mapped_column(default=None)  # last rejoin type 1 RJcount1 (1.1 §6.2.4.2)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeviceSession(Base):
    """A LoRaWAN session (after OTAA join or ABP activation). Several may share a DevAddr."""

    __tablename__ = "device_sessions"
    __table_args__ = (Index("ix_device_sessions_dev_addr_active", "dev_addr", "is_active"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dev_eui: Mapped[str] = mapped_column(ForeignKey("devices.dev_eui", ondelete="CASCADE"), index=True)
    dev_addr: Mapped[str] = mapped_column(String(8))
    mac_version: Mapped[str] = mapped_column(String(8), default="1.0.3")
    # 1.0.x: nwk_s_key in f_nwk_s_int_key (= s_nwk_s_int_key = nwk_s_enc_key); 1.1: the three network keys.
    f_nwk_s_int_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    s_nwk_s_int_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    nwk_s_enc_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    app_s_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # 32-bit unsigned counters: BIGINT (PostgreSQL's INTEGER stops at 2^31 - 1)
    f_cnt_up: Mapped[int] = mapped_column(BigInteger, default=0)  # next expected uplink FCnt
    last_f_cnt_up: Mapped[int | None] = mapped_column(BigInteger, default=None)  # last accepted (None: none yet)
    n_f_cnt_down: Mapped[int] = mapped_column(BigInteger, default=0)
    a_f_cnt_down: Mapped[int] = mapped_column(BigInteger, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Radio/MAC state (data rate, tx power, nb_trans, rx params, channels, ADR history, pending MAC requests).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevNonce(Base):
    """DevNonces already used by a device's join-requests (replay protection, LoRaWAN 1.0.4 §6.2.5)."""

    __tablename__ = "dev_nonces"
    __table_args__ = (UniqueConstraint("dev_eui", "join_eui", "dev_nonce", name="uq_dev_nonces_triplet"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dev_eui: Mapped[str] = mapped_column(ForeignKey("devices.dev_eui", ondelete="CASCADE"), index=True)
    join_eui: Mapped[str] = mapped_column(String(16))
    dev_nonce: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeviceQueueItem(Base):
    """The application downlink queue of a device."""

    __tablename__ = "device_queue"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dev_eui: Mapped[str] = mapped_column(ForeignKey("devices.dev_eui", ondelete="CASCADE"), index=True)
    f_port: Mapped[int]
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    confirmed: Mapped[bool] = mapped_column(default=False)
    is_pending: Mapped[bool] = mapped_column(default=False)  # sent, waiting for an ACK (confirmed)
    f_cnt_down: Mapped[int | None] = mapped_column(BigInteger, default=None)
    retries: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
