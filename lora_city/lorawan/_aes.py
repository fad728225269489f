"""Keyed AES-128 primitives with a per-thread cache of cipher objects.

The network server computes a MIC and decrypts a payload for every uplink, usually with a few thousand distinct
session keys. Building a cipher from a key costs far more than the AES work on a 20-byte frame, so each thread keeps
a bounded map from key bytes to ready-made objects: an ECB encryptor (ECB over whole blocks is stateless between
``update`` calls) and a CMAC context that is copied, never finalised (RFC 4493 CMAC, used by LoRaWAN 1.0.4 §4.4).
The cache is per thread because the underlying objects are not safe to share between threads.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from lora_city.lorawan.errors import LoRaWANError

CACHE_SIZE = 4096


class KeyedAES:
    """AES-128 with one fixed key: raw block encryption/decryption and AES-CMAC.

    Each primitive is built on first use: building one costs 25-80 µs with OpenSSL 3, and an uplink needs only the
    CMAC of its network key and the encryptor of its application key, so eager construction tripled the cost of a
    cache miss (a city of 100,000 devices misses a 4,096-entry cache on almost every uplink).
    """

    __slots__ = ("_algorithm", "_cmac", "_dec", "_enc")

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise LoRaWANError("key", f"AES-128 key must be 16 bytes, got {len(key)}")
        self._algorithm = algorithms.AES(key)
        self._enc: CipherContext | None = None
        self._dec: CipherContext | None = None
        self._cmac: CMAC | None = None

    def encrypt(self, blocks: bytes) -> bytes:
        """AES-ECB encrypt whole 16-byte blocks."""
        enc = self._enc
        if enc is None:
            enc = self._enc = Cipher(self._algorithm, modes.ECB()).encryptor()
        return enc.update(blocks)

    def decrypt(self, blocks: bytes) -> bytes:
        """AES-ECB decrypt whole 16-byte blocks."""
        dec = self._dec
        if dec is None:
            dec = self._dec = Cipher(self._algorithm, modes.ECB()).decryptor()
        return dec.update(blocks)

    def cmac(self, message: bytes) -> bytes:
        """Full 16-byte AES-CMAC of ``message``."""
        base = self._cmac
        if base is None:
            base = self._cmac = CMAC(self._algorithm)
        ctx = base.copy()
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
        while len(cache) >= CACHE_SIZE:  # while: the bound may have been lowered at run time
            del cache[next(iter(cache))]
        cache[key] = aes
    return aes
