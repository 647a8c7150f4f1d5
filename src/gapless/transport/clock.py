"""Clocks: the one seam through which transport code reads time and sleeps.

Production code takes a :class:`Clock` (default :class:`RealClock`); tests inject
:class:`FakeClock`, whose sleeps are futures resolved only by :meth:`FakeClock.advance`,
so timer logic is tested without any real waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time as _time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall and monotonic time of the machine; ``sleep`` is ``asyncio.sleep``."""

    __slots__ = ()

    def monotonic(self) -> float:
        return _time.monotonic()

    def time(self) -> float:
        return _time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds if seconds > 0 else 0)


REAL_CLOCK = RealClock()


class FakeClock:
    """Deterministic clock for tests.

    ``monotonic()`` and ``time()`` both return ``start`` plus the total advanced.
    ``sleep(s)`` registers a future due at ``now + s``; :meth:`advance` resolves due
    sleepers in (deadline, registration) order. ``advance`` is synchronous: the woken
    coroutines run when the event loop next gets control, and they observe the final
    time. Use :meth:`run_for` to step deadline by deadline when woken coroutines
    schedule further sleeps inside the advanced span.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            fut.set_result(None)
        else:
            heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    @property
    def pending(self) -> int:
        """Number of sleepers not yet woken (cancelled ones included until due)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every sleeper now due."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self._now + seconds
        # A nanosecond of tolerance so that summed float steps (0.1 + 0.2 ...) reach
        # the deadline they were meant to reach.
        while self._sleepers and self._sleepers[0][0] <= target + 1e-9:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not fut.done():
                fut.set_result(None)
        self._now = max(self._now, target)

    async def settle(self, rounds: int = 20) -> None:
        """Give the event loop ``rounds`` turns so woken coroutines run."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def run_for(self, seconds: float) -> None:
        """Advance ``seconds`` deadline by deadline, letting the loop run after each."""
        target = self._now + seconds
        await self.settle()
        while True:
            nxt = self.next_deadline()
            if nxt is None or nxt > target:
                break
            self.advance(nxt - self._now)
            await self.settle()
        self.advance(target - self._now)
        await self.settle()
