"""Server-sent events (the WHATWG HTML "server-sent events" format) from a polled source: the live frame log
of a device or a gateway. Each message carries the source's cursor as its ``id``, so a browser's EventSource
that reconnects (it does by itself) sends it back as ``Last-Event-ID`` and resumes without a gap or a repeat.
A stream ends after ``lifetime_s`` (the client reconnects: no connection held for hours by a forgotten tab)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import StreamingResponse

C = TypeVar("C")
E = TypeVar("E")
POLL_S = 1.0
KEEPALIVE_S = 15.0  # a comment line now and then, so proxies do not close an idle stream
LIFETIME_S = 300.0


def message(data: str, *, event: str | None = None, id: str | None = None) -> str:
    """One SSE message; multi-line data goes as several ``data:`` lines (the client joins them with \\n)."""
    lines = []
    if event:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    lines += [f"data: {line}" for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines) + "\n\n"


def stream(
    request: Request, first: tuple[list[E], C], poll: Callable[[C], tuple[list[E], C]],
    render: Callable[[E], str], cursor_text: Callable[[C], str], *, event: str = "entry",
    poll_s: float = POLL_S, lifetime_s: float = LIFETIME_S,
) -> StreamingResponse:
    """``first``: what to send at once and the cursor after it; ``poll(cursor)`` (blocking: run in a thread)
    gives what came since. ``render`` turns an entry into the message's data."""

    async def messages() -> AsyncIterator[str]:
        entries, cursor = first
        yield "retry: 3000\n\n"
        for entry in entries:
            yield message(render(entry), event=event, id=cursor_text(cursor))
        loop = asyncio.get_running_loop()
        end = loop.time() + lifetime_s
        quiet_since = loop.time()
        while loop.time() < end:
            if await request.is_disconnected():
                return
            await asyncio.sleep(poll_s)
            entries, cursor = await asyncio.to_thread(poll, cursor)
            for entry in entries:
                yield message(render(entry), event=event, id=cursor_text(cursor))
            if entries:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= KEEPALIVE_S:
                quiet_since = loop.time()
                yield ": keep-alive\n\n"

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
