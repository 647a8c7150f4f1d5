"""Simulator + adapter plumbing shared by the venues' contract test modules.

``sim_harness`` runs one simulator and the adapters built on it for a ``VenueContract``
fixture; ``venue_on_sim`` is the same for a single started adapter in a plain test. Both
close every adapter and stop the simulator however the test ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from gapless.venues.base import Venue, VenueConfig
from gapless.venues.registry import create_venue

from .contract import VenueHarness

#: ``config(sim, rest_url=..., timeout=...)`` -> the adapter's configuration
ConfigFor = Callable[..., VenueConfig]


@contextlib.asynccontextmanager
async def sim_harness(
    start_sim: Callable[[], Awaitable[Any]], config: ConfigFor, **harness: Any
) -> AsyncIterator[VenueHarness]:
    """A started adapter on a fresh simulator, as a ``VenueHarness``; ``make_venue`` builds
    more (not started) adapters for the same account. ``harness`` sets the other fields
    (``symbol``, ``capabilities``, ``extra``)."""
    sim = await start_sim()
    venues: list[Venue] = []

    def make_venue(rest_url: str | None = None, timeout: float = 5.0) -> Venue:
        v = create_venue(config(sim, rest_url=rest_url, timeout=timeout))
        venues.append(v)
        return v

    venue = make_venue()
    try:
        await venue.start()
        yield VenueHarness(venue=venue, sim=sim, make_venue=make_venue, **harness)
    finally:
        for v in venues:
            await v.close()
        await sim.stop()


@contextlib.asynccontextmanager
async def venue_on_sim(sim: Any, config: VenueConfig) -> AsyncIterator[Venue]:
    """A started adapter for ``config`` on the running ``sim``; closes the adapter and then
    stops the simulator on the way out."""
    venue = create_venue(config)
    try:
        await venue.start()
        yield venue
    finally:
        await venue.close()
        await sim.stop()
