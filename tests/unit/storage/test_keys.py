import pytest

from lora_city.errors import ConfigurationError
from lora_city.storage.keys import KeyVault


def test_round_trip_and_fresh_nonce() -> None:
    vault = KeyVault("s3cret")
    key = bytes(range(16))
    a, b = vault.encrypt(key), vault.encrypt(key)
    assert a != b  # a fresh nonce each time: equal keys do not give equal ciphertexts
    assert key not in a
    assert vault.decrypt(a) == key == vault.decrypt(b)


def test_wrong_master_key_is_a_clear_error() -> None:
    blob = KeyVault("one").encrypt(b"\x01" * 16)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        KeyVault("two").decrypt(blob)


def test_context_binds_ciphertext_to_its_row() -> None:
    vault = KeyVault("k")
    blob = vault.encrypt(b"\x02" * 16, context=b"0102030405060708")
    with pytest.raises(ConfigurationError):
        vault.decrypt(blob, context=b"ffffffffffffffff")


@pytest.mark.parametrize("blob", [b"", b"\x01" * 10, b"\x09" + b"\x00" * 40])
def test_malformed_blob(blob: bytes) -> None:
    with pytest.raises(ConfigurationError):
        KeyVault("k").decrypt(blob)
