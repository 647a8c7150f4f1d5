"""Fan-out of engine events to subscribers that must never slow the order path.

Each subscriber has a bounded queue. When it is full the event is not queued for that
subscriber; instead, once it has drained what it had, it receives one ``EventGap`` naming
the sequence range it missed, which it can read back with ``Journal.events_since``.
Events are published only after the journal holds them, so a replay always finds them.
"""

from __future__ import annotations

import asyncio
from collections import deque

from gapless.model import EventGap, OrderEvent


class Subscription:
    """An async iterator of ``OrderEvent`` | ``EventGap``; registered from creation, so
    nothing published after ``engine.events()`` returned is missed. ``close()`` (or
    leaving an ``async with``) unregisters it."""

    def __init__(self, hub: EventHub, maxsize: int) -> None:
        self._hub = hub
        self._queue: deque[OrderEvent] = deque()
        self._maxsize = maxsize
        self._wake = asyncio.Event()
        self._missed: tuple[int, int] | None = None  # (after_seq, until_seq)
        self._closed = False

    def _offer(self, event: OrderEvent) -> None:
        if self._missed is not None:
            self._missed = (self._missed[0], event.seq)
        elif len(self._queue) >= self._maxsize:
            self._missed = (event.seq - 1, event.seq)
        else:
            self._queue.append(event)
        self._wake.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> OrderEvent | EventGap:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._missed is not None:
                after, until = self._missed
                self._missed = None
                return EventGap(after_seq=after, until_seq=until)
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        self._closed = True
        self._hub._subs.discard(self)
        self._wake.set()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    """Offers each journaled event (its ``seq`` assigned by the journal) to every
    subscriber."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()

    def subscribe(self, maxsize: int = 1024) -> Subscription:
        sub = Subscription(self, maxsize)
        self._subs.add(sub)
        return sub

    def publish(self, events: list[OrderEvent]) -> None:
        for sub in list(self._subs):
            for event in events:
                sub._offer(event)

    def close(self) -> None:
        for sub in list(self._subs):
            sub.close()
