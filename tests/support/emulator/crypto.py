"""LoRaWAN cryptography for the emulated device, from the spec text (not from lora_city.lorawan).

Conventions: identifiers are passed as MSB-first hex strings and reversed onto the wire here (TS001-1.0.4 §4:
multi-octet fields are little endian); keys are 16 ``bytes``; counters are full 32-bit integers.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC


def le(hex_msb: str) -> bytes:
    """An MSB-first hex identifier as its little-endian wire bytes."""
    return bytes.fromhex(hex_msb)[::-1]


def aes_encrypt(key: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def aes_decrypt(key: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return dec.update(data) + dec.finalize()


def cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def _block(first: int, conf_f_cnt: int, tx_dr: int, tx_ch: int, downlink: bool, dev_addr: str, f_cnt: int,
           last: int) -> bytes:
    """B0/B1 (0x49) and A_i (0x01) blocks share one layout (TS001-1.1 §4.3.3, §4.4)."""
    return (bytes((first,)) + conf_f_cnt.to_bytes(2, "little") + bytes((tx_dr, tx_ch, 1 if downlink else 0))
            + le(dev_addr) + f_cnt.to_bytes(4, "little") + b"\x00" + bytes((last,)))


def mic_10(nwk_s_key: bytes, msg: bytes, dev_addr: str, f_cnt: int, downlink: bool) -> bytes:
    """TS001-1.0.4 §4.4: cmac(NwkSKey, B0 | msg)[0..3]."""
    return cmac(nwk_s_key, _block(0x49, 0, 0, 0, downlink, dev_addr, f_cnt, len(msg)) + msg)[:4]


def mic_11_up(f_nwk_s_int_key: bytes, s_nwk_s_int_key: bytes, msg: bytes, dev_addr: str, f_cnt: int, *,
              conf_f_cnt: int, tx_dr: int, tx_ch: int) -> bytes:
    """TS001-1.1 §4.4.2: cmacS = cmac(SNwkSIntKey, B1 | msg), cmacF = cmac(FNwkSIntKey, B0 | msg),
    MIC = cmacS[0..1] | cmacF[0..1]; B1 carries ConfFCnt, TxDr and TxCh."""
    b0 = _block(0x49, 0, 0, 0, False, dev_addr, f_cnt, len(msg))
    b1 = _block(0x49, conf_f_cnt & 0xFFFF, tx_dr, tx_ch, False, dev_addr, f_cnt, len(msg))
    return cmac(s_nwk_s_int_key, b1 + msg)[:2] + cmac(f_nwk_s_int_key, b0 + msg)[:2]


def mic_11_down(s_nwk_s_int_key: bytes, msg: bytes, dev_addr: str, f_cnt: int, *, conf_f_cnt: int) -> bytes:
    """TS001-1.1 §4.4.1: cmac(SNwkSIntKey, B0 | msg)[0..3], B0 carrying the acknowledged uplink's FCnt."""
    return cmac(s_nwk_s_int_key, _block(0x49, conf_f_cnt & 0xFFFF, 0, 0, True, dev_addr, f_cnt, len(msg)) + msg)[:4]


def payload_cipher(key: bytes, dev_addr: str, f_cnt: int, downlink: bool, data: bytes) -> bytes:
    """FRMPayload encryption (TS001-1.0.4 §4.3.3): S = aes(K, A_1) | aes(K, A_2) ...; the same call decrypts."""
    stream = b"".join(aes_encrypt(key, _block(0x01, 0, 0, 0, downlink, dev_addr, f_cnt, i))
                      for i in range(1, len(data) // 16 + 2))
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def f_opts_cipher(nwk_s_enc_key: bytes, dev_addr: str, f_cnt: int, downlink: bool, data: bytes, *,
                  a_f_cnt_down: bool = False) -> bytes:
    """TS001-1.1 §4.3.1.6 as corrected by the 1.1 errata ("FOpts encryption, usage of FCntDwn"): one block
    A = 0x01 | 3 x 0x00 | 0x01 (FCntUp, NFCntDwn) or 0x02 (AFCntDwn) | Dir | DevAddr | FCnt | 0x00 | 0x01."""
    a = (b"\x01\x00\x00\x00" + bytes((0x02 if a_f_cnt_down else 0x01, 1 if downlink else 0)) + le(dev_addr)
         + f_cnt.to_bytes(4, "little") + b"\x00\x01")
    stream = aes_encrypt(nwk_s_enc_key, a)
    return bytes(x ^ y for x, y in zip(data, stream, strict=False))


def derive_10(app_key: bytes, join_nonce: int, net_id: str, dev_nonce: int) -> tuple[bytes, bytes]:
    """TS001-1.0.4 §6.2.6: (NwkSKey, AppSKey) = aes(AppKey, 0x01|0x02 | JoinNonce | NetID | DevNonce | pad16)."""
    body = join_nonce.to_bytes(3, "little") + le(net_id) + dev_nonce.to_bytes(2, "little")
    return (aes_encrypt(app_key, (b"\x01" + body).ljust(16, b"\x00")),
            aes_encrypt(app_key, (b"\x02" + body).ljust(16, b"\x00")))


def derive_11(nwk_key: bytes, app_key: bytes, join_nonce: int, join_eui: str, dev_nonce: int
              ) -> tuple[bytes, bytes, bytes, bytes]:
    """TS001-1.1 §6.2.3 (OptNeg set): FNwkSIntKey 0x01, SNwkSIntKey 0x03, NwkSEncKey 0x04 under NwkKey and
    AppSKey 0x02 under AppKey, each over JoinNonce | JoinEUI | DevNonce | pad16 (DevNonce is the RJcount when
    answering a rejoin-request)."""
    body = join_nonce.to_bytes(3, "little") + le(join_eui) + dev_nonce.to_bytes(2, "little")

    def key(root: bytes, kind: int) -> bytes:
        return aes_encrypt(root, (bytes((kind,)) + body).ljust(16, b"\x00"))

    return key(nwk_key, 0x01), key(nwk_key, 0x03), key(nwk_key, 0x04), key(app_key, 0x02)


def js_keys(nwk_key: bytes, dev_eui: str) -> tuple[bytes, bytes]:
    """TS001-1.1 §6.1.1.4: (JSIntKey, JSEncKey) = aes(NwkKey, 0x06|0x05 | DevEUI | pad16)."""
    return (aes_encrypt(nwk_key, (b"\x06" + le(dev_eui)).ljust(16, b"\x00")),
            aes_encrypt(nwk_key, (b"\x05" + le(dev_eui)).ljust(16, b"\x00")))
