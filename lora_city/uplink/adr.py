"""The ADR engine, modelled on ChirpStack's default algorithm (chirpstack/src/adr/default.rs), for any Region.

LoRaWAN leaves the network-side algorithm to the server (1.0.4 §4.3.1.1); this is the widely used one:
the best SNR over the last 20 uplinks, minus the SNR the current data rate needs, minus an installation margin,
gives a margin; every 3 dB of it buys one step: first a faster data rate, then less transmit power. A negative
margin raises power back (never lowers the data rate: the device's own ADRACKReq back-off does that).
NbTrans follows the packet loss seen in the frame counters of the same history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lora_city.lorawan.region import EU868, Region

HISTORY_LEN = 20
INSTALLATION_MARGIN_DB = 10.0
STEP_DB = 3.0

# ChirpStack's table: rows by packet-loss band (<5 %, <10 %, <30 %, more), columns by the current NbTrans (1..3).
_NB_TRANS_TABLE = ((1, 1, 2), (1, 2, 3), (2, 3, 3), (3, 3, 3))


@dataclass(frozen=True, slots=True)
class UplinkSample:
    f_cnt: int
    max_snr: float  # best SNR among the gateways that heard this uplink
    gateway_count: int


@dataclass(frozen=True, slots=True)
class AdrDecision:
    dr: int
    tx_power_index: int  # EU868: 0 = max EIRP, each step -2 dB (RP002-1.0.4 §2.4.3)
    nb_trans: int

    def differs(self, dr: int, tx_power_index: int, nb_trans: int) -> bool:
        return (self.dr, self.tx_power_index, self.nb_trans) != (dr, tx_power_index, nb_trans)


def packet_loss_percent(history: Sequence[UplinkSample]) -> float:
    """Lost frames between the first and last sample, from gaps in the frame counter."""
    if len(history) < 2:
        return 0.0
    expected = history[-1].f_cnt - history[0].f_cnt + 1
    if expected <= 0:
        return 0.0
    lost = max(0, expected - len({s.f_cnt for s in history}))
    return 100.0 * lost / expected


def nb_trans_for(loss_percent: float, current: int) -> int:
    row = 0 if loss_percent < 5 else 1 if loss_percent < 10 else 2 if loss_percent < 30 else 3
    return _NB_TRANS_TABLE[row][min(max(current, 1), 3) - 1]


def decide(
    history: Sequence[UplinkSample],
    dr: int,
    tx_power_index: int,
    nb_trans: int,
    *,
    region: Region = EU868,
    installation_margin_db: float = INSTALLATION_MARGIN_DB,
) -> AdrDecision:
    """The data rate, TX power index and NbTrans the device should use. Unchanged until the history is full."""
    max_dr, max_tx_power_index = region.max_adr_data_rate, region.max_tx_power_index
    new_nb_trans = nb_trans_for(packet_loss_percent(history), nb_trans)
    if len(history) < HISTORY_LEN or dr > max_dr:
        return AdrDecision(dr, tx_power_index, new_nb_trans)
    snr_max = max(s.max_snr for s in history[-HISTORY_LEN:])
    margin = snr_max - region.required_snr_db(dr) - installation_margin_db
    steps = int(margin // STEP_DB)
    new_dr, new_power = dr, tx_power_index
    while steps > 0 and new_dr < max_dr:
        new_dr += 1
        steps -= 1
    while steps > 0 and new_power < max_tx_power_index:
        new_power += 1
        steps -= 1
    while steps < 0 and new_power > 0:
        new_power -= 1
        steps += 1
    return AdrDecision(new_dr, new_power, new_nb_trans)
