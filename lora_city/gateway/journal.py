"""The copy journal: every gateway copy of an uplink is written to an append-only file before the server
acknowledges it (Semtech PUSH_ACK, MQTT PUBACK) or acts on it, and the copies not yet handled for good are
replayed on the next start.

Why: between a gateway's copy arriving and its reading being durable there is the dedup window (200 ms), the
pipeline and the sinks' batching; a SIGKILL used to lose all of it, and the gateway, which had its
acknowledgement, never sends again. ``os.write`` puts the bytes in the kernel's page cache, which outlives the
process, so a record written before the acknowledgement survives any crash of the server. ``fdatasync`` runs on
a thread of its own every ``fsync_interval_s`` (5 ms) and makes them survive a power loss too, at most one
interval at risk; never an fsync per copy, which would cost a disk round trip each.

The journal is a folder of segments ``<first seq>.jrn``, rotated at ``segment_bytes`` or ``segment_age_s``, and
a ``checkpoint`` file. A record is ``[u32 length][u32 crc32][payload]``; a torn tail (power loss mid-write)
fails its CRC and ends the segment's replay. The payload is a fixed ``struct`` part and three byte strings,
versioned by its first byte.

Which copies are replayed: each copy gets a sequence number (``UplinkFrame.journal_seq``); the server calls
``done(seq)`` once it has handled the copy (events handed to the sinks, session updated in memory). The server's
session flush takes ``low_watermark`` (every copy below it is done), makes the durable sinks commit, writes the
sessions, then calls ``checkpoint(mark)``: every copy below the mark has its reading and its FCnt in the database.
Segments wholly below the checkpoint are deleted. On start the copies from the checkpoint on are replayed; the
FCnt check drops those whose counter the database already has, and the ones after it are handled again with
the same uplink id and time, so the readings store (unique uplink id) and InfluxDB (same series and timestamp
overwrite) hold each uplink once.

Bounded: past ``max_bytes`` the oldest segments are deleted even when not checkpointed (counted in
``lora_city_journal_overflow`` and logged as an error): a server that cannot keep up loses crash protection for
the oldest copies, never its disk.
"""

from __future__ import annotations

import logging
import math
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.metrics import Metrics

log = logging.getLogger(__name__)

VERSION = 1
_HEADER = struct.Struct("<II")  # payload length, crc32(payload)
# version, seq, received ns (wall clock), transport, uplink id, rssi, snr, channel, rf chain, frequency, SF,
# bandwidth, gateway time ns (or _NO_TIME), crc ok, latitude, longitude, altitude (NaN: unknown), then the
# lengths of gateway id, code rate, context and PHYPayload.
_FIXED = struct.Struct("<BQqBIddiiIBIqBdddBBHH")
_NO_TIME = -(1 << 63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TRANSPORTS = list(Transport)
_TRANSPORT_INDEX = {t: i for i, t in enumerate(_TRANSPORTS)}
_SUFFIX = ".jrn"
_MAX_RECORD = 1 << 20  # a record longer than this is a corrupt length field, not a copy


class JournalCorrupt(ValueError):
    """A record that cannot be decoded (checked CRC but unknown version, or inconsistent lengths)."""


def _time_ns(moment: datetime | None) -> int:
    if moment is None:
        return _NO_TIME
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    d = moment - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000


def _from_ns(ns: int) -> datetime | None:
    if ns == _NO_TIME:
        return None
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _opt(value: float | None) -> float:
    return math.nan if value is None else value


def _unopt(value: float) -> float | None:
    return None if math.isnan(value) else value


def encode(frame: UplinkFrame, seq: int) -> bytes:
    """One record (header included). ``frame.received_ns`` must be set (the journal sets it)."""
    rx, mod = frame.rx_info, frame.modulation
    gateway = rx.gateway_id.encode()
    code_rate = mod.code_rate.encode()
    payload = _FIXED.pack(
        VERSION, seq, frame.received_ns, _TRANSPORT_INDEX[frame.transport], rx.uplink_id,
        rx.rssi, rx.snr, rx.channel, rx.rf_chain, mod.frequency, mod.spreading_factor, mod.bandwidth,
        _time_ns(rx.time), rx.crc_ok, _opt(rx.latitude), _opt(rx.longitude), _opt(rx.altitude),
        len(gateway), len(code_rate), len(rx.context), len(frame.phy_payload),
    ) + gateway + code_rate + rx.context + frame.phy_payload
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes, received_at: float) -> UplinkFrame:
    """A record's payload (after its header) back to the copy; ``received_at`` is the monotonic clock now."""
    if not payload or payload[0] != VERSION:
        raise JournalCorrupt(f"unknown journal record version {payload[:1].hex()}")
    (_v, seq, received_ns, transport, uplink_id, rssi, snr, channel, rf_chain, frequency, sf, bandwidth,
     time_ns, crc_ok, lat, lon, alt, n_gw, n_cr, n_ctx, n_phy) = _FIXED.unpack_from(payload)
    at = _FIXED.size
    if at + n_gw + n_cr + n_ctx + n_phy != len(payload):
        raise JournalCorrupt("record lengths do not add up")
    gateway = payload[at:at + n_gw].decode()
    at += n_gw
    code_rate = payload[at:at + n_cr].decode()
    at += n_cr
    context = payload[at:at + n_ctx]
    phy = payload[at + n_ctx:]
    return UplinkFrame(
        phy_payload=phy,
        modulation=LoRaModulation(frequency, sf, bandwidth, code_rate),
        rx_info=RxInfo(gateway_id=gateway, uplink_id=uplink_id, rssi=rssi, snr=snr, channel=channel,
                       rf_chain=rf_chain, context=context, time=_from_ns(time_ns), crc_ok=bool(crc_ok),
                       latitude=_unopt(lat), longitude=_unopt(lon), altitude=_unopt(alt)),
        transport=_TRANSPORTS[transport],
        received_at=received_at,
        received_ns=received_ns,
        journal_seq=seq,
    )


def read_segment(path: Path) -> tuple[list[tuple[int, bytes]], int]:
    """The (seq, payload) records of a segment and the byte offset where the readable part ends."""
    data = path.read_bytes()
    records: list[tuple[int, bytes]] = []
    at, end = 0, len(data)
    while at + _HEADER.size <= end:
        length, crc = _HEADER.unpack_from(data, at)
        start = at + _HEADER.size
        if length < _FIXED.size or length > _MAX_RECORD or start + length > end:
            break
        payload = data[start:start + length]
        if zlib.crc32(payload) != crc:
            break
        records.append((struct.unpack_from("<Q", payload, 1)[0], payload))
        at = start + length
    return records, at


@dataclass(slots=True)
class _Segment:
    path: Path
    first_seq: int
    last_seq: int  # -1 while empty
    size: int


class CopyJournal:
    def __init__(
        self,
        directory: Path,
        metrics: Metrics,
        *,
        fsync_interval_s: float = 0.005,
        segment_bytes: int = 8 << 20,
        segment_age_s: float = 10.0,
        max_bytes: int = 512 << 20,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.directory = Path(directory)
        self._fsync_interval_s = fsync_interval_s
        self._segment_bytes = segment_bytes
        self._segment_age_s = segment_age_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._wall = wall_clock
        self._buffer = bytearray()
        self._buffered = 0  # records in the buffer
        self._next_seq = 0
        self._pending: set[int] = set()  # seqs appended (or replayed) and not yet done
        self._closed: list[_Segment] = []  # oldest first
        self._current: _Segment | None = None
        self._fd = -1
        self._opened_at = 0.0
        self._checkpoint = 0
        # The fsync thread: owns nothing but a copy of the current fd and the retired fds to sync and close.
        self._lock = threading.Lock()
        self._dirty = False
        self._retired: list[int] = []
        self._stopping = False
        self._wake = threading.Event()
        self._syncer: threading.Thread | None = None
        self.fsyncs = 0
        self._records = metrics.journal_records
        self._bytes = metrics.journal_bytes
        self._pending_gauge = metrics.journal_pending
        self._overflow = metrics.journal_overflow
        self._replayed = metrics.journal_replayed
        self._last_overflow_log = -math.inf

    # --- lifecycle -------------------------------------------------------------------------------------

    def open(self) -> list[UplinkFrame]:
        """Read what a previous run left, start a fresh segment and the fsync thread. Returns the copies to
        replay (from the checkpoint on, in arrival order), each marked pending until ``done``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._checkpoint = self._read_checkpoint()
        replay: list[UplinkFrame] = []
        now = self._clock()
        last = self._checkpoint - 1
        for path in sorted(self.directory.glob(f"*{_SUFFIX}"), key=_first_seq_of):
            records, good = read_segment(path)
            size = path.stat().st_size
            if good < size:
                log.warning("journal segment %s: %d unreadable byte(s) at its end (torn write) left out",
                            path.name, size - good)
            if not records:
                path.unlink(missing_ok=True)
                continue
            seg_last = records[-1][0]
            if seg_last < self._checkpoint:  # everything in it is handled and durable
                path.unlink(missing_ok=True)
                continue
            self._closed.append(_Segment(path, records[0][0], seg_last, good))
            for seq, payload in records:
                last = max(last, seq)
                if seq < self._checkpoint:
                    continue
                try:
                    frame = decode(payload, now)
                except (JournalCorrupt, struct.error, UnicodeDecodeError, ValueError) as exc:
                    log.error("journal record %d in %s unreadable, skipped: %s", seq, path.name, exc)
                    continue
                replay.append(frame)
                self._pending.add(seq)
        self._next_seq = max(last + 1, self._checkpoint)
        self._start_segment()
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)
        self._syncer.start()
        self._replayed.inc(len(replay))
        self._report()
        if replay:
            log.warning("journal: %d gateway cop(ies) received before the last stop were not handled for good; "
                        "replaying them", len(replay))
        return replay

    def close(self) -> None:
        """Write what is buffered, sync, stop the fsync thread. Segments stay until checkpointed."""
        if self._fd < 0:
            return
        self.write()
        with self._lock:
            self._stopping = True
            self._retired.append(self._fd)
            self._fd = -1
        self._wake.set()
        if self._syncer is not None:
            self._syncer.join(10.0)
            self._syncer = None

    # --- the hot path (event loop) ---------------------------------------------------------------------

    def append(self, frame: UplinkFrame) -> None:
        """Give the copy its sequence number and reception time and buffer its record. Call ``write`` before
        acknowledging the message it came in."""
        seq = self._next_seq
        self._next_seq = seq + 1
        frame.journal_seq = seq
        if not frame.received_ns:
            frame.received_ns = self._wall()
        self._buffer += encode(frame, seq)
        self._buffered += 1
        self._pending.add(seq)

    def write(self) -> None:
        """One ``write`` of everything appended since the last call: from now on a crash of the process loses
        none of it. Cheap when nothing is buffered."""
        buffer = self._buffer
        if not buffer:
            return
        current = self._current
        assert current is not None and self._fd >= 0, "journal not open"
        view = memoryview(buffer)
        written = 0
        while written < len(buffer):  # a regular file takes it all at once, short of a full disk
            written += os.write(self._fd, view[written:])
        view.release()
        current.last_seq = self._next_seq - 1
        current.size += written
        self._records.inc(self._buffered)
        self._buffered = 0
        buffer.clear()
        self._dirty = True
        if self._fsync_interval_s <= 0:
            os.fdatasync(self._fd)
        if current.size >= self._segment_bytes or self._clock() - self._opened_at >= self._segment_age_s:
            self._rotate()

    def done(self, seq: int) -> None:
        """The server has handled this copy (or dropped it for good)."""
        self._pending.discard(seq)

    @property
    def low_watermark(self) -> int:
        """Every copy with a smaller sequence number is done."""
        return min(self._pending) if self._pending else self._next_seq

    @property
    def pending(self) -> int:
        return len(self._pending)

    def checkpoint(self, mark: int) -> None:
        """Every copy below ``mark`` is handled and its effects durable: remember it, delete what it covers."""
        if mark <= self._checkpoint:
            self._report()
            return
        self._checkpoint = mark
        tmp = self.directory / "checkpoint.tmp"
        tmp.write_text(str(mark))
        os.replace(tmp, self.directory / "checkpoint")
        while self._closed and self._closed[0].last_seq < mark:
            self._closed.pop(0).path.unlink(missing_ok=True)
        self._report()

    # --- internals -------------------------------------------------------------------------------------

    def _read_checkpoint(self) -> int:
        try:
            return int((self.directory / "checkpoint").read_text().strip())
        except (FileNotFoundError, ValueError):
            return 0  # none, or unreadable: replaying more is safe, the FCnt check and unique ids absorb it

    def _start_segment(self) -> None:
        path = self.directory / f"{self._next_seq:020d}{_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self._current = _Segment(path, self._next_seq, -1, 0)
        self._opened_at = self._clock()
        with self._lock:
            old, self._fd = self._fd, fd
            if old >= 0:
                self._retired.append(old)
        if old >= 0:
            self._wake.set()

    def _rotate(self) -> None:
        current = self._current
        assert current is not None
        if current.last_seq >= 0:
            self._closed.append(current)
        else:
            current.path.unlink(missing_ok=True)
        self._start_segment()
        self._enforce_bound()

    def _enforce_bound(self) -> None:
        total = sum(s.size for s in self._closed)
        lost = 0
        while self._closed and total > self._max_bytes:
            seg = self._closed.pop(0)
            total -= seg.size
            lost += seg.last_seq - max(seg.first_seq, self._checkpoint) + 1
            seg.path.unlink(missing_ok=True)
            self._checkpoint = max(self._checkpoint, seg.last_seq + 1)
            self._pending = {s for s in self._pending if s > seg.last_seq}
        if lost:
            self._overflow.inc(lost)
            now = self._clock()
            if now - self._last_overflow_log >= 10.0:
                self._last_overflow_log = now
                log.error("journal over its bound (%d bytes): %d cop(ies) not yet handled for good lost their "
                          "crash protection; the server is not keeping up", self._max_bytes, lost)

    def _report(self) -> None:
        size = sum(s.size for s in self._closed) + (self._current.size if self._current else 0)
        self._bytes.set(size)
        self._pending_gauge.set(len(self._pending))

    def _sync_loop(self) -> None:
        interval = max(self._fsync_interval_s, 0.001)
        while True:
            self._wake.wait(interval)
            self._wake.clear()
            with self._lock:
                fd, retired, self._retired = self._fd, self._retired, []
                dirty, self._dirty = self._dirty, False
                stopping = self._stopping
            for old in retired:  # a rotated segment: its last bytes synced before it is closed
                try:
                    os.fdatasync(old)
                finally:
                    os.close(old)
            if dirty and fd >= 0:
                try:
                    os.fdatasync(fd)
                    self.fsyncs += 1
                except OSError as exc:  # EBADF in the instant of a rotation: the retired path syncs it
                    log.debug("journal fsync skipped: %s", exc)
            if stopping:
                return


def _first_seq_of(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return -1
