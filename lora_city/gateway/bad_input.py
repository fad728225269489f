"""Counting and logging of gateway input we reject before it becomes a frame.

Garbage from one misbehaving gateway can arrive thousands of times a second, so each (transport, reason) is
logged at most once per ``log_interval_s`` with the number suppressed since; every occurrence is counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from lora_city.metrics import Metrics

log = logging.getLogger("lora_city.gateway")


class BadGatewayInput(Exception):
    """Raised by a parser: the message is unusable for ``reason`` (a short metric label)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class BadInputReporter:
    def __init__(
        self,
        metrics: Metrics,
        transport: str,
        *,
        on_bad: Callable[[str | None], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        log_interval_s: float = 10.0,
    ) -> None:
        self._metrics = metrics
        self._transport = transport
        self._on_bad = on_bad  # e.g. the health tracker's per-gateway bad-frame counter
        self._clock = clock
        self._log_interval_s = log_interval_s
        self._last_logged: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def report(self, reason: str, detail: str, gateway_id: str | None = None) -> None:
        self._metrics.gateway_bad_input.labels(self._transport, reason).inc()
        if self._on_bad is not None:
            self._on_bad(gateway_id)
        now = self._clock()
        last = self._last_logged.get(reason)
        if last is not None and now - last < self._log_interval_s:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        self._last_logged[reason] = now
        suppressed = self._suppressed.pop(reason, 0)
        log.warning(
            "bad gateway input dropped: transport=%s reason=%s gateway_id=%s %s%s",
            self._transport, reason, gateway_id or "-", detail,
            f" ({suppressed} similar suppressed)" if suppressed else "",
        )
