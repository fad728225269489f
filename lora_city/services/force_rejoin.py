"""ForceRejoinReq (TS001-1.1 §5.13): the operator asks a LoRaWAN 1.1 device to send rejoin-requests.

The network server answers the device's rejoin-request type 0 or 2 with a join-accept (1.1 §6.2.4): new DevAddr,
session keys and counters; a type 0 also resets the radio parameters, a type 2 keeps them. Useful to renew a
session's keys, or to move a device to another DevAddr, without touching the device.

The command is stored as an item of the device's downlink queue on FPort 0 (FPort 0 is the network's: MAC
commands, never application data, 1.0.4 §4.3.2) and the server is told at once, as for an enqueue: it goes with
the device's next downlink opportunity (the answer to its next uplink; at once for class C), in every process,
without the API writing the network server's session (which the server alone writes, write-behind). A newer
request replaces one not sent yet; once sent it leaves the queue (the command has no answer: the rejoin-request
is the answer).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lora_city.errors import Conflict, InvalidInput
from lora_city.lorawan.mac import MacCommand
from lora_city.lorawan.region import Region
from lora_city.services.common import INPUT_CONFIG
from lora_city.services.devices import find_device
from lora_city.services.principal import Perm, Principal
from lora_city.services.queue import DownlinkNotifier
from lora_city.storage.device_queue import MAC_F_PORT
from lora_city.storage.models import DeviceKeys, DeviceQueueItem, DeviceSession

log = logging.getLogger(__name__)

FORCE_REJOIN_CID = 0x0E  # 1.1 §5 table 4


class ForceRejoinCreate(BaseModel):
    """The ForceRejoinReq fields (1.1 §5.13)."""

    model_config = INPUT_CONFIG

    rejoin_type: Literal[0, 2] = Field(
        description="0: rejoin-request type 0, a new session from the network's defaults (new DevAddr, keys, "
                    "counters and radio parameters); 2: type 2, new DevAddr, keys and counters, radio parameters "
                    "kept (1.1 §6.2.4.1). Types 3-7 are RFU; 1 also means type 0 in the specification and is "
                    "refused here to avoid the confusion with rejoin type 1.")
    max_retries: int = Field(
        default=0, ge=0, le=7,
        description="Max_Retries: the device sends the rejoin-request max_retries + 1 times at most (0: once)")
    period: int = Field(
        default=0, ge=0, le=7,
        description="Period: between two retries the device waits 32 s x 2^period plus a random 0-32 s")
    dr: int = Field(default=0, ge=0, le=15,
                    description="The data rate of the rejoin-request (a data rate of the region; DR0 in EU868 is "
                                "SF12, the farthest reach)")


class ForceRejoinOut(BaseModel):
    queue_item_id: str = Field(description="The queue item (FPort 0) carrying the command until it is sent")
    dev_eui: str
    rejoin_type: int
    max_retries: int
    period: int
    dr: int
    mac_command_hex: str = Field(description="The MAC command as sent: CID 0x0e and its 2-byte payload")
    replaced: int = Field(description="Earlier ForceRejoinReq not sent yet that this one replaced")


def encode(data: ForceRejoinCreate) -> bytes:
    """CID and payload: DR bits 3:0, RejoinType 6:4, Max_Retries 10:8, Period 13:11, little-endian (§5.13)."""
    return MacCommand("ForceRejoinReq", {"data_rate": data.dr, "rejoin_type": data.rejoin_type,
                                         "max_retries": data.max_retries, "period": data.period}).to_bytes()


def force_rejoin(
    session: Session, principal: Principal, dev_eui: str, data: ForceRejoinCreate, *, region: Region,
    notifier: DownlinkNotifier | None, now: datetime,
) -> tuple[DeviceQueueItem, int]:
    """Queue a ForceRejoinReq for the device; returns the item and how many unsent ones it replaced."""
    principal.require(Perm.DEVICES_WRITE)
    device = find_device(session, principal, dev_eui)
    if data.dr not in region.data_rates:
        raise InvalidInput(f"{region.name} has no DR{data.dr} (data rates {min(region.data_rates)}-"
                           f"{max(region.data_rates)})", code="invalid_data_rate")
    active = session.scalars(select(DeviceSession).where(
        DeviceSession.dev_eui == device.dev_eui, DeviceSession.is_active)).all()
    if not active:
        raise Conflict("the device has no session: it must join (or be activated) first", code="not_activated")
    if not all(s.mac_version.startswith("1.1") for s in active):
        raise Conflict(f"ForceRejoinReq exists from LoRaWAN 1.1 on; the device's session is LoRaWAN "
                       f"{active[0].mac_version}", code="lorawan_1_1_only")
    keys = session.get(DeviceKeys, device.dev_eui)
    if keys is None or keys.nwk_key_enc is None:
        # The join-accept answering a rejoin is encrypted and signed with keys derived from NwkKey (1.1 §6.2.3):
        # without it the server could not answer, and the device would lose its link for nothing.
        raise Conflict("the device has no NwkKey (activated by personalisation): its rejoin could not be "
                       "answered", code="no_root_keys")
    earlier = [i for i in session.scalars(select(DeviceQueueItem).where(
        DeviceQueueItem.dev_eui == device.dev_eui, DeviceQueueItem.f_port == MAC_F_PORT))
        if bytes(i.payload[:1]) == bytes((FORCE_REJOIN_CID,))]
    if earlier:
        session.execute(delete(DeviceQueueItem).where(DeviceQueueItem.id.in_([i.id for i in earlier])))
    item = DeviceQueueItem(dev_eui=device.dev_eui, f_port=MAC_F_PORT, payload=encode(data), confirmed=False,
                           created_at=now)
    session.add(item)
    session.commit()
    if notifier is not None:
        try:
            notifier(device.dev_eui)
        except Exception:  # stored: the server sends it at the device's next uplink
            log.exception("downlink notifier failed", extra={"dev_eui": device.dev_eui})
    return item, len(earlier)
