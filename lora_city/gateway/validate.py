"""Radio metadata of every gateway copy, checked at the gateway boundary before the copy joins the pipeline.

A gateway (broken, misconfigured or spoofed) can claim anything: bandwidth 0, spreading factor 0, a frequency
outside the region, NaN for the SNR. Past this point the copy's metadata decides the uplink's data rate, its
time on air (billing, duty cycle), the gateway the answer leaves through and the RX1 parameters; so a copy that
does not describe a real uplink of the region is rejected here, alone, with a reason (counted and logged
rate-limited by the backend's ``BadInputReporter``). The other gateways' copies of the same uplink are
untouched.
"""

from __future__ import annotations

import math

from lora_city.gateway.bad_input import BadGatewayInput
from lora_city.gateway.frames import UplinkFrame
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import Region

# LoRa modulation as LoRaWAN regions use it (RP002-1.0.4: SF5..SF12 at 125/250/500 kHz across regions);
# the region then says which combinations are its uplink data rates.
_SPREADING_FACTORS = range(5, 13)
_BANDWIDTHS = (125_000, 250_000, 500_000)
_CODE_RATES = ("4/5", "4/6", "4/7", "4/8")
# What a concentrator can report (SX1302: RSSI down to about -140 dBm, SNR within about ±30 dB); anything
# beyond is not a measurement, and a NaN would break the ordering of copies by SNR.
_RSSI_DBM = (-200.0, 20.0)
_SNR_DB = (-50.0, 50.0)
_MAX_PHY_PAYLOAD = 255  # one LoRa PHY frame


def check_uplink(frame: UplinkFrame, region: Region) -> None:
    """Raise ``BadGatewayInput`` when ``frame``'s radio metadata cannot describe an uplink in ``region``."""
    m, rx = frame.modulation, frame.rx_info
    if m.spreading_factor not in _SPREADING_FACTORS:
        raise BadGatewayInput("bad_spreading_factor", f"SF{m.spreading_factor}")
    if m.bandwidth not in _BANDWIDTHS:
        raise BadGatewayInput("bad_bandwidth", f"{m.bandwidth} Hz")
    if m.code_rate not in _CODE_RATES:
        raise BadGatewayInput("bad_code_rate", repr(m.code_rate)[:20])
    try:
        region.data_rate_index(m.spreading_factor, m.bandwidth)
    except LoRaWANError as exc:
        raise BadGatewayInput("bad_data_rate", str(exc)) from None
    if not region.in_band(m.frequency):
        raise BadGatewayInput("bad_frequency", f"{m.frequency} Hz outside {region.name}")
    if not (math.isfinite(rx.rssi) and _RSSI_DBM[0] <= rx.rssi <= _RSSI_DBM[1]):
        raise BadGatewayInput("bad_rssi", str(rx.rssi)[:20])
    if not (math.isfinite(rx.snr) and _SNR_DB[0] <= rx.snr <= _SNR_DB[1]):
        raise BadGatewayInput("bad_snr", str(rx.snr)[:20])
    if not 0 < len(frame.phy_payload) <= _MAX_PHY_PAYLOAD:
        raise BadGatewayInput("bad_payload_size", f"{len(frame.phy_payload)} bytes")
