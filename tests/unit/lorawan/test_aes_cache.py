"""The per-thread cache of keyed AES objects: reused per key, bounded, never shared between threads."""

from __future__ import annotations

import threading

import pytest

from lora_city.lorawan import _aes
from lora_city.lorawan.errors import LoRaWANError


def test_same_key_same_object_and_bytearray_keys() -> None:
    key = bytes(range(16))
    assert _aes.keyed(key) is _aes.keyed(bytes(range(16)))
    assert _aes.keyed(bytearray(key)) is _aes.keyed(key)
    # RFC 4493 §4 example 2: AES-CMAC of a 16-byte message under 2b7e1516...
    rfc_key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    mac = _aes.keyed(rfc_key).cmac(bytes.fromhex("6bc1bee22e409f96e93d7e117393172a"))
    assert mac.hex() == "070a16b46b4d4144f79bdd9dd04a287c"
    assert _aes.keyed(rfc_key).cmac(b"").hex() == "bb1d6929e95937287fa37d129b756746"


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_aes, "CACHE_SIZE", 4)
    first = _aes.keyed(b"\x01" * 16)
    for i in range(2, 10):
        _aes.keyed(bytes([i]) * 16)
    assert len(_aes._local.cache) <= 4
    assert _aes.keyed(b"\x01" * 16) is not first  # evicted, then rebuilt


def test_each_thread_has_its_own_objects() -> None:
    key = b"\x42" * 16
    mine = _aes.keyed(key)
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(_aes.keyed(key)))
    thread.start()
    thread.join()
    assert seen and seen[0] is not mine


def test_bad_key_length() -> None:
    with pytest.raises(LoRaWANError, match="16 bytes"):
        _aes.keyed(b"\x00" * 15)
