"""Session-key derivation after a join (LoRaWAN 1.0.4 §6.2.5, 1.1 §6.1.1.3 and §6.1.1.4).

Identifiers are MSB-first hex, nonces plain integers; keys are 16 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_city.lorawan._aes import keyed
from lora_city.lorawan.errors import LoRaWANError, eui_to_wire


@dataclass(frozen=True, slots=True)
class SessionKeys10:
    """LoRaWAN 1.0.x session keys."""

    nwk_s_key: bytes
    app_s_key: bytes


@dataclass(frozen=True, slots=True)
class SessionKeys11:
    """LoRaWAN 1.1 session keys. A 1.0 device on a 1.1 server uses NwkSKey for all three network keys."""

    f_nwk_s_int_key: bytes
    s_nwk_s_int_key: bytes
    nwk_s_enc_key: bytes
    app_s_key: bytes

    @classmethod
    def from_10(cls, keys: SessionKeys10) -> SessionKeys11:
        """1.1 §6.1.1.3, OptNeg unset: FNwkSIntKey = SNwkSIntKey = NwkSEncKey = NwkSKey."""
        return cls(keys.nwk_s_key, keys.nwk_s_key, keys.nwk_s_key, keys.app_s_key)


@dataclass(frozen=True, slots=True)
class JoinServerKeys:
    """1.1 join-server keys (§6.1.1.4): JSIntKey signs join-accepts, JSEncKey encrypts rejoin answers."""

    js_int_key: bytes
    js_enc_key: bytes


def _nonce(value: int, size: int, field: str) -> bytes:
    if not 0 <= value < 1 << (8 * size):
        raise LoRaWANError(field, f"out of range for {size} bytes: {value}")
    return value.to_bytes(size, "little")


def _derive(root: bytes, kind: int, body: bytes) -> bytes:
    block = bytes((kind,)) + body
    return keyed(root).encrypt(block + bytes(16 - len(block)))


def derive_session_keys_10(app_key: bytes, join_nonce: int, net_id: str, dev_nonce: int) -> SessionKeys10:
    """1.0.x: key = aes128_encrypt(AppKey, type | AppNonce | NetID | DevNonce | pad16); 0x01 NwkSKey, 0x02 AppSKey.

    A 1.1 server answering a device with OptNeg unset passes NwkKey as ``app_key`` (1.1 §6.1.1.3).
    """
    body = (
        _nonce(join_nonce, 3, "JoinNonce")
        + eui_to_wire(net_id, "NetID", 3)
        + _nonce(dev_nonce, 2, "DevNonce")
    )
    return SessionKeys10(nwk_s_key=_derive(app_key, 0x01, body), app_s_key=_derive(app_key, 0x02, body))


def derive_session_keys_11(
    nwk_key: bytes, app_key: bytes, join_nonce: int, join_eui: str, dev_nonce: int
) -> SessionKeys11:
    """1.1 with OptNeg set: key = aes128_encrypt(root, type | JoinNonce | JoinEUI | DevNonce | pad16).

    type 0x01 FNwkSIntKey, 0x03 SNwkSIntKey, 0x04 NwkSEncKey (root NwkKey); 0x02 AppSKey (root AppKey).
    """
    body = (
        _nonce(join_nonce, 3, "JoinNonce")
        + eui_to_wire(join_eui, "JoinEUI")
        + _nonce(dev_nonce, 2, "DevNonce")
    )
    return SessionKeys11(
        f_nwk_s_int_key=_derive(nwk_key, 0x01, body),
        s_nwk_s_int_key=_derive(nwk_key, 0x03, body),
        nwk_s_enc_key=_derive(nwk_key, 0x04, body),
        app_s_key=_derive(app_key, 0x02, body),
    )


def derive_js_keys(nwk_key: bytes, dev_eui: str) -> JoinServerKeys:
    """1.1 §6.1.1.4: JSIntKey = aes128_encrypt(NwkKey, 0x06 | DevEUI | pad16), JSEncKey the same with 0x05."""
    body = eui_to_wire(dev_eui, "DevEUI")
    return JoinServerKeys(js_int_key=_derive(nwk_key, 0x06, body), js_enc_key=_derive(nwk_key, 0x05, body))
