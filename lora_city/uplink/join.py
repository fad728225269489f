"""The OTAA join flow (LoRaWAN 1.0.4 §6.2), as ordered steps: device and keys, MIC, DevNonce, new session,
join-accept. The database work runs in a worker thread (one transaction: DevNonce + session + device row), so the
event loop keeps handling other uplinks meanwhile.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lora_city.errors import DropFrame
from lora_city.lorawan.crypto import encrypt_join_accept, join_accept_mic_10, join_request_mic
from lora_city.lorawan.frames import DLSettings, JoinAccept, JoinRequest
from lora_city.lorawan.keys import derive_session_keys_10
from lora_city.lorawan.region import EU868, Region
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import DeviceKeys, DevNonce
from lora_city.storage.sessions import NetworkSession, SessionStore, device_info
from lora_city.uplink.dev_addr import allocate_dev_addr


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
    ) -> None:
        self._region = region
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
                found = device_info(db, request.dev_eui, self._family_of)
                if found is None:
                    raise DropFrame("unknown_dev_eui", request.dev_eui)
                info, device, profile = found
                if heard_for is not None and not heard_for(info.tenant_id):
                    raise DropFrame("private_gateway", request.dev_eui)
                keys = db.get(DeviceKeys, request.dev_eui)
                if keys is None:
                    raise DropFrame("no_keys", request.dev_eui)  # an ABP device sending a join-request
                app_key = self._vault.decrypt(keys.app_key_enc, context=request.dev_eui.encode())
                self.validate_mic(request, phy_payload, app_key)
                self.check_dev_nonce(db, request)
                session, join_nonce = self.new_session(request, app_key, info, uplink_dr)
                session.device_class = (device.device_class or (profile.device_class if profile else None)
                                        or "A").upper()
                session.adr_enabled = profile.adr_enabled if profile else True
                accept = self.join_accept(session, app_key, join_nonce)
                self._sessions.activate(db, session)
        except IntegrityError as exc:  # a concurrent copy inserted the same DevNonce first
            raise DropFrame("dev_nonce_replay", request.dev_eui) from exc
        return JoinResult(session, accept, info)

    # --- steps -----------------------------------------------------------------------------------------

    @staticmethod
    def validate_mic(request: JoinRequest, phy_payload: bytes, app_key: bytes) -> None:
        if join_request_mic(app_key, phy_payload[:-4]) != request.mic:
            raise DropFrame("bad_mic", f"join-request from {request.dev_eui}")

    @staticmethod
    def check_dev_nonce(db: Session, request: JoinRequest) -> None:
        """A DevNonce is used once per (DevEUI, JoinEUI) (1.0.4 §6.2.4): a repeat is a replayed join-request."""
        used = db.scalar(select(DevNonce.id).where(
            DevNonce.dev_eui == request.dev_eui, DevNonce.join_eui == request.join_eui,
            DevNonce.dev_nonce == request.dev_nonce,
        ))
        if used is not None:
            raise DropFrame("dev_nonce_replay", f"{request.dev_eui} DevNonce {request.dev_nonce}")
        db.add(DevNonce(dev_eui=request.dev_eui, join_eui=request.join_eui, dev_nonce=request.dev_nonce))
        db.flush()

    def new_session(
        self, request: JoinRequest, app_key: bytes, info: DeviceInfo, uplink_dr: int
    ) -> tuple[NetworkSession, int]:
        join_nonce = self._rng.getrandbits(24)  # 1.0.x AppNonce: random (§6.2.5); 1.1 counters are not used here
        keys = derive_session_keys_10(app_key, join_nonce, self._net_id, request.dev_nonce)
        return NetworkSession(
            id=str(uuid.uuid4()), dev_addr=allocate_dev_addr(self._net_id, self._rng), mac_version="1.0.3",
            f_nwk_s_int_key=keys.nwk_s_key, s_nwk_s_int_key=keys.nwk_s_key, nwk_s_enc_key=keys.nwk_s_key,
            app_s_key=keys.app_s_key, device=info, dr=uplink_dr, rx_delay=self._rx_delay, dirty=False,
        ), join_nonce

    def join_accept(self, session: NetworkSession, app_key: bytes, join_nonce: int) -> bytes:
        """Join-accept with the region's CFList, RX1DROffset/RX2DR and RxDelay; MIC then encryption (§6.2.5)."""
        accept = JoinAccept(
            join_nonce=join_nonce, net_id=self._net_id, dev_addr=session.dev_addr,
            dl_settings=DLSettings(rx1_dr_offset=session.rx1_dr_offset, rx2_dr=session.rx2_dr),
            rx_delay=session.rx_delay, cf_list=self._region.cf_list(),
        )
        mic = join_accept_mic_10(app_key, accept.mic_input())
        plain = accept.mic_input() + mic
        return encrypt_join_accept(app_key, plain)
