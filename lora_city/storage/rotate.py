"""Rotate the master key of keys at rest: decrypt every encrypted column with the old key and encrypt it with the
new one, in ONE transaction, so a failure leaves every row readable with the old key.

Every encrypted column of the product is listed in ``ENCRYPTED`` with the AEAD context its writer uses; a test
checks the list covers every LargeBinary ``*_enc``/``secret`` column on the models, so a new one is not forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import DeviceKeys, DeviceSession, MulticastGroup
from lora_city.storage.models.integrations import Integration


@dataclass(frozen=True, slots=True)
class EncryptedColumns:
    model: type[Any]
    columns: tuple[str, ...]
    context: Callable[[Any], bytes]


ENCRYPTED: tuple[EncryptedColumns, ...] = (
    EncryptedColumns(DeviceKeys, ("app_key_enc", "nwk_key_enc", "gen_app_key_enc"), lambda row: row.dev_eui.encode()),
    EncryptedColumns(
        DeviceSession,
        ("f_nwk_s_int_key_enc", "s_nwk_s_int_key_enc", "nwk_s_enc_key_enc", "app_s_key_enc"),
        lambda row: row.dev_eui.encode(),
    ),
    EncryptedColumns(Integration, ("secret", "headers_enc", "password_enc", "client_key_enc"),
                     lambda row: b"integration:" + row.id.encode()),
    EncryptedColumns(
        MulticastGroup, ("mc_key_enc", "mc_nwk_s_key_enc", "mc_app_s_key_enc"),
        lambda row: b"multicast:" + row.id.encode(),
    ),
)


def rotate_secret(sessions: SessionFactory, old: KeyVault, new: KeyVault) -> int:
    """Re-encrypt every stored secret; returns how many values were rewritten."""
    count = 0
    with transaction(sessions) as s:
        for spec in ENCRYPTED:
            for row in s.scalars(select(spec.model)):
                ctx = spec.context(row)
                for column in spec.columns:
                    blob = getattr(row, column)
                    if blob is None:
                        continue
                    setattr(row, column, new.encrypt(old.decrypt(blob, context=ctx), context=ctx))
                    count += 1
    return count
