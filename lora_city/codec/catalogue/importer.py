"""``lora-city codec import-repository PATH``: read a checkout of the LoRaWAN device repository format, check every
codec (its scripts load in QuickJS, its documented examples give the documented output), and store vendors,
models, profiles and codec versions.

Re-import: a codec whose scripts changed gets a new version and the old versions stay (devices and profiles
pinned to ``vendor/codec@N`` keep them); unchanged codecs keep their version and are not re-run unless their
examples changed or ``recheck`` is asked. The report says, per codec: new/updated/unchanged, whether its scripts
loaded, examples passed, and each failed example with the difference.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lora_city.codec.catalogue.examples import check_codec
from lora_city.codec.catalogue.repository import CodecDef, Problem, Repository, read_repository
from lora_city.codec.catalogue.runtime import CatalogueRuntime
from lora_city.codec.js import JsLimits
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import (
    CatalogueCodec,
    CatalogueModel,
    CatalogueProfile,
    CatalogueScript,
    CatalogueVendor,
    Device,
    DeviceProfile,
)


@dataclass(slots=True)
class CodecReport:
    codec_id: str
    version: int
    status: str  # new | updated | unchanged
    loaded: bool
    load_errors: list[str]
    examples: int
    passed: int
    failed: list[dict[str, Any]]
    models: list[str]
    pinned_to_older: int = 0  # devices and profiles that name an older version and keep it


@dataclass(slots=True)
class ImportReport:
    root: str
    vendors: int = 0
    models: int = 0
    profiles: int = 0
    codecs: list[CodecReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for c in self.codecs if c.status == status)

    @property
    def not_loaded(self) -> list[CodecReport]:
        return [c for c in self.codecs if not c.loaded]

    @property
    def failing(self) -> list[CodecReport]:
        return [c for c in self.codecs if c.failed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root, "vendors": self.vendors, "models": self.models, "profiles": self.profiles,
            "codecs": [asdict(c) for c in self.codecs], "problems": [asdict(p) for p in self.problems],
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        examples = sum(c.examples for c in self.codecs)
        passed = sum(c.passed for c in self.codecs)
        return (f"{self.vendors} vendors, {self.models} models, {self.profiles} profiles, {len(self.codecs)} codecs "
                f"({self.count('new')} new, {self.count('updated')} updated, {self.count('unchanged')} unchanged); "
                f"{len(self.not_loaded)} did not load; examples {passed}/{examples} passed "
                f"({len(self.failing)} codecs with failures); {len(self.problems)} problems; {self.seconds:.1f} s")


def _models_by_codec(repo: Repository) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for model in repo.models.values():
        for fw in model.firmware:
            for ref in fw.profiles.values():
                if ref.codec is not None and model.id not in out.setdefault(ref.codec, []):
                    out[ref.codec].append(model.id)
    return out


def _latest(session: Session) -> dict[str, CatalogueCodec]:
    newest = (select(CatalogueCodec.codec_id, func.max(CatalogueCodec.version).label("version"))
              .group_by(CatalogueCodec.codec_id).subquery())
    rows = session.scalars(select(CatalogueCodec).join(
        newest, (CatalogueCodec.codec_id == newest.c.codec_id) & (CatalogueCodec.version == newest.c.version)))
    return {row.codec_id: row for row in rows}


def _check(codec: CodecDef, limits: JsLimits) -> dict[str, Any]:
    runtime = CatalogueRuntime({role: (f"{codec.vendor}/{s.file}", s.source) for role, s in codec.scripts.items()},
                               limits)
    return check_codec(runtime, list(codec.scripts), codec.examples, codec.missing).as_report()


def _pinned_to_older(session: Session, codec_id: str, version: int) -> int:
    older = [f"{codec_id}@{v}" for v in range(1, version)]
    if not older:
        return 0
    devices = session.scalar(select(func.count()).select_from(Device).where(Device.codec_id.in_(older))) or 0
    profiles = session.scalar(select(func.count()).select_from(DeviceProfile)
                              .where(or_(DeviceProfile.codec_id.in_(older)))) or 0
    return int(devices) + int(profiles)


def import_repository(root: Path, factory: SessionFactory, *, limits: JsLimits, now: datetime,
                      recheck: bool = False) -> ImportReport:
    started = time.perf_counter()
    repo = read_repository(root)
    report = ImportReport(str(root), problems=list(repo.problems))
    users = _models_by_codec(repo)
    with factory() as session:
        latest = _latest(session)
        for vendor in repo.vendors.values():
            row = session.get(CatalogueVendor, vendor.id) or CatalogueVendor(id=vendor.id)
            row.name, row.vendor_id, row.website, row.updated_at = vendor.name, vendor.vendor_id, vendor.website, now
            session.add(row)
        session.flush()
        for codec in sorted(repo.codecs.values(), key=lambda c: c.id):
            report.codecs.append(_store_codec(session, codec, latest.get(codec.id), users.get(codec.id, []),
                                              limits, now, recheck))
        for profile in repo.profiles.values():
            prow = session.get(CatalogueProfile, profile.id) or CatalogueProfile(id=profile.id)
            prow.vendor, prow.vendor_profile_id = profile.vendor, profile.vendor_profile_id
            prow.mac_version, prow.regional_parameters_version = profile.mac_version[:8], \
                profile.regional_parameters_version[:32]
            prow.supports_join, prow.supports_class_b = profile.supports_join, profile.supports_class_b
            prow.supports_class_c, prow.max_eirp, prow.details = profile.supports_class_c, profile.max_eirp, \
                profile.details
            prow.updated_at = now
            session.add(prow)
        for model in repo.models.values():
            mrow = session.get(CatalogueModel, model.id) or CatalogueModel(id=model.id)
            vendor_name = repo.vendors[model.vendor].name if model.vendor in repo.vendors else model.vendor
            mrow.vendor, mrow.name, mrow.description = model.vendor, model.name[:200], model.description
            mrow.sensors, mrow.hardware = model.sensors, model.hardware
            mrow.firmware = [
                {"version": fw.version, "numeric": fw.numeric, "hardware_versions": fw.hardware_versions,
                 "profiles": {region: {"profile": ref.profile, "codec": ref.codec,
                                       "lorawan_certified": ref.lorawan_certified}
                              for region, ref in fw.profiles.items()}}
                for fw in model.firmware
            ]
            mrow.product_url, mrow.datasheet_url = model.product_url, model.datasheet_url
            mrow.search_text = " ".join([model.id, vendor_name, model.name, model.description,
                                         *model.sensors]).lower()
            mrow.updated_at = now
            session.add(mrow)
        session.commit()
    report.vendors, report.models, report.profiles = len(repo.vendors), len(repo.models), len(repo.profiles)
    report.seconds = time.perf_counter() - started
    return report


def _store_codec(session: Session, codec: CodecDef, latest: CatalogueCodec | None, models: list[str],
                 limits: JsLimits, now: datetime, recheck: bool) -> CodecReport:
    content = codec.content_hash
    scripts = {role: {"file": s.file, "sha256": s.sha256} for role, s in codec.scripts.items()}
    if latest is not None and latest.content_hash == content:
        status, row = "unchanged", latest
        if recheck or latest.examples != codec.examples or not latest.report:
            row.report = _check(codec, limits)
        row.examples, row.scripts = codec.examples, scripts  # the documentation may have changed alone
    else:
        status = "new" if latest is None else "updated"
        for script in codec.scripts.values():
            if session.get(CatalogueScript, script.sha256) is None:
                session.add(CatalogueScript(sha256=script.sha256, source=script.source))
        row = CatalogueCodec(codec_id=codec.id, version=(latest.version + 1) if latest else 1, vendor=codec.vendor,
                             content_hash=content, scripts=scripts, examples=codec.examples,
                             report=_check(codec, limits), created_at=now)
        session.add(row)
    row.loaded = bool(row.report.get("loaded", False))
    session.flush()
    report = row.report
    return CodecReport(
        codec.id, row.version, status, bool(report.get("loaded")), list(report.get("load_errors", [])),
        int(report.get("examples", 0)), int(report.get("passed", 0)), list(report.get("failed", [])), models,
        _pinned_to_older(session, codec.id, row.version) if status == "updated" else 0,
    )
