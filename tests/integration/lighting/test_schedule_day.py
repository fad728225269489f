"""A lighting schedule over a simulated day, end to end (issue 24): the scheduler's clock is injected and walked
through a whole night minute by minute, the network is real (mosquitto is not needed: one Semtech UDP gateway,
a real database, the real network server).

"100 % at dusk, 50 % from 23:00, 0 % from 01:00 to 05:00, 100 % until dawn, off at dawn" on a class C group of
three NAS UL20x2 lamps: each step must go out once, as one multicast frame the lamps open themselves, within a
tick of its time, in winter (CET) and in summer (CEST); two lamps echo the command (their readings carry the
simulated time), the third never answers and gets the step again by unicast, twice, before the command is marked
unconfirmed with its DevEUI.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lora_city.gateway import semtech as st
from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.scheduler import LightingScheduler
from lora_city.lighting.steps import Place
from lora_city.simulate.gateways import TransmittedDownlink, VirtualUdpGateway
from lora_city.storage.models import Reading
from lora_city.storage.models.lighting import LightingCommand
from tests.integration.network.harness import Harness, codecs, wait_until
from tests.support.lamps import build_uplink, multicast_session_keys, open_downlink
from tests.unit.lighting.solar import civil_twilight

PARIS = ZoneInfo("Europe/Paris")
NIMES = Place(43.8367, 4.3601)
TICK = timedelta(minutes=1)
STEPS = [{"at": "dusk", "level": 100}, {"at": "23:00", "level": 50}, {"at": "01:00", "level": 0},
         {"at": "05:00", "level": 100}, {"at": "dawn", "level": 0}]


@dataclass
class Lamp:
    dev_eui: str
    dev_addr: str
    nwk: bytes
    app: bytes
    f_cnt: int = 0
    echoes: bool = True


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def echo(gw: VirtualUdpGateway, lamp: Lamp, level: int, at: datetime) -> None:
    """The lamp echoes the applied command on FPort 60 (vendor: the command is bidirectional); the packet
    forwarder stamps the reception with the (simulated) time."""
    lamp.f_cnt += 1
    phy = build_uplink(lamp.dev_addr, lamp.nwk, lamp.app, lamp.f_cnt, f_port=60, payload=bytes((1, 0xFE, level)))
    frame = UplinkFrame(phy, LoRaModulation(868_100_000, 7, 125_000),
                        RxInfo(gw.gateway_id, 0, -80.0, 7.0, context=b"\x00\x00\x00\x01", time=at), Transport.UDP)
    rxpk = st.uplink_to_rxpk(frame)
    rxpk["tmst"] = int.from_bytes(os.urandom(4), "big")
    gw.send_push({"rxpk": [rxpk]})


async def immediate_frames(gw: VirtualUdpGateway, n: int) -> list[TransmittedDownlink]:
    """The next ``n`` immediate (class C / multicast) transmissions, skipping class A answers."""
    out: list[TransmittedDownlink] = []
    while len(out) < n:
        frame = await asyncio.wait_for(gw.downlinks.get(), 10.0)
        if frame.immediately:
            out.append(frame)
    return out


def expected_steps(night: date) -> list[tuple[datetime, int]]:
    """The night's steps from outside references: NOAA civil twilight (to 3 min) and the EU summer-time rule."""
    nxt = night + timedelta(days=1)
    return [
        (civil_twilight(night, NIMES.latitude, NIMES.longitude, evening=True), 100),
        (datetime.combine(night, time(23), PARIS).astimezone(UTC), 50),
        (datetime.combine(nxt, time(1), PARIS).astimezone(UTC), 0),
        (datetime.combine(nxt, time(5), PARIS).astimezone(UTC), 100),
        (civil_twilight(nxt, NIMES.latitude, NIMES.longitude, evening=False), 0),
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("night", "utc_offset_h"), [(date(2025, 1, 15), 1), (date(2025, 7, 1), 2)])
def test_schedule_over_a_simulated_night_sends_each_step_once_at_its_time(
        sqlite_template: object, tmp_path: object, night: date, utc_offset_h: int) -> None:
    import shutil
    from pathlib import Path

    db = Path(str(tmp_path)) / "l.db"
    shutil.copyfile(str(sqlite_template), db)

    async def run() -> None:
        h = Harness(f"sqlite:///{db}", "", udp=True)
        h.settings = h.settings.model_copy(update={"mqtt_url": None})
        # one clock for the scheduler and the server's queue expiry: the simulated night
        clock = Clock(datetime.combine(night, time(12), PARIS).astimezone(UTC))
        await start_udp_only(h, clock)
        assert h.udp is not None
        gw = VirtualUdpGateway(h.udp.local_address, uuid.uuid4().hex[:16])
        assert (await h.api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id, "name": "g"})
                ).status_code == 201  # the server drops unregistered gateways
        await gw.start()
        try:
            lamps = [Lamp(os.urandom(8).hex(), os.urandom(4).hex(), os.urandom(16), os.urandom(16), echoes=i < 2)
                     for i in range(3)]
            for lamp in lamps:
                assert (await h.api.post("/api/v1/devices", json={
                    "dev_eui": lamp.dev_eui, "name": f"lamp {lamp.dev_eui[-4:]}", "device_class": "C",
                    "codec": "nas-ul20x2"})).status_code == 201
                assert (await h.api.post(f"/api/v1/devices/{lamp.dev_eui}/activate", json={
                    "dev_addr": lamp.dev_addr, "nwk_s_key": lamp.nwk.hex(),
                    "app_s_key": lamp.app.hex()})).status_code == 200
                gw.send_uplink(build_uplink(lamp.dev_addr, lamp.nwk, lamp.app, 0, f_port=99,
                                            payload=bytes.fromhex("000D008350010101F37F205E000CFE0104")))
            await wait_until(lambda: len(h.server.sessions.cached()) == 3)
            mc_key = os.urandom(16)
            group = (await h.api.post("/api/v1/multicast-groups", json={
                "name": "Jean-Jaurès", "mc_key": mc_key.hex(), "dr": 3})).json()
            await h.api.post(f"/api/v1/multicast-groups/{group['id']}/devices",
                             json={"dev_euis": [lamp.dev_eui for lamp in lamps]})
            schedule = (await h.api.post("/api/v1/lighting/schedules", json={"name": "nuit", "steps": STEPS})).json()
            r = await h.api.post(f"/api/v1/lighting/schedules/{schedule['id']}/assignments",
                                 json={"group_id": group["id"]})
            assert r.status_code == 200, r.text
            nwk, app = multicast_session_keys(mc_key, group["mc_addr"])

            scheduler = LightingScheduler(
                h.factory, CommandSender(codecs(), h.server.downlink_notifier(), h.server.group_notifier()),
                clock=clock, default_place=NIMES)
            end = clock.now + timedelta(hours=24)
            received: list[tuple[datetime, int]] = []
            unicast_retries = 0
            while clock.now < end:
                sent = await asyncio.to_thread(scheduler.tick)
                for command in sent:
                    frame = (await immediate_frames(gw, 1))[0]
                    opened = open_downlink(frame.phy_payload, nwk, app)  # a few frames: FCnt < 2^16
                    assert opened is not None and opened.dev_addr == group["mc_addr"], "not the group's frame"
                    assert opened.f_port == 60 and opened.payload == bytes((1, 0xFE, command.level))
                    received.append((clock.now, command.level))
                    before = await count_readings(h)
                    for lamp in lamps:
                        if lamp.echoes:
                            echo(gw, lamp, command.level, clock.now + timedelta(seconds=5))
                    await wait_until(lambda b=before: count_now(h) >= b + 2)
                retries = await asyncio.to_thread(pending_retry_frames, h, unicast_retries)
                if retries:
                    for frame in await immediate_frames(gw, retries):
                        silent = lamps[2]
                        got = open_downlink(frame.phy_payload, silent.nwk, silent.app)
                        assert got is not None and got.f_port == 60, "a retry goes to the silent lamp alone"
                    unicast_retries += retries
                clock.now += TICK

            # the step in force at noon (the previous night's dawn: off), then every step of the night, once each
            expected = expected_steps(night)
            assert [level for _, level in received] == [0] + [level for _, level in expected]
            for (sent_at, _), (step_at, _) in zip(received[1:], expected, strict=True):
                assert timedelta(minutes=-3) <= sent_at - step_at <= TICK + timedelta(minutes=3), (sent_at, step_at)
            assert received[2][0] == datetime.combine(night, time(23), PARIS).astimezone(UTC)
            assert received[2][0].hour == 23 - utc_offset_h  # 23:00 Paris time is 22:00 UTC in winter, 21:00 in summer
            with h.factory() as session:
                commands = list(session.scalars(select(LightingCommand).order_by(LightingCommand.sent_at)))
            assert len(commands) == 6 and len({c.key for c in commands}) == 6
            # every command ends unconfirmed after two retries (the silent lamp named), unless the next step came
            # first (summer: dawn at 05:28 supersedes the 05:00 step before its checks are over)
            finished = [c for c in commands if c.state == "unconfirmed"]
            assert {c.state for c in commands} <= {"unconfirmed", "superseded"}
            assert len(finished) >= 5, [(c.level, c.state) for c in commands]
            assert all(c.retries == 2 and c.confirmed == 2 and c.expected == 3 and lamps[2].dev_eui in c.detail
                       for c in finished)
            assert unicast_retries == sum(c.retries for c in commands)
            await h.stop()
        finally:
            await gw.stop()
            await h.close()

    asyncio.run(run())


async def count_readings(h: Harness) -> int:
    return await asyncio.to_thread(count_now, h)


def count_now(h: Harness) -> int:
    with h.factory() as session:
        return len(session.scalars(select(Reading.id)).all())


def pending_retry_frames(h: Harness, already: int) -> int:
    """How many unicast retry items the scheduler queued that the test has not yet seen on the air."""
    with h.factory() as session:
        total = sum(len(c.queue_ids) - 1 for c in session.scalars(select(LightingCommand)))
    return total - already


async def start_udp_only(h: Harness, clock: Clock) -> None:
    """The harness without its MQTT backend (this flow needs only the UDP gateway)."""
    import httpx

    from lora_city.api.app import create_app
    from lora_city.gateway.udp_backend import UdpGatewayBackend
    from lora_city.metrics import Metrics
    from lora_city.network.server import NetworkServer
    from lora_city.sinks.store import ReadingStoreSink
    from tests.integration.network.harness import RecordingSink

    h.metrics = Metrics()
    h.recording = RecordingSink()
    h.store = ReadingStoreSink(h.factory, h.metrics, flush_interval_s=0.05)
    h.udp = UdpGatewayBackend(h.settings, h.metrics)
    h.server = NetworkServer(h.settings, h.metrics, h.factory, h.vault, codecs=codecs(),
                             sinks=[h.recording, h.store], backends=[h.udp], flush_interval_s=0.2, utcnow=clock)
    await h.server.start()
    app = create_app(h.settings, h.factory, h.vault, codecs=codecs(), notifier=h.server.downlink_notifier(),
                     metrics=h.metrics, on_device_change=h.server.device_change_notifier(),
                     group_notifier=h.server.group_notifier())
    h.api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                              headers={"Authorization": "Bearer test-admin-token"})
