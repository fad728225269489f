"""Change counters of cached configurations (table ``config_generations``: one row per cache name).

Why a counter and not a reload timer: what an operator or tenant changes through the API or the portal must apply
to the very next event in every process sharing the database (cluster members, the API process). Every writer
bumps its cache's counter in the same transaction as its change; a process holding a cached copy reads that one
row before it next uses the copy, and reloads when the number moved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.storage.db import upsert_insert
from lora_city.storage.models import ConfigGeneration


def bump_generation(session: Session, name: str) -> None:
    """Call in the transaction that changes the configuration cached under ``name``."""
    stmt = upsert_insert(session, ConfigGeneration).values(name=name, value=1)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"],
                                               set_={"value": ConfigGeneration.value + 1}))


def read_generation(session: Session, name: str) -> int:
    return int(session.scalar(select(ConfigGeneration.value).where(ConfigGeneration.name == name)) or 0)
