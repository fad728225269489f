"""A bounds-checked byte reader for native codecs: a short payload becomes a ``PayloadTooShort`` naming the
field and offset, which the codec turns into an ``errors`` result instead of an IndexError or struct.error."""

from __future__ import annotations


class PayloadTooShort(ValueError):
    pass


class Reader:
    __slots__ = ("_data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self._data = data
        self.pos = pos

    @property
    def remaining(self) -> int:
        return len(self._data) - self.pos

    def take(self, n: int, what: str = "field") -> bytes:
        if n < 0 or self.pos + n > len(self._data):
            raise PayloadTooShort(
                f"{what}: needs {n} byte(s) at offset {self.pos}, payload has {len(self._data)}"
            )
        chunk = self._data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int, what: str = "field", *, little: bool = False) -> int:
        return int.from_bytes(self.take(n, what), "little" if little else "big")

    def sint(self, n: int, what: str = "field", *, little: bool = False) -> int:
        """Signed (two's complement) integer."""
        return int.from_bytes(self.take(n, what), "little" if little else "big", signed=True)

    def u8(self, what: str = "field") -> int:
        return self.uint(1, what)
