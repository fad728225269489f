"""Device sessions for the network server: an in-memory cache in front of ``device_sessions``, with write-behind.

At thousands of uplinks a second, a database commit per uplink (for the frame counter) is too slow, so the
network server owns its sessions in memory: loaded on first use (by DevAddr or DevEUI), mutated in place on the
event loop, and flushed in batches (``flush()``; the server calls it every second and on shutdown). A crash loses
at most one flush interval of counter updates. Keys are decrypted once when a session is loaded
(``KeyVault``, context ``dev_eui.encode()`` as for the device's root keys).

The server is the only writer of sessions; the API only reads them (``joined``, ``dev_addr``).
"""

from __future__ import annotations

import logging
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Dialect, Select, Table, select, update
from sqlalchemy.orm import Session

from lora_city.applayer.profile import AppLayer, parse_app_layer
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import (
    Application,
    Device,
    DeviceProfile,
    DeviceQueueItem,
    DeviceSession,
    Tenant,
)
from lora_city.uplink.adr import UplinkSample

log = logging.getLogger(__name__)

_SESSIONS = cast(Table, DeviceSession.__table__)
_DEVICES = cast(Table, Device.__table__)


class _WriteBehind:
    """The flush's two UPDATEs for one dialect, handed to the driver as one executemany of tuples each: the state
    JSON by orjson, the times through SQLAlchemy's own bind processors (so rows read back exactly as before).
    SQLAlchemy Core's per-row bind processing and the stdlib JSON were most of the flush's cost (issue 18)."""

    def __init__(self, dialect: Dialect) -> None:
        m = "%s" if dialect.name == "postgresql" else "?"
        state = "%s::json" if dialect.name == "postgresql" else "?"
        self.sessions = (f"UPDATE device_sessions SET f_cnt_up = {m}, last_f_cnt_up = {m}, n_f_cnt_down = {m}, "
                         f"a_f_cnt_down = {m}, state = {state}, updated_at = {m} WHERE id = {m}")
        self.seen = f"UPDATE devices SET last_seen_at = {m} WHERE dev_eui = {m}"
        self.updated_at = _SESSIONS.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect) or _same
        self.last_seen_at = _DEVICES.c.last_seen_at.type.dialect_impl(dialect).bind_processor(dialect) or _same


def _same(value: Any) -> Any:
    return value


_WRITES: dict[str, _WriteBehind] = {}
_NO_TAGS: dict[str, str] = {}  # shared by every device without tags; events are read-only
_UNKNOWN_TTL_S = 30.0  # a DevAddr nobody has: remembered this long so garbage cannot hammer the database
_HISTORY_LEN = 20
# The ADR history as one bytes object, 14 bytes a sample (FCnt u32, best SNR f64, gateway count u16), oldest
# first. Objects that live as long as the session and are replaced per uplink must be invisible to the cyclic
# collector: 20 sample objects and their tuple per session were ~2 million tracked objects at 100,000 devices,
# walked by every full collection (pauses of 0.3-0.6 s, the ACK p99; bench/ingest.py), and ~2 KB per session.
_SAMPLE = struct.Struct("<IdH")
_HISTORY_BYTES = _HISTORY_LEN * _SAMPLE.size

# A gateway that heard the device's last uplink (class C downlinks go through the best one):
# (gateway_id, snr, rssi). A plain tuple of atoms on purpose: the collector stops tracking it after its first
# collection (a dataclass or NamedTuple stays tracked forever).
HeardBy = tuple[str, float, float]


@dataclass(slots=True, eq=False)
class NetworkSession:
    """One active LoRaWAN session, keys in clear, counters and MAC state, and the device it belongs to."""

    id: str
    dev_addr: str
    mac_version: str
    f_nwk_s_int_key: bytes
    s_nwk_s_int_key: bytes
    nwk_s_enc_key: bytes
    app_s_key: bytes
    device: DeviceInfo
    device_class: str = "A"
    adr_enabled: bool = True
    f_cnt_up: int = 0  # next expected (32-bit)
    last_f_cnt_up: int | None = None
    n_f_cnt_down: int = 0
    a_f_cnt_down: int = 0
    # MAC / radio state (persisted in device_sessions.state)
    dr: int = 0
    tx_power_index: int = 0
    nb_trans: int = 1
    rx1_dr_offset: int = 0
    rx2_dr: int = 0
    rx_delay: int = 1
    adr_samples: bytes = b""  # the ADR history, packed (_SAMPLE); read it as ``adr_history``
    pending_link_adr: dict[str, int] | None = None  # the LinkADRReq we sent, applied when the device says yes
    uplinks_since_status: int = 0
    status_requested: bool = False
    last_mic: int = -1  # MIC of the last accepted frame: a retransmission repeats the frame, so its MIC too
    conf_f_cnt_down: int = 0  # AFCntDown of the last confirmed downlink: in the MIC of the uplink that ACKs it (1.1)
    rj_count0: int | None = None  # last rejoin-request type 0/2 counter of this session (1.1 §6.2.4.1)
    rx2_frequency: int = 0  # Hz; 0: the region's default
    extra_channels: dict[int, int] = field(default_factory=dict)  # channel index -> Hz the device knows
    max_duty_cycle: int = 0  # DutyCycleReq MaxDCycle the device applies
    pending_mac: dict[str, Any] = field(default_factory=dict)  # requests in flight (uplink/mac_requests.py)
    mac_refused: tuple[str, ...] = ()  # requests the device refused in this session
    # 1.1 only: ADR back-off exponents the device applies (ADRParamSetupReq, 1.1 §5.11; RP002 §3: 64 = 2^6 and
    # 32 = 2^5 until told otherwise) and the periodic rejoin it accepted (RejoinParamSetupReq, 1.1 §5.14: type 0
    # every 2^(count_n+4) uplinks; time_ok False when it has no clock for the 2^(time_n+10) s period).
    adr_ack_limit_exp: int = 6
    adr_ack_delay_exp: int = 5
    rejoin_max_count_n: int | None = None
    rejoin_max_time_n: int | None = None
    rejoin_time_ok: bool | None = None
    dl_channels: dict[int, int] = field(default_factory=dict)  # channel index -> RX1 Hz the device took (§5.10)
    pending_rejoin: bool = False  # a rejoin's session the device has not used yet: the old one stays valid
    transmissions: int = 0  # how many times the last frame has been seen (retransmission allowance)
    heard_by: tuple[HeardBy, ...] = ()
    last_uplink_dr: int = 0
    last_uplink_frequency: int = 868_100_000
    has_queue: bool = False  # the device's downlink queue may hold items (checked before touching the DB)
    last_seen_at: datetime | None = None
    # Class B (TS001-1.1 §13-§15): the periodicity the device asked for (PingSlotInfoReq; one slot per beacon
    # period until it does), its ping-slot channel (None: the region's), the beacon frequency it was told
    # (BeaconFreqReq; None: the region's), whether its last uplink said it is locked on the beacon
    # (FCtrl.ClassB), the class-B MAC request awaiting its answer, and the last ping slot given to a downlink.
    ping_slot_periodicity: int = 7
    ping_slot_frequency: int | None = None
    ping_slot_dr: int | None = None
    beacon_frequency: int | None = None
    class_b_locked: bool = False
    pending_class_b: dict[str, int] | None = None
    last_ping_slot: float = 0.0
    dirty: bool = False

    @property
    def dev_eui(self) -> str:
        return self.device.dev_eui

    @property
    def is_11(self) -> bool:
        return self.mac_version.startswith("1.1")

    @property
    def adr_history(self) -> tuple[UplinkSample, ...]:
        return tuple(UplinkSample(*sample) for sample in _SAMPLE.iter_unpack(self.adr_samples))

    def add_sample(self, sample: UplinkSample) -> None:
        packed = _SAMPLE.pack(sample.f_cnt & 0xFFFFFFFF, sample.max_snr, min(sample.gateway_count, 0xFFFF))
        self.adr_samples = (self.adr_samples + packed)[-_HISTORY_BYTES:]

    def state_dict(self) -> dict[str, Any]:
        return {
            "dr": self.dr, "tx_power_index": self.tx_power_index, "nb_trans": self.nb_trans,
            "rx1_dr_offset": self.rx1_dr_offset, "rx2_dr": self.rx2_dr, "rx_delay": self.rx_delay,
            "adr_history": [list(sample) for sample in _SAMPLE.iter_unpack(self.adr_samples)],
            "pending_link_adr": self.pending_link_adr, "uplinks_since_status": self.uplinks_since_status,
            "status_requested": self.status_requested, "last_mic": self.last_mic,
            "transmissions": self.transmissions, "conf_f_cnt_down": self.conf_f_cnt_down,
            "rj_count0": self.rj_count0, "pending_rejoin": self.pending_rejoin, "rx2_frequency": self.rx2_frequency,
            "extra_channels": {str(i): f for i, f in self.extra_channels.items()},
            "max_duty_cycle": self.max_duty_cycle, "pending_mac": self.pending_mac,
            "mac_refused": list(self.mac_refused),
            "adr_ack_limit_exp": self.adr_ack_limit_exp, "adr_ack_delay_exp": self.adr_ack_delay_exp,
            "rejoin_max_count_n": self.rejoin_max_count_n, "rejoin_max_time_n": self.rejoin_max_time_n,
            "rejoin_time_ok": self.rejoin_time_ok, "dl_channels": {str(i): f for i, f in self.dl_channels.items()},
            "heard_by": [list(h) for h in self.heard_by],
            "last_uplink_dr": self.last_uplink_dr, "last_uplink_frequency": self.last_uplink_frequency,
            "ping_slot_periodicity": self.ping_slot_periodicity, "ping_slot_frequency": self.ping_slot_frequency,
            "ping_slot_dr": self.ping_slot_dr, "beacon_frequency": self.beacon_frequency,
            "class_b_locked": self.class_b_locked, "pending_class_b": self.pending_class_b,
            "last_ping_slot": self.last_ping_slot,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        for name in ("dr", "tx_power_index", "nb_trans", "rx1_dr_offset", "rx2_dr", "rx_delay",
                     "uplinks_since_status", "status_requested", "transmissions", "last_uplink_dr",
                     "last_uplink_frequency", "pending_link_adr", "last_mic", "conf_f_cnt_down", "rj_count0",
                     "pending_rejoin", "rx2_frequency", "max_duty_cycle", "pending_mac", "ping_slot_periodicity",
                     "ping_slot_frequency", "ping_slot_dr", "beacon_frequency", "class_b_locked", "pending_class_b",
                     "last_ping_slot", "adr_ack_limit_exp", "adr_ack_delay_exp", "rejoin_max_count_n",
                     "rejoin_max_time_n", "rejoin_time_ok"):
            if name in state:
                setattr(self, name, state[name])
        self.extra_channels = {int(i): int(f) for i, f in state.get("extra_channels", {}).items()}
        self.mac_refused = tuple(state.get("mac_refused", ()))
        self.dl_channels = {int(i): int(f) for i, f in state.get("dl_channels", {}).items()}
        self.adr_samples = b"".join(_SAMPLE.pack(int(a) & 0xFFFFFFFF, float(b), min(int(c), 0xFFFF))
                                    for a, b, c in state.get("adr_history", ()))[-_HISTORY_BYTES:]
        self.heard_by = tuple((sys.intern(str(g)), float(s), float(r)) for g, s, r in state.get("heard_by", ()))


def _info(device: Device, profile: DeviceProfile | None, tenant: Tenant, app: Application | None,
          family_of: Callable[[str | None], str | None]) -> DeviceInfo:
    codec_id = _intern(device.codec_id or (profile.codec_id if profile else None))
    # Identities repeat across a fleet (tenant, profile, codec): interned, 100,000 devices share one copy each.
    return DeviceInfo(
        dev_eui=device.dev_eui, tenant_id=sys.intern(tenant.id), tenant_name=sys.intern(tenant.name),
        application_id=_intern(device.application_id), application_name=sys.intern(app.name) if app else "",
        device_name=device.name, device_profile_id=_intern(device.device_profile_id),
        device_profile_name=sys.intern(profile.name) if profile else "", codec_id=codec_id,
        family=_intern(family_of(codec_id)), is_critical=tenant.is_critical,
        tags={k: str(v) for k, v in device.tags.items()} if device.tags else _NO_TAGS,
        app_layer=_app_layer(profile),
        device_class=sys.intern((device.device_class or (profile.device_class if profile else None) or "A").upper()),
    )


def _app_layer(profile: DeviceProfile | None) -> AppLayer:
    if profile is None or not profile.app_layer:
        return ()
    try:
        return parse_app_layer(profile.app_layer)
    except ValueError as exc:  # the API validates; a hand-edited row must not stop the device's uplinks
        log.warning("device profile %s: application-layer setting ignored: %s", profile.id, exc)
        return ()


def _intern(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)


def _device_query() -> Select[Device, DeviceProfile, Tenant, Application]:
    return (
        select(Device, DeviceProfile, Tenant, Application)
        .join(Tenant, Tenant.id == Device.tenant_id)
        .outerjoin(DeviceProfile, DeviceProfile.id == Device.device_profile_id)
        .outerjoin(Application, Application.id == Device.application_id)
    )


def device_info(session: Session, dev_eui: str, family_of: Callable[[str | None], str | None]) -> tuple[
        DeviceInfo, Device, DeviceProfile | None] | None:
    """The device's identity for events, or None when it does not exist or is disabled."""
    row = session.execute(_device_query().where(Device.dev_eui == dev_eui)).first()
    if row is None or row[0].is_disabled:
        return None
    device, profile, tenant, app = row
    return _info(device, profile, tenant, app, family_of), device, profile


class SessionStore:
    def __init__(
        self,
        factory: SessionFactory,
        vault: KeyVault,
        *,
        family_of: Callable[[str | None], str | None] = lambda _codec: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
        self._vault = vault
        self._family_of = family_of
        self._clock = clock
        # DevAddr -> its session, or a list when several share it (rare): no list per device at 100,000 devices
        self._by_addr: dict[str, NetworkSession | list[NetworkSession]] = {}
        self._by_eui: dict[str, NetworkSession] = {}
        # A 1.1 rejoin's session that the device has not used yet (1.1 §6.2.4: the device keeps its current
        # context until it receives the join-accept, so both stay valid; the first uplink under the new one
        # retires the old, ``promote``). Indexed by DevAddr like the others, by DevEUI only here.
        self._pending: dict[str, NetworkSession] = {}
        self._retired: set[str] = set()  # session ids promote() replaced, until the database says so too
        self._unknown: dict[str, float] = {}  # DevAddr -> until
        self._addr_complete: set[str] = set()  # DevAddrs whose every active session is in memory
        self._preloaded = False  # after preload(), every DevAddr in _by_addr is complete...
        self._incomplete: set[str] = set()  # ...except these, touched by an API change since

    # --- lookups ---------------------------------------------------------------------------------------

    def for_dev_addr(self, dev_addr: str) -> list[NetworkSession]:
        """Active sessions sharing ``dev_addr`` (all loaded from the database on first use)."""
        found = self._by_addr.get(dev_addr)
        if found is not None and (dev_addr in self._addr_complete
                                  or (self._preloaded and dev_addr not in self._incomplete)):
            return found if isinstance(found, list) else [found]
        until = self._unknown.get(dev_addr)
        if until is not None and until > self._clock():
            return []
        with self._factory() as db:
            rows = db.scalars(
                select(DeviceSession).where(DeviceSession.dev_addr == dev_addr, DeviceSession.is_active)
            ).all()
            sessions = []
            for row in rows:
                if row.id in self._retired:
                    continue
                known = self._known(row.dev_eui, row.id)  # already in memory (newer than the row): keep ours
                s = known if known is not None else self._materialise(db, row)
                if s is not None:
                    sessions.append(s)
        if not sessions:
            if len(self._unknown) > 100_000:
                self._unknown.clear()
            self._unknown[dev_addr] = self._clock() + _UNKNOWN_TTL_S
            return []
        for s in sessions:
            self._index(s)
        self._addr_complete.add(dev_addr)
        self._incomplete.discard(dev_addr)
        found = self._by_addr.get(dev_addr)
        return [] if found is None else found if isinstance(found, list) else [found]

    def for_dev_eui(self, dev_eui: str) -> NetworkSession | None:
        cached = self._by_eui.get(dev_eui)
        if cached is not None:
            return cached
        with self._factory() as db:
            rows = db.scalars(
                select(DeviceSession).where(DeviceSession.dev_eui == dev_eui, DeviceSession.is_active)
                .order_by(DeviceSession.created_at.desc())
            ).all()
            # the device's current session, not a rejoin's it has not used yet
            rows = [r for r in rows if r.id not in self._retired]
            row = next((r for r in rows if not (r.state or {}).get("pending_rejoin")), rows[0] if rows else None)
            session = self._materialise(db, row) if row is not None else None
        if session is not None:
            self._index(session)
        return session

    def preload(self, batch: int = 500) -> int:
        """Load every active session at start (one pass, no per-uplink queries later). Returns the count.
        Call before any traffic (the server does so in ``start``): it fills the indexes directly. Reads in
        DevEUI-ordered chunks of 500, each in its own ORM session: the transient ORM rows are what makes the
        process grow, not the sessions (measured: ~110 MB RSS per 100,000 sessions with 500, 290 MB with 20,000)."""
        with self._factory() as db:
            queued = set(db.scalars(select(DeviceQueueItem.dev_eui).distinct()).all())
        count, after = 0, ""
        while True:
            with self._factory() as db:
                rows = db.execute(
                    _device_query().add_columns(DeviceSession)
                    .join(DeviceSession, DeviceSession.dev_eui == Device.dev_eui)
                    .where(DeviceSession.is_active, Device.is_disabled.is_(False), Device.dev_eui > after)
                    .order_by(Device.dev_eui).limit(batch)
                ).all()
                for device, profile, tenant, app, row in rows:
                    info = _info(device, profile, tenant, app, self._family_of)
                    session = self._from_row(row, info, device, profile)
                    session.has_queue = device.dev_eui in queued
                    self._index(session)
                    count += 1
            if len(rows) < batch:
                break
            after = rows[-1][0].dev_eui
        self._preloaded = True
        return count

    def cached(self) -> list[NetworkSession]:
        return [*self._by_eui.values(), *self._pending.values()]

    def count(self) -> int:
        """How many sessions are in memory (without building ``cached()``'s list)."""
        return len(self._by_eui) + len(self._pending)

    def _known(self, dev_eui: str, session_id: str) -> NetworkSession | None:
        for s in (self._by_eui.get(dev_eui), self._pending.get(dev_eui)):
            if s is not None and s.id == session_id:
                return s
        return None

    def forget(self, dev_eui: str) -> None:
        """Drop a device's cached session (deleted, disabled, re-enabled or re-activated by the API); the next
        frame from its DevAddr reloads it. Other devices sharing the DevAddr keep their (newer) sessions."""
        addrs = set()
        pending = self._pending.pop(dev_eui, None)
        if pending is not None:
            self._unindex(pending)
            addrs.add(pending.dev_addr)
            if pending.dirty:
                pending.dirty = False
                self.write_rows([self._row(pending)])
        old = self._by_eui.pop(dev_eui, None)
        if old is not None:
            self._unindex(old)
            addrs.add(old.dev_addr)
            if old.dirty:
                # Its counters may be ahead of the database (write-behind): the reloaded session must not send a
                # FCntDown again or accept an old FCntUp (1.0.4 §4.3.1.5), so they are written before it goes.
                old.dirty = False
                self.write_rows([self._row(old)])
        with self._factory() as db:  # a re-enabled device's DevAddr may sit in the "unknown" negative cache
            addrs.update(db.scalars(
                select(DeviceSession.dev_addr).where(DeviceSession.dev_eui == dev_eui, DeviceSession.is_active)
            ).all())
        for addr in addrs:
            self._unknown.pop(addr, None)
            self._addr_complete.discard(addr)
            self._incomplete.add(addr)

    # --- writes ----------------------------------------------------------------------------------------

    def activate(self, db: Session, session: NetworkSession, *, keep_current: bool = False) -> None:
        """Store a new session (after a join or ABP activation) in ``db``'s transaction, deactivating older ones
        (unless ``keep_current``: a rejoin's, see ``install_pending``). Call ``install`` on the event loop once
        the transaction committed."""
        if not keep_current:
            db.execute(
                update(DeviceSession).where(DeviceSession.dev_eui == session.dev_eui, DeviceSession.is_active)
                .values(is_active=False)
            )
            # The application queue survives a join (as ChirpStack's default: no flush on activation); payloads
            # are encrypted when sent, so the new session's keys and counters apply. A confirmed item sent under
            # the old session can no longer be acknowledged (the device reset its frame counters on the join-accept,
            # TS001-1.0.4 and 1.1 §4.3.1.5): it goes back to unsent, to go out again under the new session.
            db.execute(
                update(DeviceQueueItem).where(DeviceQueueItem.dev_eui == session.dev_eui, DeviceQueueItem.is_pending)
                .values(is_pending=False, f_cnt_down=None, retries=0)
            )
        # The new session looks at the queue at its first uplink: items queued before the join are not
        # left waiting for the next enqueue (issue 22: they stayed queued for a whole run).
        session.has_queue = db.scalar(
            select(DeviceQueueItem.id).where(DeviceQueueItem.dev_eui == session.dev_eui).limit(1)
        ) is not None
        ctx = session.dev_eui.encode()
        enc = self._vault.encrypt
        db.add(DeviceSession(
            id=session.id, dev_eui=session.dev_eui, dev_addr=session.dev_addr, mac_version=session.mac_version,
            f_nwk_s_int_key_enc=enc(session.f_nwk_s_int_key, context=ctx),
            s_nwk_s_int_key_enc=enc(session.s_nwk_s_int_key, context=ctx),
            nwk_s_enc_key_enc=enc(session.nwk_s_enc_key, context=ctx),
            app_s_key_enc=enc(session.app_s_key, context=ctx),
            f_cnt_up=session.f_cnt_up, last_f_cnt_up=session.last_f_cnt_up,
            n_f_cnt_down=session.n_f_cnt_down, a_f_cnt_down=session.a_f_cnt_down,
            is_active=True, state=session.state_dict(),
        ))
        if not keep_current:
            db.execute(update(Device).where(Device.dev_eui == session.dev_eui).values(dev_addr=session.dev_addr))

    def install(self, session: NetworkSession) -> None:
        old = self._by_eui.get(session.dev_eui)
        if old is not None and old.has_queue:  # an enqueue notified while the join was being stored
            session.has_queue = True
        self.forget(session.dev_eui)
        self._unknown.pop(session.dev_addr, None)
        self._index(session)

    def install_pending(self, session: NetworkSession) -> None:
        """A rejoin's session (``pending_rejoin``), valid beside the current one until the device uses it."""
        stale = self._pending.pop(session.dev_eui, None)
        if stale is not None:  # an earlier rejoin the device never used
            self._unindex(stale)
        self._unknown.pop(session.dev_addr, None)
        self._index(session)

    def promote(self, session: NetworkSession) -> None:
        """The device used its rejoin's session: it becomes the device's session (on the event loop); the caller
        then runs ``retire_others`` in a worker thread."""
        self._pending.pop(session.dev_eui, None)
        old = self._by_eui.get(session.dev_eui)
        if old is not None and old is not session:
            self._unindex(old)
            if len(self._retired) > 100_000:
                self._retired.clear()
            self._retired.add(old.id)  # its row stays active until retire_others commits: never reload it
        session.pending_rejoin = False
        session.dirty = True
        if old is not None and old.has_queue:  # enqueued while the rejoin's session waited: it sends them
            session.has_queue = True
        self._by_eui[session.dev_eui] = session

    def retire_others(self, session: NetworkSession) -> None:
        """Deactivate every other session of the device in the database, and point the device at this one."""
        with transaction(self._factory) as db:
            db.execute(update(DeviceSession).where(
                DeviceSession.dev_eui == session.dev_eui, DeviceSession.is_active, DeviceSession.id != session.id,
            ).values(is_active=False))
            db.execute(update(Device).where(Device.dev_eui == session.dev_eui).values(dev_addr=session.dev_addr))

    def flush(self) -> int:
        """Write every changed session's counters and state, and the devices' last-seen times. Returns the count."""
        return self.write_rows(self.snapshot())

    def snapshot(self) -> list[dict[str, Any]]:
        """Take the changed sessions' values (on the event loop); ``write_rows`` may then run in a worker thread."""
        rows = []
        for s in self.cached():
            if s.dirty:
                s.dirty = False
                rows.append(self._row(s))
        return rows

    @staticmethod
    def _row(s: NetworkSession) -> dict[str, Any]:
        return {
            "id": s.id, "dev_eui": s.dev_eui, "f_cnt_up": s.f_cnt_up, "last_f_cnt_up": s.last_f_cnt_up,
            "n_f_cnt_down": s.n_f_cnt_down, "a_f_cnt_down": s.a_f_cnt_down, "state": s.state_dict(),
            "last_seen_at": s.last_seen_at,
        }

    def write_rows(self, rows: list[dict[str, Any]]) -> int:
        """One driver executemany per table (see ``_WriteBehind``)."""
        if not rows:
            return 0
        with transaction(self._factory) as db:
            conn = db.connection()
            sql = _WRITES.get(conn.dialect.name)
            if sql is None:
                sql = _WRITES[conn.dialect.name] = _WriteBehind(conn.dialect)
            now = sql.updated_at(datetime.now(UTC))
            dumps, option = orjson.dumps, orjson.OPT_NON_STR_KEYS
            conn.exec_driver_sql(sql.sessions, [
                (r["f_cnt_up"], r["last_f_cnt_up"], r["n_f_cnt_down"], r["a_f_cnt_down"],
                 dumps(r["state"], option=option).decode(), now, r["id"]) for r in rows])
            seen = [(sql.last_seen_at(r["last_seen_at"]), r["dev_eui"]) for r in rows if r["last_seen_at"]]
            if seen:
                conn.exec_driver_sql(sql.seen, seen)
        return len(rows)

    # --- internals -------------------------------------------------------------------------------------

    def _materialise(self, db: Session, row: DeviceSession) -> NetworkSession | None:
        found = device_info(db, row.dev_eui, self._family_of)
        if found is None:
            return None
        info, device, profile = found
        session = self._from_row(row, info, device, profile)
        session.has_queue = db.scalar(
            select(DeviceQueueItem.id).where(DeviceQueueItem.dev_eui == row.dev_eui).limit(1)
        ) is not None
        return session

    def _from_row(self, row: DeviceSession, info: DeviceInfo, device: Device, profile: DeviceProfile | None
                  ) -> NetworkSession:
        ctx = row.dev_eui.encode()
        dec = self._vault.decrypt
        nwk = dec(row.f_nwk_s_int_key_enc, context=ctx)
        s_nwk = row.s_nwk_s_int_key_enc
        enc_nwk = row.nwk_s_enc_key_enc
        session = NetworkSession(
            id=row.id, dev_addr=row.dev_addr, mac_version=row.mac_version,
            f_nwk_s_int_key=nwk,
            # 1.0.x sessions hold the same key three times; decrypting once also keeps one bytes object.
            s_nwk_s_int_key=nwk if not row.mac_version.startswith("1.1") else dec(s_nwk, context=ctx),
            nwk_s_enc_key=nwk if not row.mac_version.startswith("1.1") else dec(enc_nwk, context=ctx),
            app_s_key=dec(row.app_s_key_enc, context=ctx),
            device=info,
            device_class=(device.device_class or (profile.device_class if profile else None) or "A").upper(),
            adr_enabled=profile.adr_enabled if profile else True,
            f_cnt_up=row.f_cnt_up, last_f_cnt_up=row.last_f_cnt_up,
            n_f_cnt_down=row.n_f_cnt_down, a_f_cnt_down=row.a_f_cnt_down,
            last_seen_at=device.last_seen_at,
        )
        session.load_state(row.state or {})
        return session

    def _index(self, session: NetworkSession) -> None:
        if session.pending_rejoin:
            self._pending[session.dev_eui] = session
        else:
            self._by_eui[session.dev_eui] = session
        found = self._by_addr.get(session.dev_addr)
        if found is None:
            self._by_addr[session.dev_addr] = session
        elif isinstance(found, list):
            if session not in found:
                found.append(session)
        elif found is not session:
            self._by_addr[session.dev_addr] = [found, session]

    def _unindex(self, session: NetworkSession) -> None:
        found = self._by_addr.get(session.dev_addr)
        if found is session:
            del self._by_addr[session.dev_addr]
        elif isinstance(found, list):
            rest = [p for p in found if p is not session]
            if not rest:
                del self._by_addr[session.dev_addr]
            else:
                self._by_addr[session.dev_addr] = rest[0] if len(rest) == 1 else rest
