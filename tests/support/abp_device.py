"""An ABP end device written from the specification alone (it does not import ``lora_city.lorawan``), so flow
tests check the server against an independent reading of LoRaWAN 1.0.4:

* §4.3.3 FRMPayload encryption: AES-128 in counter mode with blocks A_i = 0x01 | 4×0x00 | Dir | DevAddr | FCnt
  (32 bits) | 0x00 | i, XORed over the payload; key AppSKey for FPort > 0.
* §4.4 MIC: the first 4 bytes of AES-CMAC(NwkSKey, B0 | msg), B0 = 0x49 | 4×0x00 | Dir | DevAddr | FCnt (32
  bits) | 0x00 | len(msg); Dir is 0 for uplinks.
* §4.1-4.3 framing: MHDR 0x40 (unconfirmed data up), FHDR = DevAddr (little-endian) | FCtrl | FCnt (16 low bits,
  little-endian) | FOpts, then FPort and FRMPayload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC


def _aes_ecb(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


@dataclass
class AbpDevice:
    dev_eui: str
    dev_addr: str  # MSB-first hex, as the API takes it
    nwk_s_key: bytes
    app_s_key: bytes
    f_cnt: int = 0

    def uplink(self, f_port: int, payload: bytes) -> tuple[int, bytes]:
        """The next unconfirmed uplink's (FCnt, PHYPayload); the counter moves on."""
        f_cnt = self.f_cnt
        self.f_cnt += 1
        addr = bytes.fromhex(self.dev_addr)[::-1]
        blocks = bytearray()
        for i in range(1, (len(payload) + 15) // 16 + 1):
            blocks += _aes_ecb(self.app_s_key, b"\x01" + bytes(4) + b"\x00" + addr + struct.pack("<I", f_cnt)
                               + b"\x00" + bytes([i]))
        encrypted = bytes(p ^ k for p, k in zip(payload, blocks, strict=False))
        msg = b"\x40" + addr + b"\x00" + struct.pack("<H", f_cnt & 0xFFFF) + bytes([f_port]) + encrypted
        cmac = CMAC(algorithms.AES(self.nwk_s_key))
        cmac.update(b"\x49" + bytes(4) + b"\x00" + addr + struct.pack("<I", f_cnt) + b"\x00" + bytes([len(msg)])
                    + msg)
        return f_cnt, msg + cmac.finalize()[:4]
