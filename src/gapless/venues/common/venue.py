"""``RestVenue``: the lifecycle and plumbing every native REST + WebSocket adapter shares.

What lives here is venue-neutral: the one request pipeline (``_send``: limiter, usage
sync, breaker accounting including bad data, rate-limit feedback, one re-sign), owning the
``HttpClient`` and its breakers, tracking the WebSocket connections an adapter opened so
``close()`` can end them, the offset between our clock and the venue's, dead-letter queue
wiring and symbol lookups. Signing, response classification and which answers warrant a
re-sign are hooks each venue's adapter supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from gapless.model.errors import (
    ConfigError,
    GaplessError,
    MalformedResponse,
    RateLimited,
    UnknownSymbol,
)
from gapless.transport.breaker import BreakerSet, ConnKind, FailureKind
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpClient, HttpResponse
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.transport.ws import WsConnection
from gapless.venues.base import Venue, VenueConfig
from gapless.venues.common.endpoints import AuthKind, Endpoint

R = TypeVar("R")
SpecT = TypeVar("SpecT")


class NoBudget(Exception):
    """An optional request found no room in the limiter right now (nothing was sent)."""


#: what ``RestVenue._sign`` returns: the query, body and headers to send
Signed = tuple[str, bytes | None, Mapping[str, str] | None]


def clock_offset_ms(server_ms: float, t0: float, t1: float) -> int:
    """Venue clock minus ours (ms), taking the request's midpoint ``(t0 + t1) / 2`` (s)."""
    return int(server_ms - (t0 + t1) * 500)


class RestVenue(Venue, Generic[SpecT]):
    """A ``Venue`` reached over one REST base URL plus WebSocket streams.

    Subclasses call ``super().__init__`` first, then set their signer, limits and limiter.
    Every REST request goes through :meth:`_send`; a venue supplies only ``_sign``,
    ``_classify`` and ``_resign`` (and, if it needs them, the usage-sync, scoped-limiter
    and rate-limit feedback hooks).
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
        self.limiter: RateLimiter  # set by the subclass
        self._breaker_pub = self.breakers.get(ConnKind.REST_PUBLIC)
        self._breaker_priv = self.breakers.get(ConnKind.REST_PRIVATE)

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

    # -- the request pipeline ---------------------------------------------------------
    async def _send(
        self,
        ep: Endpoint,
        decode: Callable[[Any], R],
        *,
        query: str = "",
        body: bytes | None = None,
        path: str | None = None,
        priority: Priority = Priority.QUERY,
        mutating: bool = False,
        scope: str = "",
        extra_costs: Mapping[str, int] | None = None,
        optional: bool = False,
    ) -> R:
        """Send one request to ``ep`` and return ``decode`` of its classified answer.

        Owns, for every venue: the limiter (``optional``: only if it fits now, else
        ``NoBudget``), usage-header sync, breaker accounting (an answer that
        ``_classify`` or ``decode`` cannot parse is ``BAD_DATA`` on the endpoint's breaker,
        a decoded one a success), rate-limit feedback, and the single re-sign after an
        answer ``_resign`` says proves the request was not executed (timestamp, nonce,
        expired token).
        """
        limiters: tuple[RateLimiter, ...]
        if ep.scoped_costs is None and extra_costs is None and not optional:
            if ep.costs:  # the common case, without another coroutine frame
                await self.limiter.acquire(ep.costs, priority)
            limiters = (self.limiter,)
        else:
            limiters = await self._acquire(ep, priority, scope, extra_costs, optional)
        breaker = self._breaker_priv if ep.private else self._breaker_pub
        url_path = ep.path if path is None else path
        signed = ep.auth is AuthKind.SIGNED
        attempt = 0
        while True:
            q, b, headers = self._sign(ep, url_path, query, body)
            resp = await self.http.request(ep.method, url_path, query=q, body=b,
                                           headers=headers, private=ep.private)
            self._sync_usage(ep, url_path, resp)
            try:
                payload = self._classify(ep, resp, mutating)
            except MalformedResponse:
                breaker.record_failure(FailureKind.BAD_DATA)
                raise
            except RateLimited as err:
                self._rate_limited(err, limiters, scope)
                raise
            except GaplessError as err:
                if signed and attempt == 0 and await self._resign(err, resp):
                    attempt = 1
                    continue
                raise
            try:
                result = decode(payload)
            except MalformedResponse:
                breaker.record_failure(FailureKind.BAD_DATA)
                raise
            breaker.record_success()  # the answer parsed: data is good again
            for lim in limiters:
                lim.on_success()
            return result

    async def _acquire(
        self,
        ep: Endpoint,
        priority: Priority,
        scope: str,
        extra_costs: Mapping[str, int] | None,
        optional: bool,
    ) -> tuple[RateLimiter, ...]:
        """Pay ``ep``'s costs; returns the limiters that get this request's feedback."""
        costs = ep.costs if extra_costs is None else {**ep.costs, **extra_costs}
        limiters: tuple[RateLimiter, ...] = ()
        if ep.scoped_costs is not None:
            scoped = self._scoped_limiter(scope)
            if optional:
                if not scoped.try_acquire(ep.scoped_costs, priority):
                    raise NoBudget(ep.name)
            else:
                await scoped.acquire(ep.scoped_costs, priority)
            limiters = (scoped,)
            if not costs:
                return limiters
        if optional:
            if not self.limiter.try_acquire(costs, priority):
                raise NoBudget(ep.name)
        elif costs:
            await self.limiter.acquire(costs, priority)
        return (*limiters, self.limiter)

    def _scoped_limiter(self, scope: str) -> RateLimiter:
        raise ConfigError(f"{self.family}: no scoped limiter for {scope!r}", venue=self.name)

    def _sign(self, ep: Endpoint, path: str, query: str, body: bytes | None) -> Signed:
        """The query, body and headers to send (venue-specific); default: as given."""
        return query, body, None

    def _classify(self, ep: Endpoint, resp: HttpResponse, mutating: bool) -> Any:
        """The payload of a successful answer (handed to ``decode``); raises the error
        tree's answer otherwise (``MalformedResponse`` when it cannot be read)."""
        raise NotImplementedError

    async def _resign(self, err: GaplessError, resp: HttpResponse) -> bool:
        """True if ``err`` proves a signed request was not executed and one re-signed
        attempt may go (after whatever re-sync that needs)."""
        return False

    def _sync_usage(self, ep: Endpoint, path: str, resp: HttpResponse) -> None:
        """Adopt the usage counts the venue reports in its headers (default: none)."""

    def _rate_limited(self, err: RateLimited, limiters: tuple[RateLimiter, ...],
                      scope: str) -> None:
        for lim in limiters:
            lim.on_rate_limited(err.retry_after, banned=err.banned)

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
