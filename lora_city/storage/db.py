"""Engine and session factory. Built once from Settings at the composition root and passed in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    if database_url.startswith("sqlite"):
        # The API serves requests from a thread pool, so SQLite connections must cross threads; WAL lets readers
        # proceed while the network server writes.
        engine = create_engine(
            database_url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(database_url, **kwargs)


SessionFactory = sessionmaker[Session]


def make_session_factory(engine: Engine) -> SessionFactory:
    """Sessions of the product: tenants' own limits are checked before every new device or gateway is
    written (lora_city/storage/limits.py), whatever path creates it."""
    from lora_city.storage.limits import check_tenant_limits

    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", check_tenant_limits)
    return factory


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """A session in a transaction: committed on success, rolled back on any exception."""
    with factory() as session, session.begin():
        yield session


def upsert_insert(session: Session, table: Any) -> Any:
    """``INSERT`` in the session's dialect, which has ``on_conflict_do_update``/``on_conflict_do_nothing`` (both
    supported databases, SQLite and PostgreSQL, have ON CONFLICT; SQLAlchemy's generic insert does not offer it)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
