"""Link margin per spreading factor and the installer's verdict rules (pure functions)."""

from __future__ import annotations

import pytest

from lora_city.services.link_quality import heard_by, link_margin, verdict


@pytest.mark.parametrize(("snr", "sf", "margin"), [
    (0.0, 7, 7.5), (0.0, 8, 10.0), (0.0, 9, 12.5), (0.0, 10, 15.0), (0.0, 11, 17.5), (0.0, 12, 20.0),
    (-18.0, 12, 2.0), (-10.0, 7, -2.5), (3.0, 6, None),
])
def test_margin_is_snr_above_the_demodulation_floor(snr: float, sf: int, margin: float | None) -> None:
    assert link_margin(snr, sf) == margin


def test_heard_by_reads_stored_metadata_and_ignores_junk() -> None:
    rx = [{"gateway_id": "g1", "rssi": -100, "snr": -5.0}, "junk", {"gateway_id": "g2", "rssi": True, "snr": "x"}]
    heard = heard_by(rx, {"spreading_factor": 10})
    assert [(h.gateway_id, h.rssi, h.snr, h.margin) for h in heard] == [("g1", -100.0, -5.0, 10.0),
                                                                        ("g2", None, None, None)]
    assert heard_by("nonsense", {}) == []  # type: ignore[arg-type]


def _codes(**kw: object) -> set[str]:
    base: dict[str, object] = dict(disabled=False, joined=True, uplinks=5, decoded=True, has_codec=True,
                                   margin=12.0, gateways=2, spreading_factor=9)
    base.update(kw)
    return {r.code for r in verdict(**base) if r.blocking}  # type: ignore[arg-type]


def test_verdict_blocking_reasons() -> None:
    assert _codes() == set()
    assert _codes(joined=False, uplinks=0) == {"not_joined", "no_uplink"}
    assert _codes(decoded=False) == {"not_decoded"}
    assert _codes(decoded=False, has_codec=False) == set()  # no codec: raw bytes are the expected outcome
    assert _codes(margin=4.9) == {"low_margin"}
    assert _codes(disabled=True) == {"device_disabled"}
    advice = {r.code for r in verdict(disabled=False, joined=True, uplinks=3, decoded=True, has_codec=True,
                                      margin=10.0, gateways=1, spreading_factor=12) if not r.blocking}
    assert advice == {"single_gateway", "high_sf"}
