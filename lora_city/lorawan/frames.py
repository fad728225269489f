"""PHYPayload parse and build for every MType (LoRaWAN 1.0.4 §4, 1.1 §4 and §6.2).

``parse_phy_payload(data)`` returns one of the frame dataclasses below; each has ``to_bytes()`` giving the exact wire
bytes back. Identifiers (DevAddr, EUIs, NetID) are MSB-first lowercase hex; on the wire they are little-endian.
A join-accept is encrypted on the air, so parsing one gives an :class:`EncryptedJoinAccept`; decrypt it with
:func:`lora_city.lorawan.crypto.decrypt_join_accept` and read the fields with :func:`parse_join_accept`.
Malformed input raises :class:`~lora_city.lorawan.errors.LoRaWANError` naming the field and byte offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from lora_city.lorawan.errors import LoRaWANError, eui_to_wire


class MType(IntEnum):
    """Message type, the top three bits of MHDR (1.0.4 §4.2.1)."""

    JOIN_REQUEST = 0
    JOIN_ACCEPT = 1
    UNCONFIRMED_DATA_UP = 2
    UNCONFIRMED_DATA_DOWN = 3
    CONFIRMED_DATA_UP = 4
    CONFIRMED_DATA_DOWN = 5
    REJOIN_REQUEST = 6
    PROPRIETARY = 7

    @property
    def spec_name(self) -> str:
        """The spec's name, e.g. ``UnconfirmedDataUp``."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @classmethod
    def from_spec_name(cls, name: str) -> MType:
        for mtype in cls:
            if mtype.spec_name.lower() == name.replace(" ", "").replace("_", "").lower():
                return mtype
        raise LoRaWANError("MType", f"unknown message type {name!r}")

    @property
    def is_data(self) -> bool:
        return MType.UNCONFIRMED_DATA_UP <= self <= MType.CONFIRMED_DATA_DOWN

    @property
    def uplink(self) -> bool:
        """True for frames a device sends (join/rejoin-request, data up); proprietary counts as uplink."""
        return self in _UPLINK


_UPLINK = frozenset(
    {
        MType.JOIN_REQUEST,
        MType.UNCONFIRMED_DATA_UP,
        MType.CONFIRMED_DATA_UP,
        MType.REJOIN_REQUEST,
        MType.PROPRIETARY,
    }
)
_DATA_MTYPES = (
    MType.UNCONFIRMED_DATA_UP,
    MType.UNCONFIRMED_DATA_DOWN,
    MType.CONFIRMED_DATA_UP,
    MType.CONFIRMED_DATA_DOWN,
)


_MTYPE_BY_VALUE = tuple(MType)  # MType(x) is slow on the per-frame path


def _mhdr(mtype: MType, major: int) -> int:
    if not 0 <= major <= 3:
        raise LoRaWANError("MHDR.Major", f"out of range: {major}")
    return (mtype << 5) | major


def _check_mic(mic: bytes) -> None:
    if len(mic) != 4:
        raise LoRaWANError("MIC", f"must be 4 bytes, got {len(mic)}")


def _u(value: int, bits: int, name: str) -> int:
    if not 0 <= value < 1 << bits:
        raise LoRaWANError(name, f"out of range for {bits} bits: {value}")
    return value


@dataclass(frozen=True, slots=True)
class FCtrl:
    """FCtrl (1.0.4 §4.3.1). Bit 6 is ADRACKReq on uplinks (RFU on downlinks); bit 4 is ClassB on uplinks and
    FPending on downlinks. ``f_opts_len`` always equals the frame's ``len(f_opts)``."""

    adr: bool = False
    adr_ack_req: bool = False
    ack: bool = False
    f_pending: bool = False
    f_opts_len: int = 0

    @property
    def class_b(self) -> bool:
        """Uplink name of bit 4."""
        return self.f_pending

    def to_byte(self) -> int:
        return (
            (self.adr << 7)
            | (self.adr_ack_req << 6)
            | (self.ack << 5)
            | (self.f_pending << 4)
            | _u(self.f_opts_len, 4, "FCtrl.FOptsLen")
        )

    @classmethod
    def from_byte(cls, value: int) -> FCtrl:
        return cls(
            bool(value & 0x80), bool(value & 0x40), bool(value & 0x20), bool(value & 0x10), value & 0x0F
        )


@dataclass(frozen=True, slots=True)
class DataFrame:
    """Confirmed/unconfirmed data up/down: MHDR | FHDR(DevAddr FCtrl FCnt FOpts) | [FPort | FRMPayload] | MIC.

    ``f_cnt`` is the 16-bit wire value; ``f_opts`` and ``frm_payload`` are as on the wire (encrypted where the
    spec encrypts them). ``f_ctrl.f_opts_len`` is set from ``f_opts`` on construction.
    """

    mtype: MType
    dev_addr: str
    f_ctrl: FCtrl = field(default_factory=FCtrl)
    f_cnt: int = 0
    f_opts: bytes = b""
    f_port: int | None = None
    frm_payload: bytes = b""
    mic: bytes = b"\x00\x00\x00\x00"
    major: int = 0

    def __post_init__(self) -> None:
        if self.f_ctrl.f_opts_len != len(self.f_opts):
            ctrl = self.f_ctrl
            object.__setattr__(
                self, "f_ctrl", FCtrl(ctrl.adr, ctrl.adr_ack_req, ctrl.ack, ctrl.f_pending, len(self.f_opts))
            )

    @property
    def uplink(self) -> bool:
        return self.mtype.uplink

    @property
    def confirmed(self) -> bool:
        return self.mtype in (MType.CONFIRMED_DATA_UP, MType.CONFIRMED_DATA_DOWN)

    def mic_input(self) -> bytes:
        """The bytes the MIC covers: the PHYPayload without its MIC."""
        if self.mtype not in _DATA_MTYPES:
            raise LoRaWANError("MHDR.MType", f"{self.mtype.spec_name} is not a data frame")
        if len(self.f_opts) > 15:
            raise LoRaWANError("FOpts", f"at most 15 bytes, got {len(self.f_opts)}")
        if self.f_port is None:
            if self.frm_payload:
                raise LoRaWANError("FPort", "FRMPayload present without FPort")
            tail = b""
        else:
            if self.f_port == 0 and self.f_opts:
                raise LoRaWANError("FPort", "FPort 0 (MAC commands in FRMPayload) with FOpts also present")
            tail = bytes((_u(self.f_port, 8, "FPort"),)) + self.frm_payload
        return (
            bytes((_mhdr(self.mtype, self.major),))
            + eui_to_wire(self.dev_addr, "DevAddr", 4)
            + bytes((self.f_ctrl.to_byte(),))
            + _u(self.f_cnt, 16, "FCnt").to_bytes(2, "little")
            + self.f_opts
            + tail
        )

    def to_bytes(self) -> bytes:
        _check_mic(self.mic)
        return self.mic_input() + self.mic


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """Join-request: MHDR | JoinEUI | DevEUI | DevNonce | MIC (1.0.4 §6.2.4; JoinEUI was AppEUI before 1.0.4)."""

    join_eui: str
    dev_eui: str
    dev_nonce: int
    mic: bytes = b"\x00\x00\x00\x00"
    major: int = 0

    @property
    def mtype(self) -> MType:
        return MType.JOIN_REQUEST

    def mic_input(self) -> bytes:
        return (
            bytes((_mhdr(MType.JOIN_REQUEST, self.major),))
            + eui_to_wire(self.join_eui, "JoinEUI")
            + eui_to_wire(self.dev_eui, "DevEUI")
            + _u(self.dev_nonce, 16, "DevNonce").to_bytes(2, "little")
        )

    def to_bytes(self) -> bytes:
        _check_mic(self.mic)
        return self.mic_input() + self.mic


@dataclass(frozen=True, slots=True)
class RejoinRequest:
    """Rejoin-request (1.1 §6.2.4). Types 0 and 2 carry NetID and RJcount0; type 1 carries JoinEUI and RJcount1."""

    rejoin_type: int
    dev_eui: str
    rj_count: int
    net_id: str | None = None
    join_eui: str | None = None
    mic: bytes = b"\x00\x00\x00\x00"
    major: int = 0

    @property
    def mtype(self) -> MType:
        return MType.REJOIN_REQUEST

    def mic_input(self) -> bytes:
        head = bytes((_mhdr(MType.REJOIN_REQUEST, self.major), self.rejoin_type))
        if self.rejoin_type in (0, 2):
            if self.net_id is None:
                raise LoRaWANError("RejoinRequest.NetID", f"required for rejoin type {self.rejoin_type}")
            ident = eui_to_wire(self.net_id, "NetID", 3)
        elif self.rejoin_type == 1:
            if self.join_eui is None:
                raise LoRaWANError("RejoinRequest.JoinEUI", "required for rejoin type 1")
            ident = eui_to_wire(self.join_eui, "JoinEUI")
        else:
            raise LoRaWANError("RejoinRequest.RejoinType", f"must be 0, 1 or 2, got {self.rejoin_type}")
        return (
            head
            + ident
            + eui_to_wire(self.dev_eui, "DevEUI")
            + _u(self.rj_count, 16, "RJcount").to_bytes(2, "little")
        )

    def to_bytes(self) -> bytes:
        _check_mic(self.mic)
        return self.mic_input() + self.mic


@dataclass(frozen=True, slots=True)
class EncryptedJoinAccept:
    """A join-accept as sent over the air: MHDR | encrypted(MACPayload | MIC), 16 or 32 encrypted bytes."""

    encrypted: bytes
    major: int = 0

    @property
    def mtype(self) -> MType:
        return MType.JOIN_ACCEPT

    def to_bytes(self) -> bytes:
        if len(self.encrypted) not in (16, 32):
            raise LoRaWANError(
                "JoinAccept", f"encrypted part must be 16 or 32 bytes, got {len(self.encrypted)}"
            )
        return bytes((_mhdr(MType.JOIN_ACCEPT, self.major),)) + self.encrypted


@dataclass(frozen=True, slots=True)
class DLSettings:
    """DLSettings (1.0.4 §6.2.5, 1.1 §6.2.3): OptNeg (1.1) | RX1DRoffset | RX2DataRate."""

    opt_neg: bool = False
    rx1_dr_offset: int = 0
    rx2_dr: int = 0

    def to_byte(self) -> int:
        return (
            (self.opt_neg << 7)
            | (_u(self.rx1_dr_offset, 3, "DLSettings.RX1DRoffset") << 4)
            | _u(self.rx2_dr, 4, "DLSettings.RX2DataRate")
        )

    @classmethod
    def from_byte(cls, value: int) -> DLSettings:
        return cls(bool(value & 0x80), (value >> 4) & 0x07, value & 0x0F)


@dataclass(frozen=True, slots=True)
class JoinAccept:
    """A decrypted join-accept: MHDR | JoinNonce | NetID | DevAddr | DLSettings | RxDelay | [CFList] | MIC.

    ``join_nonce`` is the 1.0 AppNonce; ``cf_list`` is empty or 16 bytes (see :mod:`lora_city.lorawan.region`).
    """

    join_nonce: int
    net_id: str
    dev_addr: str
    dl_settings: DLSettings = field(default_factory=DLSettings)
    rx_delay: int = 0
    cf_list: bytes = b""
    mic: bytes = b"\x00\x00\x00\x00"
    major: int = 0

    @property
    def mtype(self) -> MType:
        return MType.JOIN_ACCEPT

    def mic_input(self) -> bytes:
        if len(self.cf_list) not in (0, 16):
            raise LoRaWANError("CFList", f"must be empty or 16 bytes, got {len(self.cf_list)}")
        return (
            bytes((_mhdr(MType.JOIN_ACCEPT, self.major),))
            + _u(self.join_nonce, 24, "JoinNonce").to_bytes(3, "little")
            + eui_to_wire(self.net_id, "NetID", 3)
            + eui_to_wire(self.dev_addr, "DevAddr", 4)
            + bytes((self.dl_settings.to_byte(), _u(self.rx_delay, 8, "RxDelay")))
            + self.cf_list
        )

    def to_bytes(self) -> bytes:
        """The plaintext PHYPayload; encrypt it with :func:`lora_city.lorawan.crypto.encrypt_join_accept`."""
        _check_mic(self.mic)
        return self.mic_input() + self.mic


@dataclass(frozen=True, slots=True)
class Proprietary:
    """Proprietary frame (MType 7): MHDR then vendor-defined bytes; the spec defines no MIC for it."""

    payload: bytes = b""
    major: int = 0
    rfu: int = 0

    @property
    def mtype(self) -> MType:
        return MType.PROPRIETARY

    def to_bytes(self) -> bytes:
        return (
            bytes((_mhdr(MType.PROPRIETARY, self.major) | (_u(self.rfu, 3, "MHDR.RFU") << 2),)) + self.payload
        )


_FCTRL_BY_BYTE = tuple(FCtrl.from_byte(value) for value in range(256))  # immutable, so shared

PHYPayload = DataFrame | JoinRequest | RejoinRequest | EncryptedJoinAccept | JoinAccept | Proprietary


def _need(data: bytes, length: int, what: str) -> None:
    if len(data) < length:
        raise LoRaWANError(what, f"frame truncated: need {length} bytes, got {len(data)}", len(data))


def _parse_data(data: bytes, mtype: MType, major: int) -> DataFrame:
    n = len(data)
    _need(data, 12, "FHDR")
    f_ctrl = data[5]
    f_opts_end = 8 + (f_ctrl & 0x0F)
    if f_opts_end + 4 > n:
        raise LoRaWANError("FOpts", f"FOptsLen {f_ctrl & 0x0F} runs past the MIC", 8)
    f_port: int | None = None
    if f_opts_end < n - 4:
        f_port = data[f_opts_end]
        if f_port == 0 and f_opts_end > 8:
            raise LoRaWANError(
                "FPort", "FPort 0 (MAC commands in FRMPayload) with FOpts also present", f_opts_end
            )
        frm_payload = data[f_opts_end + 1 : n - 4]
    else:
        frm_payload = b""
    return DataFrame(
        mtype,
        data[4:0:-1].hex(),
        _FCTRL_BY_BYTE[f_ctrl],
        data[6] | (data[7] << 8),
        data[8:f_opts_end],
        f_port,
        frm_payload,
        data[n - 4 :],
        major,
    )


def _parse_join_request(data: bytes, major: int) -> JoinRequest:
    if len(data) != 23:
        raise LoRaWANError("JoinRequest", f"PHYPayload must be 23 bytes, got {len(data)}", min(len(data), 23))
    return JoinRequest(
        data[8:0:-1].hex(), data[16:8:-1].hex(), data[17] | (data[18] << 8), data[19:23], major
    )


def _parse_rejoin_request(data: bytes, major: int) -> RejoinRequest:
    _need(data, 2, "RejoinRequest.RejoinType")
    rejoin_type = data[1]
    if rejoin_type in (0, 2):
        if len(data) != 19:
            raise LoRaWANError("RejoinRequest", f"type {rejoin_type} must be 19 bytes, got {len(data)}")
        return RejoinRequest(
            rejoin_type,
            data[12:4:-1].hex(),
            data[13] | (data[14] << 8),
            net_id=data[4:1:-1].hex(),
            mic=data[15:19],
            major=major,
        )
    if rejoin_type == 1:
        if len(data) != 24:
            raise LoRaWANError("RejoinRequest", f"type 1 must be 24 bytes, got {len(data)}")
        return RejoinRequest(
            1,
            data[17:9:-1].hex(),
            data[18] | (data[19] << 8),
            join_eui=data[9:1:-1].hex(),
            mic=data[20:24],
            major=major,
        )
    raise LoRaWANError("RejoinRequest.RejoinType", f"must be 0, 1 or 2, got {rejoin_type}", 1)


def parse_phy_payload(data: bytes) -> PHYPayload:
    """Parse wire bytes into a frame dataclass. Raises LoRaWANError on anything malformed."""
    if not data:
        raise LoRaWANError("MHDR", "empty frame", 0)
    mhdr = data[0]
    mtype = _MTYPE_BY_VALUE[mhdr >> 5]
    major = mhdr & 0x03
    if mtype is MType.PROPRIETARY:
        return Proprietary(bytes(data[1:]), major, (mhdr >> 2) & 0x07)
    if major != 0:
        raise LoRaWANError("MHDR.Major", f"unsupported major version {major} (only LoRaWAN R1 = 0)", 0)
    if mhdr & 0x1C:
        raise LoRaWANError("MHDR.RFU", "RFU bits must be zero", 0)
    data = bytes(data)
    if mtype in _DATA_MTYPES:
        return _parse_data(data, mtype, major)
    if mtype is MType.JOIN_REQUEST:
        return _parse_join_request(data, major)
    if mtype is MType.JOIN_ACCEPT:
        if len(data) not in (17, 33):
            raise LoRaWANError("JoinAccept", f"PHYPayload must be 17 or 33 bytes, got {len(data)}")
        return EncryptedJoinAccept(data[1:], major)
    return _parse_rejoin_request(data, major)


def parse_join_accept(plain: bytes) -> JoinAccept:
    """Parse a DECRYPTED join-accept PHYPayload (17 bytes, or 33 with a CFList)."""
    if len(plain) not in (17, 33):
        raise LoRaWANError("JoinAccept", f"PHYPayload must be 17 or 33 bytes, got {len(plain)}")
    if plain[0] >> 5 != MType.JOIN_ACCEPT:
        raise LoRaWANError("MHDR.MType", f"not a join-accept: MType {plain[0] >> 5}", 0)
    if plain[0] & 0x1F:
        raise LoRaWANError("MHDR", "RFU bits and Major must be zero", 0)
    n = len(plain)
    return JoinAccept(
        int.from_bytes(plain[1:4], "little"),
        plain[6:3:-1].hex(),
        plain[10:6:-1].hex(),
        DLSettings.from_byte(plain[11]),
        plain[12],
        bytes(plain[13 : n - 4]),
        bytes(plain[n - 4 :]),
    )
