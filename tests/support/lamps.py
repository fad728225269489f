"""An independent receiver of downlinks for flow tests, written from the specifications with ``cryptography``'s AES
only (nothing from ``lora_city.lorawan``), so a flow test checks the server against a second reading of the spec.

- ``open_downlink``: parse a data-down PHYPayload, check its MIC (LoRaWAN 1.0.4 §4.4: AES-CMAC over
  B0 | msg with B0 = 0x49 | 4 x 0x00 | Dir=1 | DevAddr | FCnt | 0x00 | len(msg)) and decrypt FRMPayload
  (§4.3.3: A_i = 0x01 | 4 x 0x00 | Dir | DevAddr | FCnt | 0x00 | i).
- ``multicast_session_keys``: TS005-1.0.0 §4.3, McAppSKey/McNwkSKey = aes128_encrypt(McKey, 0x01/0x02 | McAddr |
  pad16).
- ``ping_slot_gps_times``: TS001-1.1 §15.2, the ping slots of a DevAddr in one beacon period.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC


def _aes(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def _cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def multicast_session_keys(mc_key: bytes, mc_addr_hex: str) -> tuple[bytes, bytes]:
    """(McNwkSKey, McAppSKey)."""
    addr = bytes.fromhex(mc_addr_hex)[::-1]
    return (_aes(mc_key, b"\x02" + addr + bytes(11)), _aes(mc_key, b"\x01" + addr + bytes(11)))


@dataclass(frozen=True, slots=True)
class Opened:
    dev_addr: str
    f_cnt16: int
    f_port: int | None
    payload: bytes
    confirmed: bool
    f_ctrl: int


def open_downlink(phy: bytes, nwk_s_key: bytes, app_s_key: bytes, f_cnt_msb: int = 0) -> Opened | None:
    """The frame decrypted, or None when it is not a data-down frame or its MIC is wrong for these keys."""
    if len(phy) < 12 or phy[0] >> 5 not in (3, 5):
        return None
    addr = phy[1:5]
    f_ctrl = phy[5]
    f_cnt16 = int.from_bytes(phy[6:8], "little")
    opts_len = f_ctrl & 0x0F
    body = phy[8 + opts_len:-4]
    f_cnt = (f_cnt_msb << 16) | f_cnt16
    msg = phy[:-4]
    b0 = b"\x49" + bytes(4) + b"\x01" + addr + f_cnt.to_bytes(4, "little") + b"\x00" + bytes((len(msg),))
    if _cmac(nwk_s_key, b0 + msg)[:4] != phy[-4:]:
        return None
    f_port = body[0] if body else None
    cipher = body[1:]
    key = nwk_s_key if f_port == 0 else app_s_key
    stream = b"".join(
        _aes(key, b"\x01" + bytes(4) + b"\x01" + addr + f_cnt.to_bytes(4, "little") + b"\x00" + bytes((i,)))
        for i in range(1, len(cipher) // 16 + 2)
    )
    plain = bytes(a ^ b for a, b in zip(cipher, stream, strict=False))
    return Opened(addr[::-1].hex(), f_cnt16, f_port, plain, phy[0] >> 5 == 5, f_ctrl)


def ping_slot_gps_times(beacon_time: int, dev_addr_hex: str, periodicity: int) -> list[float]:
    """GPS seconds of the ping slots in the beacon period starting at ``beacon_time`` (a multiple of 128)."""
    ping_nb = 1 << (7 - periodicity)
    period = 4096 // ping_nb
    rand = _aes(bytes(16), (beacon_time % (1 << 32)).to_bytes(4, "little") + bytes.fromhex(dev_addr_hex)[::-1]
                + bytes(8))
    offset = (rand[0] + 256 * rand[1]) % period
    return [round(beacon_time + 2.120 + (offset + n * period) * 0.030, 3) for n in range(ping_nb)]


def build_uplink(dev_addr_hex: str, nwk_s_key: bytes, app_s_key: bytes, f_cnt: int, *, f_port: int | None = None,
                 payload: bytes = b"", f_opts: bytes = b"", class_b: bool = False, adr: bool = False) -> bytes:
    """A LoRaWAN 1.0.x unconfirmed data uplink (1.0.4 §4): FCtrl bit 4 is ClassB on uplinks (§10.1 / 1.1 §4.3.1);
    MIC with B0 Dir=0; FRMPayload encrypted with AppSKey (FPort > 0)."""
    addr = bytes.fromhex(dev_addr_hex)[::-1]
    f_ctrl = (0x80 if adr else 0) | (0x10 if class_b else 0) | len(f_opts)
    frm = b""
    if payload:
        stream = b"".join(
            _aes(app_s_key, b"\x01" + bytes(4) + b"\x00" + addr + f_cnt.to_bytes(4, "little") + b"\x00" + bytes((i,)))
            for i in range(1, len(payload) // 16 + 2)
        )
        frm = bytes(a ^ b for a, b in zip(payload, stream, strict=False))
    msg = (b"\x40" + addr + bytes((f_ctrl,)) + (f_cnt & 0xFFFF).to_bytes(2, "little") + f_opts
           + (bytes((f_port,)) if f_port is not None else b"") + frm)
    b0 = b"\x49" + bytes(4) + b"\x00" + addr + f_cnt.to_bytes(4, "little") + b"\x00" + bytes((len(msg),))
    return msg + _cmac(nwk_s_key, b0 + msg)[:4]
