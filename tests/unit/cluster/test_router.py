"""ClusterRouter decisions with in-memory collaborators: forward to the owner, re-route on a member's death,
warm-up from max(database, high-water) before the first frame of a newly owned DevAddr."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lora_city.cluster.ownership import Ownership, rendezvous_owner
from lora_city.cluster.router import F_CNT_DOWN_SKIP, ClusterRouter
from lora_city.gateway.frames import LoRaModulation, RxInfo, Transport, UplinkFrame
from lora_city.simulate.devices import VirtualDevice


@dataclass
class Session:
    id: str
    dev_eui: str
    last_f_cnt_up: int | None = 3
    f_cnt_up: int = 4
    last_mic: int = 1234
    n_f_cnt_down: int = 10
    dirty: bool = False


class Store:
    def __init__(self, sessions: dict[str, list[Session]]) -> None:
        self.sessions = sessions
        self.forgotten: list[str] = []

    def for_dev_addr(self, dev_addr: str) -> list[Session]:
        return self.sessions.get(dev_addr, [])

    def forget(self, dev_eui: str) -> None:
        self.forgotten.append(dev_eui)


class HighWater:
    def __init__(self, marks: dict[str, int]) -> None:
        self.marks = marks

    async def get(self, session_ids: list[str]) -> dict[str, int]:
        return {s: self.marks[s] for s in session_ids if s in self.marks}


class Events:
    def __init__(self) -> None:
        self.uplinks: list[UplinkFrame] = []

    async def on_uplink(self, frame: UplinkFrame) -> None:
        self.uplinks.append(frame)


class Forwarder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, UplinkFrame, int]] = []

    async def forward(self, owner: str, frame: UplinkFrame, hops: int) -> None:
        self.sent.append((owner, frame, hops))


def frame(phy: bytes, gateway_id: str = "0102030405060708") -> UplinkFrame:
    return UplinkFrame(phy, LoRaModulation(868_100_000, 7, 125_000, "4/5"),
                       RxInfo(gateway_id=gateway_id, uplink_id=1, rssi=-80.0, snr=5.0), Transport.MQTT_PROTOBUF)


def device_owned_by(owner: str, members: tuple[str, ...]) -> VirtualDevice:
    for i in range(1000):
        dev = VirtualDevice.generate()
        dev.dev_addr, dev.nwk_s_key, dev.app_s_key = f"{0x26000000 + i:08x}", bytes(16), bytes(16)
        if rendezvous_owner(f"a{dev.dev_addr}", members) == owner:
            return dev
    raise AssertionError("no such device")


def make(me: str, sessions: dict[str, list[Session]], marks: dict[str, int]) -> tuple[ClusterRouter, Events,
                                                                                       Forwarder, Store]:
    router = ClusterRouter(Ownership(me), HighWater(marks), window_s=0.02, margin_s=0.01)  # type: ignore[arg-type]
    events, forwarder, store = Events(), Forwarder(), Store(sessions)
    router.bind(events, store, forwarder)  # type: ignore[arg-type]
    return router, events, forwarder, store


def test_a_copy_for_another_member_is_forwarded_then_rerouted_when_it_dies() -> None:
    async def run() -> None:
        dev = device_owned_by("m2", ("m1", "m2"))
        assert dev.dev_addr is not None
        session = Session("s1", dev.dev_eui)
        router, events, forwarder, store = make("m1", {dev.dev_addr: [session]}, {"s1": 7})
        router.on_members({"m1", "m2"}, set())
        copy = frame(dev.uplink())
        await router.on_uplink(copy)
        assert forwarder.sent == [("m2", copy, 1)] and events.uplinks == []

        router.on_members({"m1"}, {"m2"})  # m2 killed: its will arrives
        await asyncio.sleep(0.1)
        assert events.uplinks == [copy]  # warmed up, then handed to our server
        assert store.forgotten == [dev.dev_eui]  # the cached session was dropped and reloaded
        assert (session.last_f_cnt_up, session.f_cnt_up, session.last_mic) == (7, 8, -1)
        assert session.n_f_cnt_down == 10 + F_CNT_DOWN_SKIP and session.dirty

        await router.on_uplink(second := frame(dev.uplink()))  # warm now: straight through
        assert events.uplinks == [copy, second]

    asyncio.run(run())


def test_database_ahead_of_the_high_water_mark_is_kept() -> None:
    async def run() -> None:
        dev = device_owned_by("m1", ("m1",))
        assert dev.dev_addr is not None
        session = Session("s1", dev.dev_eui, last_f_cnt_up=9, f_cnt_up=10)
        router, events, _fwd, _store = make("m1", {dev.dev_addr: [session]}, {"s1": 5})
        await router.on_uplink(frame(dev.uplink()))
        await router.on_uplink(frame(dev.uplink(), gateway_id="0102030405060709"))  # held during warm-up
        await asyncio.sleep(0.1)
        assert len(events.uplinks) == 2
        assert (session.last_f_cnt_up, session.f_cnt_up, session.last_mic) == (9, 10, 1234)

    asyncio.run(run())


def test_joins_and_garbage_go_straight_to_the_server_when_ours() -> None:
    async def run() -> None:
        router, events, forwarder, _store = make("m1", {}, {})
        dev = VirtualDevice.generate()
        await router.on_uplink(join := frame(dev.join_request()))
        await router.on_uplink(junk := frame(b"\xff\x00"))
        assert events.uplinks == [join, junk] and forwarder.sent == []

    asyncio.run(run())


def test_a_forwarded_copy_is_not_bounced_forever() -> None:
    async def run() -> None:
        dev = device_owned_by("m2", ("m1", "m2"))
        router, events, forwarder, _store = make("m1", {}, {})
        router.on_members({"m1", "m2"}, set())
        await router.on_forwarded(frame(dev.uplink()), 2)  # members disagreed twice already: keep it
        await asyncio.sleep(0.1)
        assert forwarder.sent == [] and len(events.uplinks) == 1
        assert "0102030405060708" in router.gateways_heard  # downlinks may now go through this gateway

    asyncio.run(run())


