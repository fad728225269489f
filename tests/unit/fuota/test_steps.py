"""The campaign's pure parts: the fragmentation plan against RP002-1.0.4's EU868 payload table, and each device
step's request and the meaning of each answer (TS003/TS004/TS005 as the firmware emulator reads them)."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lora_city.fuota import plan, steps
from lora_city.fuota.steps import CampaignParams, DeviceParams
from lora_city.lorawan.applayer.commands import AppCommand
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868


def _enc(key: bytes, block: bytes) -> bytes:
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


# RP002-1.0.4 §2.4.6 (EU863-870 maximum payload size, not repeater compatible): N = 51 (DR0-2), 115 (DR3),
# 242 (DR4-7)
@pytest.mark.parametrize(("dr", "n"), [(0, 51), (3, 115), (5, 242)])
def test_largest_fragment_is_rp002_n_minus_the_data_fragment_header(dr: int, n: int) -> None:
    assert plan.max_frag_size(EU868, dr) == n - 3
    plan.plan(EU868, 1000, n - 3, 10, dr, 869_525_000)
    with pytest.raises(LoRaWANError, match="frag_size"):
        plan.plan(EU868, 1000, n - 2, 10, dr, 869_525_000)


def test_plan_counts_fragments_padding_parity_and_airtime() -> None:
    p = plan.plan(EU868, 50_000, 200, 10, 5, 869_525_000)
    assert (p.nb_frag, p.padding, p.redundancy) == (250, 0, 25)
    assert p.frame_size == 13 + 3 + 200
    assert p.airtime_per_frame_s == EU868.time_on_air_s(5, 216, uplink=False)
    assert p.duty_cycle == 0.10  # g3, 869.4-869.65 MHz (RP002-1.0.4 §2.4.2 / ETSI EN 300 220)
    assert p.min_duration_s == pytest.approx(p.airtime_s / 0.10)
    q = plan.plan(EU868, 1001, 100, 0, 5, 869_525_000)
    assert (q.nb_frag, q.padding, q.redundancy) == (11, 99, 0)
    frames = plan.fragments(os.urandom(1001), 100, 3, 2)
    assert len(frames) == 14 and {len(f) for f in frames} == {100}


@pytest.mark.parametrize(("seconds", "n"), [(1, 0), (2, 1), (100, 7), (128, 7), (129, 8), (32768, 15)])
def test_session_timeout_is_the_smallest_power_of_two_covering_it(seconds: float, n: int) -> None:
    assert plan.session_timeout_exponent(seconds) == n


@pytest.mark.parametrize(("seconds", "n"), [(1, 0), (128, 0), (129, 1), (256, 1), (1000, 3), (128 * 2**15, 15)])
def test_class_b_session_timeout_counts_beacon_periods(seconds: float, n: int) -> None:
    """TS005 McClassBSessionReq: a class B session lasts 2^TimeOut beacon periods of 128 s (TS001-1.1 §15.1)."""
    assert plan.session_timeout_exponent(seconds, "B") == n
    assert plan.session_length_s(n, "B") == 128 * 2**n and plan.session_length_s(n, "C") == 2**n
    with pytest.raises(LoRaWANError):
        plan.session_timeout_exponent(128 * 2**15 + 1, "B")


@pytest.mark.parametrize(("earliest", "start"), [(1_400_000_000.0, 1_400_000_000), (1_400_000_000.5, 1_400_000_128),
                                                 (1_400_000_127.9, 1_400_000_128), (0.0, 0)])
def test_class_b_session_starts_at_a_beacon_period(earliest: float, start: int) -> None:
    """The class B SessionTime is a beacon period's start: GPS seconds, a multiple of 128 (1_400_000_000 is
    128 x 10_937_500), the first at or after the earliest time."""
    assert plan.class_b_start_gps(earliest) == start


def test_ping_period_of_a_periodicity() -> None:
    """TS001-1.1 §15.2: pingNb = 2^(7 - periodicity) slots in the 122.88 s beacon window, 4096/pingNb slots of
    30 ms apart: 0.96 s at periodicity 0, 122.88 s at 7."""
    assert plan.ping_period_s(0) == pytest.approx(0.96)
    assert plan.ping_period_s(7) == pytest.approx(122.88)


def _params(**kw: object) -> CampaignParams:
    base: dict[str, object] = dict(
        mc_group_index=1, mc_addr="01020304", mc_key=bytes(range(16)), frag_index=2, nb_frag=5, frag_size=40,
        padding=3, descriptor=b"\x01\x02\x03\x04", session_cnt=9, image=os.urandom(197), group_class="C", dr=5,
        frequency=869_525_000, ping_slot_periodicity=3, timeout_exp=9, session_time_gps=1_400_000_000)
    base.update(kw)
    return CampaignParams(**base)  # type: ignore[arg-type]


def test_group_setup_request_gives_the_device_the_group_key() -> None:
    gen_app_key = os.urandom(16)
    device = DeviceParams(gen_app_key, False, {"multicast_setup": 2, "fragmentation": 2})
    campaign = _params()
    [(package, [cmd])] = steps.requests("mc_group_setup", campaign, device)
    assert package == "multicast_setup" and cmd.name == "McGroupSetupReq"
    # the device's side, from TS005: McRootKey from GenAppKey, McKEKey from it, McKey = encrypt(McKEKey, sent)
    ke_key = _enc(_enc(gen_app_key, bytes(16)), bytes(16))
    assert _enc(ke_key, bytes.fromhex(cmd["mc_key_encrypted"])) == campaign.mc_key
    assert (cmd["mc_group_id"], cmd["mc_addr"]) == (1, "01020304")


def test_fragmentation_setup_by_version() -> None:
    campaign = _params()
    v1 = DeviceParams(os.urandom(16), False, {"multicast_setup": 1, "fragmentation": 1})
    [(_, [cmd])] = steps.requests("frag_session_setup", campaign, v1)
    assert "mic" not in cmd.fields and cmd["mc_group_bit_mask"] == 0b0010 and cmd["padding"] == 3
    v2 = DeviceParams(os.urandom(16), False, {"multicast_setup": 2, "fragmentation": 2})
    [(_, [cmd2])] = steps.requests("frag_session_setup", campaign, v2)
    assert cmd2["session_cnt"] == 9 and len(bytes.fromhex(cmd2["mic"])) == 4


def test_session_start_request_class_c_and_b() -> None:
    device = DeviceParams(os.urandom(16), False, {"multicast_setup": 2, "fragmentation": 2})
    [(_, [c])] = steps.requests("mc_session_start", _params(), device)
    assert c.name == "McClassCSessionReq" and c["session_time_out"] == 9 and c["dl_frequency"] == 869_525_000
    [(_, [b])] = steps.requests("mc_session_start", _params(group_class="B"), device)
    assert b.name == "McClassBSessionReq" and (b["time_out"], b["periodicity"]) == (9, 3)


def test_clock_sync_is_skipped_for_devices_without_ts003() -> None:
    without = DeviceParams(b"k" * 16, False, {"multicast_setup": 2, "fragmentation": 2})
    with_ts003 = DeviceParams(b"k" * 16, False, {"clock_sync": 1, "multicast_setup": 2, "fragmentation": 2})
    assert steps.next_step("package_version", without) == "mc_group_setup"
    assert steps.next_step("package_version", with_ts003) == "clock_sync"
    [(_, [cmd])] = steps.requests("clock_sync", _params(), with_ts003)
    assert cmd.name == "ForceDeviceResyncReq"  # v1's name; v2 calls it ForceDeviceResyncCmd


def test_answers_advance_fail_or_are_ignored() -> None:
    campaign = _params()
    device = DeviceParams(b"k" * 16, False, {"multicast_setup": 2, "fragmentation": 2})
    ans = AppCommand("PackageVersionAns", {"package_identifier": 2, "package_version": 2})
    assert steps.accept("package_version", "multicast_setup", ans, campaign, device).outcome == "ignore"  # 1 of 2
    frag = AppCommand("PackageVersionAns", {"package_identifier": 3, "package_version": 2})
    assert steps.accept("package_version", "fragmentation", frag, campaign, device).outcome == "next"
    wrong = AppCommand("PackageVersionAns", {"package_identifier": 3, "package_version": 1})
    verdict = steps.accept("package_version", "fragmentation", wrong, campaign,
                           DeviceParams(b"k" * 16, False, {"multicast_setup": 2, "fragmentation": 2}))
    assert verdict.outcome == "fail" and "parity" in verdict.reason
    setup = AppCommand("FragSessionSetupAns", {"frag_index": 2, "not_enough_memory": True})
    verdict = steps.accept("frag_session_setup", "fragmentation", setup, campaign, device)
    assert verdict.outcome == "fail" and "not_enough_memory" in verdict.reason
    other_index = AppCommand("FragSessionSetupAns", {"frag_index": 0})
    assert steps.accept("frag_session_setup", "fragmentation", other_index, campaign, device).outcome == "ignore"
    status = AppCommand("FragSessionStatusAns", {"frag_index": 2, "nb_frag_received": 5, "missing_frag": 2})
    verdict = steps.accept("frag_status", "fragmentation", status, campaign, device)
    assert verdict.outcome == "fail" and "2 fragments missing" in verdict.reason
    late = AppCommand("McGroupSetupAns", {"mc_group_id": 1, "id_error": False})
    assert steps.accept("frag_status", "multicast_setup", late, campaign, device).outcome == "ignore"
