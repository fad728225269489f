"""The installer's live view of one device: joined or not, the last uplinks as each gateway heard them, one
summary per gateway, and a go / no-go verdict on the latest uplinks with its reasons.

The verdict looks at the latest ``VERDICT_UPLINKS`` uplinks only: for each, the margin of the best gateway that
heard it; the verdict takes the worst of those. A good first frame followed by a bad one (lid closed, antenna
bent) is a no-go, which the best margin ever seen would hide.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.services import link_quality
from lora_city.services.common import as_utc, db_time
from lora_city.services.devices import find_device, get_device
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Event, Gateway, Reading

STATUS_UPLINKS = 10  # the installer looks at the last few uplinks, not the history
VERDICT_UPLINKS = 3  # the verdict: the latest few, so one lucky or unlucky frame alone does not decide
JOIN_WINDOW = timedelta(hours=24)
FIRST_SCAN = 1000


class GatewayLink(BaseModel):
    gateway_id: str
    rssi: float | None
    snr: float | None
    spreading_factor: int | None
    link_margin: float | None


class UplinkSeen(BaseModel):
    time: datetime
    f_cnt: int
    decoded: bool
    gateways: list[GatewayLink]


class GatewaySummary(BaseModel):
    """One row per gateway: its latest reception of the device, and its worst over the last uplinks."""

    gateway_id: str
    name: str | None = Field(description="The registered gateway's name (None: not registered)")
    heard: int = Field(description="How many of the last uplinks it heard")
    heard_latest: bool = Field(description="It heard the device's latest uplink")
    last_time: datetime
    rssi: float | None
    snr: float | None
    spreading_factor: int | None
    link_margin: float | None = Field(description="Margin of its latest reception, dB")
    worst_margin: float | None = Field(description="Worst margin over the last uplinks it heard, dB")


class ReasonOut(BaseModel):
    code: str
    message: str
    blocking: bool
    values: dict[str, float | int | str] = Field(default_factory=dict, description="Figures the message quotes")


class LiveStatus(BaseModel):
    dev_eui: str
    name: str
    joined: bool
    dev_addr: str | None
    last_seen_at: datetime | None
    join_events: int = Field(description="Joins in the last 24 h (event log, kind=join)")
    last_join_at: datetime | None
    recent_log: list[dict[str, Any]] = Field(description="Latest log events (rejected joins, MIC errors …)")
    first_uplink_at: datetime | None
    first_decoded_at: datetime | None
    uplinks: list[UplinkSeen] = Field(description="The last uplinks, newest first, with every gateway's copy")
    gateways: list[GatewaySummary] = Field(description="One row per gateway over the last uplinks, best first")
    best_margin: float | None = Field(description="Median over the last uplinks of each one's best margin")
    latest_margin: float | None = Field(description="Best gateway's margin on the latest uplink, dB")
    verdict_margin: float | None = Field(
        description=f"What the verdict judges: the worst of the best margins of the latest {VERDICT_UPLINKS} uplinks")
    verdict: str = Field(description="go or no_go")
    reasons: list[ReasonOut]
    battery_level: float | None = Field(description="Battery from the device's last DevStatusAns, %")
    margin: int | None = Field(description="The device's own demodulation margin from DevStatusAns, dB")


def _best(u: UplinkSeen) -> float | None:
    return max((g.link_margin for g in u.gateways if g.link_margin is not None), default=None)


def gateway_rows(uplinks: list[UplinkSeen], names: dict[str, str]) -> list[GatewaySummary]:
    """``uplinks`` newest first. A gateway's figures are those of the newest uplink it heard."""
    rows: dict[str, GatewaySummary] = {}
    for u in uplinks:
        for g in u.gateways:
            row = rows.get(g.gateway_id)
            if row is None:
                rows[g.gateway_id] = GatewaySummary(
                    gateway_id=g.gateway_id, name=names.get(g.gateway_id), heard=1,
                    heard_latest=u is uplinks[0], last_time=u.time, rssi=g.rssi,
                    snr=g.snr, spreading_factor=g.spreading_factor, link_margin=g.link_margin,
                    worst_margin=g.link_margin)
                continue
            row.heard += 1
            if g.link_margin is not None and (row.worst_margin is None or g.link_margin < row.worst_margin):
                row.worst_margin = g.link_margin
    # The gateways that heard the latest uplink first, then by their latest margin.
    return sorted(rows.values(), key=lambda r: (not r.heard_latest, -(r.link_margin if r.link_margin is not None
                                                                      else -999.0)))


def live_status(session: Session, principal: Principal, dev_eui: str, *, now: datetime) -> LiveStatus:
    principal.require(Perm.ONBOARDING)
    view = get_device(session, principal, dev_eui) if principal.can(Perm.DEVICES_READ) else None
    device = view.device if view else find_device(session, principal, dev_eui)
    eui = device.dev_eui
    since = db_time(session, now - JOIN_WINDOW)
    join_events = session.scalar(select(func.count()).select_from(Event).where(
        Event.dev_eui == eui, Event.kind == "join", Event.time >= since)) or 0
    last_join = session.scalar(select(func.max(Event.time)).where(Event.dev_eui == eui, Event.kind == "join"))
    logs = session.scalars(select(Event).where(Event.dev_eui == eui, Event.kind == "log")
                           .order_by(Event.time.desc(), Event.id.desc()).limit(5))
    first_up = session.scalar(select(func.min(Reading.time)).where(Reading.dev_eui == eui))
    # A JSON column stores Python None as JSON null, not SQL NULL, and PostgreSQL's json has no equality: look
    # at the device's first uplinks in Python (an installer's device has a handful).
    first_decoded = next((t for t, data in session.execute(
        select(Reading.time, Reading.data).where(Reading.dev_eui == eui).order_by(Reading.time).limit(FIRST_SCAN)
    ) if data is not None), None)
    recent = list(session.scalars(select(Reading).where(Reading.dev_eui == eui)
                                  .order_by(Reading.time.desc(), Reading.id.desc()).limit(STATUS_UPLINKS)))
    uplinks = []
    for r in recent:
        heard = link_quality.heard_by(r.rx, r.tx)
        uplinks.append(UplinkSeen(time=as_utc(r.time), f_cnt=r.f_cnt, decoded=r.data is not None,  # type: ignore[arg-type]
                                  gateways=[GatewayLink(gateway_id=h.gateway_id, rssi=h.rssi, snr=h.snr,
                                                        spreading_factor=h.spreading_factor, link_margin=h.margin)
                                            for h in heard]))
    ids = {g.gateway_id for u in uplinks for g in u.gateways}
    names = {gid: name for gid, name in session.execute(
        select(Gateway.gateway_id, Gateway.name).where(Gateway.gateway_id.in_(ids)))} if ids else {}
    per_uplink = [_best(u) for u in uplinks]
    known = sorted(m for m in per_uplink if m is not None)
    latest_known = [m for m in per_uplink[:VERDICT_UPLINKS] if m is not None]
    verdict_margin = min(latest_known) if latest_known else None
    joined = view.joined if view else device.dev_addr is not None
    codec = view.codec if view else device.codec_id
    latest = uplinks[0] if uplinks else None
    last_sf = next((g.spreading_factor for g in latest.gateways), None) if latest else None
    reasons = link_quality.verdict(
        disabled=device.is_disabled, joined=joined, uplinks=len(uplinks), decoded=bool(latest and latest.decoded),
        has_codec=codec is not None, margin=verdict_margin,
        gateways=len({g.gateway_id for u in uplinks[:VERDICT_UPLINKS] for g in u.gateways}),
        spreading_factor=last_sf,
    )
    return LiveStatus(
        dev_eui=eui, name=device.name, joined=joined, dev_addr=device.dev_addr,
        last_seen_at=as_utc(device.last_seen_at), join_events=join_events, last_join_at=as_utc(last_join),
        recent_log=[{"time": as_utc(e.time).isoformat(), **_log_fields(e.body)} for e in logs],  # type: ignore[union-attr]
        first_uplink_at=as_utc(first_up), first_decoded_at=as_utc(first_decoded), uplinks=uplinks,
        gateways=gateway_rows(uplinks, names), best_margin=known[len(known) // 2] if known else None,
        latest_margin=per_uplink[0] if per_uplink else None, verdict_margin=verdict_margin,
        verdict="no_go" if any(r.blocking for r in reasons) else "go",
        reasons=[ReasonOut(code=r.code, message=r.message, blocking=r.blocking, values=r.values) for r in reasons],
        battery_level=device.battery_level, margin=device.margin,
    )


def _log_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("level", "code", "description") if k in body}
