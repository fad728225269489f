"""The measurement catalogue as people pick from it (alert rule forms, API clients): each canonical name with
its unit, whether it is a number or a flag, what it means, and which device families' codecs write it (from the
loaded codec manifests), so a rule is written on a name some device really sends."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from lora_city.codec.loader import CodecInfo
from lora_city.codec.measurements import CATALOGUE


class MeasurementOut(BaseModel):
    name: str
    unit: str | None
    kind: str  # number | flag
    description: str
    families: list[str]  # device families with a codec that writes it
    codecs: int  # how many loaded codecs write it


def catalogue(codecs: Iterable[CodecInfo]) -> list[MeasurementOut]:
    families: dict[str, set[str]] = {name: set() for name in CATALOGUE}
    writers: dict[str, set[str]] = {name: set() for name in CATALOGUE}
    for info in codecs:
        for mapping in info.manifest.measurements:
            families[mapping.name].add(info.manifest.family.value)
            writers[mapping.name].add(info.manifest.id)
    return [MeasurementOut(name=q.name, unit=q.unit, kind=q.kind.value, description=q.description,
                           families=sorted(families[q.name]), codecs=len(writers[q.name]))
            for q in sorted(CATALOGUE.values(), key=lambda q: q.name)]
