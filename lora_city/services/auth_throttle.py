"""Slows down password and API-key guessing: per account and per client address, a growing delay after a few
failures and a temporary lock after more (OWASP Authentication Cheat Sheet, "Protect against automated attacks";
NIST SP 800-63B §5.2.2 rate limiting). Every failure goes to the audit log (``auth_failures``); every throttle
is an ``auth_locks`` row an administrator sees and may release (API ``/auth/locks``).

While an account or address is throttled, an attempt is answered 429 with Retry-After *without* checking the
password, so a guess made during the delay tells nothing (the right password is refused too) and costs no argon2
hash. A success resets the account's count. The state lives in memory (a dict lookup per API request) and in
the database (loaded at start, so a restart does not lift a lock; written on each failure, which the delays
keep rare).

Accounts are e-mail addresses (portal, gRPC login) or an API key's public prefix; addresses are the client's
IP address as the HTTP server sees it (behind a reverse proxy, run uvicorn with --forwarded-allow-ips).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from lora_city.errors import NotFound, TooManyRequests
from lora_city.services.common import as_utc
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import AuthFailure, AuthLock

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


@dataclass(slots=True)
class _State:
    failures: int
    blocked_until: datetime
    locked: bool
    last_failure_at: datetime


class AuthThrottle:
    def __init__(self, factory: SessionFactory, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 policies: dict[str, Policy] | None = None) -> None:
        self._factory = factory
        self._clock = clock
        self._policies = policies or POLICIES
        self._lock = threading.Lock()  # routes run on a thread pool
        self._states: dict[Subject, _State] = {}
        self._loaded = False

    # --- checks ------------------------------------------------------------------------------------------

    def check(self, subjects: Iterable[Subject]) -> None:
        """Raise ``TooManyRequests`` while any of the subjects is delayed or locked."""
        self._load()
        now = self._clock()
        wait = 0.0
        with self._lock:
            for subject in subjects:
                state = self._states.get(subject)
                if state is not None and state.blocked_until > now:
                    wait = max(wait, (state.blocked_until - now).total_seconds())
        if wait > 0:
            raise TooManyRequests("too many failed attempts; retry later", retry_after_s=wait,
                                  code="too_many_attempts")

    def failed(self, kind: str, subjects: Iterable[Subject], reason: str) -> None:
        """Record a failure: the audit row, and each subject's count and throttle."""
        self._load()
        now = self._clock()
        subjects = [(scope, subject[:200]) for scope, subject in subjects if subject]
        changed: list[tuple[Subject, _State]] = []
        with self._lock:
            for key in subjects:
                policy = self._policies[key[0]]
                state = self._states.get(key)
                if state is None or (now - state.last_failure_at).total_seconds() > policy.forget_s:
                    state = _State(0, now, False, now)
                state.failures += 1
                state.last_failure_at = now
                if state.failures >= policy.lock_after:
                    state.locked = True
                    state.blocked_until = now + timedelta(seconds=policy.lock_s)
                elif state.failures >= policy.delay_after:
                    delay = min(2.0 ** (state.failures - policy.delay_after), policy.max_delay_s)
                    state.blocked_until = now + timedelta(seconds=delay)
                self._states[key] = state
                changed.append((key, _State(state.failures, state.blocked_until, state.locked, now)))
        account = next((s for scope, s in subjects if scope in (ACCOUNT, API_KEY)), None)
        address = next((s for scope, s in subjects if scope in (ADDRESS, API_ADDRESS)), None)
        for (scope, subject), state in changed:
            if state.locked and state.failures == self._policies[scope].lock_after:
                log.warning("authentication locked: %s %s after %d failures (%s)", scope, subject, state.failures,
                            kind)
        try:
            with transaction(self._factory) as db:
                db.add(AuthFailure(time=now, kind=kind, account=account, address=address, reason=reason[:40]))
                for (scope, subject), state in changed:
                    row = db.scalar(select(AuthLock).where(AuthLock.scope == scope, AuthLock.subject == subject))
                    if row is None:
                        row = AuthLock(scope=scope, subject=subject)
                        db.add(row)
                    row.failures, row.blocked_until = state.failures, state.blocked_until
                    row.locked, row.last_failure_at = state.locked, state.last_failure_at
        except Exception:  # the audit must not turn a refused login into a 500; the memory state still holds
            log.exception("recording an authentication failure failed (kind=%s)", kind)

    def succeeded(self, account: Subject) -> None:
        """The right credentials while not throttled: the account starts afresh."""
        with self._lock:
            had = self._states.pop(account, None)
        if had is not None:
            with transaction(self._factory) as db:
                db.execute(delete(AuthLock).where(AuthLock.scope == account[0], AuthLock.subject == account[1]))

    # --- administration ----------------------------------------------------------------------------------

    def locks(self, session_factory: SessionFactory | None = None) -> list[AuthLock]:
        """Accounts and addresses throttled now (delayed or locked), newest failure first."""
        now = self._clock()
        with (session_factory or self._factory)() as db:
            rows = db.scalars(select(AuthLock).order_by(AuthLock.last_failure_at.desc())).all()
            return [r for r in rows if (as_utc(r.blocked_until) or now) > now]

    def release(self, lock_id: str) -> Subject:
        """Lift a throttle now (an administrator's decision): the subject starts afresh."""
        with transaction(self._factory) as db:
            row = db.get(AuthLock, lock_id)
            if row is None:
                raise NotFound("lock not found")
            subject = (row.scope, row.subject)
            db.delete(row)
        with self._lock:
            self._states.pop(subject, None)
        log.info("authentication throttle released: %s %s", *subject)
        return subject

    # --- internals ---------------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        now = self._clock()
        with self._factory() as db:
            rows = db.scalars(select(AuthLock)).all()
        with self._lock:
            if self._loaded:
                return
            for r in rows:
                until, last = as_utc(r.blocked_until) or now, as_utc(r.last_failure_at) or now
                self._states.setdefault((r.scope, r.subject), _State(r.failures, until, r.locked, last))
            self._loaded = True
