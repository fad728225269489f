"""TS004's forward error correction: the parity matrix generator, the encoder, and a decoder.

A data block of M uncoded fragments is sent as fragments 1..M followed by parity fragments M+1, M+2, ...; parity
fragment M+n is the XOR of the uncoded fragments whose column is set in line n of the parity matrix. The matrix is
not transmitted: both sides regenerate line n from a 23-bit PRBS seeded with 1 + 1001·n (TS004-1.0.0 Appendix,
"fragmentation algorithm"; TS004-2.0.0 §5, where the generator keeps drawing until floor(M/2) *distinct* columns are
set, while v1 may draw a column twice and then sets fewer). When M is a power of two the PRBS is reduced modulo M+1
(and draws of M are discarded) so that the columns are not just the PRBS's low bits.

The decoder is what an end-device does (and what the tests' device emulator uses): incremental Gaussian elimination
over GF(2), each received fragment a row of coefficients with its data; the block is recovered as soon as the rows
have rank M, whatever fragments were lost. Coefficients and data are Python integers used as bit vectors, so one
row operation is two big-integer XORs.
"""

from __future__ import annotations

from functools import lru_cache

from lora_city.lorawan.errors import LoRaWANError


def prbs23(x: int) -> int:
    """One step of the 23-bit PRBS: shift right, feeding back bit 0 XOR bit 5 into bit 22."""
    return (x >> 1) + (((x ^ (x >> 5)) & 1) << 22)  # "+", as the spec writes it: x may exceed 23 bits


@lru_cache(maxsize=4096)
def parity_line(n: int, m: int, version: int = 2) -> int:
    """Line ``n`` (from 1) of the parity matrix for ``m`` uncoded fragments, as a bit mask of columns."""
    if n < 1 or m < 1:
        raise LoRaWANError("parity line", f"n={n}, m={m}: both must be >= 1")
    modulus = m + 1 if m & (m - 1) == 0 else m
    x = 1 + 1001 * n
    line = 0
    wanted = m // 2
    drawn = 0
    while drawn < wanted:
        r = m
        while r >= m:
            x = prbs23(x)
            r = x % modulus
        if version == 1:
            drawn += 1  # v1 counts draws, a column drawn twice is set once
            line |= 1 << r
        elif not line >> r & 1:
            drawn += 1
            line |= 1 << r
    return line


def columns(line: int) -> list[int]:
    return [i for i in range(line.bit_length()) if line >> i & 1]


def encode(fragments: list[bytes], redundancy: int, version: int = 2) -> list[bytes]:
    """The ``redundancy`` parity fragments (numbers M+1..M+redundancy) of equal-size uncoded ``fragments``."""
    m = len(fragments)
    if m == 0 or len({len(f) for f in fragments}) != 1:
        raise LoRaWANError("fragments", "need at least one fragment, all of the same size")
    size = len(fragments[0])
    values = [int.from_bytes(f, "little") for f in fragments]
    parity: list[bytes] = []
    for n in range(1, redundancy + 1):
        acc = 0
        for col in columns(parity_line(n, m, version)):
            acc ^= values[col]
        parity.append(acc.to_bytes(size, "little"))
    return parity


class Decoder:
    """Rebuilds a data block of ``nb_frag`` fragments of ``frag_size`` octets from any sufficient set of received
    fragments (uncoded or parity), in any order, duplicates ignored."""

    def __init__(self, nb_frag: int, frag_size: int, version: int = 2) -> None:
        if nb_frag < 1 or frag_size < 1:
            raise LoRaWANError("decoder", "nb_frag and frag_size must be >= 1")
        self.nb_frag = nb_frag
        self.frag_size = frag_size
        self.version = version
        # pivot column -> (coefficients whose lowest set bit is that column, data)
        self._pivots: dict[int, tuple[int, int]] = {}
        self.received: set[int] = set()

    @property
    def rank(self) -> int:
        return len(self._pivots)

    @property
    def complete(self) -> bool:
        return self.rank == self.nb_frag

    def missing(self) -> int:
        """Uncoded fragments not (yet) received, as FragSessionStatusAns' MissingFrag counts them (capped at 255)."""
        return min(255, sum(1 for n in range(1, self.nb_frag + 1) if n not in self.received))

    def add(self, n: int, data: bytes) -> bool:
        """Take fragment number ``n`` (from 1); True when it brought new information."""
        if len(data) != self.frag_size:
            raise LoRaWANError("DataFragment", f"{len(data)} octets where the session has {self.frag_size}")
        if n < 1:
            raise LoRaWANError("n", "fragments are numbered from 1")
        if n in self.received or self.complete:
            return False
        self.received.add(n)
        coef = 1 << (n - 1) if n <= self.nb_frag else parity_line(n - self.nb_frag, self.nb_frag, self.version)
        value = int.from_bytes(data, "little")
        while coef:
            col = (coef & -coef).bit_length() - 1
            pivot = self._pivots.get(col)
            if pivot is None:
                self._pivots[col] = (coef, value)
                return True
            coef ^= pivot[0]
            value ^= pivot[1]
        return False  # a combination of rows already held

    def block(self, padding: int = 0) -> bytes:
        """The data block (without the last fragment's ``padding``); only once :attr:`complete`."""
        if not self.complete:
            raise LoRaWANError("data block", f"rank {self.rank} of {self.nb_frag}: not enough fragments yet")
        solved: dict[int, int] = {}
        for col in range(self.nb_frag - 1, -1, -1):
            coef, value = self._pivots[col]
            rest = coef & ~(1 << col)
            while rest:
                j = (rest & -rest).bit_length() - 1
                value ^= solved[j]
                rest &= rest - 1
            solved[col] = value
        raw = b"".join(solved[c].to_bytes(self.frag_size, "little") for c in range(self.nb_frag))
        return raw[:len(raw) - padding] if padding else raw
