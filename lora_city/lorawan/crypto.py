"""LoRaWAN 1.0.x and 1.1 cryptography: MICs, FRMPayload / FOpts encryption, join-accept encryption.

Keys are 16 ``bytes``; ``dev_addr`` is MSB-first hex (as :mod:`lora_city.lorawan.frames` exposes it); frame counters
are the full 32-bit value (see :func:`lora_city.lorawan.fcnt.full_f_cnt`). ``msg`` arguments are the PHYPayload
without its 4-byte MIC. Keyed cipher objects are cached per thread (:mod:`lora_city.lorawan._aes`), so calling these
per frame is cheap. Session-key derivation lives in :mod:`lora_city.lorawan.keys` and is re-exported here.
"""

from __future__ import annotations

import struct
from functools import lru_cache

from lora_city.lorawan._aes import keyed
from lora_city.lorawan.errors import LoRaWANError, eui_to_wire
from lora_city.lorawan.keys import (
    JoinServerKeys,
    SessionKeys10,
    SessionKeys11,
    derive_js_keys,
    derive_session_keys_10,
    derive_session_keys_11,
)

__all__ = [
    "JoinServerKeys",
    "SessionKeys10",
    "SessionKeys11",
    "data_downlink_mic_11",
    "data_mic_10",
    "data_uplink_mic_11",
    "decrypt_join_accept",
    "derive_js_keys",
    "derive_session_keys_10",
    "derive_session_keys_11",
    "encrypt_f_opts",
    "encrypt_frm_payload",
    "encrypt_join_accept",
    "join_accept_mic_10",
    "join_accept_mic_11",
    "join_request_mic",
    "rejoin_request_mic",
]

_MAX_U32 = 0xFFFFFFFF


@lru_cache(maxsize=65536)
def _dev_addr_le(dev_addr: str) -> bytes:
    # Cached: the same few thousand DevAddrs recur on every frame; errors are raised, never cached.
    return eui_to_wire(dev_addr, "DevAddr", 4)


def _check_f_cnt(f_cnt32: int) -> None:
    if not 0 <= f_cnt32 <= _MAX_U32:
        raise LoRaWANError("FCnt", f"32-bit frame counter out of range: {f_cnt32}")


# B0/B1 (0x49 | ConfFCnt | TxDr | TxCh | Dir | DevAddr | FCnt | 0x00 | len) and A_i (0x01 | 4 x 0x00 | Dir |
# DevAddr | FCnt | 0x00 | i) blocks, little-endian as on the wire.
_B_BLOCK = struct.Struct("<BHBBB4sIBB")
_A_PREFIX = struct.Struct("<B4xB4sIB")


def _b_block(
    direction: int,
    dev_addr: str,
    f_cnt32: int,
    msg_len: int,
    conf_f_cnt: int = 0,
    tx_dr: int = 0,
    tx_ch: int = 0,
) -> bytes:
    """B0/B1 block (LoRaWAN 1.1 §4.4.1/4.4.2): 0x49|ConfFCnt|TxDr|TxCh|Dir|DevAddr|FCnt|0x00|len(msg).

    In 1.0.x (§4.4) ConfFCnt/TxDr/TxCh are zero, which gives the 1.0 B0 block.
    """
    if msg_len > 255:
        raise LoRaWANError("PHYPayload", f"too long for a MIC block: {msg_len} bytes")
    if not 0 <= conf_f_cnt <= 0xFFFF:
        raise LoRaWANError("ConfFCnt", f"out of range: {conf_f_cnt}")
    if not (0 <= tx_dr <= 255 and 0 <= tx_ch <= 255):
        raise LoRaWANError("TxDr/TxCh", f"out of range: {tx_dr}/{tx_ch}")
    _check_f_cnt(f_cnt32)
    return _B_BLOCK.pack(
        0x49, conf_f_cnt, tx_dr, tx_ch, direction, _dev_addr_le(dev_addr), f_cnt32, 0, msg_len
    )


def data_mic_10(nwk_s_key: bytes, msg: bytes, dev_addr: str, f_cnt32: int, uplink: bool) -> bytes:
    """LoRaWAN 1.0.x data-frame MIC (§4.4): CMAC(NwkSKey, B0 | msg)[0:4]."""
    b0 = _b_block(0 if uplink else 1, dev_addr, f_cnt32, len(msg))
    return keyed(nwk_s_key).cmac(b0 + msg)[:4]


def data_uplink_mic_11(
    f_nwk_s_int_key: bytes,
    s_nwk_s_int_key: bytes,
    msg: bytes,
    dev_addr: str,
    f_cnt32: int,
    conf_f_cnt: int = 0,
    tx_dr: int = 0,
    tx_ch: int = 0,
) -> bytes:
    """LoRaWAN 1.1 uplink MIC (§4.4.2): cmacS[0:2] | cmacF[0:2].

    cmacF = CMAC(FNwkSIntKey, B0 | msg), cmacS = CMAC(SNwkSIntKey, B1 | msg). ``conf_f_cnt`` is the FCnt (mod 2^16)
    of the confirmed downlink being acknowledged when FCtrl.ACK is set, else 0; ``tx_dr``/``tx_ch`` are the data
    rate and channel index the uplink was sent on.
    """
    n = len(msg)
    cmac_f = keyed(f_nwk_s_int_key).cmac(_b_block(0, dev_addr, f_cnt32, n) + msg)
    cmac_s = keyed(s_nwk_s_int_key).cmac(_b_block(0, dev_addr, f_cnt32, n, conf_f_cnt, tx_dr, tx_ch) + msg)
    return cmac_s[:2] + cmac_f[:2]


def data_downlink_mic_11(
    s_nwk_s_int_key: bytes, msg: bytes, dev_addr: str, f_cnt32: int, conf_f_cnt: int = 0
) -> bytes:
    """LoRaWAN 1.1 downlink MIC (§4.4.1): CMAC(SNwkSIntKey, B0 | msg)[0:4], B0 carrying ConfFCnt.

    ``f_cnt32`` is AFCntDown (FPort > 0) or NFCntDown (no FPort or FPort 0); ``conf_f_cnt`` is the acknowledged
    confirmed uplink's FCnt (mod 2^16) when ACK is set, else 0.
    """
    b0 = _b_block(1, dev_addr, f_cnt32, len(msg), conf_f_cnt)
    return keyed(s_nwk_s_int_key).cmac(b0 + msg)[:4]


def _xor(data: bytes, stream: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data) ^ int.from_bytes(stream[:n])).to_bytes(n)


def encrypt_frm_payload(key: bytes, dev_addr: str, f_cnt32: int, uplink: bool, payload: bytes) -> bytes:
    """FRMPayload encryption (1.0.4 §4.3.3, 1.1 §4.3.3); the same call decrypts.

    A_i = 0x01 | 4 x 0x00 | Dir | DevAddr | FCnt | 0x00 | i. ``key`` is AppSKey for FPort > 0 and NwkSKey
    (1.0) / NwkSEncKey (1.1) for FPort 0.
    """
    n = len(payload)
    if not n:
        return b""
    if n > 255 * 16:
        raise LoRaWANError("FRMPayload", f"too long: {n} bytes")
    _check_f_cnt(f_cnt32)
    prefix = _A_PREFIX.pack(0x01, 0 if uplink else 1, _dev_addr_le(dev_addr), f_cnt32, 0)
    blocks = b"".join([prefix + _COUNTERS[i] for i in range(1, (n + 15) // 16 + 1)])
    return _xor(payload, keyed(key).encrypt(blocks))


_COUNTERS = [bytes((i,)) for i in range(256)]


_F_OPTS_A = struct.Struct("<B3xBB4sIBB")


def encrypt_f_opts(
    nwk_s_enc_key: bytes, dev_addr: str, f_cnt32: int, uplink: bool, f_opts: bytes, a_f_cnt_down: bool = False
) -> bytes:
    """LoRaWAN 1.1 FOpts encryption (§4.3.1.6 as corrected by the "FOpts encryption, usage of FCntDwn" erratum).

    A = 0x01 | 0x00 x 3 | c | Dir | DevAddr | FCnt | 0x00 | 0x01 where c = 0x01 for FCntUp and NFCntDown and
    c = 0x02 for AFCntDown (a downlink with FPort > 0, whose counter is ``a_f_cnt_down``). The same call decrypts.
    The original 1.1 text (c = 0, last byte 0) is superseded and deliberately not implemented.
    """
    if not f_opts:
        return b""
    if len(f_opts) > 15:
        raise LoRaWANError("FOpts", f"at most 15 bytes, got {len(f_opts)}")
    if uplink and a_f_cnt_down:
        raise LoRaWANError("FOpts", "AFCntDown applies only to downlinks")
    _check_f_cnt(f_cnt32)
    a = _F_OPTS_A.pack(
        0x01, 0x02 if a_f_cnt_down else 0x01, 0 if uplink else 1, _dev_addr_le(dev_addr), f_cnt32, 0, 1
    )
    return _xor(f_opts, keyed(nwk_s_enc_key).encrypt(a))


def join_request_mic(key: bytes, msg: bytes) -> bytes:
    """Join-request MIC (1.0.4 §6.2.4, 1.1 §6.2.2): CMAC(AppKey/NwkKey, MHDR|JoinEUI|DevEUI|DevNonce)[0:4]."""
    return keyed(key).cmac(msg)[:4]


def rejoin_request_mic(key: bytes, msg: bytes) -> bytes:
    """Rejoin-request MIC (1.1 §6.2.4.1/6.2.4.2): SNwkSIntKey for types 0 and 2, JSIntKey for type 1."""
    return keyed(key).cmac(msg)[:4]


def join_accept_mic_10(key: bytes, msg: bytes) -> bytes:
    """1.0.x (and 1.1 with OptNeg unset) join-accept MIC (§6.2.5): CMAC(AppKey/NwkKey, MHDR|...|CFList)[0:4].

    ``msg`` is the plaintext join-accept PHYPayload without its MIC.
    """
    return keyed(key).cmac(msg)[:4]


def join_accept_mic_11(
    js_int_key: bytes, join_req_type: int, join_eui: str, dev_nonce: int, msg: bytes
) -> bytes:
    """1.1 join-accept MIC with OptNeg set (§6.2.3).

    CMAC(JSIntKey, JoinReqType | JoinEUI | DevNonce | MHDR | JoinNonce | NetID | DevAddr | DLSettings | RxDelay |
    CFList)[0:4]; JoinReqType is 0xFF for a join-request, else the rejoin type (0, 1 or 2); DevNonce is the
    join-request's DevNonce or the rejoin's RJcount.
    """
    if not 0 <= join_req_type <= 255:
        raise LoRaWANError("JoinReqType", f"out of range: {join_req_type}")
    if not 0 <= dev_nonce <= 0xFFFF:
        raise LoRaWANError("DevNonce", f"out of range: {dev_nonce}")
    prefix = bytes((join_req_type,)) + eui_to_wire(join_eui, "JoinEUI") + dev_nonce.to_bytes(2, "little")
    return keyed(js_int_key).cmac(prefix + msg)[:4]


def _check_join_accept_length(phy: bytes) -> None:
    if len(phy) not in (17, 33):
        raise LoRaWANError("JoinAccept", f"PHYPayload must be 17 or 33 bytes, got {len(phy)}")


def encrypt_join_accept(key: bytes, plain_phy: bytes) -> bytes:
    """Encrypt a plaintext join-accept (MHDR stays clear): aes128_decrypt(key, MACPayload | MIC) (§6.2.5).

    The device only ever runs AES encryption, so the server "encrypts" with AES decryption. ``key`` is AppKey
    (1.0), NwkKey (1.1, answering a join-request) or JSEncKey (1.1, answering a rejoin-request).
    """
    _check_join_accept_length(plain_phy)
    return plain_phy[:1] + keyed(key).decrypt(plain_phy[1:])


def decrypt_join_accept(key: bytes, phy: bytes) -> bytes:
    """Decrypt an over-the-air join-accept into its plaintext PHYPayload (inverse of :func:`encrypt_join_accept`)."""
    _check_join_accept_length(phy)
    return phy[:1] + keyed(key).encrypt(phy[1:])
