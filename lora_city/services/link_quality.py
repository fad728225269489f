"""Radio link quality for installers: link margin per gateway and a go / no-go verdict.

Link margin = SNR − the demodulation floor of the spreading factor (Semtech SX1276/SX1262 datasheets: SF7 −7.5 dB
… SF12 −20 dB, 2.5 dB per step). A margin of a few dB means the next rain or parked truck loses the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REQUIRED_SNR: dict[int, float] = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}
MIN_MARGIN_DB = 5.0  # below this the link works today and fails with weather or foliage
WEAK_RSSI_DBM = -120.0


def link_margin(snr: float, spreading_factor: int) -> float | None:
    floor = REQUIRED_SNR.get(spreading_factor)
    return None if floor is None else round(snr - floor, 1)


@dataclass(frozen=True, slots=True)
class GatewayHeard:
    gateway_id: str
    rssi: float | None
    snr: float | None
    spreading_factor: int | None
    margin: float | None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def heard_by(rx: list[Any], tx: dict[str, Any]) -> list[GatewayHeard]:
    """Per-gateway metadata of one stored reading (``readings.rx`` and ``readings.tx``)."""
    sf_raw = tx.get("spreading_factor") if isinstance(tx, dict) else None
    sf = int(sf_raw) if isinstance(sf_raw, int) and not isinstance(sf_raw, bool) else None
    out = []
    for item in rx if isinstance(rx, list) else []:
        if not isinstance(item, dict):
            continue
        snr = _number(item.get("snr"))
        margin = link_margin(snr, sf) if snr is not None and sf is not None else None
        out.append(GatewayHeard(str(item.get("gateway_id") or ""), _number(item.get("rssi")), snr, sf, margin))
    return out


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    blocking: bool
    values: dict[str, float | int | str] = field(default_factory=dict)  # the figures the message quotes


def verdict(
    *, disabled: bool, joined: bool, uplinks: int, decoded: bool, has_codec: bool, margin: float | None,
    gateways: int, spreading_factor: int | None,
) -> list[Reason]:
    """Why an installation is or is not done. Blocking reasons make it a no-go; others are advice.

    ``margin`` is the link margin of the latest uplinks (the worst of their best gateways), never the best ever
    seen: an antenna moved or a lid closed since the first good frame must turn the verdict."""
    reasons: list[Reason] = []
    if disabled:
        reasons.append(Reason("device_disabled", "the device is deactivated", True))
    if not joined:
        reasons.append(Reason("not_joined", "no network session yet: power-cycle the device and wait for a join", True))
    if uplinks == 0:
        reasons.append(Reason("no_uplink", "no uplink received yet", True))
    elif has_codec and not decoded:
        reasons.append(Reason("not_decoded", "the latest uplink arrived but the codec did not decode it", True))
    if margin is not None and margin < MIN_MARGIN_DB:
        reasons.append(Reason("low_margin", f"link margin {margin} dB on the latest uplinks is under {MIN_MARGIN_DB} "
                              "dB: move or raise the antenna", True, {"margin": margin, "min": MIN_MARGIN_DB}))
    if uplinks and gateways == 1:
        reasons.append(Reason("single_gateway", "only one gateway hears the device", False))
    if spreading_factor is not None and spreading_factor >= 11:
        reasons.append(Reason("high_sf", f"SF{spreading_factor}: long airtime, battery drains faster", False,
                              {"sf": spreading_factor}))
    return reasons
