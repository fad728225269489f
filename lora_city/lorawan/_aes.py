"""Keyed AES-128 primitives with a per-thread cache of cipher objects.

The network server computes a MIC and decrypts a payload for every uplink, usually with a few thousand distinct
session keys. Building a cipher from a key costs far more than the AES work on a 20-byte frame, so each thread keeps
a bounded map from key bytes to ready-made objects: an ECB encryptor (ECB over whole blocks is stateless between
``update`` calls) and a CMAC context that is copied, never finalised (RFC 4493 CMAC, used by LoRaWAN 1.0.4 §4.4).
The cache is per thread because the underlying objects are not safe to share between threads.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from lora_city.lorawan.errors import LoRaWANError

CACHE_SIZE = 4096


class KeyedAES:
    """AES-128 with one fixed key: raw block encryption/decryption and AES-CMAC."""

    __slots__ = ("_cmac", "_dec", "_enc")

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise LoRaWANError("key", f"AES-128 key must be 16 bytes, got {len(key)}")
        algorithm = algorithms.AES(key)
        self._enc = Cipher(algorithm, modes.ECB()).encryptor()
        self._dec = Cipher(algorithm, modes.ECB()).decryptor()
        self._cmac = CMAC(algorithm)

    def encrypt(self, blocks: bytes) -> bytes:
        """AES-ECB encrypt whole 16-byte blocks."""
        return self._enc.update(blocks)

    def decrypt(self, blocks: bytes) -> bytes:
        """AES-ECB decrypt whole 16-byte blocks."""
        return self._dec.update(blocks)

    def cmac(self, message: bytes) -> bytes:
        """Full 16-byte AES-CMAC of ``message``."""
        ctx = self._cmac.copy()
        ctx.update(message)
        return ctx.finalize()


_local = threading.local()


def keyed(key: bytes) -> KeyedAES:
    """The cached :class:`KeyedAES` for ``key`` (created on first use; oldest entry evicted when full)."""
    if type(key) is not bytes:
        key = bytes(key)
    try:
        cache: dict[bytes, KeyedAES] = _local.cache
    except AttributeError:
        cache = _local.cache = {}
    aes = cache.get(key)
    if aes is None:
        aes = KeyedAES(key)
        if len(cache) >= CACHE_SIZE:
            del cache[next(iter(cache))]
        cache[key] = aes
    return aes
