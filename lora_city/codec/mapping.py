"""Turns a codec's vendor ``data`` object into catalogue measurements, following the manifest's mapping.

Each mapping is compiled once at load time (path split, unit factor resolved) so the per-uplink cost is a few
dictionary lookups; a unit that does not convert is therefore a load-time error, not a per-uplink one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lora_city.codec.contract import Measurement, MeasurementMapping
from lora_city.codec.measurements import CATALOGUE, Kind, to_canonical

_MISSING = object()


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    name: str
    path: tuple[str | int, ...]
    factor: float  # manifest scale x unit conversion factor
    unit: str | None
    is_flag: bool
    true_values: tuple[Any, ...] | None
    channel: str | None
    rest: tuple[str | int, ...]  # the path after its first (top-level) key


class MappingTable:
    """A manifest's compiled mappings, indexed by the top-level key of their path.

    Decoding walks whichever is smaller, the uplink's keys or the table's: a Cayenne LPP uplink with two values
    costs two lookups, not one per mapping of every channel the manifest knows.
    """

    __slots__ = ("by_key", "mappings")

    def __init__(self, mappings: Sequence[CompiledMapping]) -> None:
        self.mappings = tuple(mappings)
        by_key: dict[str, list[CompiledMapping]] = {}
        for m in self.mappings:
            by_key.setdefault(str(m.path[0]), []).append(m)
        self.by_key = {key: tuple(group) for key, group in by_key.items()}

    def __len__(self) -> int:
        return len(self.mappings)


EMPTY = MappingTable(())


def compile_mappings(mappings: Sequence[MeasurementMapping]) -> MappingTable:
    """Resolve paths and unit factors. Raises ``ValueError`` for a unit that does not fit the catalogue."""
    compiled = []
    for mapping in mappings:
        quantity = CATALOGUE[mapping.name]
        is_flag = quantity.kind is Kind.FLAG
        if is_flag:
            factor, unit = 1.0, None
        else:
            factor, unit = to_canonical(mapping.name, 1.0, mapping.unit)
        path = tuple(int(part) if part.isdigit() else part for part in mapping.path.split("."))
        true_values = tuple(mapping.true_values) if mapping.true_values is not None else None
        compiled.append(
            CompiledMapping(
                mapping.name,
                path,
                factor * mapping.scale,
                unit,
                is_flag,
                true_values,
                mapping.channel,
                path[1:],
            )
        )
    return MappingTable(compiled)


def _lookup(data: Any, path: tuple[str | int, ...]) -> Any:
    value = data
    for part in path:
        if isinstance(part, int) and isinstance(value, list):
            if part >= len(value):
                return _MISSING
            value = value[part]
        elif isinstance(value, dict):
            value = value.get(str(part), _MISSING)
            if value is _MISSING:
                return _MISSING
        else:
            return _MISSING
    return value


def _flag(value: Any, true_values: tuple[Any, ...] | None) -> bool:
    if true_values is not None:
        return value in true_values
    # Default: booleans as they are, 1 means True (bool(2) would hide a vendor enum mistake, so not truthiness).
    return value is True or (type(value) in (int, float) and value == 1)


def extract_measurements(data: dict[str, Any], table: MappingTable, warnings: list[str]) -> list[Measurement]:
    """Measurements present in ``data``; a field that is absent is skipped (a codec reports a subset per uplink),
    a field of the wrong type adds a warning."""
    out: list[Measurement] = []
    by_key = table.by_key
    if not by_key:
        return out
    # Runs per uplink: only the keys both sides have are looked at.
    if len(data) <= len(by_key):
        groups = [(key, group) for key in data if (group := by_key.get(key)) is not None]
    else:
        groups = [(key, group) for key, group in by_key.items() if key in data]
    for key, group in groups:
        for m in group:
            value = _lookup(data[key], m.rest) if m.rest else data[key]
            if value is _MISSING or value is None:
                continue
            if m.is_flag:
                out.append(Measurement(m.name, _flag(value, m.true_values), None, m.channel))
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                warnings.append(f"measurement {m.name}: {'.'.join(map(str, m.path))} is not a finite number")
                continue
            converted = value * m.factor
            # Keep exact integers integral when nothing was scaled; round away binary noise (0.1 * 3).
            out.append(
                Measurement(m.name, converted if m.factor == 1.0 else round(converted, 9), m.unit, m.channel)
            )
    return out
