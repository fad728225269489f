"""TS004 Fragmented Data Block Transport, v1.0.0 and v2.0.0 (package identifier 3, FPort 201 by default).

A data block (a firmware image) is cut into ``nb_frag`` fragments of ``frag_size`` octets (the last one padded with
``padding`` zero octets); the server sends them, then parity fragments built by the forward error correction of
``lora_city.lorawan.applayer.fec``, as DataFragment commands whose 14-bit N numbers the fragment (1-based:
1..nb_frag are the uncoded fragments, beyond are parity).

v2.0.0 (TS004-2.0.0 §3.3) adds to FragSessionSetupReq a 16-bit SessionCnt (so the same block cannot be replayed on
a fragmentation index) and a MIC of the whole data block, computed with the DataBlockIntKey:
    DataBlockIntKey = aes128_encrypt(GenAppKey (1.0.x) or AppKey (1.1), 0x30 | pad16)
    MIC = aes128_cmac(DataBlockIntKey, B0 | data block)[0..3]
    B0  = 0x49 | SessionCnt (2) | FragIndex (1) | Descriptor (4) | 0x00000000 | len(data block) (4)
It also renames FragmentationMatrix to FragAlgo, adds AckReception (the device then reports a complete block with
FragDataBlockReceivedReq), moves FragSessionStatusAns' status octet first and widens it (MIC error, session does not
exist), and makes the parity generator draw exactly nb_frag/2 distinct columns per line (``fec``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lora_city.lorawan._aes import keyed
from lora_city.lorawan.applayer.commands import (
    AppCommand,
    Bits,
    CommandSpec,
    Octets,
    Package,
    Tail,
    package_version_commands,
)
from lora_city.lorawan.errors import LoRaWANError

IDENTIFIER = 3
PORT = 201
MAX_FRAGMENTS = (1 << 14) - 1  # DataFragment's N is 14 bits, numbered from 1


def _data_length(rest: bytes) -> int:
    return len(rest)  # a DataFragment takes the rest of the FRMPayload


def _parse_data(tail: bytes) -> dict[str, Any]:
    return {"data": tail.hex()}


def _build_data(fields: Mapping[str, Any]) -> bytes:
    data = fields.get("data", b"")
    return bytes(data) if isinstance(data, bytes | bytearray) else bytes.fromhex(str(data))


def _commands(version: int) -> tuple[CommandSpec, ...]:
    if version == 1:
        status_ans = CommandSpec(0x01, "FragSessionStatusAns", True, 4,
                                 (Bits("nb_frag_received", 0, 14), Bits("frag_index", 14, 2),
                                  Bits("missing_frag", 16, 8), Bits("not_enough_matrix_memory", 24, 1, flag=True)),
                                 "TS004-1.0.0 FragSessionStatusAns")
        setup_req = CommandSpec(0x02, "FragSessionSetupReq", False, 10,
                                (Bits("mc_group_bit_mask", 0, 4), Bits("frag_index", 4, 2), Bits("nb_frag", 8, 16),
                                 Bits("frag_size", 24, 8), Bits("block_ack_delay", 32, 3),
                                 Bits("fragmentation_matrix", 35, 3), Bits("padding", 40, 8),
                                 Octets("descriptor", 6, 4)), "TS004-1.0.0 FragSessionSetupReq")
        setup_ans = CommandSpec(0x02, "FragSessionSetupAns", True, 1,
                                (Bits("encoding_unsupported", 0, 1, flag=True),
                                 Bits("not_enough_memory", 1, 1, flag=True),
                                 Bits("frag_session_index_not_supported", 2, 1, flag=True),
                                 Bits("wrong_descriptor", 3, 1, flag=True), Bits("frag_index", 6, 2)),
                                "TS004-1.0.0 FragSessionSetupAns")
        extra: tuple[CommandSpec, ...] = ()
    else:
        status_ans = CommandSpec(0x01, "FragSessionStatusAns", True, 4,
                                 (Bits("memory_error", 0, 1, flag=True), Bits("mic_error", 1, 1, flag=True),
                                  Bits("session_does_not_exist", 2, 1, flag=True),
                                  Bits("nb_frag_received", 8, 14), Bits("frag_index", 22, 2),
                                  Bits("missing_frag", 24, 8)), "TS004-2.0.0 §3.2 FragSessionStatusAns")
        setup_req = CommandSpec(0x02, "FragSessionSetupReq", False, 16,
                                (Bits("mc_group_bit_mask", 0, 4), Bits("frag_index", 4, 2), Bits("nb_frag", 8, 16),
                                 Bits("frag_size", 24, 8), Bits("block_ack_delay", 32, 3), Bits("frag_algo", 35, 3),
                                 Bits("ack_reception", 38, 1, flag=True), Bits("padding", 40, 8),
                                 Octets("descriptor", 6, 4), Bits("session_cnt", 80, 16), Octets("mic", 12, 4)),
                                "TS004-2.0.0 §3.3 FragSessionSetupReq")
        setup_ans = CommandSpec(0x02, "FragSessionSetupAns", True, 1,
                                (Bits("frag_algo_unsupported", 0, 1, flag=True),
                                 Bits("not_enough_memory", 1, 1, flag=True),
                                 Bits("frag_index_unsupported", 2, 1, flag=True),
                                 Bits("wrong_descriptor", 3, 1, flag=True),
                                 Bits("session_cnt_replay", 4, 1, flag=True), Bits("frag_index", 6, 2)),
                                "TS004-2.0.0 §3.3 FragSessionSetupAns")
        extra = (
            CommandSpec(0x04, "FragDataBlockReceivedReq", True, 1,
                        (Bits("frag_index", 0, 2), Bits("mic_error", 2, 1, flag=True)),
                        "TS004-2.0.0 §3.5 FragDataBlockReceivedReq"),
            CommandSpec(0x04, "FragDataBlockReceivedAns", False, 1, (Bits("frag_index", 0, 2),),
                        "TS004-2.0.0 §3.5 FragDataBlockReceivedAns"),
        )
    return (
        *package_version_commands(),
        CommandSpec(0x01, "FragSessionStatusReq", False, 1,
                    (Bits("participants", 0, 1, flag=True), Bits("frag_index", 1, 2)), "TS004 FragSessionStatusReq"),
        status_ans,
        setup_req,
        setup_ans,
        CommandSpec(0x03, "FragSessionDeleteReq", False, 1, (Bits("frag_index", 0, 2),), "TS004 FragSessionDeleteReq"),
        CommandSpec(0x03, "FragSessionDeleteAns", True, 1,
                    (Bits("frag_index", 0, 2), Bits("session_does_not_exist", 2, 1, flag=True)),
                    "TS004 FragSessionDeleteAns"),
        *extra,
        CommandSpec(0x08, "DataFragment", False, 2, (Bits("n", 0, 14), Bits("frag_index", 14, 2)),
                    "TS004 DataFragment", length_of=_data_length, tail=Tail(("data",), _parse_data, _build_data)),
    )


V1 = Package(IDENTIFIER, 1, PORT, _commands(1))
V2 = Package(IDENTIFIER, 2, PORT, _commands(2))
VERSIONS = {1: V1, 2: V2}


def data_block_int_key(root: bytes) -> bytes:
    """DataBlockIntKey from the device's GenAppKey (LoRaWAN 1.0.x) or AppKey (1.1)."""
    return keyed(root).encrypt(b"\x30".ljust(16, b"\x00"))


def data_block_mic(int_key: bytes, session_cnt: int, frag_index: int, descriptor: bytes, block: bytes) -> bytes:
    """The 4-octet MIC of a data block that FragSessionSetupReq v2 carries (TS004-2.0.0 §3.3)."""
    if len(descriptor) != 4:
        raise LoRaWANError("descriptor", f"expected 4 bytes, got {len(descriptor)}")
    b0 = (b"\x49" + session_cnt.to_bytes(2, "little") + bytes([frag_index]) + descriptor + bytes(4)
          + len(block).to_bytes(4, "little"))
    return keyed(int_key).cmac(b0 + block)[:4]


def split(block: bytes, frag_size: int) -> tuple[list[bytes], int]:
    """The uncoded fragments of ``block`` (the last zero-padded to ``frag_size``) and the padding length."""
    if not 1 <= frag_size <= 255:
        raise LoRaWANError("frag_size", f"{frag_size} is not 1..255 octets")
    if not block:
        raise LoRaWANError("data block", "is empty")
    padding = (-len(block)) % frag_size
    padded = block + bytes(padding)
    fragments = [padded[i:i + frag_size] for i in range(0, len(padded), frag_size)]
    if len(fragments) > MAX_FRAGMENTS:
        raise LoRaWANError("data block", f"{len(fragments)} fragments exceed the {MAX_FRAGMENTS} N can number")
    return fragments, padding


def data_fragment(frag_index: int, n: int, data: bytes) -> AppCommand:
    """The DataFragment command carrying fragment (or parity line) number ``n`` (from 1)."""
    if not 1 <= n <= MAX_FRAGMENTS:
        raise LoRaWANError("n", f"{n} is not 1..{MAX_FRAGMENTS}")
    return AppCommand("DataFragment", {"n": n, "frag_index": frag_index, "data": data.hex()})
