"""Simulators for the venues' official (blocking) Python SDKs.

The SDKs' HTTP clients block the calling thread, so each simulator runs on its own event
loop in a background thread; the test thread calls the SDK and then reads ``sim.exchange``
(the loop is idle by then: every SDK call has had its full answer).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from gapless.sim.cluster import RunningSim, start_venue_sim

T = TypeVar("T")


class ThreadedSim:
    """One venue simulator serving from a daemon thread's event loop."""

    def __init__(self, venue: str, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"sim-{venue}",
                                        daemon=True)
        self._thread.start()
        self.sim: RunningSim = self.call(start_venue_sim(venue, host="127.0.0.1", port=0,
                                                         seed=1, tick_interval=0, **options))

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def run(self, fn: Any, *args: Any) -> Any:
        """Run a plain function on the simulator's loop (e.g. moving the mid)."""

        async def _go() -> Any:
            return fn(*args)

        return self.call(_go())

    def close(self) -> None:
        try:
            self.call(self.sim.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
            self.loop.close()


def threaded_sim(venue: str, **options: Any) -> Iterator[ThreadedSim]:
    ts = ThreadedSim(venue, **options)
    try:
        yield ts
    finally:
        ts.close()


@pytest.fixture
def binance_sim() -> Iterator[ThreadedSim]:
    yield from threaded_sim("binance")


@pytest.fixture
def bybit_sim() -> Iterator[ThreadedSim]:
    yield from threaded_sim("bybit")


@pytest.fixture
def okx_sim() -> Iterator[ThreadedSim]:
    yield from threaded_sim("okx")


@pytest.fixture
def kraken_sim() -> Iterator[ThreadedSim]:
    yield from threaded_sim("kraken")


@pytest.fixture
def coinbase_sim() -> Iterator[ThreadedSim]:
    yield from threaded_sim("coinbase")
