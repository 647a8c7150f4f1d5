"""``RestVenue``: the lifecycle and plumbing every native REST + WebSocket adapter shares.

What lives here is venue-neutral: owning the ``HttpClient`` and its breakers, tracking the
WebSocket connections an adapter opened so ``close()`` can end them, the offset between
our clock and the venue's, dead-letter queue wiring and symbol lookups. Signing, request
shapes and error mapping stay in each venue's folder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from gapless.model.errors import ConfigError, MalformedResponse, UnknownSymbol
from gapless.transport.breaker import BreakerSet, ConnKind, FailureKind
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpClient
from gapless.transport.ws import WsConnection
from gapless.venues.base import Venue, VenueConfig

P = ParamSpec("P")
R = TypeVar("R")
SpecT = TypeVar("SpecT")
V = TypeVar("V", bound="RestVenue[Any]")


def clock_offset_ms(server_ms: float, t0: float, t1: float) -> int:
    """Venue clock minus ours (ms), taking the request's midpoint ``(t0 + t1) / 2`` (s)."""
    return int(server_ms - (t0 + t1) * 500)


def bad_data(
    kind: ConnKind,
) -> Callable[
    [Callable[Concatenate[V, P], Coroutine[Any, Any, R]]],
    Callable[Concatenate[V, P], Coroutine[Any, Any, R]],
]:
    """Count an unparseable answer as a ``BAD_DATA`` failure on the matching breaker, and a
    parsed one as a success."""

    def wrap(
        fn: Callable[Concatenate[V, P], Coroutine[Any, Any, R]],
    ) -> Callable[Concatenate[V, P], Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def guarded(self: V, *args: P.args, **kwargs: P.kwargs) -> R:
            breaker = self.breakers.get(kind)
            try:
                result = await fn(self, *args, **kwargs)
            except MalformedResponse:
                breaker.record_failure(FailureKind.BAD_DATA)
                raise
            breaker.record_success()  # the answer parsed: data is good again
            return result

        return guarded

    return wrap


class RestVenue(Venue, Generic[SpecT]):
    """A ``Venue`` reached over one REST base URL plus WebSocket streams.

    Subclasses call ``super().__init__`` first, then set their signer, limits and limiter.
    ``_specs`` maps canonical symbols to the venue's precomputed per-symbol data and
    ``_by_venue_symbol`` maps the venue's names back to canonical symbols.
    """

    #: the venue family named in configuration errors (``"binance"``, ...)
    family: str = "venue"

    def __init__(
        self,
        config: VenueConfig,
        *,
        clock: Clock | None = None,
        dlq: DeadLetterQueue | None = None,
    ) -> None:
        super().__init__(config)
        self.clock: Clock = clock or RealClock()
        self.breakers = BreakerSet(self.name, clock=self.clock)
        self.http = HttpClient(
            self.name, config.rest_url, timeout=config.request_timeout, breakers=self.breakers
        )
        self.ws_url = (config.ws_url or "").rstrip("/")
        self.dlq = dlq or DeadLetterQueue()
        self._specs: dict[str, SpecT] = {}
        self._by_venue_symbol: dict[str, str] = {}
        self._time_offset_ms = 0
        self._http_started = False
        self._conns: set[WsConnection] = set()

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        if not self._http_started:
            await self.http.start()
            self._http_started = True
        await self.load_instruments()

    async def close(self) -> None:
        for conn in list(self._conns):
            await conn.close()
        self._conns.clear()
        if self._http_started:
            await self.http.close()
            self._http_started = False

    # -- clock -----------------------------------------------------------------------
    def now_ms(self) -> int:
        """Our clock corrected by the last measured offset to the venue's (ms)."""
        return int(self.clock.time() * 1000) + self._time_offset_ms

    # -- symbols ---------------------------------------------------------------------
    def _spec(self, symbol: str) -> SpecT:
        spec = self._specs.get(symbol)
        if spec is None:
            raise UnknownSymbol(f"{symbol} is not listed", venue=self.name)
        return spec

    def _canonical(self, venue_symbol: str) -> str:
        return self._by_venue_symbol.get(venue_symbol, venue_symbol)

    # -- WebSocket connections -------------------------------------------------------
    def _require_ws_url(self, url: str | None = None) -> str:
        url = self.ws_url if url is None else url
        if not url:
            raise ConfigError(f"{self.family}: ws_url is not configured", venue=self.name)
        return url

    def _track(self, conn: WsConnection) -> WsConnection:
        """Own ``conn``: ``close()`` ends it if the stream using it has not."""
        self._conns.add(conn)
        return conn

    async def _release(self, conn: WsConnection) -> None:
        """End a stream's connection (call from its ``finally``)."""
        self._conns.discard(conn)
        await conn.close()
