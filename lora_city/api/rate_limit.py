"""Request rate limits per API key and per tenant: token buckets (a steady rate with room for a burst), so one
lessee's script cannot starve the API for the others. A request over the limit gets 429 with Retry-After (the
time until a token is back), and nothing of the request runs.

The defaults are generous (Settings.api_rate_per_key, api_rate_per_tenant, in requests per second, and their
bursts); a tenant's plan may set its own (tenants/ passes ``limits_for``). The built-in administrator token is
not limited: it is the city's own tool for getting out of trouble.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lora_city.errors import TooManyRequests
from lora_city.services.principal import Principal


@dataclass(frozen=True, slots=True)
class Limit:
    rate: float  # tokens per second
    burst: float  # bucket size

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


LimitsFor = Callable[[str], Limit | None]  # tenant id -> the tenant's plan's limit, None for the default


class RateLimiter:
    def __init__(self, per_key: Limit, per_tenant: Limit, *, limits_for: LimitsFor | None = None,
                 clock: Callable[[], float] = time.monotonic, max_buckets: int = 100_000) -> None:
        self.per_key = per_key
        self.per_tenant = per_tenant
        self.limits_for = limits_for
        self._clock = clock
        self._max = max_buckets
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # routes run on a thread pool

    def admit(self, principal: Principal) -> None:
        """Take one token from the key's bucket and one from its tenant's, or raise ``TooManyRequests``."""
        if principal.key_id is None:
            return  # the built-in administrator token
        tenant = principal.tenant_id or ""
        plan = self.limits_for(tenant) if self.limits_for is not None and tenant else None
        tenant_limit = plan or self.per_tenant
        key_limit = Limit(min(self.per_key.rate, tenant_limit.rate), min(self.per_key.burst, tenant_limit.burst))
        now = self._clock()
        with self._lock:
            key_wait = self._wait(f"k:{principal.key_id}", key_limit, now)
            tenant_wait = self._wait(f"t:{tenant}", tenant_limit, now)
            wait = max(key_wait, tenant_wait)
            if wait > 0:
                raise TooManyRequests(
                    "rate limit reached for this " + ("API key" if key_wait >= tenant_wait else "tenant"),
                    retry_after_s=wait, code="rate_limited")
            self._buckets[f"k:{principal.key_id}"].tokens -= 1
            self._buckets[f"t:{tenant}"].tokens -= 1

    def _wait(self, name: str, limit: Limit, now: float) -> float:
        """Refill the bucket to now; the seconds until it holds one token (0 when it does)."""
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) >= self._max:  # idle buckets are full anyway: forgetting them changes nothing
                self._buckets.clear()
            bucket = self._buckets[name] = _Bucket(limit.burst, now)
        bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.at) * limit.rate)
        bucket.at = now
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / limit.rate
