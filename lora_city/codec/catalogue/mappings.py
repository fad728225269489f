"""Mapping files: how a catalogue codec's JavaScript object becomes catalogue measurements with units, so its
readings feed InfluxDB, alerts and open data like a native codec's (whose manifest carries the same mapping).

A mapping file is YAML, one per model or per vendor family (see docs/codec-catalogue.md)::

    codecs: [decentlab/dl-mbx-codec]        # catalogue codec ids; shell patterns (decentlab/dl-pr2*) allowed
    family: flood                           # streetlight | water | flood | other
    measurements:
      - {name: distance, path: distance.value, unit: mm}
      - {name: battery, path: battery_voltage.value, unit: V}

``name`` is a measurement of the catalogue (lora_city/codec/measurements.py), ``path`` a dotted path into the
decoded ``data`` (list indexes as numbers), ``unit`` the unit the vendor uses (converted to the catalogue's),
``scale`` a factor applied first, ``true_values`` the vendor values meaning True for a flag, ``channel`` tells
apart several measurements of one name. The shipped files live beside this module; the city's own go in
``<codecs_path>/_catalogue_mappings/*.yaml`` and win over shipped ones for the same codec.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lora_city.codec.catalogue.source import CatalogueMapping, MappingLookup
from lora_city.codec.contract import ContractError, Family, MeasurementMapping
from lora_city.codec.mapping import compile_mappings
from lora_city.errors import ConfigurationError

SHIPPED = Path(__file__).resolve().parent / "mappings"
CITY_FOLDER = "_catalogue_mappings"


class MappingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codecs: list[str] = Field(min_length=1)
    family: Family
    measurements: list[dict[str, Any]] = Field(min_length=1)  # each a MeasurementMapping, checked below
    description: str = ""


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: str
    mapping: CatalogueMapping
    where: str


def read_mapping_file(path: Path) -> tuple[list[str], CatalogueMapping]:
    """Parse and compile one file. Raises ConfigurationError naming the file and the problem."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = MappingFile.model_validate(raw)
        measurements = [MeasurementMapping.from_dict(m, f"measurements.{i}")
                        for i, m in enumerate(parsed.measurements)]
        table = compile_mappings(measurements)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"mapping file {path}: cannot read: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"mapping file {path}: {problems}") from exc
    except ContractError as exc:
        raise ConfigurationError(f"mapping file {path}: {exc}") from exc
    except ValueError as exc:  # a unit that does not convert to the catalogue's
        raise ConfigurationError(f"mapping file {path}: {exc}") from exc
    return parsed.codecs, CatalogueMapping(parsed.family, measurements, table)


def _entries(folder: Path) -> list[_Entry]:
    if not folder.is_dir():
        return []
    entries: list[_Entry] = []
    for path in sorted(folder.glob("*.yaml")):
        patterns, mapping = read_mapping_file(path)
        entries.extend(_Entry(pattern.strip().lower(), mapping, str(path)) for pattern in patterns)
    return entries


def catalogue_mappings(codecs_path: Path | None = None) -> MappingLookup:
    """The lookup the catalogue source uses: the city's files first, then the shipped ones; an exact codec id
    before a pattern. Reads and checks every file now (a bad file is a startup error, not a silent gap)."""
    entries = (_entries(codecs_path / CITY_FOLDER) if codecs_path is not None else []) + _entries(SHIPPED)
    exact: dict[str, CatalogueMapping] = {}
    patterns: list[_Entry] = []
    for entry in entries:
        if any(c in entry.pattern for c in "*?["):
            patterns.append(entry)
        else:
            exact.setdefault(entry.pattern, entry.mapping)

    def lookup(codec_id: str) -> CatalogueMapping | None:
        key = codec_id.lower()
        found = exact.get(key)
        if found is not None:
            return found
        for entry in patterns:
            if fnmatch.fnmatchcase(key, entry.pattern):
                return entry.mapping
        return None

    return lookup
