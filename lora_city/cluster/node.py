"""One member of a cluster of ``lora-city serve`` processes, built from Settings by the composition root.

Enabled by ``Settings.cluster_member_id`` (with ``mqtt_url``, ``mqtt_share_group`` and ``redis_url``). Topics live
under ``lora-city/<mqtt_topic_prefix>/<mqtt_share_group>/`` so several clusters can share a broker.

    node = ClusterNode(settings)
    server = NetworkServer(..., backends=[node.wrap(mqtt_backend)], sinks=[node.sink, ...])
    node.attach(server); await node.start(); await server.start()
    ... await node.leave(); await server.stop(); await node.stop()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from redis.asyncio import Redis

from lora_city.cluster.forwarding import Forwarder
from lora_city.cluster.high_water import FCntHighWater
from lora_city.cluster.membership import Membership
from lora_city.cluster.ownership import Ownership
from lora_city.cluster.router import ClusterGatewayBackend, ClusterRouter
from lora_city.gateway.frames import GatewayBackend
from lora_city.network.server import NetworkServer
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceEvent, JoinEvent, UplinkEvent
from lora_city.storage.sessions import SessionStore

log = logging.getLogger(__name__)


class ClusterSink:
    """A sink, first in the list so it runs before the readings store gets the event:

    * every accepted uplink raises its session's FCnt high-water mark (``UplinkEvent`` is emitted once per new
      counter, never for retransmissions or drops), so a reading that reaches the database has its counter
      in Redis before it;
    * a join tells the other members to drop the sessions they cached for the device.
    """

    name = "cluster"

    def __init__(self, forwarder: Forwarder, high_water: FCntHighWater) -> None:
        self._forwarder = forwarder
        self._high_water = high_water
        self._sessions: SessionStore | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def bind(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def start(self) -> None:
        return None

    def submit(self, event: DeviceEvent) -> None:
        if isinstance(event, UplinkEvent):
            assert self._sessions is not None
            # The session that just accepted the frame is cached: a dict lookup, no query.
            session = self._sessions.for_dev_eui(event.device.dev_eui)
            if session is not None and session.dev_addr == event.dev_addr:
                self._high_water.record(session.id, event.f_cnt)
        elif isinstance(event, JoinEvent):
            task = asyncio.get_running_loop().create_task(
                self._forwarder.broadcast_joined(event.device.dev_eui, event.dev_addr))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class ClusterNode:
    def __init__(self, settings: Settings, *, redis: Redis | None = None) -> None:
        member = settings.cluster_member_id
        if not (member and settings.mqtt_url and settings.mqtt_share_group and settings.redis_url):
            raise ValueError("cluster mode needs cluster_member_id, mqtt_url, mqtt_share_group and redis_url")
        prefix = settings.mqtt_topic_prefix.strip("/")
        root = f"lora-city/{prefix}/{settings.mqtt_share_group}"
        self.member_id = member
        self.redis = redis if redis is not None else Redis.from_url(settings.redis_url)
        self.high_water = FCntHighWater(self.redis, prefix=f"lora-city:{prefix}:{settings.mqtt_share_group}")
        self.router = ClusterRouter(Ownership(member), self.high_water, window_s=settings.dedup_window_ms / 1000)
        self.forwarder = Forwarder(
            settings.mqtt_url, root, member, prefix, on_copy=self.router.on_forwarded,
            on_ack=self.router.on_forwarded_ack, on_joined=self.router.on_joined, on_notify=self._on_notify,
        )
        self.membership = Membership(settings.mqtt_url, root, member, self.router.on_members,
                                     on_lost=self.router.on_connection_lost)
        self.sink = ClusterSink(self.forwarder, self.high_water)
        self._server: NetworkServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def wrap(self, backend: GatewayBackend) -> ClusterGatewayBackend:
        return ClusterGatewayBackend(backend, self.router, self.forwarder)

    def attach(self, server: NetworkServer) -> None:
        self._server = server
        self.router.bind(server, server.sessions, self.forwarder)
        self.sink.bind(server.sessions)

    def downlink_notifier(self) -> Callable[[str], None]:
        """The API's ``DownlinkNotifier`` in a cluster: the device's owner must hear of the queued item (its
        session's ``has_queue`` decides whether a class-A answer looks at the queue; class C is sent at once
        with the owner's downlink counter). Callable from any thread, like the server's own."""
        loop = asyncio.get_running_loop()

        def notify(dev_eui: str) -> None:
            loop.call_soon_threadsafe(self._spawn, self._notify(dev_eui))

        return notify

    async def _notify(self, dev_eui: str) -> None:
        server = self._server
        assert server is not None
        try:
            session = server.sessions.for_dev_eui(dev_eui)
            if session is None:
                return  # not joined: nothing to wake up, the item waits for the session
            owner = self.router.ownership.owner("a" + session.dev_addr)
            if owner == self.member_id:
                await server.notify_queue(dev_eui)
            else:
                await self.forwarder.notify(owner, dev_eui)
        except Exception:
            log.exception("cluster queue notification failed: dev_eui=%s", dev_eui)

    async def _on_notify(self, dev_eui: str) -> None:
        if self._server is not None:
            await self._server.notify_queue(dev_eui)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        """Before the server starts its gateway backends: the member list is known before the first copy."""
        await self.high_water.start()
        await self.forwarder.start()
        await self.membership.start()
        log.info("cluster member %s joined: members %s", self.member_id, sorted(self.membership.members))

    async def leave(self) -> None:
        """Hand our devices over (the others take them after a dedup window), then let the server stop."""
        await self.membership.stop()

    async def stop(self) -> None:
        await self.high_water.stop()
        await self.forwarder.stop()
        await self.redis.aclose()
