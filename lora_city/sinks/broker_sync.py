"""Keeps the product broker's tenant accounts and roles equal to the database, through mosquitto's
dynamic-security plugin (``$CONTROL/dynamic-security/v1``, commands and responses as JSON).

- A tenant's role lists its applications' topics (``broker_acl.tenant_acls``). Creating or deleting an
  application, or an account, bumps the ``broker`` configuration generation; every process reads it each
  ``poll_s`` (1 s) and, when it moved, brings the roles to the database's state (commands are idempotent, so
  cluster members doing it at once is harmless). A full pass also runs every ``full_sync_s`` as a fallback.
- Credentials are created or reset through the API (``set_password``): the plaintext exists only then, so the
  client is created or its password set at once, in that call. An account whose client the broker lost (a
  fresh broker volume) is logged: write the broker's file again with ``lora-city broker-config``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.mqtt.client import MqttClient, MqttMessage
from lora_city.sinks.broker_acl import TENANT_ROLE_PREFIX, acl_key, tenant_acls, tenant_role
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Application, BrokerAccount, ConfigGeneration

log = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response"
GENERATION = "broker"


class DynsecError(RuntimeError):
    pass


def bump_broker_generation(session: Session) -> None:
    """Call in the transaction that creates or deletes an application or a broker account."""
    from lora_city.sinks.integrations import bump_generation

    bump_generation(session, GENERATION)


class DynsecControl:
    """Request/response over the plugin's topics; each command carries a correlation id, so several
    processes sharing the response topic only take their own answers."""

    def __init__(self, url: str, *, client_id: str | None = None, timeout_s: float = 5.0) -> None:
        self._client = MqttClient(url, client_id=client_id or f"lora-city-dynsec-{uuid.uuid4().hex[:8]}",
                                  on_message=self._on_message)
        self._timeout_s = timeout_s
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def start(self) -> None:
        """Connects in the background (a broker down at start is retried); commands wait for it."""
        await self._client.start()
        await self._client.subscribe(RESPONSE_TOPIC, qos=1)

    async def close(self) -> None:
        await self._client.close()

    async def run(self, *commands: dict[str, Any]) -> list[dict[str, Any]]:
        """The responses, in order; a response with ``error`` is returned as is (the caller decides)."""
        loop = asyncio.get_running_loop()
        ids = [uuid.uuid4().hex for _ in commands]
        futures = []
        for cid in ids:
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            self._waiting[cid] = future
            futures.append(future)
        body = {"commands": [{**c, "correlationData": cid} for c, cid in zip(commands, ids, strict=True)]}
        try:
            await self._client.publish(CONTROL_TOPIC, json.dumps(body).encode(), qos=1)
            return list(await asyncio.wait_for(asyncio.gather(*futures), self._timeout_s))
        finally:
            for cid in ids:
                self._waiting.pop(cid, None)

    async def _on_message(self, message: MqttMessage) -> None:
        try:
            responses = json.loads(message.payload).get("responses", [])
        except (ValueError, AttributeError):
            return
        for response in responses:
            future = self._waiting.get(str(response.get("correlationData")))
            if future is not None and not future.done():
                future.set_result(response)


class BrokerAccessSync:
    def __init__(self, factory: SessionFactory, control: DynsecControl, *, poll_s: float = 1.0,
                 full_sync_s: float = 300.0) -> None:
        self._factory = factory
        self._control = control
        self._poll_s = poll_s
        self._full_sync_s = full_sync_s
        self._generation: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.passes = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._control.start()
        self._task = asyncio.create_task(self._run(), name="broker-access-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._control.close()

    def call_from_thread(self, work: Callable[[], Awaitable[None]], timeout_s: float = 10.0) -> None:
        """For the API's routes (a worker thread): run ``work`` on the sync's loop and wait for it."""
        assert self._loop is not None, "start() first"
        asyncio.run_coroutine_threadsafe(_call(work), self._loop).result(timeout_s)

    async def set_password(self, tenant_id: str, username: str, password: str) -> None:
        """Create the tenant's client with its role, or give an existing one the new password; then its role."""
        async with self._lock:
            await self._sync_role(tenant_id, self._application_ids(tenant_id))
            [got] = await self._control.run({"command": "getClient", "username": username})
            if "error" in got:
                commands: list[dict[str, Any]] = [{"command": "createClient", "username": username,
                                                   "password": password, "roles": [{"rolename": tenant_role(tenant_id)}]}]
            else:
                commands = [{"command": "setClientPassword", "username": username, "password": password}]
                roles = [r.get("rolename") for r in ((got.get("data") or {}).get("client") or {}).get("roles", [])]
                if tenant_role(tenant_id) not in roles:
                    commands.append({"command": "addClientRole", "username": username,
                                     "rolename": tenant_role(tenant_id)})
            for response in await self._control.run(*commands):
                _raise_on_error(response, ignore=("already",))

    async def remove(self, tenant_id: str, username: str) -> None:
        async with self._lock:
            await self._control.run({"command": "deleteClient", "username": username},
                                    {"command": "deleteRole", "rolename": tenant_role(tenant_id)})

    async def sync(self) -> None:
        """Every account's role equal to its tenant's applications; roles and clients of tenants without an
        account removed."""
        async with self._lock:
            with self._factory() as s:
                accounts = {a.tenant_id: a.username for a in s.scalars(select(BrokerAccount))}
                apps: dict[str, list[str]] = {}
                for app_id, tenant_id in s.execute(select(Application.id, Application.tenant_id)):
                    apps.setdefault(tenant_id, []).append(app_id)
            for tenant_id, username in accounts.items():
                await self._sync_role(tenant_id, apps.get(tenant_id, []))
                [got] = await self._control.run({"command": "getClient", "username": username})
                if "error" in got:
                    log.warning("broker: tenant %s's client %s is missing on the broker (a new broker volume?); "
                                "write its file with `lora-city broker-config` or reset the credentials",
                                tenant_id, username)
            [listed] = await self._control.run({"command": "listRoles", "verbose": False})
            for role in (listed.get("data") or {}).get("roles", []):
                name = role if isinstance(role, str) else role.get("rolename", "")
                if name.startswith(TENANT_ROLE_PREFIX) and name[len(TENANT_ROLE_PREFIX):] not in accounts:
                    await self._control.run({"command": "deleteRole", "rolename": name})
            self.passes += 1

    def _application_ids(self, tenant_id: str) -> list[str]:
        with self._factory() as s:
            return list(s.scalars(select(Application.id).where(Application.tenant_id == tenant_id)))

    async def _sync_role(self, tenant_id: str, application_ids: list[str]) -> None:
        role = tenant_role(tenant_id)
        want = {acl_key(a): a for a in tenant_acls(application_ids)}
        [got] = await self._control.run({"command": "getRole", "rolename": role})
        if "error" in got:
            _raise_on_error((await self._control.run({"command": "createRole", "rolename": role,
                                                      "acls": list(want.values())}))[0], ignore=("already",))
            return
        have = {acl_key(a) for a in ((got.get("data") or {}).get("role") or {}).get("acls", [])}
        commands = [{"command": "addRoleACL", "rolename": role, **acl} for key, acl in want.items() if key not in have]
        commands += [{"command": "removeRoleACL", "rolename": role, "acltype": kind, "topic": topic}
                     for kind, topic in have - want.keys()]
        if commands:
            for response in await self._control.run(*commands):
                _raise_on_error(response)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_full = 0.0
        while True:
            try:
                generation = await asyncio.to_thread(self._read_generation)
                if generation != self._generation or loop.time() - last_full >= self._full_sync_s:
                    await self.sync()
                    self._generation = generation
                    last_full = loop.time()
            except Exception as exc:  # the broker or the database away: try again at the next poll
                log.warning("broker access sync failed: %s", exc)
            await asyncio.sleep(self._poll_s)

    def _read_generation(self) -> int:
        with self._factory() as s:
            return int(s.scalar(select(ConfigGeneration.value).where(ConfigGeneration.name == GENERATION)) or 0)


async def _call(work: Callable[[], Awaitable[None]]) -> None:
    await work()


def _raise_on_error(response: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
    error = response.get("error")
    if error and not any(word in str(error).lower() for word in ignore):
        raise DynsecError(f"{response.get('command')}: {error}")
