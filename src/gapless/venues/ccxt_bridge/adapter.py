"""``CcxtVenue``: one ccxt exchange behind the gapless ``Venue`` interface.

The pieces, by responsibility: ``hooks`` (the ccxt subclass whose ``fetch2`` and
``handle_errors`` put every REST request through gapless' limiter and breakers),
``translate`` (ccxt structures read into gapless models), ``streams`` (WebSocket or
polled books and private updates), ``exchanges/<ccxt id>.py`` (one exchange's profile
and quirks, which see this venue only through the narrow ``quirks.Bridge`` protocol).
This module builds the instance and implements the order path on top.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from gapless.model import (
    Balance,
    BookSnapshot,
    Fill,
    Instrument,
    Order,
    OrderReport,
    OrderState,
    OrderType,
    Side,
    TimeInForce,
)
from gapless.model.errors import (
    ConfigError,
    GaplessError,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    RateLimited,
)
from gapless.transport.backoff import Backoff
from gapless.transport.breaker import BreakerSet
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.venues.base import (
    Capabilities,
    ClientIdRule,
    PrivateEvent,
    Venue,
    VenueConfig,
)
from gapless.venues.ccxt_bridge import streams
from gapless.venues.ccxt_bridge.errors import map_ccxt_error
from gapless.venues.ccxt_bridge.hooks import CALL, Call, exchange_class
from gapless.venues.ccxt_bridge.limits import CcxtLimits
from gapless.venues.ccxt_bridge.options import CcxtOptions
from gapless.venues.ccxt_bridge.profiles import Profile, profile_for, rewrite_api_urls
from gapless.venues.ccxt_bridge.quirks import Quirks, quirks_for
from gapless.venues.ccxt_bridge.translate import (
    balances_from,
    book_from,
    fill_from,
    instruments_from,
    report_from,
)
from gapless.venues.ccxt_bridge.validity import recv_window_ms
from gapless.venues.ccxt_bridge.values import raw_items

T = TypeVar("T")


class CcxtVenue(Venue):
    """Any ccxt exchange; ``config.options["exchange"]`` is the ccxt id."""

    def __init__(
        self,
        config: VenueConfig,
        *,
        clock: Clock | None = None,
        dlq: DeadLetterQueue | None = None,
    ) -> None:
        super().__init__(config)
        try:
            self.options = opts = CcxtOptions.parse(config.options, venue=config.name)
        except ConfigError as exc:
            raise ConfigError(f"venue {config.name!r}: {exc.message}", venue=config.name) from None
        exchange_id = opts.exchange
        self.exchange_id = exchange_id
        self.profile: Profile = profile_for(exchange_id)
        self.quirks: Quirks = quirks_for(exchange_id)
        recv_window = recv_window_ms(config, self.profile.recv_window_max_ms)
        self.clock: Clock = clock or RealClock()
        self.dlq = dlq or DeadLetterQueue()
        self.poll_interval = opts.poll_interval_s
        self.book_depth = opts.book_depth
        self.backoff = Backoff(base=0.1, cap=opts.reconnect_cap_s)
        cls = exchange_class(exchange_id)
        creds = config.credentials
        ccxt_options: dict[str, Any] = {
            "maxRetriesOnFailure": 0,  # never let ccxt re-send anything (creates!)
            "adjustForTimeDifference": False,
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        }
        ccxt_options.update(self.profile.options)
        settings: dict[str, Any] = {
            "enableRateLimit": False,
            "timeout": int(config.request_timeout * 1000),
            "options": ccxt_options,
        }
        if creds.api_key:
            settings["apiKey"] = creds.api_key
        if creds.secret:
            settings["secret"] = creds.secret
        if creds.passphrase:
            settings["password"] = creds.passphrase
        self.ex: Any = cls(settings)
        if config.rest_url or config.ws_url:
            self.ex.urls["api"] = rewrite_api_urls(
                self.ex.urls.get("api", {}), config.rest_url, config.ws_url
            )
        if config.rest_url.startswith("http://") and (
            not config.ws_url or config.ws_url.startswith("ws://")
        ):
            # ccxt lingers 250 ms in close() so TLS transports can shut down cleanly;
            # with every URL in plain text there is nothing to drain
            self.ex.timeout_on_exit = 0
        rate_ms = float(opts.rate_limit_ms or self.ex.rateLimit or 1000)
        self.header_feedback = opts.header_limits
        self.limits = CcxtLimits(
            rate_ms,
            self.profile.headers if self.header_feedback else (),
            window_s=opts.rate_window_s,
            extra_rules=self.quirks.limit_rules() if self.header_feedback else (),
        )
        self.breakers = BreakerSet(self.name, clock=self.clock)
        self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)
        self.ex._gapless_bridge = self
        has = dict(getattr(self.ex, "has", {}) or {})
        #: unified limit/market orders and time in force; ids by the profile's rule; streams
        #: where ccxt.pro watches them (else the bridge polls)
        self.capabilities = Capabilities(
            order_types=frozenset(OrderType), time_in_force=frozenset(TimeInForce),
            client_id=ClientIdRule(pattern=self.profile.id_pattern, max_length=self.profile.id_max),
            book_stream=bool(has.get("watchOrderBook")),
            private_stream=bool(has.get("watchOrders")),
        )
        self._vid_by_cid: dict[str, str] = {}
        self._closed = False
        self.quirks.prepare(self)
        self._validity = self.quirks.sign_validity(self, recv_window)

    # -- plumbing --------------------------------------------------------------------
    def has(self, feature: str) -> bool:
        return bool(self.ex.has.get(feature))

    async def call(
        self,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        priority: Priority = Priority.QUERY,
        mutating: bool = False,
        op: str = "",
    ) -> T:
        """``fn(*args)`` in its own call context (limiter lane, status and headers for the
        error map), so concurrent calls on one ccxt instance never mix them up."""
        call = Call(priority, mutating)
        token = CALL.set(call)
        try:
            return await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise (self.quirks.map_error(exc, venue=self.name, op=op) or map_ccxt_error(
                exc, venue=self.name, mutating=mutating, op=op,
                status=call.status, headers=call.headers,
            )) from exc
        finally:
            CALL.reset(token)

    async def _call_raw(
        self, fn: Callable[..., Awaitable[T]], *args: Any, op: str = "query"
    ) -> tuple[T, int]:
        """A read whose parsed result must not silently lose entries: also returns how
        many entries the raw answer held."""
        call = Call(Priority.QUERY, False)
        token = CALL.set(call)
        try:
            result = await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise map_ccxt_error(
                exc, venue=self.name, op=op, status=call.status, headers=call.headers
            ) from exc
        finally:
            CALL.reset(token)
        return result, raw_items(call.raw)

    def _check_lossless(self, parsed: int, raw: int, what: str) -> None:
        if parsed < raw:
            raise MalformedResponse(
                f"{what}: the venue sent {raw} entries, only {parsed} could be read",
                venue=self.name,
            )

    # -- lifecycle -------------------------------------------------------------------
    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self.ex.close()

    # -- reference data --------------------------------------------------------------
    async def load_instruments(self) -> dict[str, Instrument]:
        if self.profile.sync_clock:  # before ccxt signs anything (e.g. currency reads)
            await self.call(self.ex.load_time_difference)
        markets = await self.call(self.ex.load_markets, True)
        mode = int(getattr(self.ex, "precisionMode", 4) or 4)
        self.instruments = instruments_from(markets, mode, self.name)
        return self.instruments

    def client_order_id(self, intent_id: str) -> str:
        return self.profile.client_order_id(intent_id)

    def request_validity(self) -> float | None:
        return self._validity  # what ccxt signs with (see validity.py)

    # -- translation -----------------------------------------------------------------
    def fill(self, t: Any, symbol: str, side: Side | None, cid: str, vid: str) -> Fill | None:
        return fill_from(t, symbol, side, cid, vid, venue=self.name, instruments=self.instruments)

    def report(self, o: Any, symbol: str, cid_hint: str = "") -> tuple[OrderReport, bool]:
        """An OrderReport from a ccxt order (after the exchange's ``normalize_order``); the
        bool says the status was known. Remembers the venue order id of the client id."""
        rep, known = report_from(
            self.quirks.normalize_order(self, o), symbol, cid_hint,
            venue=self.name, instruments=self.instruments,
        )
        if rep.client_order_id:
            self._vid_by_cid[rep.client_order_id] = rep.venue_order_id
        return rep, known

    def known_venue_order_id(self, client_order_id: str) -> str | None:
        return self._vid_by_cid.get(client_order_id)

    # -- trading ---------------------------------------------------------------------
    def _order_params(self, order: Order) -> dict[str, Any]:
        params: dict[str, Any] = {self.profile.create_param: order.client_order_id}
        if order.tif is TimeInForce.POST_ONLY:
            params["postOnly"] = True
        elif order.type is OrderType.LIMIT and order.tif is not TimeInForce.GTC:
            params["timeInForce"] = order.tif.value.upper()
        return params

    async def place_order(self, order: Order) -> OrderReport:
        inst = self.instrument(order.symbol)
        amount = format(order.qty, "f")
        price = format(order.price, "f") if order.price is not None else None
        params = self.quirks.order_params(self, order, self._order_params(order))
        prior_vid = self._vid_by_cid.get(order.client_order_id)
        o = await self.call(
            self.ex.create_order, inst.symbol, order.type.value, order.side.value, amount, price,
            params, priority=Priority.ORDER, mutating=True, op="create",
        )
        try:
            rep, known = self.report(o, inst.symbol, order.client_order_id)
        except MalformedResponse:
            # the venue acknowledged something we cannot read: it may have taken effect
            raise
        if rep.client_order_id != order.client_order_id:
            rep = msgspec_replace(rep, client_order_id=order.client_order_id)
        self.quirks.check_created(self, order, rep, prior_vid)
        if not known or (rep.filled_qty > 0 and not rep.fills):
            # a bare acknowledgement (id only) or fills not included: ask for the rest
            with contextlib.suppress(GaplessError):
                full = await self.query_by_ids(inst.symbol, order.client_order_id, rep.venue_order_id)
                rep = full if full.fills or full.filled_qty == 0 else msgspec_replace(
                    full, fills=tuple(await self.fills_for(inst.symbol, full))
                )
        if (order.tif is TimeInForce.POST_ONLY and rep.state is OrderState.CANCELED
                and rep.filled_qty == 0):
            # venues that accept a crossing post-only order and cancel it at once (OKX
            # cancelSource 31, Bybit EC_PostOnlyWillTakeLiquidity, Kraken): it never rested
            # and never traded, which is a rejection
            raise InvalidOrder(
                f"post-only order {order.client_order_id} would have taken liquidity: "
                "canceled by the venue on arrival", venue=self.name, code="post_only_canceled",
            )
        return rep

    async def fills_for(self, symbol: str, rep: OrderReport) -> list[Fill]:
        if not self.has("fetchMyTrades") or rep.filled_qty == 0:
            return []
        trades = await self.call(self.ex.fetch_my_trades, symbol)
        return [
            f for f in self._fills_from(trades, symbol, rep.side, rep.client_order_id)
            if f.venue_order_id == rep.venue_order_id
        ]

    def _fills_from(self, trades: Any, symbol: str, side: Side | None, cid: str) -> list[Fill]:
        if not isinstance(trades, list):
            raise MalformedResponse("trades are not a list", venue=self.name)
        out = []
        for t in trades:
            f = self.fill(t, symbol, side, cid, "")
            if f is not None:
                out.append(f)
        return out

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        inst = self.instrument(symbol)
        prof = self.profile
        if prof.cancel_param:
            o = await self.call(
                self.ex.cancel_order, None, inst.symbol, {prof.cancel_param: client_order_id},
                priority=Priority.CANCEL, mutating=True, op="cancel",
            )
        else:
            vid = self._vid_by_cid.get(client_order_id)
            if vid is None:
                vid = (await self.query_order(symbol, client_order_id)).venue_order_id
            o = await self.call(
                self.ex.cancel_order, vid, inst.symbol,
                priority=Priority.CANCEL, mutating=True, op="cancel",
            )
        try:
            rep, known = self.report(o, inst.symbol, client_order_id)
        except MalformedResponse:
            known = False
            rep = None
        if rep is None or not known or not rep.state.is_terminal:
            # many venues answer a cancel with an id only: read the order's state
            rep = await self.query_order(symbol, client_order_id)
            if rep.state.is_open:
                rep = msgspec_replace(rep, state=OrderState.PENDING_CANCEL)
        if rep.client_order_id != client_order_id:
            rep = msgspec_replace(rep, client_order_id=client_order_id)
        return rep

    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        inst = self.instrument(symbol)
        return await self.query_by_ids(inst.symbol, client_order_id, self._vid_by_cid.get(client_order_id))

    async def query_by_ids(self, symbol: str, cid: str, vid: str | None) -> OrderReport:
        prof = self.profile
        found = await self.quirks.find_by_client_id(self, symbol, cid)
        if found is not None:
            rep, _ = self.report(found, symbol, cid)
            return rep if rep.client_order_id == cid else msgspec_replace(rep, client_order_id=cid)
        if self.has("fetchOrder"):
            if prof.query_param:
                o = await self.call(
                    self.ex.fetch_order, None, symbol, {prof.query_param: cid, **prof.query_extra},
                    op="query",
                )
                rep, _ = self.report(o, symbol, cid)
                return rep if rep.client_order_id == cid else msgspec_replace(rep, client_order_id=cid)
            if vid:
                o = await self.call(self.ex.fetch_order, vid, symbol, dict(prof.query_extra), op="query")
                rep, _ = self.report(o, symbol, cid)
                return msgspec_replace(rep, client_order_id=cid)
        return await self._scan_for(symbol, cid)

    async def _scan_for(self, symbol: str, cid: str) -> OrderReport:
        """The venue cannot look up by client id: search open, then recent closed orders."""
        sources: list[Callable[..., Awaitable[Any]]] = []
        if self.has("fetchOpenOrders"):
            sources.append(self.ex.fetch_open_orders)
        if self.has("fetchClosedOrders"):
            sources.append(self.ex.fetch_closed_orders)
        if self.has("fetchCanceledOrders"):
            sources.append(self.ex.fetch_canceled_orders)
        if not sources and self.has("fetchOrders"):
            sources.append(self.ex.fetch_orders)
        for src in sources:
            orders = await self.call(src, symbol, op="query")
            if not isinstance(orders, list):
                raise MalformedResponse("orders are not a list", venue=self.name)
            for o in orders:
                if isinstance(o, dict) and o.get("clientOrderId") == cid:
                    rep, _ = self.report(o, symbol, cid)
                    return rep
        raise OrderNotFound(f"no order with client id {cid!r}", venue=self.name)

    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        sym = self.instrument(symbol).symbol if symbol is not None else None
        orders, raw_n = await self._call_raw(self.ex.fetch_open_orders, sym)
        if not isinstance(orders, list):
            raise MalformedResponse("open orders are not a list", venue=self.name)
        self._check_lossless(len(orders), raw_n, "open orders")
        out = []
        for o in orders:
            s = o.get("symbol") if isinstance(o, dict) else None
            rep, _ = self.report(o, sym or (s if isinstance(s, str) else ""))
            out.append(rep)
        return out

    async def balances(self) -> dict[str, Balance]:
        bal, raw_n = await self._call_raw(self.ex.fetch_balance)
        return balances_from(bal, raw_n, self.name)

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        inst = self.instrument(symbol)
        if client_order_id is None:
            trades = await self.call(self.ex.fetch_my_trades, inst.symbol)
            return self._fills_from(trades, inst.symbol, None, "")
        rep = await self.query_order(symbol, client_order_id)
        trades = await self.call(self.ex.fetch_my_trades, inst.symbol)
        return [
            f for f in self._fills_from(trades, inst.symbol, rep.side, client_order_id)
            if f.venue_order_id == rep.venue_order_id
        ]

    # -- market data -----------------------------------------------------------------
    def _book_limit(self, depth: int) -> int | None:
        allowed = self.profile.book_limits
        if allowed is None:
            return depth
        for lim in allowed:
            if lim >= depth:
                return lim
        return allowed[-1]

    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot:
        inst = self.instrument(symbol)
        depth = max(1, depth)
        ob = await self.call(self.ex.fetch_order_book, inst.symbol, self._book_limit(depth))
        book = book_from(ob, inst.symbol, depth, self.name)
        if not book.bids and not book.asks:
            raise MalformedResponse("order book has no levels", venue=self.name)
        return book

    @property
    def closed(self) -> bool:
        return self._closed

    def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        return streams.watch_book(self, symbol)

    def private_events(self) -> AsyncIterator[PrivateEvent]:
        return streams.private_events(self)


def msgspec_replace(rep: OrderReport, **changes: Any) -> OrderReport:
    import msgspec

    return msgspec.structs.replace(rep, **changes)


__all__ = ["CcxtVenue", "RateLimited"]
