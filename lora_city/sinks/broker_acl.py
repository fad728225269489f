"""Who may do what on the product's own MQTT broker (mosquitto with its dynamic-security plugin).

Three kinds of accounts:
- the product (``lora-city``): everything, including ``$CONTROL/dynamic-security/#`` to manage the others;
- the gateways (``gateways``): publish their events and state under ``{prefix}/gateway/+/``, read their commands;
- one per tenant that asked for one (``tenant-<slug>``): subscribe to ``application/{id}/#`` of each of its
  applications and nothing else; no publishing at all. The broker's default denies every other subscription
  and publication, so a tenant's ``application/#`` or another tenant's application is refused.

``dynsec_config`` writes the plugin's whole file from the database (``lora-city broker-config``); at run time
``broker_sync.BrokerAccessSync`` keeps the tenants' roles equal to their applications through the plugin's
``$CONTROL`` topic. Passwords are stored as the plugin stores them: PBKDF2-HMAC-SHA512 of the password with a
random 12-byte salt, both base64 (checked against ``mosquitto_ctrl dynsec init`` in the tests).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PRODUCT_ROLE = "lora-city"
GATEWAY_ROLE = "gateways"
TENANT_ROLE_PREFIX = "tenant-"
ITERATIONS = 10_000  # mosquitto_ctrl uses 101; a tenant connects rarely, so a slower hash costs nothing
_SLUG = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class PasswordHash:
    password: str  # base64 of the derived key, as the plugin's "password" field
    salt: str  # base64
    iterations: int


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> PasswordHash:
    salt = salt if salt is not None else os.urandom(12)
    derived = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return PasswordHash(base64.b64encode(derived).decode(), base64.b64encode(salt).decode(), iterations)


def tenant_username(slug: str) -> str:
    return TENANT_ROLE_PREFIX + (_SLUG.sub("-", slug.lower()).strip("-") or "tenant")


def tenant_role(tenant_id: str) -> str:
    return TENANT_ROLE_PREFIX + tenant_id


def application_topics(application_ids: Iterable[str]) -> list[str]:
    return [f"application/{a}/#" for a in sorted(application_ids)]


def tenant_acls(application_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The tenant's role: read its applications' events. ``publishClientReceive`` is granted with the
    subscription so a default that denies receiving would not silence them."""
    acls: list[dict[str, Any]] = []
    for topic in application_topics(application_ids):
        acls.append({"acltype": "subscribePattern", "topic": topic, "priority": 0, "allow": True})
        acls.append({"acltype": "publishClientReceive", "topic": topic, "priority": 0, "allow": True})
    return acls


def product_acls() -> list[dict[str, Any]]:
    return [
        {"acltype": kind, "topic": topic, "priority": 0, "allow": True}
        for topic in ("#", "$CONTROL/dynamic-security/#", "$share/#", "$SYS/#")
        for kind in ("publishClientSend", "publishClientReceive", "subscribePattern", "unsubscribePattern")
    ]


def gateway_acls(prefix: str) -> list[dict[str, Any]]:
    """A ChirpStack gateway bridge or MQTT forwarder: publishes ``event``/``state``, reads ``command``."""
    head = f"{prefix}/gateway/+"
    return [
        {"acltype": "publishClientSend", "topic": f"{head}/event/#", "priority": 0, "allow": True},
        {"acltype": "publishClientSend", "topic": f"{head}/state/#", "priority": 0, "allow": True},
        {"acltype": "subscribePattern", "topic": f"{head}/command/#", "priority": 0, "allow": True},
        {"acltype": "publishClientReceive", "topic": f"{head}/command/#", "priority": 0, "allow": True},
    ]


def _client(username: str, role: str, secret: PasswordHash, text: str) -> dict[str, Any]:
    return {"username": username, "textName": text, "password": secret.password, "salt": secret.salt,
            "iterations": secret.iterations, "roles": [{"rolename": role}]}


@dataclass(frozen=True, slots=True)
class TenantAccess:
    tenant_id: str
    username: str
    secret: PasswordHash
    application_ids: tuple[str, ...]


def dynsec_config(*, product_username: str, product_secret: PasswordHash, gateway_username: str | None,
                  gateway_secret: PasswordHash | None, topic_prefix: str,
                  tenants: Iterable[TenantAccess]) -> dict[str, Any]:
    """The dynamic-security plugin's file (``plugin_opt_config_file``): the product, the gateways and every
    tenant with an account. The default denies what no role allows."""
    clients = [_client(product_username, PRODUCT_ROLE, product_secret, "lora_city (network server, API)")]
    roles = [{"rolename": PRODUCT_ROLE, "acls": product_acls()}]
    if gateway_username and gateway_secret:
        clients.append(_client(gateway_username, GATEWAY_ROLE, gateway_secret, "LoRaWAN gateways"))
        roles.append({"rolename": GATEWAY_ROLE, "acls": gateway_acls(topic_prefix)})
    for t in tenants:
        clients.append(_client(t.username, tenant_role(t.tenant_id), t.secret, f"tenant {t.tenant_id}"))
        roles.append({"rolename": tenant_role(t.tenant_id), "acls": tenant_acls(t.application_ids)})
    return {
        "clients": clients,
        "roles": roles,
        "groups": [],
        "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False, "subscribe": False,
                             "unsubscribe": True},
    }


def acl_key(acl: Mapping[str, Any]) -> tuple[str, str]:
    return str(acl["acltype"]), str(acl["topic"])
