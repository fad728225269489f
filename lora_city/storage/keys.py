"""Keys at rest: AES-GCM with a key derived from Settings.secret_key. Ciphertext = version | nonce | ct+tag.

The version byte lets the operator rotate the master key (``lora-city rotate-secret``) by re-encrypting rows.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lora_city.errors import ConfigurationError

_VERSION = 1


class KeyVault:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ConfigurationError("secret_key must not be empty")
        # A fixed, domain-separated KDF: the master secret may be any string, the AES key is 32 bytes.
        self._aead = AESGCM(hashlib.sha256(b"lora_city keys at rest\x00" + secret_key.encode()).digest())

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return bytes([_VERSION]) + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> bytes:
        if len(blob) < 1 + 12 + 16 or blob[0] != _VERSION:
            raise ConfigurationError("stored key blob is malformed or of an unknown version")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], context)
        except InvalidTag as exc:
            raise ConfigurationError("stored key does not decrypt: wrong LORA_CITY_SECRET_KEY?") from exc
