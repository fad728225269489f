"""A device's (or a gateway's) live frames and events, as ChirpStack's "LoRaWAN frames" and "events" tabs show
them: uplinks with each gateway's RSSI/SNR and link margin, DR, frequency, FCnt, the MAC commands and the
codec's result; downlinks (class A answers, class C items, join-accepts) with their radio settings, FPort and
MAC commands once the gateway confirmed them; joins, acknowledgements, DevStatusAns and log events.

The source is what the readings store sink commits (``readings``, ``events``), read by id: every process
serving the API sees every uplink, whichever cluster member handled it. A page polls ``device_log`` with the
cursor of its last entry (the SSE stream does, every second).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.services import link_quality
from lora_city.services.common import as_utc
from lora_city.services.devices import find_device
from lora_city.services.gateways import get_gateway
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Event, Gateway, Reading

BACKFILL = 20  # entries shown at once when the stream opens
SCAN = 500  # readings read per poll of a gateway's log (filtered in Python: rx is JSON)


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last reading and event given: the next poll starts after them."""

    reading_id: int = 0
    event_id: int = 0

    def text(self) -> str:
        return f"{self.reading_id}-{self.event_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            r, e = text.split("-")
            return cls(int(r), int(e))
        except ValueError:
            raise InvalidInput("not a cursor this stream gave out", code="invalid_cursor") from None


@dataclass(frozen=True, slots=True)
class GatewaySeen:
    gateway_id: str
    name: str | None
    rssi: float | None
    snr: float | None
    margin: float | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the live log. ``kind``: up, down, join, ack, status, log."""

    kind: str
    time: datetime
    dev_eui: str | None
    key: str  # unique in the log ("r<id>" or "e<id>"), for the page to skip duplicates
    f_cnt: int | None = None
    f_port: int | None = None
    dr: int | None = None
    frequency: int | None = None
    spreading_factor: int | None = None
    bandwidth: int | None = None
    gateways: list[GatewaySeen] = field(default_factory=list)
    mac_commands: list[dict[str, Any]] = field(default_factory=list)
    payload_hex: str | None = None
    decoded: dict[str, Any] | None = None  # the codec's object
    measurements: dict[str, Any] = field(default_factory=dict)
    codec_errors: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # kind-specific (ack, status, log, downlink)

    @property
    def best(self) -> GatewaySeen | None:
        """The gateway that heard it best (highest SNR)."""
        heard = [g for g in self.gateways if g.snr is not None]
        return max(heard, key=lambda g: g.snr or 0.0) if heard else None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["time"] = self.time.isoformat()
        return out


def _up(r: Reading, names: dict[str, str]) -> Entry:
    tx = r.tx if isinstance(r.tx, dict) else {}
    heard = link_quality.heard_by(r.rx, tx)
    return Entry(
        kind="up", time=as_utc(r.time), dev_eui=r.dev_eui, key=f"r{r.id}", f_cnt=r.f_cnt,  # type: ignore[arg-type]
        f_port=r.f_port, dr=tx.get("dr"), frequency=tx.get("frequency"), spreading_factor=tx.get("spreading_factor"),
        bandwidth=tx.get("bandwidth"),
        gateways=[GatewaySeen(h.gateway_id, names.get(h.gateway_id), h.rssi, h.snr, h.margin) for h in heard],
        mac_commands=list(tx.get("mac_commands") or []), payload_hex=r.payload.hex() if r.payload else None,
        decoded=r.data, measurements=dict(r.measurements or {}), codec_errors=list(tx.get("codec_errors") or []),
        details={k: tx[k] for k in ("adr", "confirmed", "copies", "airtime_ms") if k in tx},
    )


def _event(e: Event, names: dict[str, str]) -> Entry:
    body = e.body if isinstance(e.body, dict) else {}
    kind = {"txack": "down"}.get(e.kind, e.kind)
    base: dict[str, Any] = {"kind": kind, "time": as_utc(e.time), "dev_eui": e.dev_eui, "key": f"e{e.id}"}
    if e.kind == "txack":
        raw = body.get("frame")
        frame: dict[str, Any] = raw if isinstance(raw, dict) else {}
        gw = str(body.get("gatewayId") or e.gateway_id or "")
        return Entry(**base, f_cnt=body.get("fCntDown"), f_port=frame.get("f_port"),
                     frequency=frame.get("frequency"), spreading_factor=frame.get("spreading_factor"),
                     bandwidth=frame.get("bandwidth"),
                     gateways=[GatewaySeen(gw, names.get(gw), None, None, None)] if gw else [],
                     mac_commands=list(frame.get("mac_commands") or []),
                     details={"downlink": frame.get("kind"), "ack": frame.get("ack"),
                              "confirmed": frame.get("confirmed"), "payload_size": frame.get("payload_size"),
                              "status": body.get("status", "OK"), "queue_item_id": body.get("queueItemId")})
    if e.kind == "join":
        gws = [GatewaySeen(str(rx.get("gatewayId", "")), names.get(str(rx.get("gatewayId", ""))),
                           rx.get("rssi"), rx.get("snr"), None)
               for rx in body.get("rxInfo", []) if isinstance(rx, dict)]
        return Entry(**base, gateways=gws, details={"dev_addr": body.get("devAddr")})
    if e.kind == "ack":
        return Entry(**base, f_cnt=body.get("fCntDown"), details={"acknowledged": body.get("acknowledged")})
    if e.kind == "status":
        return Entry(**base, details={"margin": body.get("margin"), "external_power": body.get("externalPowerSource"),
                                      "battery_level": None if body.get("batteryLevelUnavailable")
                                      else body.get("batteryLevel")})
    if e.kind == "log":
        return Entry(**base, details={"level": body.get("level"), "code": body.get("context", {}).get("code")
                                      or body.get("code"), "description": body.get("description")})
    return Entry(**base, details=body)


def _names(session: Session, entries: list[Reading], events: list[Event]) -> dict[str, str]:
    ids = {str(rx.get("gateway_id")) for r in entries for rx in (r.rx or []) if isinstance(rx, dict)}
    ids |= {e.gateway_id for e in events if e.gateway_id}
    if not ids:
        return {}
    return {gid: name for gid, name in session.execute(
        select(Gateway.gateway_id, Gateway.name).where(Gateway.gateway_id.in_(ids)))}


def _merge(readings: list[Reading], events: list[Event], names: dict[str, str]) -> list[Entry]:
    entries = [_up(r, names) for r in readings] + [_event(e, names) for e in events]
    return sorted(entries, key=lambda x: (x.time, x.key))


def start_cursor(session: Session) -> Cursor:
    """Where a stream that shows nothing old starts: after the newest rows now."""
    return Cursor(session.scalar(select(func.max(Reading.id))) or 0, session.scalar(select(func.max(Event.id))) or 0)


def device_log(
    session: Session, principal: Principal, dev_eui: str, after: Cursor | None, *, limit: int = BACKFILL,
) -> tuple[list[Entry], Cursor]:
    """Entries after ``after`` (oldest first), or the latest ``limit`` when ``after`` is None; and the new cursor."""
    principal.require(Perm.READINGS_READ)
    device = find_device(session, principal, dev_eui)
    eui = device.dev_eui
    r_stmt = select(Reading).where(Reading.dev_eui == eui)
    e_stmt = select(Event).where(Event.dev_eui == eui, Event.kind != "up")
    if after is None:
        readings = list(session.scalars(r_stmt.order_by(Reading.id.desc()).limit(limit)))
        events = list(session.scalars(e_stmt.order_by(Event.id.desc()).limit(limit)))
        # the ids of the newest rows of the whole tables, not just this device's: the next poll starts there
        cursor = start_cursor(session)
    else:
        readings = list(session.scalars(r_stmt.where(Reading.id > after.reading_id).order_by(Reading.id).limit(limit)))
        events = list(session.scalars(e_stmt.where(Event.id > after.event_id).order_by(Event.id).limit(limit)))
        cursor = Cursor(max([after.reading_id, *(r.id for r in readings)]),
                        max([after.event_id, *(e.id for e in events)]))
        if len(readings) == limit or len(events) == limit:  # more waiting: the next poll continues from here
            cursor = Cursor(readings[-1].id if len(readings) == limit else cursor.reading_id,
                            events[-1].id if len(events) == limit else cursor.event_id)
    entries = _merge(readings, events, _names(session, readings, events))
    return entries[-limit:] if after is None else entries, cursor


def gateway_log(
    session: Session, principal: Principal, gateway_id: str, after: Cursor | None, *, limit: int = BACKFILL,
) -> tuple[list[Entry], Cursor]:
    """What one gateway heard and sent: the uplinks it received (with the devices the principal sees) and the
    downlinks and joins it carried."""
    gateway = get_gateway(session, principal, gateway_id)
    principal.require(Perm.READINGS_READ)
    gid = gateway.gateway_id
    r_stmt = select(Reading)
    e_stmt = select(Event).where(Event.gateway_id == gid)
    if (only := principal.tenant_filter()) is not None:
        r_stmt = r_stmt.where(Reading.tenant_id == only)
        e_stmt = e_stmt.where(Event.tenant_id == only)
    if after is None:
        scanned = list(session.scalars(r_stmt.order_by(Reading.id.desc()).limit(SCAN)))
        events = list(session.scalars(e_stmt.order_by(Event.id.desc()).limit(limit)))
        cursor = start_cursor(session)
    else:
        scanned = list(session.scalars(r_stmt.where(Reading.id > after.reading_id).order_by(Reading.id).limit(SCAN)))
        events = list(session.scalars(e_stmt.where(Event.id > after.event_id).order_by(Event.id).limit(limit)))
        cursor = Cursor(scanned[-1].id if scanned else after.reading_id,
                        max([after.event_id, *(e.id for e in events)]))
    readings = [r for r in scanned if any(isinstance(rx, dict) and rx.get("gateway_id") == gid for rx in r.rx or [])]
    entries = _merge(readings, events, _names(session, readings, events))
    return (entries[-limit:] if after is None else entries), cursor
