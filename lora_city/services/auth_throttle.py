"""Slows down password and API-key guessing: per account and per client address, a growing delay after a few
failures and a temporary lock after more (OWASP Authentication Cheat Sheet, "Protect against automated attacks";
NIST SP 800-63B §5.2.2 rate limiting). Every failure goes to the audit log (``auth_failures``); every throttle
is an ``auth_locks`` row an administrator sees and may release (API ``/auth/locks``, portal ``/console/locks``).

While an account or address is throttled, an attempt is answered 429 with Retry-After *without* checking the
password, so a guess made during the delay tells nothing (the right password is refused too) and costs no argon2
hash. A success resets the account's count.

The counts and locks live in the database, shared by every process that serves logins (cluster members, a
separate API process, several uvicorn workers): with a count per process an attacker spreading guesses over N
processes would get N times the attempts, and a lock set or released in one process must apply at once in all
the others (the product's "a change takes effect at once"). A failure is one transaction that counts atomically
(an upsert makes sure the subject's row exists, then the row is read and rewritten under the writer's lock:
SQLite's single writer, PostgreSQL's row lock), so simultaneous failures in two processes are both counted.

No copy is kept in memory: a copy would have to be checked against the database before each use anyway (another
process may have locked or released the subject a moment ago), and that check costs what the read itself costs.
The read before every API request is one Core query on the unique (scope, subject) index for at most two rows,
on a plain connection (about 0.1 ms on SQLite here, against several ms for the request). Redis
(configured only in cluster mode) is not used: the database is the one store every deployment shares, and one
path is simpler to keep right than two.

Accounts are e-mail addresses (portal, gRPC login) or an API key's public prefix; addresses are the client's
IP address as the HTTP server sees it (behind a reverse proxy, run uvicorn with --forwarded-allow-ips).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select
from sqlalchemy.orm import Session

from lora_city.errors import NotFound, TooManyRequests
from lora_city.services.common import as_utc
from lora_city.storage.db import SessionFactory, transaction, upsert_insert
from lora_city.storage.models import AuthFailure, AuthLock
from lora_city.storage.models.base import new_id

log = logging.getLogger(__name__)

# Passwords (portal, gRPC login) are throttled per account (an e-mail) and per client address; API keys per key
# prefix and per client address, counted apart, so a lessee's script sending a revoked key does not lock the
# city's staff out of the portal from the same office, nor the other way round.
ACCOUNT, ADDRESS, API_KEY, API_ADDRESS = "account", "address", "api-key", "api-address"


@dataclass(frozen=True, slots=True)
class Policy:
    delay_after: int  # failures before the first delay
    lock_after: int  # failures before the long lock
    max_delay_s: float  # the growing delay stops growing here
    lock_s: float  # the long lock
    forget_s: float  # failures this old no longer count


# An account: 3 free tries, then 1 s, 2 s, 4 s … (at most 60 s); 10 failures lock it for 15 minutes. An address
# may be a whole office behind one NAT: more room before it is slowed down.
_ACCOUNTS = Policy(delay_after=3, lock_after=10, max_delay_s=60.0, lock_s=900.0, forget_s=900.0)
_ADDRESSES = Policy(delay_after=10, lock_after=50, max_delay_s=60.0, lock_s=900.0, forget_s=900.0)
POLICIES = {ACCOUNT: _ACCOUNTS, ADDRESS: _ADDRESSES, API_KEY: _ACCOUNTS, API_ADDRESS: _ADDRESSES}

Subject = tuple[str, str]  # (scope, subject)


def _matching(subjects: Iterable[Subject]) -> object:
    return or_(*(and_(AuthLock.scope == scope, AuthLock.subject == subject) for scope, subject in subjects))


class AuthThrottle:
    def __init__(self, factory: SessionFactory, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 policies: dict[str, Policy] | None = None) -> None:
        self._factory = factory
        self._engine: Engine = factory.kw["bind"]
        self._clock = clock
        self._policies = policies or POLICIES

    # --- checks ------------------------------------------------------------------------------------------

    def check(self, subjects: Iterable[Subject]) -> None:
        """Raise ``TooManyRequests`` while any of the subjects is delayed or locked, by whichever process."""
        subjects = [(scope, subject[:200]) for scope, subject in subjects if subject]
        if not subjects:
            return
        now = self._clock()
        # A connection, not an ORM session: this runs before every API request (~0.1 ms on SQLite against ~0.5 ms
        # through a session, on the shared 2-core machine).
        with self._engine.connect() as conn:
            until = conn.scalars(select(AuthLock.blocked_until).where(_matching(subjects))).all()  # type: ignore[arg-type]
        wait = max(((as_utc(u) or now) - now).total_seconds() for u in [*until, now])
        if wait > 0:
            raise TooManyRequests("too many failed attempts; retry later", retry_after_s=wait,
                                  code="too_many_attempts")

    def failed(self, kind: str, subjects: Iterable[Subject], reason: str) -> None:
        """Record a failure: the audit row, and each subject's count and throttle, in one transaction."""
        now = self._clock()
        subjects = [(scope, subject[:200]) for scope, subject in subjects if subject]
        account = next((s for scope, s in subjects if scope in (ACCOUNT, API_KEY)), None)
        address = next((s for scope, s in subjects if scope in (ADDRESS, API_ADDRESS)), None)
        try:
            with transaction(self._factory) as db:
                db.add(AuthFailure(time=now, kind=kind, account=account, address=address, reason=reason[:40]))
                db.flush()  # the first write takes the writer's lock (SQLite) before the counts are read
                for scope, subject in subjects:
                    self._count(db, scope, subject, now, kind)
                self._forget_old(db, now)
        except Exception:  # the audit must not turn a refused login into a 500
            log.exception("recording an authentication failure failed (kind=%s)", kind)

    def _count(self, db: Session, scope: str, subject: str, now: datetime, kind: str) -> None:
        policy = self._policies[scope]
        db.execute(upsert_insert(db, AuthLock).values(
            id=new_id(), scope=scope, subject=subject, failures=0, blocked_until=now, locked=False,
            last_failure_at=now,
        ).on_conflict_do_nothing(index_elements=["scope", "subject"]))
        row = db.scalars(select(AuthLock).where(AuthLock.scope == scope, AuthLock.subject == subject)
                         .with_for_update()).one()
        last = as_utc(row.last_failure_at) or now
        if row.failures and (now - last).total_seconds() > policy.forget_s:
            row.failures, row.locked = 0, False
        row.failures += 1
        row.last_failure_at = now
        blocked_until = as_utc(row.blocked_until) or now
        if row.failures >= policy.lock_after:
            row.locked = True
            blocked_until = max(blocked_until, now + timedelta(seconds=policy.lock_s))
            if row.failures == policy.lock_after:
                log.warning("authentication locked: %s %s after %d failures (%s)", scope, subject, row.failures,
                            kind)
        elif row.failures >= policy.delay_after:
            delay = min(2.0 ** (row.failures - policy.delay_after), policy.max_delay_s)
            blocked_until = max(blocked_until, now + timedelta(seconds=delay))
        row.blocked_until = blocked_until

    def _forget_old(self, db: Session, now: datetime) -> None:
        # Rows no longer blocking whose last failure is past every policy's memory would start afresh anyway:
        # deleting them keeps the table to the subjects of the last minutes (every address that ever mistyped
        # a password would otherwise stay), at the cost of a scan of that small table per failure.
        forget = max(p.forget_s for p in self._policies.values())
        db.execute(delete(AuthLock).where(AuthLock.blocked_until < now,
                                          AuthLock.last_failure_at < now - timedelta(seconds=forget)))

    def succeeded(self, account: Subject) -> None:
        """The right credentials while not throttled: the account starts afresh."""
        with self._factory() as db:
            present = db.scalar(select(AuthLock.id).where(_matching([account])))  # type: ignore[arg-type]
        if present is not None:  # a write only when there is something to forget
            with transaction(self._factory) as db:
                db.execute(delete(AuthLock).where(AuthLock.id == present))

    # --- administration ----------------------------------------------------------------------------------

    def locks(self, session_factory: SessionFactory | None = None) -> list[AuthLock]:
        """Accounts and addresses throttled now (delayed or locked), newest failure first."""
        now = self._clock()
        with (session_factory or self._factory)() as db:
            rows = db.scalars(select(AuthLock).order_by(AuthLock.last_failure_at.desc())).all()
            return [r for r in rows if (as_utc(r.blocked_until) or now) > now]

    def release(self, lock_id: str) -> Subject:
        """Lift a throttle now (an administrator's decision): the subject starts afresh, in every process."""
        with transaction(self._factory) as db:
            row = db.get(AuthLock, lock_id)
            if row is None:
                raise NotFound("lock not found")
            subject = (row.scope, row.subject)
            db.delete(row)
        log.info("authentication throttle released: %s %s", *subject)
        return subject
