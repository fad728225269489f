"""The LoRaWAN 1.1 rejoin flow (TS001-1.1 §6.2.4), as ordered steps: device and keys, MIC, RJcount, JoinNonce,
new session, join-accept. A joined 1.1 device sends a rejoin-request to get a new session without leaving the
one it has:

- type 0 (NetID | DevEUI | RJcount0, MIC under the session's SNwkSIntKey): a new session with every radio
  parameter reset, like a join;
- type 1 (JoinEUI | DevEUI | RJcount1, MIC under JSIntKey): like a join-request, on top of normal traffic;
- type 2 (as type 0): new DevAddr, keys and counters, radio parameters kept.

The answer is a join-accept with OptNeg, its MIC under JSIntKey over JoinReqType (the rejoin type) | JoinEUI |
RJcount | ..., encrypted with JSEncKey; the session keys are derived with RJcount in DevNonce's place (§6.2.3).
RJcount0 must grow within a session, RJcount1 for as long as the root keys last (§6.2.4.1, §6.2.4.2): a lower
or equal one is a replay. The device keeps its current context until it receives the accept, so the new session
is *pending*: both stay valid until the device's first uplink under the new one (``SessionStore.promote``).

The accept goes in the device's normal RX1/RX2 windows after the rejoin-request (RECEIVE_DELAY1/2 and its
current RX parameters), which is how the reference device stack (Semtech LoRaMac-node) listens once joined.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from lora_city.errors import DropFrame
from lora_city.lorawan.crypto import derive_js_keys, rejoin_request_mic
from lora_city.lorawan.frames import RejoinRequest
from lora_city.lorawan.region import EU868, Region
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import DeviceKeys
from lora_city.storage.sessions import NetworkSession, SessionStore
from lora_city.uplink.dev_addr import allocate_dev_addr
from lora_city.uplink.join import (
    RootKeys,
    apply_join_accept_plan,
    build_join_accept,
    joining_device,
    next_join_nonce,
    session_keys,
)
from lora_city.uplink.mac_requests import RadioPlan


@dataclass(frozen=True, slots=True)
class RejoinResult:
    session: NetworkSession  # pending until the device uses it
    join_accept: bytes
    device: DeviceInfo


class RejoinHandler:
    def __init__(self, factory: SessionFactory, vault: KeyVault, sessions: SessionStore, *, net_id: str,
                 rx_delay: int, family_of: Callable[[str | None], str | None] = lambda _c: None,
                 rng: random.Random | None = None, region: Region = EU868,
                 radio_plan: RadioPlan | None = None) -> None:
        self._radio_plan = radio_plan
        self._factory = factory
        self._vault = vault
        self._sessions = sessions
        self._net_id = net_id
        self._rx_delay = rx_delay
        self._family_of = family_of
        self._rng = rng or random.SystemRandom()
        self._region = region

    def handle(self, request: RejoinRequest, phy_payload: bytes, uplink_dr: int, current: NetworkSession | None,
               heard_for: Callable[[str], bool] | None = None) -> RejoinResult:
        """Runs in a worker thread; ``current`` is the device's session (read only). Raises DropFrame."""
        try:
            with transaction(self._factory) as db:
                joining = joining_device(db, request.dev_eui, self._vault, self._family_of, heard_for)
                info, device, profile, row, keys = (joining.info, joining.device, joining.profile, joining.row,
                                                    joining.keys)
                if not keys.is_11:
                    raise DropFrame("rejoin_not_1_1", request.dev_eui)  # 1.0.x has no rejoin
                self.validate_mic_and_count(request, phy_payload, keys, current, row)
                join_nonce = next_join_nonce(db, request.dev_eui)
                session = self.new_session(request, keys, info, uplink_dr, current, device.join_eui, join_nonce)
                session.device_class = (device.device_class or (profile.device_class if profile else None)
                                        or "A").upper()
                session.adr_enabled = profile.adr_enabled if profile else True
                js_enc_key = derive_js_keys(keys.join_key, request.dev_eui).js_enc_key
                accept = build_join_accept(
                    self._region, self._net_id, session, keys, join_nonce, join_req_type=request.rejoin_type,
                    join_eui=device.join_eui, dev_nonce=request.rj_count, encryption_key=js_enc_key)
                self._sessions.activate(db, session, keep_current=current is not None)
        except IntegrityError as exc:
            raise DropFrame("rejoin_conflict", request.dev_eui) from exc
        return RejoinResult(session, accept, info)

    # --- steps -----------------------------------------------------------------------------------------

    def validate_mic_and_count(self, request: RejoinRequest, phy_payload: bytes, keys: RootKeys,
                               current: NetworkSession | None, row: DeviceKeys) -> None:
        msg, mic = phy_payload[:-4], request.mic
        if request.rejoin_type in (0, 2):
            if current is None or not current.is_11:
                raise DropFrame("unknown_session", f"rejoin type {request.rejoin_type} from {request.dev_eui}")
            if request.net_id != self._net_id:
                raise DropFrame("foreign_net_id", f"{request.net_id} from {request.dev_eui}")
            if rejoin_request_mic(current.s_nwk_s_int_key, msg) != mic:  # §6.2.4.1
                raise DropFrame("bad_mic", f"rejoin type {request.rejoin_type} from {request.dev_eui}")
            if current.rj_count0 is not None and request.rj_count <= current.rj_count0:
                raise DropFrame("rj_count_replay", f"{request.dev_eui} RJcount0 {request.rj_count}")
            return
        js_int_key = derive_js_keys(keys.join_key, request.dev_eui).js_int_key
        if rejoin_request_mic(js_int_key, msg) != mic:  # §6.2.4.2
            raise DropFrame("bad_mic", f"rejoin type 1 from {request.dev_eui}")
        if row.rj_count1 is not None and request.rj_count <= row.rj_count1:
            raise DropFrame("rj_count_replay", f"{request.dev_eui} RJcount1 {request.rj_count}")
        row.rj_count1 = request.rj_count

    def new_session(self, request: RejoinRequest, keys: RootKeys, info: DeviceInfo, uplink_dr: int,
                    current: NetworkSession | None, join_eui: str, join_nonce: int) -> NetworkSession:
        f_int, s_int, enc, app = session_keys(keys, self._net_id, join_eui, join_nonce, request.rj_count)
        session = NetworkSession(
            id=str(uuid.uuid4()), dev_addr=allocate_dev_addr(self._net_id, self._rng), mac_version=keys.mac_version,
            f_nwk_s_int_key=f_int, s_nwk_s_int_key=s_int, nwk_s_enc_key=enc, app_s_key=app, device=info,
            dr=uplink_dr, rx_delay=self._rx_delay, dirty=False, pending_rejoin=current is not None,
        )
        if request.rejoin_type == 2 and current is not None:  # radio parameters kept (§6.2.4)
            session.dr, session.tx_power_index, session.nb_trans = current.dr, current.tx_power_index, current.nb_trans
            session.rx1_dr_offset, session.rx2_dr = current.rx1_dr_offset, current.rx2_dr
            session.rx_delay, session.rx2_frequency = current.rx_delay, current.rx2_frequency
            session.extra_channels, session.max_duty_cycle = dict(current.extra_channels), current.max_duty_cycle
            session.adr_ack_limit_exp, session.adr_ack_delay_exp = current.adr_ack_limit_exp, current.adr_ack_delay_exp
            session.rejoin_max_count_n, session.rejoin_max_time_n = current.rejoin_max_count_n, current.rejoin_max_time_n
            session.rejoin_time_ok = current.rejoin_time_ok
            session.dl_channels = dict(current.dl_channels)
        else:
            apply_join_accept_plan(session, self._region, self._radio_plan)
        return session
