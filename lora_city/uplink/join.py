"""The OTAA join flow (LoRaWAN 1.0.4 §6.2, 1.1 §6.2), as ordered steps: device and root keys, MIC, DevNonce,
JoinNonce, new session, join-accept. The database work runs in a worker thread (one transaction: DevNonce,
JoinNonce, session and device row), so the event loop keeps handling other uplinks meanwhile.

What depends on the device's LoRaWAN version (its device profile's ``mac_version``; without a profile, 1.1 when
it has a NwkKey):

- the join-request MIC: AppKey in 1.0.x, NwkKey in 1.1 (1.1 §6.2.2);
- DevNonce: random and never reused up to 1.0.3 (1.0.3 §6.2.4); a counter from 1.0.4 on, which must grow for a
  JoinEUI (1.0.4 §6.2.5, 1.1 §6.2.2): a lower or equal one is a replay;
- the join-accept: 1.1 devices get OptNeg, a MIC under JSIntKey over JoinReqType | JoinEUI | DevNonce | ...
  (1.1 §6.2.3) and four session keys; 1.0.x ones the AppKey MIC and two keys (1.0.4 §6.2.6).

JoinNonce is a per-device counter kept by the join server (device_keys.join_nonce), for every version: 1.1 and
1.0.4 devices refuse a JoinNonce that did not grow; older ones do not care.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lora_city.errors import DropFrame
from lora_city.lorawan.crypto import (
    derive_js_keys,
    encrypt_join_accept,
    join_accept_mic_10,
    join_accept_mic_11,
    join_request_mic,
)
from lora_city.lorawan.frames import DLSettings, JoinAccept, JoinRequest
from lora_city.lorawan.keys import derive_session_keys_10, derive_session_keys_11
from lora_city.lorawan.region import EU868, Region
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Device, DeviceKeys, DeviceProfile, DevNonce
from lora_city.storage.sessions import NetworkSession, SessionStore, device_info
from lora_city.uplink.dev_addr import allocate_dev_addr
from lora_city.uplink.mac_requests import RadioPlan

JOIN_REQUEST_TYPE = 0xFF  # JoinReqType of a join-request in the 1.1 join-accept MIC (rejoins use their type)
_MAX_JOIN_NONCE = 0xFFFFFF


@dataclass(frozen=True, slots=True)
class RootKeys:
    """A device's root keys in clear and the LoRaWAN version that says how to use them."""

    mac_version: str  # "1.0.2" | "1.0.3" | "1.0.4" | "1.1.0"
    app_key: bytes
    nwk_key: bytes | None

    @property
    def is_11(self) -> bool:
        return self.mac_version.startswith("1.1")

    @property
    def join_key(self) -> bytes:
        """Signs the join-request and encrypts the answer to it: NwkKey in 1.1 (§6.2.2), AppKey in 1.0.x."""
        if self.is_11:
            assert self.nwk_key is not None
            return self.nwk_key
        return self.app_key

    @property
    def counted_dev_nonce(self) -> bool:
        """DevNonce is a counter from LoRaWAN 1.0.4 on (1.0.4 §6.2.5, 1.1 §6.2.2); random before."""
        return self.is_11 or self.mac_version >= "1.0.4"


def mac_version_of(profile: DeviceProfile | None, keys: DeviceKeys) -> str:
    if profile is not None and profile.mac_version:
        return profile.mac_version
    return "1.1.0" if keys.nwk_key_enc is not None else "1.0.3"


def root_keys(vault: KeyVault, keys: DeviceKeys, profile: DeviceProfile | None) -> RootKeys:
    ctx = keys.dev_eui.encode()
    version = mac_version_of(profile, keys)
    nwk_key = vault.decrypt(keys.nwk_key_enc, context=ctx) if keys.nwk_key_enc is not None else None
    if version.startswith("1.1") and nwk_key is None:
        raise DropFrame("no_keys", f"{keys.dev_eui}: LoRaWAN 1.1 needs a NwkKey")
    return RootKeys(version, vault.decrypt(keys.app_key_enc, context=ctx), nwk_key)


@dataclass(slots=True)
class JoiningDevice:
    """A device asking for a session (join- or rejoin-request): what the database holds of it, its root keys."""

    info: DeviceInfo
    device: Device
    profile: DeviceProfile | None
    row: DeviceKeys
    keys: RootKeys


def joining_device(db: Session, dev_eui: str, vault: KeyVault, family_of: Callable[[str | None], str | None],
                   heard_for: Callable[[str], bool] | None) -> JoiningDevice:
    """Load the device and decrypt its root keys. Raises DropFrame for an unknown device, one heard only through
    another tenant's private gateway, and one without root keys (an ABP device)."""
    found = device_info(db, dev_eui, family_of)
    if found is None:
        raise DropFrame("unknown_dev_eui", dev_eui)
    info, device, profile = found
    if heard_for is not None and not heard_for(info.tenant_id):
        raise DropFrame("private_gateway", dev_eui)
    row = db.get(DeviceKeys, dev_eui)
    if row is None:
        raise DropFrame("no_keys", dev_eui)
    return JoiningDevice(info, device, profile, row, root_keys(vault, row, profile))


def next_join_nonce(db: Session, dev_eui: str) -> int:
    """The device's next JoinNonce, taken atomically (two concurrent joins never share one)."""
    value = db.scalar(update(DeviceKeys).where(DeviceKeys.dev_eui == dev_eui)
                      .values(join_nonce=DeviceKeys.join_nonce + 1).returning(DeviceKeys.join_nonce))
    if value is None or value > _MAX_JOIN_NONCE:
        raise DropFrame("join_nonce_exhausted", f"{dev_eui}: new root keys needed")
    return int(value)


def build_join_accept(region: Region, net_id: str, session: NetworkSession, keys: RootKeys, join_nonce: int, *,
                      join_req_type: int, join_eui: str, dev_nonce: int, encryption_key: bytes) -> bytes:
    """The encrypted join-accept: region CFList, RX1DROffset/RX2DR and RxDelay; 1.1 sets OptNeg and signs with
    JSIntKey over JoinReqType | JoinEUI | DevNonce (or RJcount) | ... (1.1 §6.2.3), 1.0 with the join key."""
    accept = JoinAccept(
        join_nonce=join_nonce, net_id=net_id, dev_addr=session.dev_addr,
        dl_settings=DLSettings(opt_neg=keys.is_11, rx1_dr_offset=session.rx1_dr_offset, rx2_dr=session.rx2_dr),
        rx_delay=session.rx_delay, cf_list=region.cf_list(),
    )
    body = accept.mic_input()
    if keys.is_11:
        js_int_key = derive_js_keys(keys.join_key, session.dev_eui).js_int_key
        mic = join_accept_mic_11(js_int_key, join_req_type, join_eui, dev_nonce, body)
    else:
        mic = join_accept_mic_10(keys.join_key, body)
    return encrypt_join_accept(encryption_key, body + mic)


def apply_join_accept_plan(session: NetworkSession, region: Region, plan: RadioPlan | None) -> None:
    """What the join-accept tells the device: RX1DROffset and RX2 DR (DLSettings), RxDelay, the CFList's
    channels (1.0.4 §6.2.6, RP002-1.0.4 §2.4.4); the rest of the plan follows by MAC commands."""
    first = len(region.default_channels)
    session.extra_channels = {first + i: f for i, f in enumerate(region.extra_channels_hz)}
    if plan is not None:
        session.rx_delay, session.rx1_dr_offset, session.rx2_dr = plan.rx_delay, plan.rx1_dr_offset, plan.rx2_dr


def session_keys(keys: RootKeys, net_id: str, join_eui: str, join_nonce: int, dev_nonce: int
                 ) -> tuple[bytes, bytes, bytes, bytes]:
    """(FNwkSIntKey, SNwkSIntKey, NwkSEncKey, AppSKey); 1.0.x uses NwkSKey for the three network keys."""
    if keys.is_11:
        k11 = derive_session_keys_11(keys.join_key, keys.app_key, join_nonce, join_eui, dev_nonce)
        return k11.f_nwk_s_int_key, k11.s_nwk_s_int_key, k11.nwk_s_enc_key, k11.app_s_key
    k10 = derive_session_keys_10(keys.join_key, join_nonce, net_id, dev_nonce)
    return k10.nwk_s_key, k10.nwk_s_key, k10.nwk_s_key, k10.app_s_key


@dataclass(frozen=True, slots=True)
class JoinResult:
    session: NetworkSession
    join_accept: bytes  # encrypted PHYPayload, ready for the gateway
    device: DeviceInfo


class JoinHandler:
    def __init__(
        self,
        factory: SessionFactory,
        vault: KeyVault,
        sessions: SessionStore,
        *,
        net_id: str,
        rx_delay: int,
        family_of: Callable[[str | None], str | None] = lambda _c: None,
        rng: random.Random | None = None,
        region: Region = EU868,
        radio_plan: RadioPlan | None = None,
    ) -> None:
        self._region = region
        self._radio_plan = radio_plan
        self._factory = factory
        self._vault = vault
        self._sessions = sessions
        self._net_id = net_id
        self._rx_delay = rx_delay
        self._family_of = family_of
        self._rng = rng or random.SystemRandom()

    def handle(self, request: JoinRequest, phy_payload: bytes, uplink_dr: int,
               heard_for: Callable[[str], bool] | None = None) -> JoinResult:
        """Runs in a worker thread. Raises DropFrame for unknown devices, bad MICs and replayed DevNonces.
        ``heard_for(tenant_id)`` says whether a gateway the tenant may use heard the request (another tenant's
        private gateway does not count): when none did, the join is dropped before its DevNonce is spent."""
        try:
            with transaction(self._factory) as db:
                joining = joining_device(db, request.dev_eui, self._vault, self._family_of, heard_for)
                info, device, profile, keys = joining.info, joining.device, joining.profile, joining.keys
                self.validate_mic(request, phy_payload, keys)
                self.check_dev_nonce(db, request, keys)
                join_nonce = next_join_nonce(db, request.dev_eui)
                session = self.new_session(request, keys, info, uplink_dr, join_nonce)
                session.device_class = (device.device_class or (profile.device_class if profile else None)
                                        or "A").upper()
                session.adr_enabled = profile.adr_enabled if profile else True
                accept = build_join_accept(
                    self._region, self._net_id, session, keys, join_nonce, join_req_type=JOIN_REQUEST_TYPE,
                    join_eui=request.join_eui, dev_nonce=request.dev_nonce, encryption_key=keys.join_key)
                self._sessions.activate(db, session)
        except IntegrityError as exc:  # a concurrent copy inserted the same DevNonce first
            raise DropFrame("dev_nonce_replay", request.dev_eui) from exc
        return JoinResult(session, accept, info)

    # --- steps -----------------------------------------------------------------------------------------

    @staticmethod
    def validate_mic(request: JoinRequest, phy_payload: bytes, keys: RootKeys) -> None:
        """MIC under AppKey (1.0.x) or NwkKey (1.1 §6.2.2)."""
        if join_request_mic(keys.join_key, phy_payload[:-4]) != request.mic:
            raise DropFrame("bad_mic", f"join-request from {request.dev_eui}")

    @staticmethod
    def check_dev_nonce(db: Session, request: JoinRequest, keys: RootKeys) -> None:
        """A DevNonce is never reused for a (DevEUI, JoinEUI) (1.0.3 §6.2.4: random values, each used once);
        from 1.0.4 on it is a counter and must grow (1.0.4 §6.2.5, 1.1 §6.2.2: "ignores Join-Requests if
        DevNonce is not incremented"). A refused one is a replayed join-request."""
        same_device = (DevNonce.dev_eui == request.dev_eui, DevNonce.join_eui == request.join_eui)
        if keys.counted_dev_nonce:
            last = db.scalar(select(func.max(DevNonce.dev_nonce)).where(*same_device))
            if last is not None and request.dev_nonce <= last:
                raise DropFrame("dev_nonce_replay", f"{request.dev_eui} DevNonce {request.dev_nonce} <= {last}")
        else:
            used = db.scalar(select(DevNonce.id).where(*same_device, DevNonce.dev_nonce == request.dev_nonce))
            if used is not None:
                raise DropFrame("dev_nonce_replay", f"{request.dev_eui} DevNonce {request.dev_nonce}")
        db.add(DevNonce(dev_eui=request.dev_eui, join_eui=request.join_eui, dev_nonce=request.dev_nonce))
        db.flush()

    def new_session(self, request: JoinRequest, keys: RootKeys, info: DeviceInfo, uplink_dr: int,
                    join_nonce: int) -> NetworkSession:
        f_int, s_int, enc, app = session_keys(keys, self._net_id, request.join_eui, join_nonce, request.dev_nonce)
        session = NetworkSession(
            id=str(uuid.uuid4()), dev_addr=allocate_dev_addr(self._net_id, self._rng), mac_version=keys.mac_version,
            f_nwk_s_int_key=f_int, s_nwk_s_int_key=s_int, nwk_s_enc_key=enc, app_s_key=app, device=info,
            dr=uplink_dr, rx_delay=self._rx_delay, dirty=False,
        )
        apply_join_accept_plan(session, self._region, self._radio_plan)
        return session
