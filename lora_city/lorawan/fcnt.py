"""32-bit frame-counter reconstruction from the 16 bits on the wire (LoRaWAN 1.0.4 §4.3.1.5).

Devices keep 32-bit counters but send only the 16 least-significant bits. The server keeps the last full value and
picks the smallest 32-bit counter that is not older than it and ends in the received 16 bits.
"""

from __future__ import annotations

from lora_city.lorawan.errors import LoRaWANError


def full_f_cnt(last_f_cnt32: int | None, wire_f_cnt16: int) -> int:
    """The 32-bit counter for ``wire_f_cnt16`` given the last accepted full counter (None: no frame yet).

    Equal to ``last_f_cnt32`` when the low bits match (a retransmission); otherwise the next value at or after it
    ending in ``wire_f_cnt16``, rolling the upper 16 bits forward when the low bits wrapped. Above 2^32 - 1 the
    counter would wrap, which the spec forbids (a new session is required), so that raises.
    """
    if not 0 <= wire_f_cnt16 <= 0xFFFF:
        raise LoRaWANError("FCnt", f"16-bit wire value out of range: {wire_f_cnt16}")
    if last_f_cnt32 is None:
        return wire_f_cnt16
    if not 0 <= last_f_cnt32 <= 0xFFFFFFFF:
        raise LoRaWANError("FCnt", f"32-bit counter out of range: {last_f_cnt32}")
    candidate = (last_f_cnt32 & 0xFFFF0000) | wire_f_cnt16
    if candidate < last_f_cnt32:
        candidate += 0x10000
    if candidate > 0xFFFFFFFF:
        raise LoRaWANError("FCnt", "32-bit frame counter exhausted; the device must rejoin")
    return candidate
