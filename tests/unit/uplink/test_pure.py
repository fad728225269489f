"""Dedup window, ADR engine, FCnt/replay classification and DevAddr allocation."""

from __future__ import annotations

import asyncio
import random

import pytest

from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.uplink.adr import UplinkSample, decide, nb_trans_for, packet_loss_percent
from lora_city.uplink.dedup import CollectedUplink, Deduplicator
from lora_city.uplink.dev_addr import allocate_dev_addr, belongs_to
from lora_city.uplink.fcnt import FCntVerdict, f_cnt_candidates, retransmission_allowed


def _frame(phy: bytes, gw: str, snr: float) -> UplinkFrame:
    return UplinkFrame(phy, LoRaModulation(868_100_000, 7, 125_000), RxInfo(gw, 1, -80.0, snr), Transport.UDP)


def test_dedup_collects_copies_once_and_drops_late_copy() -> None:
    got: list[CollectedUplink] = []

    async def run() -> tuple[bool, bool]:
        d = Deduplicator(0.05, got.append, handled_ttl_s=1.0)
        d.add(_frame(b"A", "g1", 1.0))
        d.add(_frame(b"A", "g2", 9.0))
        d.add(_frame(b"A", "g2", 3.0))  # same gateway twice: one reception
        d.add(_frame(b"B", "g1", 0.0))
        await asyncio.sleep(0.1)
        late = d.add(_frame(b"A", "g3", 5.0))
        await asyncio.sleep(0.01)
        return late, d.open_count == 0

    late, empty = asyncio.run(run())
    assert [c.phy_payload for c in got] == [b"A", b"B"]
    assert got[0].gateway_ids() == ["g2", "g1"]  # best SNR first
    assert got[0].frames[0].rx_info.snr == 9.0
    assert late is False and empty


def test_dedup_forgets_after_ttl_so_a_retransmission_passes() -> None:
    got: list[CollectedUplink] = []
    now = [0.0]

    async def run() -> bool:
        d = Deduplicator(0.01, got.append, clock=lambda: now[0], handled_ttl_s=2.5)
        d.add(_frame(b"A", "g1", 1.0))
        await asyncio.sleep(0.03)
        now[0] = 3.0
        ok = d.add(_frame(b"A", "g1", 1.0))
        await asyncio.sleep(0.03)
        return ok

    assert asyncio.run(run()) is True
    assert len(got) == 2


def _history(snr: float, n: int = 20, gaps: int = 0) -> list[UplinkSample]:
    cnts = list(range(n + gaps))
    for i in range(gaps):
        cnts.pop(1 + i * 2)
    return [UplinkSample(c, snr, 1) for c in cnts[:n]]


def test_adr_waits_for_full_history() -> None:
    assert decide(_history(10.0, n=19), 0, 0, 1).dr == 0


def test_adr_raises_dr_then_lowers_power() -> None:
    # DR0 needs -20 dB; SNR 10 -> margin 10 - (-20) - 10 = 20 dB -> 6 steps: DR0->DR5 (5), then power index 1.
    d = decide(_history(10.0), 0, 0, 1)
    assert (d.dr, d.tx_power_index, d.nb_trans) == (5, 1, 1)
    # At DR5 (-7.5 dB needed), SNR -1 -> margin -3.5 -> -2 steps: power goes back up (index down), DR stays.
    d2 = decide(_history(-1.0), 5, 3, 1)
    assert (d2.dr, d2.tx_power_index) == (5, 1)


def test_adr_small_margin_changes_nothing() -> None:
    d = decide(_history(-5.0), 0, 0, 1)  # margin 5 -> 1 step
    assert d.dr == 1
    unchanged = decide(_history(-8.0), 0, 2, 1)  # margin 2 dB: less than one 3 dB step
    assert (unchanged.dr, unchanged.tx_power_index) == (0, 2)


def test_packet_loss_and_nb_trans() -> None:
    hist = [UplinkSample(c, 0.0, 1) for c in (0, 1, 2, 4, 5, 6, 8, 9, 10, 11)]  # 2 lost of 12
    assert packet_loss_percent(hist) == pytest.approx(100 * 2 / 12)
    assert nb_trans_for(16.7, 1) == 2
    assert nb_trans_for(1.0, 3) == 2
    assert nb_trans_for(50.0, 1) == 3


def test_f_cnt_candidates() -> None:
    assert f_cnt_candidates(None, 0, 7) == [(7, FCntVerdict.NEW)]
    assert f_cnt_candidates(10, 11, 11)[0] == (11, FCntVerdict.NEW)
    assert f_cnt_candidates(10, 11, 10)[0] == (10, FCntVerdict.RETRANSMISSION)
    assert f_cnt_candidates(10, 11, 5) == [(65541, FCntVerdict.NEW), (5, FCntVerdict.REPLAY)]
    assert f_cnt_candidates(0x1FFFE, 0x1FFFF, 0x0002)[0] == (0x20002, FCntVerdict.NEW)  # 16-bit wrap
    assert f_cnt_candidates(0xFFFF, 0x10000, 0)[0] == (0x10000, FCntVerdict.NEW)  # 65,535 -> 65,536
    # ABP activation with f_cnt_up 8 (issue 23 defect 2): 7 and 0 are below the next expected, not new
    assert f_cnt_candidates(None, 8, 7) == [(65543, FCntVerdict.NEW), (7, FCntVerdict.REPLAY)]
    assert f_cnt_candidates(None, 8, 0) == [(65536, FCntVerdict.NEW), (0, FCntVerdict.REPLAY)]
    assert f_cnt_candidates(None, 8, 8) == [(8, FCntVerdict.NEW)]
    assert retransmission_allowed(1, 1, False) is False
    assert retransmission_allowed(1, 2, False) is True
    assert retransmission_allowed(7, 1, True) is True
    assert retransmission_allowed(8, 1, True) is False


@pytest.mark.parametrize(
    ("net_id", "mask", "prefix"),
    [("000000", 0xFE000000, 0x00000000), ("000013", 0xFE000000, 0x13 << 25),
     ("400005", 0xFFF00000, (0b110 << 29) | (5 << 20)), ("600005", 0xFFF00000 | 0xE0000, (0b1110 << 28) | (5 << 17)), ("e00005", 0xFFFFFF80, (0xFE << 24) | (5 << 7))],
)
def test_dev_addr_allocation(net_id: str, mask: int, prefix: int) -> None:
    rng = random.Random(4)
    addrs = {allocate_dev_addr(net_id, rng) for _ in range(200)}
    assert len(addrs) > 50
    for a in addrs:
        assert int(a, 16) & mask == prefix, a
        assert belongs_to(a, net_id)
    assert not belongs_to(f"{prefix ^ 0x80000000:08x}", net_id)


def test_copies_that_disagree_on_the_radio_are_left_out() -> None:
    """Every receiver of one transmission reports its frequency, SF and bandwidth; a copy that disagrees with
    the others (broken or spoofed gateway) is dropped alone, whatever its SNR (issue 23, defect 10)."""
    from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
    from lora_city.uplink.dedup import agreeing_copies

    def copy(gw: str, sf: int, snr: float, freq: int = 868_100_000) -> UplinkFrame:
        return UplinkFrame(b"x", LoRaModulation(freq, sf, 125_000), RxInfo(gw, 0, -80.0, snr), Transport.UDP)

    spoof, a, b = copy("s", 9, 20.0), copy("a", 7, 1.0), copy("b", 7, -2.0)
    assert agreeing_copies([spoof, a, b]) == ([a, b], [spoof])
    assert agreeing_copies([a, b]) == ([a, b], [])
    other = copy("o", 7, 3.0, freq=868_300_000)
    assert agreeing_copies([a, other]) == ([a], [other])  # a tie: the first received wins
