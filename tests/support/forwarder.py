"""A Semtech UDP packet forwarder for load and crash tests, written from PROTOCOL.TXT (v2) alone: PUSH_DATA with
one ``rxpk`` each, and the server's PUSH_ACK (same token) counted per uplink. Like Semtech's forwarder it never
sends a datagram again: an uplink is *delivered* when at least one of its copies was acknowledged.

PROTOCOL.TXT §3.2: PUSH_DATA = version 2 | random token (2 bytes) | 0x00 | gateway EUI (8 bytes) | JSON;
§3.3: PUSH_ACK = version | the same token | 0x01.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Delivery:
    key: tuple[str, int]  # (dev_eui, f_cnt): the uplink this copy belongs to
    sent_at: float


@dataclass
class Forwarder:
    """One gateway. ``send`` returns at once; ``acked`` fills as PUSH_ACKs come back."""

    gateway_eui: str
    server: tuple[str, int]
    snr: float = 7.5
    rssi: float = -80.0
    acked: set[tuple[str, int]] = field(default_factory=set)
    sent: int = 0
    acks: int = 0
    _waiting: dict[int, Delivery] = field(default_factory=dict)
    _transport: asyncio.DatagramTransport | None = None
    _rng: random.Random = field(default_factory=random.Random)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._on_datagram), remote_addr=self.server)
        # Room for the acknowledgements while this (test) process is busy: an ack lost here is not the server's.
        self._transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)

    def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def send(self, key: tuple[str, int], phy: bytes) -> None:
        token = self._rng.getrandbits(16)
        while token in self._waiting:
            token = self._rng.getrandbits(16)
        rxpk = {"tmst": int(time.monotonic() * 1e6) & 0xFFFFFFFF, "chan": 0, "rfch": 0, "freq": 868.1, "stat": 1,
                "modu": "LORA", "datr": "SF7BW125", "codr": "4/5", "rssi": self.rssi, "lsnr": self.snr,
                "size": len(phy), "data": base64.b64encode(phy).decode()}
        datagram = (bytes([2]) + token.to_bytes(2, "big") + b"\x00" + bytes.fromhex(self.gateway_eui)
                    + json.dumps({"rxpk": [rxpk]}).encode())
        self._waiting[token] = Delivery(key, time.monotonic())
        if len(self._waiting) > 30_000:  # tokens are 16 bits: forget the oldest unacknowledged ones
            for old in list(self._waiting)[:10_000]:
                del self._waiting[old]
        assert self._transport is not None
        self._transport.sendto(datagram)
        self.sent += 1

    def _on_datagram(self, data: bytes) -> None:
        if len(data) >= 4 and data[3] == 0x01:
            delivery = self._waiting.pop(int.from_bytes(data[1:3], "big"), None)
            if delivery is not None:
                self.acks += 1
                self.acked.add(delivery.key)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes], None]) -> None:
        self._on = on_datagram

    def datagram_received(self, data: bytes, addr: object) -> None:
        self._on(data)

    def error_received(self, exc: Exception) -> None:
        return None  # ICMP port unreachable while the server is down: the copy is simply not acknowledged
