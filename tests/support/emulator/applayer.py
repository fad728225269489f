"""The application-layer firmware of an emulated end-device: TS003 clock synchronisation, TS005 remote multicast
setup and TS004 fragmented data block transport, written from the specifications' command tables and formulas
(nothing here imports ``lora_city``). It answers the server as a device would, receives multicast frames with the
group keys it derived itself, loses a configurable share of them, rebuilds the image with its own FEC decoder and
reports the result.
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass, field

from tests.support.emulator import crypto as c
from tests.support.emulator.device import UNCONFIRMED_DOWN, Device, Downlink
from tests.support.lamps import ping_slot_gps_times

CLOCK_PORT, MULTICAST_PORT, FRAG_PORT = 202, 200, 201
PACKAGE_ID = {CLOCK_PORT: 1, MULTICAST_PORT: 2, FRAG_PORT: 3}
GPS_UTC_OFFSET = 315_964_800 - 18  # Unix time of 1980-01-06 minus the 18 leap seconds since
BEACON_PERIOD_S = 128  # TS001-1.0.4 §13.1 / 1.1 §15: class B beacon period


def gps_now(unix_time: float) -> float:
    return unix_time - GPS_UTC_OFFSET


# --- TS004 FEC, from the pseudo-code of the specification (TS004-1.0.0 appendix, TS004-2.0.0 §5) ----------------

def _prbs23(x: int) -> int:
    return (x // 2) + (((x & 1) ^ ((x & 32) // 32)) * 2**22)


def matrix_line(n: int, m: int, version: int) -> list[int]:
    line = [0] * m
    mm = 1 if m & (m - 1) == 0 else 0
    x = 1 + 1001 * n
    count = 0
    while count < m // 2:
        r = 2**16
        while r >= m:
            x = _prbs23(x)
            r = x % (m + mm)
        if version == 1 or not line[r]:
            line[r] = 1
            count += 1
    return line


class FecDecoder:
    """Gaussian elimination over GF(2), one row per fragment received (rows as integers, columns as bits)."""

    def __init__(self, m: int, size: int, version: int) -> None:
        self.m, self.size, self.version = m, size, version
        self.rows: dict[int, tuple[int, int]] = {}  # pivot column -> (coefficients, data)
        self.seen: set[int] = set()

    def add(self, n: int, data: bytes) -> None:
        if n in self.seen or len(self.rows) == self.m:
            return
        self.seen.add(n)
        if n <= self.m:
            coef = 1 << (n - 1)
        else:
            coef = sum(bit << i for i, bit in enumerate(matrix_line(n - self.m, self.m, self.version)))
        value = int.from_bytes(data, "big")
        for col in range(self.m):
            if not coef >> col & 1:
                continue
            if col in self.rows:
                pc, pv = self.rows[col]
                coef ^= pc
                value ^= pv
            else:
                self.rows[col] = (coef, value)
                return

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.m

    def solve(self) -> bytes:
        out: dict[int, int] = {}
        for col in sorted(self.rows, reverse=True):
            coef, value = self.rows[col]
            for j in range(col + 1, self.m):
                if coef >> j & 1:
                    value ^= out[j]
            out[col] = value
        return b"".join(out[i].to_bytes(self.size, "big") for i in range(self.m))


@dataclass
class McGroup:
    mc_addr: str
    app_s_key: bytes
    nwk_s_key: bytes
    min_f_cnt: int
    max_f_cnt: int
    last_f_cnt: int | None = None
    class_c: tuple[int, int, int, int] | None = None  # (start GPS s, timeout exponent, frequency, dr)
    class_b: ClassBSession | None = None


@dataclass(frozen=True)
class ClassBSession:
    """A class B multicast session (TS005 McClassBSessionReq): the device opens the group's ping slots (McAddr in
    place of DevAddr, ``periodicity``) from ``start`` (GPS s, a beacon period's start) for 2^timeout beacon
    periods, on ``frequency`` at ``dr``."""

    start: int
    timeout: int
    periodicity: int
    frequency: int
    dr: int

    @property
    def end(self) -> int:
        return self.start + BEACON_PERIOD_S * 2 ** self.timeout

    def listens_at(self, mc_addr: str, gps_time: float) -> bool:
        """A ping slot of the group inside the session (to the ms: slots are 30 ms wide)."""
        if not self.start <= gps_time < self.end:
            return False
        beacon = int(gps_time) - int(gps_time) % BEACON_PERIOD_S
        return round(gps_time, 3) in ping_slot_gps_times(beacon, mc_addr, self.periodicity)


@dataclass
class FragSession:
    nb_frag: int
    frag_size: int
    padding: int
    descriptor: bytes
    session_cnt: int | None
    mic: bytes | None
    decoder: FecDecoder
    done: bool = False
    image: bytes | None = None
    mic_ok: bool | None = None


@dataclass
class AppLayerFirmware:
    device: Device
    root_key: bytes  # GenAppKey (1.0.x) or AppKey (1.1)
    versions: dict[int, int] = field(default_factory=lambda: {1: 2, 2: 2, 3: 2})  # package id -> version
    clock_offset_s: float = 0.0  # device clock minus true GPS time
    clock_token: int = 1  # TS003 TokenReq of the next AppTimeReq (4 bits)
    loss: float = 0.0  # share of multicast frames this device misses
    answers_clock_at_all: bool = True
    mute: bool = False  # a device that never answers (tests that a campaign does not wait for it forever)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    groups: dict[int, McGroup] = field(default_factory=dict)
    sessions: dict[int, FragSession] = field(default_factory=dict)
    outbox: list[tuple[int, bytes]] = field(default_factory=list)  # (port, payload) answers for the next uplinks
    received_fragments: int = 0
    dropped_fragments: int = 0
    missed_slots: int = 0  # class B frames for our group outside its session's ping slots (never heard)

    # --- what the device sends -----------------------------------------------------------------------------

    def app_time_req(self, unix_time: float, token: int | None = None, ans_required: bool = True) -> bytes:
        """AppTimeReq with the device's TokenReq (``token`` sets it first)."""
        if token is not None:
            self.clock_token = token & 0x0F
        device_time = int(gps_now(unix_time) + self.clock_offset_s) & 0xFFFFFFFF
        return (bytes((0x01,)) + struct.pack("<I", device_time)
                + bytes((self.clock_token | (0x10 if ans_required else 0),)))

    def next_answer(self) -> tuple[int, bytes] | None:
        return None if self.mute or not self.outbox else self.outbox.pop(0)

    # --- what the device receives ----------------------------------------------------------------------------

    def on_downlink(self, down: Downlink, unix_time: float) -> None:
        if down.f_port in PACKAGE_ID and down.payload and not self.mute:
            self._commands(down.f_port, down.payload, unix_time)

    def _commands(self, port: int, data: bytes, unix_time: float) -> None:
        i = 0
        answers = b""
        version = self.versions.get(PACKAGE_ID[port], 1)
        while i < len(data):
            cid = data[i]
            i += 1
            if cid == 0x00:  # PackageVersionReq
                answers += bytes((0x00, PACKAGE_ID[port], version))
                continue
            if port == CLOCK_PORT:
                if cid == 0x01:  # AppTimeAns: TimeCorrection (signed 32) | TokenAns
                    # TS003 §3.2 (AppTimeAns): only the answer to the current TokenReq is applied, and the token
                    # then moves on; an answer to an older request (a retransmission, a second AppTimeReq sent
                    # before the first was answered) carries the same correction and is discarded.
                    correction = struct.unpack_from("<i", data, i)[0]
                    if data[i + 4] & 0x0F == self.clock_token:
                        self.clock_offset_s += correction
                        self.clock_token = (self.clock_token + 1) & 0x0F
                    i += 5
                elif cid == 0x02:  # DeviceAppTimePeriodicityReq
                    i += 1
                    answers += bytes((0x02, 0x00)) + struct.pack("<I", int(gps_now(unix_time) + self.clock_offset_s))
                elif cid == 0x03:  # ForceDeviceResync
                    i += 1
                    self.outbox.append((CLOCK_PORT, self.app_time_req(unix_time)))
                else:
                    return
            elif port == MULTICAST_PORT:
                consumed, answer = self._multicast(cid, data[i:], unix_time)
                i += consumed
                answers += answer
            else:
                consumed, answer = self._fragmentation(cid, data[i:])
                i += consumed
                answers += answer
        if answers:
            self.outbox.append((port, answers))

    def _multicast(self, cid: int, body: bytes, unix_time: float) -> tuple[int, bytes]:
        if cid == 0x02:  # McGroupSetupReq (29 octets)
            group_id = body[0] & 0x03
            mc_addr = body[1:5][::-1].hex()
            mc_key_encrypted = body[5:21]
            min_f, max_f = struct.unpack_from("<II", body, 21)
            is_11 = self.device.is_11
            root = c.aes_encrypt(self.root_key, bytes((0x20 if is_11 else 0x00,)) + bytes(15))
            ke_key = c.aes_encrypt(root, bytes(16))
            mc_key = c.aes_encrypt(ke_key, mc_key_encrypted)
            addr = bytes.fromhex(mc_addr)[::-1]
            app_s = c.aes_encrypt(mc_key, b"\x01" + addr + bytes(11))
            nwk_s = c.aes_encrypt(mc_key, b"\x02" + addr + bytes(11))
            self.groups[group_id] = McGroup(mc_addr, app_s, nwk_s, min_f, max_f)
            return 29, bytes((0x02, group_id))
        if cid == 0x03:  # McGroupDeleteReq
            group_id = body[0] & 0x03
            known = self.groups.pop(group_id, None) is not None
            return 1, bytes((0x03, group_id | (0 if known else 0x04)))
        if cid == 0x01:  # McGroupStatusReq
            mask = body[0] & 0x0F
            items = b"".join(bytes((gid,)) + bytes.fromhex(g.mc_addr)[::-1]
                             for gid, g in sorted(self.groups.items()) if mask >> gid & 1)
            ans_mask = sum(1 << gid for gid in self.groups if mask >> gid & 1)
            return 1, bytes((0x01, ans_mask | (len(self.groups) << 4))) + items
        if cid == 0x04:  # McClassCSessionReq (10 octets)
            group_id = body[0] & 0x03
            session_time = struct.unpack_from("<I", body, 1)[0]
            timeout = body[5] & 0x0F
            freq = int.from_bytes(body[6:9], "little") * 100
            dr = body[9] & 0x0F
            group = self.groups.get(group_id)
            if group is None:
                return 10, bytes((0x04, group_id | 0x10))
            group.class_c = (session_time, timeout, freq, dr)
            now = int(gps_now(unix_time) + self.clock_offset_s) & 0xFFFFFFFF
            time_to_start = max(0, session_time - now)
            return 10, bytes((0x04, group_id)) + min(time_to_start, 0xFFFFFF).to_bytes(3, "little")
        if cid == 0x05:  # McClassBSessionReq (10 octets): TimeOutPeriodicity = Periodicity bits 6:4, TimeOut 3:0
            group_id = body[0] & 0x03
            session_time = struct.unpack_from("<I", body, 1)[0]
            timeout, periodicity = body[5] & 0x0F, (body[5] >> 4) & 0x07
            freq = int.from_bytes(body[6:9], "little") * 100
            dr = body[9] & 0x0F
            group = self.groups.get(group_id)
            if group is None:
                return 10, bytes((0x05, group_id | 0x10))
            group.class_b = ClassBSession(session_time, timeout, periodicity, freq, dr)
            now = int(gps_now(unix_time) + self.clock_offset_s) & 0xFFFFFFFF
            time_to_start = max(0, session_time - now)
            return 10, bytes((0x05, group_id)) + min(time_to_start, 0xFFFFFF).to_bytes(3, "little")
        return len(body), b""  # unknown: stop parsing this payload

    def _fragmentation(self, cid: int, body: bytes) -> tuple[int, bytes]:
        v2 = self.versions.get(3, 1) >= 2
        if cid == 0x02:  # FragSessionSetupReq
            length = 16 if v2 else 10
            index = (body[0] >> 4) & 0x03
            nb_frag, frag_size = struct.unpack_from("<HB", body, 1)
            version = 2 if v2 else 1
            session = FragSession(nb_frag, frag_size, body[5], body[6:10],
                                  struct.unpack_from("<H", body, 10)[0] if v2 else None,
                                  body[12:16] if v2 else None, FecDecoder(nb_frag, frag_size, version))
            self.sessions[index] = session
            return length, bytes((0x02, index << 6))
        if cid == 0x01:  # FragSessionStatusReq
            index = (body[0] >> 1) & 0x03
            session = self.sessions.get(index)
            if session is None:
                return 1, bytes((0x01,)) + (bytes((0x04,)) if v2 else b"") + bytes(3 if v2 else 4)
            received = len(session.decoder.seen)
            missing = min(255, sum(1 for n in range(1, session.nb_frag + 1) if n not in session.decoder.seen))
            if session.done:
                missing = 0
            rx_index = ((received & 0x3FFF) | (index << 14)).to_bytes(2, "little")
            if v2:
                status = 0x02 if session.mic_ok is False else 0x00
                return 1, bytes((0x01, status)) + rx_index + bytes((missing,))
            return 1, bytes((0x01,)) + rx_index + bytes((missing, 0x00))
        if cid == 0x03:  # FragSessionDeleteReq
            index = body[0] & 0x03
            known = self.sessions.pop(index, None) is not None
            return 1, bytes((0x03, index | (0 if known else 0x04)))
        if cid == 0x08:  # DataFragment
            self._fragment(body)
            return len(body), b""
        return len(body), b""

    def _fragment(self, body: bytes) -> None:
        index_and_n = int.from_bytes(body[:2], "little")
        n, index = index_and_n & 0x3FFF, index_and_n >> 14
        session = self.sessions.get(index)
        if session is None or session.done:
            return
        self.received_fragments += 1
        session.decoder.add(n, body[2:])
        if session.decoder.complete:
            block = session.decoder.solve()
            image = block[:len(block) - session.padding] if session.padding else block
            session.done, session.image = True, image
            if session.mic is not None and session.session_cnt is not None:
                int_key = c.aes_encrypt(self.root_key, b"\x30" + bytes(15))
                b0 = (b"\x49" + struct.pack("<HB", session.session_cnt, index) + session.descriptor + bytes(4)
                      + struct.pack("<I", len(image)))
                session.mic_ok = c.cmac(int_key, b0 + image)[:4] == session.mic

    def on_multicast(self, phy: bytes, gps_time: float | None = None, dr: int | None = None) -> bool:
        """A multicast data frame on the air: decoded when it is for one of our groups (else ignored). A class B
        group's frame is heard only when sent at ``gps_time`` in one of the session's ping slots at its DR."""
        if len(phy) < 12 or phy[0] >> 5 != UNCONFIRMED_DOWN:
            return False
        addr = phy[1:5][::-1].hex()
        for group in self.groups.values():
            if group.mc_addr != addr:
                continue
            if group.class_b is not None and (gps_time is None or (dr is not None and dr != group.class_b.dr)
                                              or not group.class_b.listens_at(addr, gps_time)):
                self.missed_slots += 1
                return False
            if self.rng.random() < self.loss:
                self.dropped_fragments += 1
                return False
            f_opts_len = phy[5] & 0x0F
            wire = int.from_bytes(phy[6:8], "little")
            f_cnt = ((group.last_f_cnt or 0) & 0xFFFF0000) | wire
            if group.last_f_cnt is not None and f_cnt <= group.last_f_cnt:
                f_cnt += 0x10000
            if c.mic_10(group.nwk_s_key, phy[:-4], addr, f_cnt, True) != phy[-4:]:
                return False
            if not group.min_f_cnt <= f_cnt <= group.max_f_cnt:
                return False
            group.last_f_cnt = f_cnt
            rest = phy[8 + f_opts_len:-4]
            if not rest:
                return True
            port, frm = rest[0], rest[1:]
            payload = c.payload_cipher(group.app_s_key, addr, f_cnt, True, frm)
            if port == FRAG_PORT and payload and payload[0] == 0x08:
                self._fragment(payload[1:])
            return True
        return False

    def image_sha256(self, index: int = 0) -> str | None:
        session = self.sessions.get(index)
        if session is None or session.image is None:
            return None
        return hashlib.sha256(session.image).hexdigest()
