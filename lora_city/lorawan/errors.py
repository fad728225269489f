"""The one exception type of the pure LoRaWAN layer.

Every parser and builder in ``lora_city.lorawan`` raises :class:`LoRaWANError` (a ``ValueError``) for malformed
input of any kind: never ``IndexError``, ``struct.error`` or a bare ``ValueError`` from a lower layer. The message
names the field and, for byte input, the byte offset where the problem was found.
"""

from __future__ import annotations


class LoRaWANError(ValueError):
    """Malformed LoRaWAN input: ``field`` says what was wrong, ``offset`` where (byte index), when known."""

    def __init__(self, field: str, reason: str, offset: int | None = None) -> None:
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{field}{where}: {reason}")
        self.field = field
        self.reason = reason
        self.offset = offset


def parse_hex(value: str, field: str, length: int | None = None) -> bytes:
    """Decode hex text (whitespace and a ``0x`` prefix tolerated) into bytes, optionally of an exact length."""
    text = "".join(value.split())
    if text[:2].lower() == "0x":
        text = text[2:]
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise LoRaWANError(field, f"not valid hex: {value!r}") from None
    if length is not None and len(data) != length:
        raise LoRaWANError(field, f"expected {length} bytes, got {len(data)}")
    return data


def eui_to_wire(value: str, field: str, length: int = 8) -> bytes:
    """MSB-first hex identifier (EUI, DevAddr, NetID) to its little-endian wire bytes."""
    return parse_hex(value, field, length)[::-1]
