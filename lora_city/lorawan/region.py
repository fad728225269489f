"""Regional parameters behind a ``Region`` interface; EU868 per LoRaWAN Regional Parameters RP002-1.0.4 §2.4.

The one source of regional truth: every radio decision of the network server (data rates and their maximum
payloads, RX1/RX2 parameters, the channel plan and its CFList, duty-cycle sub-bands, transmit power, the SNR a
data rate needs, time on air) goes through a ``Region``. Another region implements the same protocol later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from lora_city.lorawan.airtime import fsk_time_on_air, time_on_air
from lora_city.lorawan.errors import LoRaWANError


@dataclass(frozen=True, slots=True)
class DataRate:
    """One row of a region's data-rate table with its maximum payload sizes (RP002 "M" and "N")."""

    index: int
    modulation: str  # "LORA" or "FSK"
    spreading_factor: int | None  # LoRa only
    bandwidth_hz: int
    bit_rate: int  # bit/s as RP002 tabulates it
    max_mac_payload: int  # M: MACPayload bytes
    max_app_payload: int  # N: FRMPayload bytes when FOpts is empty
    # The SNR the demodulator needs (Semtech SX1276 datasheet table 13, the figures ChirpStack's ADR and link
    # margins use): SF7 -7.5 dB ... SF12 -20 dB. None for FSK.
    required_snr_db: float | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    frequency_hz: int
    min_dr: int
    max_dr: int


@dataclass(frozen=True, slots=True)
class SubBand:
    """A duty-cycle sub-band: transmissions in [low, high) Hz may use ``duty_cycle`` of the time (ETSI EN 300 220)."""

    name: str
    low_hz: int
    high_hz: int
    duty_cycle: float

    def contains(self, frequency_hz: int) -> bool:
        return self.low_hz <= frequency_hz < self.high_hz


@dataclass(frozen=True, slots=True)
class CFList:
    """A join-accept CFList (1.0.4 §6.2.5): type 0 lists up to 5 extra channel frequencies, type 1 ChMasks."""

    cf_list_type: int
    frequencies_hz: tuple[int, ...] = ()
    ch_masks: tuple[int, ...] = ()

    def to_bytes(self) -> bytes:
        if self.cf_list_type == 0:
            if len(self.frequencies_hz) > 5:
                raise LoRaWANError("CFList", f"at most 5 frequencies, got {len(self.frequencies_hz)}")
            body = b""
            for freq in self.frequencies_hz:
                if not isinstance(freq, int) or freq % 100 or not 0 <= freq // 100 < 1 << 24:
                    raise LoRaWANError("CFList.Freq", f"not a 100 Hz multiple in 24 bits: {freq}")
                body += (freq // 100).to_bytes(3, "little")
            return body.ljust(15, b"\x00") + b"\x00"
        if self.cf_list_type == 1:
            if len(self.ch_masks) > 7 or any(not 0 <= m <= 0xFFFF for m in self.ch_masks):
                raise LoRaWANError("CFList.ChMask", "at most 7 16-bit masks")
            body = b"".join(m.to_bytes(2, "little") for m in self.ch_masks)
            return body.ljust(15, b"\x00") + b"\x01"
        raise LoRaWANError("CFList.CFListType", f"unknown type {self.cf_list_type}")

    @classmethod
    def from_bytes(cls, data: bytes) -> CFList:
        if len(data) != 16:
            raise LoRaWANError("CFList", f"must be 16 bytes, got {len(data)}")
        if data[15] == 0:
            freqs = [int.from_bytes(data[i : i + 3], "little") * 100 for i in range(0, 15, 3)]
            # A zero frequency marks an unused slot (1.0.4 §6.2.5: "disabled channel"); keep the positions of
            # the used ones (they map to channel indexes 3..7) and drop only the unused tail.
            while freqs and freqs[-1] == 0:
                freqs.pop()
            return cls(0, tuple(freqs))
        if data[15] == 1:
            # RP002: the first ChMask blocks cover the channels, the remainder is RFU; keep masks up to the last set.
            masks = [int.from_bytes(data[i : i + 2], "little") for i in range(0, 14, 2)]
            while masks and masks[-1] == 0:
                masks.pop()
            return cls(1, ch_masks=tuple(masks))
        raise LoRaWANError("CFList.CFListType", f"unknown type {data[15]}", 15)


class Region(Protocol):
    """What the network server needs to know about a region's radio rules."""

    name: str
    default_channels: tuple[Channel, ...]
    extra_channels_hz: tuple[int, ...]
    data_rates: Mapping[int, DataRate]
    rx2_frequency_hz: int
    rx2_data_rate: int
    receive_delay1_s: int
    receive_delay2_s: int
    join_accept_delay1_s: int
    join_accept_delay2_s: int
    max_eirp_dbm: float
    max_tx_power_index: int
    max_adr_data_rate: int
    sub_bands: tuple[SubBand, ...]

    def data_rate(self, index: int) -> DataRate: ...

    def in_band(self, frequency_hz: int) -> bool: ...

    def channel_index(self, frequency_hz: int) -> int | None: ...

    def required_snr_db(self, data_rate: int) -> float: ...

    def downlink_tx_power_dbm(self, frequency_hz: int) -> int: ...

    def time_on_air_s(self, data_rate: int, phy_size: int, *, uplink: bool) -> float: ...

    def cf_list(self) -> bytes: ...

    def max_payload_size(self, data_rate: int) -> tuple[int, int]: ...

    def rx1_data_rate(self, uplink_dr: int, rx1_dr_offset: int) -> int: ...

    def tx_power_dbm(self, tx_power_index: int, max_eirp_dbm: float | None = None) -> float: ...

    def data_rate_index(self, spreading_factor: int, bandwidth_hz: int) -> int: ...

    def sub_band(self, frequency_hz: int) -> SubBand: ...

    def build_cf_list(self, frequencies_hz: list[int]) -> bytes: ...

    def parse_cf_list(self, data: bytes) -> list[int]: ...


_REQUIRED_SNR_DB = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}


def _lora(index: int, sf: int, bw: int, bit_rate: int, m: int) -> DataRate:
    return DataRate(index, "LORA", sf, bw, bit_rate, m, m - 8, _REQUIRED_SNR_DB[sf])


class EU868Region:
    """EU863-870 (RP002-1.0.4 §2.4)."""

    name = "EU868"
    min_frequency_hz = 863_000_000
    max_frequency_hz = 870_000_000
    # §2.4.2: three default channels every device knows, DR0..DR5.
    default_channels: tuple[Channel, ...] = (
        Channel(868_100_000, 0, 5),
        Channel(868_300_000, 0, 5),
        Channel(868_500_000, 0, 5),
    )
    # The city's channel plan on top of them, sent in every join-accept's CFList (§2.4.4: CFListType 0, five
    # frequencies, channel indexes 3..7). RP002 leaves the choice to the network; these are the common ones.
    extra_channels_hz: tuple[int, ...] = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)
    # §2.4.3 table of data rates; §2.4.6 maximum payload sizes (not repeater compatible). DR8-11 (LR-FHSS) omitted.
    data_rates: Mapping[int, DataRate] = MappingProxyType(
        {
            0: _lora(0, 12, 125_000, 250, 59),
            1: _lora(1, 11, 125_000, 440, 59),
            2: _lora(2, 10, 125_000, 980, 59),
            3: _lora(3, 9, 125_000, 1760, 123),
            4: _lora(4, 8, 125_000, 3125, 250),
            5: _lora(5, 7, 125_000, 5470, 250),
            6: _lora(6, 7, 250_000, 11000, 250),
            7: DataRate(7, "FSK", None, 0, 50_000, 250, 242),
        }
    )
    # §2.4.7: RX2 default 869.525 MHz at DR0.
    rx2_frequency_hz = 869_525_000
    rx2_data_rate = 0
    # RP002 §3 (common to all regions).
    receive_delay1_s = 1
    receive_delay2_s = 2
    join_accept_delay1_s = 5
    join_accept_delay2_s = 6
    adr_ack_limit = 64
    adr_ack_delay = 32
    # §2.4.3: max EIRP 16 dBm; TXPower n = MaxEIRP - 2n dB for n = 0..7.
    max_eirp_dbm = 16.0
    max_tx_power_index = 7
    max_rx1_dr_offset = 5
    max_adr_data_rate = 5  # ADR moves a device among DR0..DR5 (125 kHz LoRa); DR6/DR7 are opt-in
    # Gateway transmit power (EIRP): 14 dBm (25 mW) in the RX1 sub-bands, 27 dBm (500 mW) in g3 where RX2 sits.
    downlink_power_dbm = 14
    rx2_band_power_dbm = 27
    ping_slot_frequency_hz = 869_525_000
    ping_slot_data_rate = 3
    # ETSI EN 300 220 sub-bands as named in RP002 §2.4 / LoRaMac-node (g .. g4).
    sub_bands: tuple[SubBand, ...] = (
        SubBand("g", 863_000_000, 868_000_000, 0.01),
        SubBand("g1", 868_000_000, 868_600_000, 0.01),
        SubBand("g2", 868_700_000, 869_200_000, 0.001),
        SubBand("g3", 869_400_000, 869_650_000, 0.10),
        SubBand("g4", 869_700_000, 870_000_000, 0.01),
    )

    def data_rate(self, index: int) -> DataRate:
        try:
            return self.data_rates[index]
        except KeyError:
            raise LoRaWANError("DataRate", f"{self.name} has no DR{index}") from None

    def in_band(self, frequency_hz: int) -> bool:
        return self.min_frequency_hz <= frequency_hz < self.max_frequency_hz

    def channel_index(self, frequency_hz: int) -> int | None:
        """The channel index a device gives this uplink frequency (1.1 TxCh): the default channels 0..2, then
        the CFList's 3..7 (§2.4.4); None for a frequency outside the plan."""
        plan = [c.frequency_hz for c in self.default_channels] + list(self.extra_channels_hz)
        return plan.index(frequency_hz) if frequency_hz in plan else None

    def required_snr_db(self, data_rate: int) -> float:
        snr = self.data_rate(data_rate).required_snr_db
        if snr is None:
            raise LoRaWANError("DataRate", f"{self.name} DR{data_rate} is not LoRa")
        return snr

    def downlink_tx_power_dbm(self, frequency_hz: int) -> int:
        band = self.sub_band(frequency_hz)
        return self.rx2_band_power_dbm if band.name == "g3" else self.downlink_power_dbm

    def time_on_air_s(self, data_rate: int, phy_size: int, *, uplink: bool) -> float:
        """Seconds on air of ``phy_size`` PHYPayload bytes at ``data_rate``: the one time-on-air of the server.
        Uplinks carry a payload CRC, downlinks do not (1.0.4 §4: PHY layer)."""
        dr = self.data_rate(data_rate)
        if dr.spreading_factor is None:
            return fsk_time_on_air(phy_size, dr.bit_rate)
        return time_on_air(phy_size, dr.spreading_factor, dr.bandwidth_hz, crc=uplink)

    def cf_list(self) -> bytes:
        return self.build_cf_list(list(self.extra_channels_hz))

    def rx1_data_rate(self, uplink_dr: int, rx1_dr_offset: int) -> int:
        """§2.4.7 RX1 data rate table: max(uplink DR - RX1DROffset, DR0), offsets 0..5."""
        self.data_rate(uplink_dr)
        if not 0 <= rx1_dr_offset <= self.max_rx1_dr_offset:
            raise LoRaWANError(
                "RX1DROffset", f"{self.name} allows 0..{self.max_rx1_dr_offset}, got {rx1_dr_offset}"
            )
        return max(uplink_dr - rx1_dr_offset, 0)

    def tx_power_dbm(self, tx_power_index: int, max_eirp_dbm: float | None = None) -> float:
        """§2.4.3 TXPower table: index 0..7 gives MaxEIRP - 2 x index dB (8..14 RFU, 15 = keep current)."""
        if not 0 <= tx_power_index <= 7:
            raise LoRaWANError("TXPower", f"{self.name} defines 0..7, got {tx_power_index}")
        return (self.max_eirp_dbm if max_eirp_dbm is None else max_eirp_dbm) - 2 * tx_power_index

    def data_rate_index(self, spreading_factor: int, bandwidth_hz: int) -> int:
        for dr in self.data_rates.values():
            if dr.spreading_factor == spreading_factor and dr.bandwidth_hz == bandwidth_hz:
                return dr.index
        raise LoRaWANError("DataRate", f"{self.name} has no data rate SF{spreading_factor}/{bandwidth_hz} Hz")

    def max_payload_size(self, data_rate: int) -> tuple[int, int]:
        """(M, N): maximum MACPayload and FRMPayload sizes at ``data_rate``."""
        dr = self.data_rate(data_rate)
        return dr.max_mac_payload, dr.max_app_payload

    def sub_band(self, frequency_hz: int) -> SubBand:
        for band in self.sub_bands:
            if band.contains(frequency_hz):
                return band
        raise LoRaWANError("Frequency", f"{frequency_hz} Hz is in no {self.name} duty-cycle sub-band")

    def build_cf_list(self, frequencies_hz: list[int]) -> bytes:
        """CFListType 0 with up to five extra channels (§2.4.4); EU868 does not use the ChMask type."""
        for freq in frequencies_hz:
            if not self.min_frequency_hz <= freq < self.max_frequency_hz:
                raise LoRaWANError("CFList.Freq", f"{freq} Hz outside {self.name}")
        return CFList(0, tuple(frequencies_hz)).to_bytes()

    def parse_cf_list(self, data: bytes) -> list[int]:
        cf_list = CFList.from_bytes(data)
        if cf_list.cf_list_type != 0:
            raise LoRaWANError(
                "CFList.CFListType", f"{self.name} uses type 0, got {cf_list.cf_list_type}", 15
            )
        return list(cf_list.frequencies_hz)


EU868: Region = EU868Region()
REGIONS: dict[str, Region] = {"EU868": EU868}


def region_named(name: str) -> Region:
    """The region of ``Settings.region``; an unknown name is a configuration error raised at start."""
    try:
        return REGIONS[name.upper()]
    except KeyError:
        raise LoRaWANError("Region", f"unknown region {name!r}; known: {sorted(REGIONS)}") from None
