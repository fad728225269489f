"""LoRa Alliance TR005 device-identification QR codes, and the two older draft forms.

TR005 1.0: ``LW:D0:<JoinEUI>:<DevEUI>:<ProfileID>[:O<OwnerToken>][:S<SerNum>][:P<Proprietary>][:C<CheckSum>]``
with the EUIs as 16 hex digits, ProfileID as 8 (VendorID | VendorProfileID). Drafts still printed on devices:
``URN:LW:DP:<JoinEUI>:<DevEUI>:<ProdID>[:%V<code>%S<serial>%P<proprietary>]`` (draft 2) and
``URN:DEV:LW:<JoinEUI>_<DevEUI>_<ProdID>[_V<code>_S<serial>_P<proprietary>]`` (draft 3); their device validation
code maps to ``owner_token``. EUIs are exposed lowercase (project convention) and written uppercase (TR005 uses
the QR alphanumeric set).

The CheckSum is "the CRC-16-MODBUS of the full QR content except the Checksum field itself, in hexadecimal
without 0x" (TR005 1.0 lines 210-214). Whether the ``:`` before ``C`` counts as part of that field is not spelled
out, so we write the CRC of the text before ``:C`` and accept either reading when validating. A mismatch is reported
by ``checksum_valid`` rather than rejecting the code (QR codes carry their own error correction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lora_city.lorawan.errors import LoRaWANError

_HEX16 = re.compile(r"[0-9A-Fa-f]{16}")
_HEX8 = re.compile(r"[0-9A-Fa-f]{8}")
_VALUE = re.compile(r"[0-9A-Za-z$*+\-./]*")  # QR alphanumeric set minus space, ':' and '%' (the separators)

SCHEMA_D0 = "D0"
SCHEMA_DRAFT2 = "URN:LW:DP"
SCHEMA_DRAFT3 = "URN:DEV:LW"


def crc16(text: str) -> int:
    """CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF, no final XOR) of the ASCII text."""
    crc = 0xFFFF
    for byte in text.encode("ascii", "replace"):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class QRCode:
    join_eui: str
    dev_eui: str
    profile_id: str  # 8 hex digits: VendorID (4) | VendorProfileID (4); the drafts' ProdID
    owner_token: str | None = None
    serial_number: str | None = None
    proprietary: str | None = None
    checksum: str | None = None  # as read; to_string() computes a fresh one for D0
    schema: str = SCHEMA_D0

    @property
    def vendor_id(self) -> str:
        return self.profile_id[:4]

    @property
    def vendor_profile_id(self) -> str:
        return self.profile_id[4:]

    def _d0_body(self) -> str:
        parts = ["LW", "D0", self.join_eui.upper(), self.dev_eui.upper(), self.profile_id.upper()]
        for letter, value in (("O", self.owner_token), ("S", self.serial_number), ("P", self.proprietary)):
            if value is not None:
                parts.append(letter + value)
        return ":".join(parts)

    @property
    def checksum_valid(self) -> bool | None:
        """None without a checksum; else whether it matches :func:`crc16` of the text before ``:C``."""
        if self.checksum is None or self.schema != SCHEMA_D0:
            return None
        body = self._d0_body()
        return self.checksum.upper() in (f"{crc16(body):04X}", f"{crc16(body + ':'):04X}")

    def to_string(self, with_checksum: bool | None = None) -> str:
        """The QR text in this code's schema; D0 gets a checksum when it had one or ``with_checksum`` is true."""
        _validate(self)
        if self.schema == SCHEMA_D0:
            body = self._d0_body()
            if with_checksum or (with_checksum is None and self.checksum is not None):
                body += f":C{crc16(body):04X}"
            return body
        ext = [
            (k, v)
            for k, v in (("V", self.owner_token), ("S", self.serial_number), ("P", self.proprietary))
            if v
        ]
        ids = (self.join_eui.upper(), self.dev_eui.upper(), self.profile_id.upper())
        if self.schema == SCHEMA_DRAFT2:
            tail = ":" + "".join(f"%{k}{v}" for k, v in ext) if ext else ""
            return f"URN:LW:DP:{':'.join(ids)}{tail}"
        return "URN:DEV:LW:" + "_".join([*ids, *(k + v for k, v in ext)])


def _validate(code: QRCode) -> None:
    if not _HEX16.fullmatch(code.join_eui):
        raise LoRaWANError("QR.JoinEUI", f"must be 16 hex digits, got {code.join_eui!r}")
    if not _HEX16.fullmatch(code.dev_eui):
        raise LoRaWANError("QR.DevEUI", f"must be 16 hex digits, got {code.dev_eui!r}")
    if not _HEX8.fullmatch(code.profile_id):
        raise LoRaWANError("QR.ProfileID", f"must be 8 hex digits, got {code.profile_id!r}")
    for name, value in (
        ("OwnerToken", code.owner_token),
        ("SerNum", code.serial_number),
        ("Proprietary", code.proprietary),
    ):
        if value is not None and not _VALUE.fullmatch(value):
            raise LoRaWANError(f"QR.{name}", f"characters outside the QR alphanumeric set: {value!r}")
    if code.schema not in (SCHEMA_D0, SCHEMA_DRAFT2, SCHEMA_DRAFT3):
        raise LoRaWANError("QR.schema", f"unknown schema {code.schema!r}")


def _ids(join_eui: str, dev_eui: str, profile_id: str, **extra: str | None) -> dict[str, str | None]:
    return {
        "join_eui": join_eui.lower(),
        "dev_eui": dev_eui.lower(),
        "profile_id": profile_id.lower(),
        **extra,
    }


def _parse_d0(text: str) -> QRCode:
    parts = text.split(":")
    if len(parts) < 5:
        raise LoRaWANError("QR", f"LW:D0 needs JoinEUI, DevEUI and ProfileID; got {len(parts) - 2} field(s)")
    extras: dict[str, str] = {}
    for index, part in enumerate(parts[5:], start=5):
        if not part or part[0] not in "OSPC":
            raise LoRaWANError("QR", f"field {index} {part!r} is not O…, S…, P… or C…")
        if part[0] in extras:
            raise LoRaWANError("QR", f"field {part[0]} given twice")
        if part[0] == "C" and index != len(parts) - 1:
            raise LoRaWANError("QR.CheckSum", "must be the last field")
        extras[part[0]] = part[1:]
    checksum = extras.get("C")
    if checksum is not None and not re.fullmatch(r"[0-9A-Fa-f]{4}", checksum):
        raise LoRaWANError("QR.CheckSum", f"must be 4 hex digits, got {checksum!r}")
    code = QRCode(
        **_ids(parts[2], parts[3], parts[4]),  # type: ignore[arg-type]
        owner_token=extras.get("O"),
        serial_number=extras.get("S"),
        proprietary=extras.get("P"),
        checksum=checksum,
    )
    _validate(code)
    return code


def _draft_extensions(items: list[str], field: str) -> dict[str, str | None]:
    names = {"V": "owner_token", "S": "serial_number", "P": "proprietary"}
    out: dict[str, str | None] = {}
    for item in items:
        if not item:
            continue
        if item[0] not in names:
            raise LoRaWANError(field, f"unknown extension {item!r}")
        out[names[item[0]]] = item[1:]
    return out


def parse_qr(text: str) -> QRCode:
    """Parse a TR005 QR text (``LW:D0:``, ``URN:LW:DP:`` or ``URN:DEV:LW:``); raises LoRaWANError."""
    text = text.strip()
    upper = text.upper()
    if upper.startswith("LW:D0:"):
        return _parse_d0(text)
    if upper.startswith("URN:LW:DP:"):
        parts = text.split(":", 6)
        if len(parts) < 6:
            raise LoRaWANError("QR", "URN:LW:DP needs JoinEUI, DevEUI and ProdID")
        ext = _draft_extensions(parts[6].replace("%25", "%").split("%"), "QR") if len(parts) == 7 else {}
        code = QRCode(**_ids(parts[3], parts[4], parts[5], **ext), schema=SCHEMA_DRAFT2)  # type: ignore[arg-type]
    elif upper.startswith("URN:DEV:LW:"):
        parts = text[len("URN:DEV:LW:") :].split("_")
        if len(parts) < 3:
            raise LoRaWANError("QR", "URN:DEV:LW needs JoinEUI_DevEUI_ProdID")
        ext = _draft_extensions(parts[3:], "QR")
        code = QRCode(**_ids(parts[0], parts[1], parts[2], **ext), schema=SCHEMA_DRAFT3)  # type: ignore[arg-type]
    else:
        raise LoRaWANError(
            "QR", f"not a LoRaWAN QR code (expected LW:D0:, URN:LW:DP: or URN:DEV:LW:): {text[:20]!r}"
        )
    _validate(code)
    return code
