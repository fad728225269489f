"""Who is in the cluster: retained MQTT presence messages with a Last Will.

Each member publishes ``<root>/members/<member id>`` retained, and registers an empty retained message on the
same topic as its Last Will. The broker publishes the will the moment the member's TCP connection drops (a
SIGKILL closes the socket at once), so survivors learn of a death within milliseconds, where Redis keys with a
TTL would take the TTL. An empty retained message also clears the topic, so a member that joins later never
sees the dead one. A graceful stop publishes the same empty message itself.

A member knows the whole list once it sees its own presence come back: the broker sends the retained
messages of a new subscription before anything published after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable

from lora_city.mqtt import MqttClient, MqttMessage

log = logging.getLogger(__name__)

MembersChanged = Callable[[set[str], set[str]], None]  # (members now, members gone)


class Membership:
    def __init__(
        self,
        mqtt_url: str,
        root: str,
        member_id: str,
        on_change: MembersChanged,
        *,
        on_lost: Callable[[], None] = lambda: None,
        heartbeat_s: float = 5.0,
        watch_s: float = 0.1,
    ) -> None:
        if "/" in member_id or "+" in member_id or "#" in member_id or not member_id:
            raise ValueError(f"cluster member id {member_id!r} must be a non-empty MQTT topic level")
        self.member_id = member_id
        self._topic = f"{root}/members/"
        self._on_change = on_change
        self._on_lost = on_lost
        self._heartbeat_s = heartbeat_s
        self._watch_s = watch_s
        self._members: set[str] = set()
        self._complete = asyncio.Event()
        self._heartbeat: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._client = MqttClient(
            mqtt_url, client_id=f"lora-city-member-{member_id}", on_message=self._on_message,
            will=MqttMessage(self._topic + member_id, b"", retain=True, qos=1),
        )

    @property
    def members(self) -> set[str]:
        return set(self._members)

    async def start(self) -> None:
        await self._client.connect()
        await self._client.subscribe(self._topic + "+", qos=1)
        await self._announce()
        await asyncio.wait_for(self._complete.wait(), 10.0)
        self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="cluster-heartbeat")
        self._watch = asyncio.create_task(self._watch_loop(), name="cluster-connection-watch")

    async def stop(self) -> None:
        for task in (self._heartbeat, self._watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(ConnectionError):
            await self._client.publish(self._topic + self.member_id, b"", qos=1, retain=True)
        await self._client.close()

    async def _announce(self) -> None:
        body = json.dumps({"member": self.member_id, "pid": os.getpid(), "at": time.time()}).encode()
        await self._client.publish(self._topic + self.member_id, body, qos=1, retain=True)

    async def _heartbeat_loop(self) -> None:
        # After a broker connection loss our will removed us and we cannot tell (we never see our own will);
        # the client reconnects on its own and this puts the presence back (the others see a join and hand
        # our share back). Unchanged presence costs the others one ignored message.
        while True:
            await asyncio.sleep(self._heartbeat_s)
            if self._client.connected:
                with contextlib.suppress(ConnectionError):
                    await self._announce()

    async def _watch_loop(self) -> None:
        # A lost broker connection fired our will: the others took our devices and may have changed their
        # state meanwhile. We never see that will, so we tell the router ourselves (it trusts nothing cached).
        while True:
            await asyncio.sleep(self._watch_s)
            if not self._client.connected:
                log.warning("cluster member %s lost the broker: devices reload when it is back", self.member_id)
                self._on_lost()
                await self._client.wait_connected()
                await self._announce()

    async def _on_message(self, msg: MqttMessage) -> None:
        member = msg.topic[len(self._topic):]
        if not msg.topic.startswith(self._topic) or not member:
            return
        before = set(self._members)
        if msg.payload:
            self._members.add(member)
        else:
            self._members.discard(member)
        if member == self.member_id and msg.payload:
            self._complete.set()
        if self._members != before and self._complete.is_set():
            log.info("cluster members: %s", sorted(self._members))
            try:
                self._on_change(set(self._members), before - self._members)
            except Exception:
                log.exception("cluster membership change handler failed")
