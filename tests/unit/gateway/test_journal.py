"""The copy journal on its own: records round-trip every field of a copy, a torn tail is left out, the checkpoint
decides what is replayed and what is deleted, and the journal stays within its bound."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.gateway.journal import CopyJournal, decode, encode, read_segment
from lora_city.metrics import Metrics


def copy(n: int, *, gateway: str = "0102030405060708", **rx: object) -> UplinkFrame:
    info = {"gateway_id": gateway, "uplink_id": 1000 + n, "rssi": -101.3, "snr": 7.25, "channel": 3, "rf_chain": 1,
            "context": b"\x00\x01\x02\x03", "time": datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC),
            "crc_ok": True, "latitude": 48.85661, "longitude": 2.35222, "altitude": 35.5, **rx}
    return UplinkFrame(
        phy_payload=bytes([0x40, n & 0xFF, 1, 2, 3, 0, n & 0xFF, 0, 1, 9, 9, 9, 9, 9]),
        modulation=LoRaModulation(868_300_000, 9, 125_000, "4/5"),
        rx_info=RxInfo(**info),  # type: ignore[arg-type]
        transport=Transport.MQTT_JSON,
        received_ns=1_780_000_000_123_456_789 + n,
    )


def journal(path: Path, **kw: object) -> CopyJournal:
    return CopyJournal(path, Metrics(), fsync_interval_s=0.001, **kw)  # type: ignore[arg-type]


def test_a_record_carries_every_field_of_a_copy() -> None:
    """A field added to UplinkFrame, RxInfo or LoRaModulation and not journaled fails here, by name."""
    original = copy(7)
    record = encode(original, seq=42)
    back = decode(record[8:], received_at=5.0)
    for part, a, b in (("", original, back), ("rx_info.", original.rx_info, back.rx_info),
                       ("modulation.", original.modulation, back.modulation)):
        for f in dataclasses.fields(a):
            if f.name in ("received_at", "journal_seq", "rx_info", "modulation"):
                continue
            assert getattr(b, f.name) == getattr(a, f.name), f"journal loses {part}{f.name}"
    assert back.journal_seq == 42 and back.received_at == 5.0


def test_unknown_values_stay_unknown() -> None:
    original = copy(1, time=None, latitude=None, longitude=None, altitude=None, context=b"", crc_ok=False)
    back = decode(encode(original, 1)[8:], 0.0)
    assert back.rx_info == original.rx_info


def test_replay_returns_what_was_written_after_the_checkpoint(tmp_path: Path) -> None:
    j = journal(tmp_path)
    assert j.open() == []
    frames = [copy(n) for n in range(10)]
    for f in frames[:6]:
        j.append(f)
    j.write()
    for f in frames[6:]:
        j.append(f)
    j.write()
    assert [f.journal_seq for f in frames] == list(range(10))
    for f in frames[:4]:
        j.done(f.journal_seq)
    j.done(frames[5].journal_seq)  # out of order: 4 still pending holds the mark
    assert j.low_watermark == 4
    j.checkpoint(j.low_watermark)
    # the process dies here: no close()
    again = journal(tmp_path)
    replayed = again.open()
    assert [f.journal_seq for f in replayed] == [4, 5, 6, 7, 8, 9]  # done-but-not-checkpointed 5 comes back too
    assert [f.phy_payload for f in replayed] == [f.phy_payload for f in frames[4:]]
    assert again.low_watermark == 4 and again.pending == 6
    nxt = copy(99)
    again.append(nxt)
    assert nxt.journal_seq == 10  # numbering goes on after a restart
    again.close()


def test_a_torn_tail_is_left_out_and_the_rest_replayed(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.open()
    for n in range(3):
        j.append(copy(n))
    j.write()
    j.close()
    [segment] = [p for p in tmp_path.iterdir() if p.suffix == ".jrn"]
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])  # a power cut in the middle of the last record
    records, good = read_segment(segment)
    assert [seq for seq, _ in records] == [0, 1] and good < len(data) - 5
    replayed = journal(tmp_path).open()
    assert [f.journal_seq for f in replayed] == [0, 1]


def test_a_flipped_bit_ends_the_segment_there(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.open()
    for n in range(3):
        j.append(copy(n))
    j.write()
    j.close()
    [segment] = [p for p in tmp_path.iterdir() if p.suffix == ".jrn"]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x40
    segment.write_bytes(bytes(data))
    seqs = [seq for seq, _ in read_segment(segment)[0]]
    assert seqs == [0] or seqs == [0, 1]  # whichever record the bit hit ends the readable part


def test_rotation_and_checkpoint_delete_handled_segments(tmp_path: Path) -> None:
    j = journal(tmp_path, segment_bytes=300)
    j.open()
    frames = [copy(n) for n in range(20)]
    for f in frames:
        j.append(f)
        j.write()
    segments = sorted(p.name for p in tmp_path.glob("*.jrn"))
    assert len(segments) > 3
    for f in frames:
        j.done(f.journal_seq)
    j.checkpoint(j.low_watermark)
    assert len(list(tmp_path.glob("*.jrn"))) == 1  # only the segment being written stays
    assert (tmp_path / "checkpoint").read_text() == "20"
    j.close()
    assert journal(tmp_path).open() == []


def test_the_journal_stays_within_its_bound_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    j = CopyJournal(tmp_path, metrics, segment_bytes=500, max_bytes=2000)
    j.open()
    for n in range(200):  # nothing is ever done: a server that stopped handling copies
        j.append(copy(n))
        j.write()
    size = sum(p.stat().st_size for p in tmp_path.glob("*.jrn"))
    assert size <= 2000 + 500
    lost = metrics.registry.get_sample_value("lora_city_journal_overflow_total")
    assert lost is not None and lost > 100
    assert "journal over its bound" in caplog.text
    assert j.low_watermark > 100  # the oldest copies are no longer waited for
    j.close()


def test_fsync_runs_on_its_own_thread(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.open()
    j.append(copy(1))
    j.write()
    import time

    deadline = time.monotonic() + 2
    while j.fsyncs == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    assert j.fsyncs >= 1
    j.close()


def test_garbage_files_in_the_folder_do_not_stop_the_start(tmp_path: Path) -> None:
    (tmp_path / "checkpoint").write_text("not a number")
    (tmp_path / "00000000000000000000.jrn").write_bytes(os.urandom(100))
    assert journal(tmp_path).open() == []
