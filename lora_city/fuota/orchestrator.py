"""Runs the firmware-update campaigns: a stateful orchestrator whose every decision is a database row, so a
restarted server picks each campaign and each device up where it was.

    tick (every ``tick_s``) ─► running campaigns ─► phase transitions ─► (re)send the requests that are due
    AppLayerService listener ─► a device's answer ─► its step advances ─► the next request goes out at once

Campaign phases (``FuotaCampaign.step``):
    setup      every device through package version, clock sync, multicast group setup, fragmentation session
    session    one session start time for all; McClassC/BSessionReq to each device
    fragments  at the start time, every fragment and its parity into the campaign's multicast group queue (sent by
               lora_city/downlink/multicast.py through the fewest gateways, each gateway's duty cycle respected)
    status     FragSessionStatusReq to each device: complete with the right MIC, or why not
    done       every device ok or failed; the campaign's own multicast group is deleted

Unicast requests go through each device's queue (lora_city/applayer), so a class A device gets them at its next
uplink and a class C device at once. A device that does not answer a step within the campaign's timeout is asked
again, and fails after ``max_attempts``; it never holds the others back. All work runs in a worker thread under
one lock per campaign (answers and ticks never interleave on a campaign).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, object_session

from lora_city.applayer.profile import PackagePort, parse_app_layer
from lora_city.applayer.service import AppLayerService
from lora_city.fuota import plan, steps
from lora_city.fuota.steps import CampaignParams, DeviceParams
from lora_city.lorawan.applayer import clock_sync, fragmentation, multicast_setup
from lora_city.lorawan.applayer.commands import AppCommand
from lora_city.lorawan.gps_time import from_gps_seconds, gps_seconds
from lora_city.lorawan.region import Region
from lora_city.services import multicast as groups
from lora_city.services.principal import Principal, Role
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import (
    Device,
    DeviceKeys,
    DeviceProfile,
    DeviceQueueItem,
    FuotaCampaign,
    FuotaCampaignDevice,
    MulticastGroup,
    MulticastGroupDevice,
    MulticastQueueItem,
)
from lora_city.storage.multicast import group_key_context

log = logging.getLogger(__name__)

ACTIVE = ("running", "paused")
QUEUE_PATIENCE = 10  # timeouts a request may wait in the device's queue before it counts as unanswered
TERMINAL_DEVICE = ("ok", "failed")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


@dataclass
class OrchestratorHooks:
    """What the orchestrator needs from the running server (thread-safe callables)."""

    group_notifier: Callable[[str], None] | None = None


class FuotaOrchestrator:
    def __init__(self, factory: SessionFactory, vault: KeyVault, app_layer: AppLayerService, region: Region, *,
                 net_id: str = "000000", tick_s: float = 1.0, session_lead_s: float = 60.0,
                 clock: Callable[[], datetime] = _utcnow, hooks: OrchestratorHooks | None = None) -> None:
        self._factory = factory
        self._vault = vault
        self._app_layer = app_layer
        self._region = region
        self._net_id = net_id
        self._tick_s = tick_s
        self._session_lead = timedelta(seconds=session_lead_s)
        self._clock = clock
        self.hooks = hooks or OrchestratorHooks()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        app_layer.listeners.append(self.on_answer)

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fuota")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Run a pass now (a campaign was started, paused or cancelled through the API); on the loop."""
        self._wake.set()

    def wake_notifier(self) -> Callable[[], None]:
        """``wake`` for the API's worker threads (call on the running loop)."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        return wake

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:
                log.exception("FUOTA pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick_s)

    def _lock(self, campaign_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(campaign_id, threading.Lock())

    # --- the pass ----------------------------------------------------------------------------------------

    def tick(self) -> None:
        with self._factory() as db:
            running = list(db.scalars(select(FuotaCampaign.id).where(FuotaCampaign.state == "running")))
        for campaign_id in running:
            try:
                self.advance(campaign_id)
            except Exception:  # one campaign's failure does not stop the others
                log.exception("FUOTA campaign failed a pass: campaign_id=%s", campaign_id)

    def advance(self, campaign_id: str) -> None:
        with self._lock(campaign_id):
            self._ensure_group(campaign_id)
            after: list[Callable[[], None]] = []
            with transaction(self._factory) as db:
                self._advance(db, campaign_id, after)
            self._run_after(after)

    @staticmethod
    def _run_after(after: list[Callable[[], None]]) -> None:
        """Notifications, once the transaction that queued the downlinks committed (the sender reads them)."""
        for call in after:
            try:
                call()
            except Exception:  # the items stay queued; the server's fallback passes send them
                log.exception("FUOTA notification failed")

    def _advance(self, db: Session, campaign_id: str, after: list[Callable[[], None]]) -> None:
        campaign = db.get(FuotaCampaign, campaign_id)
        if campaign is None or campaign.state != "running":
            return
        now = self._clock()
        rows = list(db.scalars(select(FuotaCampaignDevice).where(FuotaCampaignDevice.campaign_id == campaign_id)))
        self._phase(db, campaign, rows, now, after)
        if campaign.state == "running":
            params = self._params(db, campaign)
            for row in rows:
                if row.status == "pending":
                    self._send_due(db, campaign, params, row, now, after)
        campaign.updated_at = now

    def _phase(self, db: Session, campaign: FuotaCampaign, rows: list[FuotaCampaignDevice], now: datetime,
               after: list[Callable[[], None]]) -> None:
        live = [r for r in rows if r.status == "pending"]
        if not live:
            self._finish(db, campaign, rows, now)
            return
        if campaign.step in ("created", "setup"):
            campaign.step = "setup"
            if all(r.step == "mc_session_start" for r in live):
                campaign.session_start_at = now + self._session_lead
                if campaign.group_class == "B":
                    # a class B session starts at a beacon period's start (TS005 McClassBSessionReq SessionTime)
                    campaign.session_start_at = from_gps_seconds(
                        plan.class_b_start_gps(gps_seconds(campaign.session_start_at)))
                campaign.step = "session"
                campaign.detail = f"session starts at {campaign.session_start_at.isoformat()}"
        if campaign.step == "session":
            start = _aware(campaign.session_start_at)
            assert start is not None
            if now >= start:
                for r in live:
                    if r.step == "mc_session_start":
                        self._fail(r, "no answer to the session start before the session began", now, "session_missed")
                if any(r.status == "pending" for r in rows):
                    self._enqueue_fragments(db, campaign, now, after)
                    campaign.step = "fragments"
        if campaign.step == "fragments":
            waiting = db.scalar(select(func.count()).select_from(MulticastQueueItem).where(
                MulticastQueueItem.group_id == campaign.multicast_group_id,
                MulticastQueueItem.state.in_(("queued", "sending")))) or 0
            start = _aware(campaign.session_start_at) or now
            ended = now >= start + timedelta(seconds=self._session_length_s(campaign))
            # A class B fragment is handed to its gateway ahead of its ping slot and goes on the air at that GPS
            # time (its ``sent_at``): the status requests wait until the last one has been transmitted, or the
            # devices would be asked before they could have heard everything.
            last_on_air = _aware(db.scalar(select(func.max(MulticastQueueItem.sent_at)).where(
                MulticastQueueItem.group_id == campaign.multicast_group_id, MulticastQueueItem.state == "sent")))
            on_air = last_on_air is None or now >= last_on_air
            if (waiting == 0 and on_air) or ended:
                campaign.fragments_sent = db.scalar(select(func.count()).select_from(MulticastQueueItem).where(
                    MulticastQueueItem.group_id == campaign.multicast_group_id,
                    MulticastQueueItem.state == "sent")) or 0
                campaign.step = "status"
                for r in rows:
                    if r.status == "pending" and r.step == "fragments":
                        self._move(r, "frag_status", now)
        if campaign.step != "done" and all(r.status in TERMINAL_DEVICE for r in rows):
            self._finish(db, campaign, rows, now)

    def _finish(self, db: Session, campaign: FuotaCampaign, rows: list[FuotaCampaignDevice], now: datetime) -> None:
        ok = sum(1 for r in rows if r.status == "ok")
        campaign.state = "done" if ok else "failed"
        campaign.step = "done"
        campaign.finished_at = now
        campaign.detail = f"{ok} of {len(rows)} devices updated"
        self._drop_group(db, campaign)
        log.info("FUOTA campaign finished: campaign_id=%s %s", campaign.id, campaign.detail)

    def _drop_group(self, db: Session, campaign: FuotaCampaign) -> None:
        if campaign.owns_group and campaign.multicast_group_id is not None:
            db.execute(delete(MulticastGroup).where(MulticastGroup.id == campaign.multicast_group_id))

    # --- devices -----------------------------------------------------------------------------------------

    def _send_due(self, db: Session, campaign: FuotaCampaign, params: CampaignParams, row: FuotaCampaignDevice,
                  now: datetime, after: list[Callable[[], None]]) -> None:
        if row.step in ("fragments", "done") or (row.step == "mc_session_start" and campaign.step != "session"):
            return
        if row.step == "frag_status" and campaign.step != "status":
            return
        last = _aware(row.last_sent_at)
        if last is not None and now - last < timedelta(seconds=campaign.unicast_timeout_s):
            return
        waited = now - last if last is not None else timedelta(0)
        if last is not None and waited < timedelta(seconds=campaign.unicast_timeout_s * QUEUE_PATIENCE) \
                and self._still_queued(db, row.dev_eui):
            # Not yet on the air (a class A device that has not spoken, a busy gateway): the answer's clock starts
            # when the request leaves, so no resend and no attempt counted while it waits in the queue.
            return
        if row.attempts >= campaign.max_attempts:
            self._fail(row, f"no answer to {row.step} after {row.attempts} attempts", now, "no_answer",
                       step=row.step, attempts=row.attempts)
            return
        device = self._device(db, row)
        if device is None:
            self._fail(row, "the device, its keys or its profile are gone", now, "gone")
            return
        for package, commands in steps.requests(row.step, params, device):
            entry = self._entry(db, row.dev_eui, package, device)
            if entry is None:
                self._fail(row, f"the device's profile no longer runs {package}", now, "package_dropped", package=package)
                return
            db.add(self._app_layer.queue_item(row.dev_eui, entry, commands))
        eui = row.dev_eui  # the row expires when the transaction commits, before the notification runs
        after.append(lambda: self._app_layer.notify(eui))
        row.attempts += 1
        row.last_sent_at = now

    @staticmethod
    def _still_queued(db: Session, dev_eui: str) -> bool:
        ports = (clock_sync.PORT, multicast_setup.PORT, fragmentation.PORT)
        return db.scalar(select(DeviceQueueItem.id).where(
            DeviceQueueItem.dev_eui == dev_eui, DeviceQueueItem.f_port.in_(ports)).limit(1)) is not None

    def _move(self, row: FuotaCampaignDevice, step: str, now: datetime) -> None:
        row.step = step
        row.attempts = 0
        row.last_sent_at = None
        if step == "done":
            row.status = "ok"
            row.completed_at = now

    @staticmethod
    def _fail(row: FuotaCampaignDevice, reason: str, now: datetime, code: str = "", **params: Any) -> None:
        db = object_session(row)
        if db is not None:  # what the campaign still had queued for the device is of no use any more
            ports = (clock_sync.PORT, multicast_setup.PORT, fragmentation.PORT)
            db.execute(delete(DeviceQueueItem).where(DeviceQueueItem.dev_eui == row.dev_eui,
                                                     DeviceQueueItem.f_port.in_(ports)))
        row.status = "failed"
        row.error = reason[:300]
        # the code and its values: pages show the failure in their own language (fuota.fail.<code>)
        row.answers = {**copy.deepcopy(row.answers or {}), "error_code": code, "error_params": params}
        row.completed_at = now
        log.warning("FUOTA device failed: campaign_id=%s dev_eui=%s %s", row.campaign_id, row.dev_eui, reason)

    # --- answers -----------------------------------------------------------------------------------------

    async def on_answer(self, dev_eui: str, entry: PackagePort, cmd: AppCommand, received_at: datetime) -> None:
        if entry.name == "clock_sync" and cmd.name != "AppTimeReq" and cmd.name != "PackageVersionAns":
            return
        await asyncio.to_thread(self._on_answer, dev_eui, entry, cmd)

    def _on_answer(self, dev_eui: str, entry: PackagePort, cmd: AppCommand) -> None:
        with self._factory() as db:
            campaign_id = db.scalar(
                select(FuotaCampaign.id).join(FuotaCampaignDevice, FuotaCampaignDevice.campaign_id == FuotaCampaign.id)
                .where(FuotaCampaignDevice.dev_eui == dev_eui, FuotaCampaign.state.in_(ACTIVE)).limit(1))
        if campaign_id is None:
            return
        after: list[Callable[[], None]] = []
        with self._lock(campaign_id):
            with transaction(self._factory) as db:
                self._answer(db, campaign_id, dev_eui, entry, cmd, after)
            self._run_after(after)

    def _answer(self, db: Session, campaign_id: str, dev_eui: str, entry: PackagePort, cmd: AppCommand,
                after: list[Callable[[], None]]) -> None:
        campaign = db.get(FuotaCampaign, campaign_id)
        row = db.get(FuotaCampaignDevice, (campaign_id, dev_eui))
        if campaign is None or row is None or row.status != "pending":
            return
        device = self._device(db, row)
        if device is None:
            return
        params = self._params(db, campaign)
        verdict = steps.accept(row.step, entry.name, cmd, params, device)
        row.answers = device.answers
        now = self._clock()
        if verdict.outcome == "fail":
            self._fail(row, verdict.reason, now, verdict.code, **verdict.params)
        elif verdict.outcome == "next":
            following = "done" if row.step in ("fragments", "frag_status") else steps.next_step(row.step, device)
            self._move(row, following, now)
            if campaign.state == "running":
                self._phase(db, campaign, list(db.scalars(select(FuotaCampaignDevice).where(
                    FuotaCampaignDevice.campaign_id == campaign_id))), now, after)
                if campaign.state == "running" and row.status == "pending":
                    self._send_due(db, campaign, self._params(db, campaign), row, now, after)

    # --- building blocks -----------------------------------------------------------------------------------

    @staticmethod
    def _session_length_s(campaign: FuotaCampaign) -> int:
        """The multicast session's length: 2^TimeOut s in class C, 2^TimeOut beacon periods in class B (TS005)."""
        return plan.session_length_s(campaign.session_timeout_exp, campaign.group_class)

    def _params(self, db: Session, campaign: FuotaCampaign) -> CampaignParams:
        group = db.get(MulticastGroup, campaign.multicast_group_id) if campaign.multicast_group_id else None
        mc_key = (self._vault.decrypt(group.mc_key_enc, context=group_key_context(group.id))
                  if group is not None and group.mc_key_enc is not None else bytes(16))  # (refused at creation)
        layout = plan.plan(self._region, campaign.image_size, campaign.frag_size, campaign.redundancy_pct,
                           campaign.dr, campaign.frequency)
        start = _aware(campaign.session_start_at)
        return CampaignParams(
            mc_group_index=campaign.mc_group_index, mc_addr=group.mc_addr if group is not None else "00000000",
            mc_key=mc_key, frag_index=campaign.frag_index, nb_frag=layout.nb_frag, frag_size=campaign.frag_size,
            padding=layout.padding, descriptor=bytes.fromhex(campaign.descriptor), session_cnt=campaign.session_cnt,
            image=bytes(campaign.image), group_class=campaign.group_class, dr=campaign.dr,
            frequency=campaign.frequency, ping_slot_periodicity=campaign.ping_slot_periodicity,
            timeout_exp=campaign.session_timeout_exp,
            session_time_gps=int(gps_seconds(start)) if start is not None else 0,
        )

    def _device(self, db: Session, row: FuotaCampaignDevice) -> DeviceParams | None:
        found = db.execute(select(Device, DeviceProfile, DeviceKeys)
                           .join(DeviceProfile, DeviceProfile.id == Device.device_profile_id)
                           .join(DeviceKeys, DeviceKeys.dev_eui == Device.dev_eui)
                           .where(Device.dev_eui == row.dev_eui)).first()
        if found is None:
            return None
        device, profile, keys = found
        lorawan_11 = profile.mac_version.startswith("1.1")
        blob = keys.app_key_enc if lorawan_11 else keys.gen_app_key_enc
        if blob is None:
            return None
        root = self._vault.decrypt(blob, context=device.dev_eui.encode())
        versions = {e.name: e.version for e in parse_app_layer(profile.app_layer)}
        # A deep copy: the row's JSON value must stay as loaded, or the changed answers compare equal and are
        # never written.
        return DeviceParams(root, lorawan_11, versions, copy.deepcopy(row.answers or {}))

    def _entry(self, db: Session, dev_eui: str, package: str, device: DeviceParams) -> PackagePort | None:
        profile = db.scalar(select(DeviceProfile).join(Device, Device.device_profile_id == DeviceProfile.id)
                            .where(Device.dev_eui == dev_eui))
        if profile is None:
            return None
        for entry in parse_app_layer(profile.app_layer):
            if entry.name == package:
                # The version the device answered (package version negotiation), on the profile's port.
                return PackagePort(entry.port, entry.name, device.version(package))
        return None

    def _principal(self, campaign: FuotaCampaign) -> Principal:
        return Principal(Role.TENANT_ADMIN, campaign.tenant_id, key_id=f"fuota:{campaign.id}")

    def _ensure_group(self, campaign_id: str) -> None:
        """The campaign's own multicast group, created (and committed) before the pass that first needs it."""
        with self._factory() as db:
            campaign = db.get(FuotaCampaign, campaign_id)
            if campaign is None or campaign.state != "running" or campaign.multicast_group_id is not None:
                return
            rows = list(db.scalars(select(FuotaCampaignDevice).where(FuotaCampaignDevice.campaign_id == campaign_id)))
            self._create_group(db, campaign, rows, self._clock())
            db.commit()

    def _create_group(self, db: Session, campaign: FuotaCampaign, rows: list[FuotaCampaignDevice],
                      now: datetime) -> None:
        """The campaign's own multicast group: its members are the campaign's devices."""
        data = groups.GroupCreate.model_validate({
            "name": f"FUOTA {campaign.name}"[:200], "tenant_id": campaign.tenant_id,
            "group_class": campaign.group_class, "dr": campaign.dr, "frequency": campaign.frequency,
            "ping_slot_periodicity": campaign.ping_slot_periodicity,
        })
        view = groups.create_group(db, self._principal(campaign), self._vault, data, net_id=self._net_id,
                                   codecs=None, now=now, region=self._region)
        for r in rows:
            db.add(MulticastGroupDevice(group_id=view.group.id, dev_eui=r.dev_eui, created_at=now))
        campaign.multicast_group_id = view.group.id
        campaign.owns_group = True
        db.flush()

    def _enqueue_fragments(self, db: Session, campaign: FuotaCampaign, now: datetime,
                           after: list[Callable[[], None]]) -> None:
        params = self._params(db, campaign)
        layout = plan.plan(self._region, campaign.image_size, campaign.frag_size, campaign.redundancy_pct,
                           campaign.dr, campaign.frequency)
        version = max((self._frag_version(db, r.dev_eui) for r in db.scalars(select(FuotaCampaignDevice).where(
            FuotaCampaignDevice.campaign_id == campaign.id))), default=2)
        frames = plan.fragments(params.image, campaign.frag_size, layout.redundancy, version)
        group = db.get(MulticastGroup, campaign.multicast_group_id)
        assert group is not None
        expires = now + timedelta(seconds=self._session_length_s(campaign))
        package = fragmentation.VERSIONS[version]
        port = self._frag_port(db, campaign)
        f_cnt = group.f_cnt
        for n, data in enumerate(frames, start=1):
            payload = package.encode([AppCommand("DataFragment", {"n": n, "frag_index": campaign.frag_index,
                                                                  "data": data.hex()})])
            db.add(MulticastQueueItem(group_id=group.id, f_cnt=f_cnt, f_port=port,
                                      payload=payload, state="queued", created_at=now, expires_at=expires,
                                      gateways=[], detail=f"FUOTA {campaign.name}: fragment {n}/{len(frames)}"))
            f_cnt += 1
        group.f_cnt = f_cnt
        db.flush()
        campaign.detail = f"{len(frames)} fragments queued ({layout.nb_frag} + {layout.redundancy} parity)"
        notifier = self.hooks.group_notifier
        if notifier is not None:
            group_id = group.id
            after.append(lambda: notifier(group_id))

    def _frag_entry(self, db: Session, dev_eui: str) -> PackagePort | None:
        profile = db.scalar(select(DeviceProfile).join(Device, Device.device_profile_id == DeviceProfile.id)
                            .where(Device.dev_eui == dev_eui))
        for entry in parse_app_layer(profile.app_layer if profile else {}):
            if entry.name == "fragmentation":
                return entry
        return None

    def _frag_version(self, db: Session, dev_eui: str) -> int:
        entry = self._frag_entry(db, dev_eui)
        return entry.version if entry is not None else 2

    def _frag_port(self, db: Session, campaign: FuotaCampaign) -> int:
        """The members' fragmentation FPort (their profiles'; 201 unless a profile moved it)."""
        for dev_eui in db.scalars(select(FuotaCampaignDevice.dev_eui).where(
                FuotaCampaignDevice.campaign_id == campaign.id, FuotaCampaignDevice.status == "pending")):
            entry = self._frag_entry(db, dev_eui)
            if entry is not None:
                return entry.port
        return fragmentation.PORT
