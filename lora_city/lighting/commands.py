"""How the lighting service dims a lamp or a group: through the one downlink queue API, as an operator would.

A group gets a multicast queue item (one frame for every member), a single lamp a device queue item; both are
encoded by the target's codec from ``{"dim_level": N}`` (for the NAS UL20x2: ``01 FE NN`` on FPort 60), and the
network server is told at once (class C: sent now; class B: the next ping slot; class A: the next uplink).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.services import multicast, queue
from lora_city.services.multicast import GroupQueueItemCreate
from lora_city.services.principal import Principal, Role
from lora_city.services.queue import QueueItemCreate

# The scheduler acts for the city: it sees every tenant's lamps, like the operators who set it up.
SCHEDULER = Principal(Role.OPERATOR, None, key_id="lighting-scheduler")
STEP_EXPIRY_S = 1800  # a dimming command not sent within half an hour is stale (the next step will follow)


class CommandSender:
    def __init__(self, codecs: CodecRegistry | None, device_notifier: Callable[[str], None] | None = None,
                 group_notifier: Callable[[str], None] | None = None) -> None:
        self._codecs = codecs
        self._device_notifier = device_notifier
        self._group_notifier = group_notifier

    def send(self, db: Session, kind: str, target_id: str, level: int, now: datetime,
             principal: Principal = SCHEDULER) -> list[str]:
        """Queue ``{"dim_level": level}`` for the target; the queue item ids. Raises the services' errors
        (unknown target, no codec, level refused by the codec)."""
        command = {"dim_level": level}
        if kind == "group":
            item = multicast.enqueue(db, principal, target_id,
                                     GroupQueueItemCreate(object=command, expires_in_s=STEP_EXPIRY_S),
                                     codecs=self._codecs, notifier=self._group_notifier, now=now)
            return [item.id]
        device_item = queue.enqueue(db, principal, target_id, QueueItemCreate(object=command),
                                    codecs=self._codecs, notifier=self._device_notifier, now=now)
        return [device_item.id]
