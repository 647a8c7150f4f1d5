"""``CcxtVenue``: one ccxt exchange behind the gapless ``Venue`` interface.

The ccxt instance is a small subclass of the exchange's class (ccxt.pro's when there is
one) that overrides two hooks:

* ``fetch2`` (every REST request): checks the circuit breaker for the connection kind,
  waits its turn in gapless' ``RateLimiter`` (ccxt's own limiter is off) with the cost
  ccxt computes for the endpoint and the priority lane of the bridge call that issued it
  (cancel > order > query), and records the outcome on the breaker;
* ``handle_errors`` (every HTTP answer): feeds the venue's usage headers back into the
  limiter (the profile's usage headers, and whatever the exchange module reads from
  them for its own rules) and remembers status and headers for the error mapping.

The bridge call's context travels in a ``ContextVar``, so concurrent calls on one ccxt
instance never see each other's status or headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import ccxt.async_support as ccxt_async
from ccxt.base import errors as cx

from gapless.model import (
    Balance,
    BookLevel,
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
from gapless.transport.breaker import BreakerSet, ConnKind, FailureKind
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.venues.base import PrivateEvent, Reconnected, Venue, VenueConfig
from gapless.venues.ccxt_bridge.errors import map_ccxt_error, retry_after_s
from gapless.venues.ccxt_bridge.limits import CcxtLimits
from gapless.venues.ccxt_bridge.profiles import Profile, profile_for, rewrite_api_urls
from gapless.venues.ccxt_bridge.quirks import Quirks, quirks_for
from gapless.venues.ccxt_bridge.validity import recv_window_ms
from gapless.venues.ccxt_bridge.values import ZERO, hollow, raw_items
from gapless.venues.ccxt_bridge.values import tick_size as _tick
from gapless.venues.ccxt_bridge.values import to_decimal as _dec

T = TypeVar("T")

_STATUS = {
    "open": OrderState.ACCEPTED,
    "closed": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "cancelled": OrderState.CANCELED,
    "expired": OrderState.CANCELED,
    "rejected": OrderState.REJECTED,
}
_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")
_ASSET_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")


class _Call:
    """What one bridge call knows about the HTTP exchange(s) it caused."""

    __slots__ = ("headers", "mutating", "priority", "raw", "status", "strict")

    def __init__(self, priority: Priority, mutating: bool, strict: bool = True) -> None:
        self.priority = priority
        self.mutating = mutating
        self.strict = strict
        self.status: int | None = None
        self.headers: dict[str, str] | None = None
        self.raw: Any = None  # the last decoded JSON answer


_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("gapless_ccxt_call", default=None)


def _is_private(api: Any) -> bool:
    names = api if isinstance(api, list | tuple) else [api]
    return any("private" in str(n).lower() or str(n).lower() in ("sapi", "papi") for n in names)


def _exchange_class(exchange_id: str) -> type:
    """ccxt.pro's class when the exchange has one (WebSocket methods), else the async one,
    subclassed with the bridge hooks."""
    base: type | None = None
    with contextlib.suppress(ImportError):
        import ccxt.pro as ccxt_pro

        if exchange_id in ccxt_pro.exchanges:
            base = getattr(ccxt_pro, exchange_id)
    if base is None:
        if exchange_id not in ccxt_async.exchanges:
            raise ConfigError(f"ccxt has no exchange {exchange_id!r}")
        base = getattr(ccxt_async, exchange_id)
    assert base is not None
    parent: Any = base

    async def fetch2(self: Any, path: Any, api: Any = "public", method: str = "GET",
                     params: Any = None, config: Any = None) -> Any:
        params = {} if params is None else params
        config = {} if config is None else config
        bridge: CcxtVenue | None = getattr(self, "_gapless_bridge", None)
        if bridge is None:
            return await parent.fetch2(self, path, api, method, params, config)
        call = _CALL.get()
        priority = call.priority if call is not None else Priority.QUERY
        breaker = bridge.breakers.get(
            ConnKind.REST_PRIVATE if _is_private(api) else ConnKind.REST_PUBLIC
        )
        breaker.check()
        cost = self.calculate_rate_limiter_cost(api, method, path, params, config)
        try:
            cost_f = float(cost)
        except (TypeError, ValueError):
            cost_f = 1.0
        costs = bridge.limits.costs(
            cost_f, priority, bridge.quirks.limit_costs(api, method, str(path))
            if bridge.header_feedback else None,
        )
        while (hold := bridge.limits.hold_s(costs, bridge.clock.time())) > 0:
            await bridge.clock.sleep(hold)  # the venue said this pool is spent until then
        await bridge.limiter.acquire(costs, priority)
        try:
            resp = await parent.fetch2(self, path, api, method, params, config)
        except (cx.RateLimitExceeded, cx.DDoSProtection):
            status = call.status if call is not None else None
            hdrs = call.headers if call is not None else None
            bridge.limiter.on_rate_limited(retry_after_s(hdrs), banned=status == 418)
            breaker.record_success()  # the venue answered
            raise
        except cx.RequestTimeout:
            breaker.record_failure(FailureKind.CONNECTION)
            raise
        except cx.NetworkError:
            status = call.status if call is not None else None
            breaker.record_failure(
                FailureKind.VENUE_DOWN if status is not None and status >= 500
                else FailureKind.CONNECTION
            )
            raise
        except MalformedResponse:
            breaker.record_failure(FailureKind.BAD_DATA)
            raise
        except cx.ExchangeError:
            status = call.status if call is not None else None
            if status is not None and status >= 500:
                breaker.record_failure(FailureKind.VENUE_DOWN)
            else:
                breaker.record_success()
            raise
        if call is not None and call.strict and (
            not isinstance(resp, dict | list) or hollow(resp)
        ):
            breaker.record_failure(FailureKind.BAD_DATA)
            raise MalformedResponse(
                f"{self.id} {method} {path}: empty or non-JSON answer", venue=bridge.name
            )
        breaker.record_success()
        return resp

    def handle_errors(self: Any, *args: Any) -> Any:
        bridge: CcxtVenue | None = getattr(self, "_gapless_bridge", None)
        if bridge is not None and len(args) >= 7:
            code, headers, body, response = args[0], args[4], args[5], args[6]
            call = _CALL.get()
            if call is not None:
                call.status = code if isinstance(code, int) else None
                call.headers = headers if isinstance(headers, dict) else None
                call.raw = response
            if isinstance(headers, dict):
                bridge.limits.sync(bridge.limiter, headers)
                if bridge.header_feedback:
                    bridge.limits.adopt(
                        bridge.limiter,
                        bridge.quirks.usage_from_headers(str(args[2]), headers),
                        bridge.clock.time(),
                    )
            if isinstance(code, int) and 200 <= code < 300:
                bridge.limiter.on_success()
                if response is None and body and call is not None and call.strict:
                    raise MalformedResponse(
                        f"{self.id}: answer is not JSON ({str(body)[:60]!r})", venue=bridge.name
                    )
                if response is not None and call is not None and call.strict:
                    problem = bridge.quirks.envelope_problem(response)
                    if problem is not None:
                        raise MalformedResponse(f"{self.id}: {problem}", venue=bridge.name)
        return parent.handle_errors(self, *args)

    return type(f"Gapless_{exchange_id}", (parent,), {"fetch2": fetch2, "handle_errors": handle_errors})


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
        opts = config.options
        exchange_id = opts.get("exchange", "").strip()
        if not exchange_id:
            raise ConfigError(f'venue {config.name!r}: driver "ccxt" needs exchange = "<ccxt id>"')
        self.exchange_id = exchange_id
        self.profile: Profile = profile_for(exchange_id)
        self.quirks: Quirks = quirks_for(exchange_id)
        recv_window = recv_window_ms(config, self.profile.recv_window_max_ms)
        self.clock: Clock = clock or RealClock()
        self.dlq = dlq or DeadLetterQueue()
        self.poll_interval = float(opts.get("poll_interval_s", "1.0"))
        self.book_depth = int(opts.get("book_depth", "20"))
        self.backoff = Backoff(base=0.1, cap=float(opts.get("reconnect_cap_s", "5.0")))
        cls = _exchange_class(exchange_id)
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
        rate_ms = float(opts.get("rate_limit_ms", "0")) or float(self.ex.rateLimit or 1000)
        self.header_feedback = opts.get("header_limits", "on") != "off"
        self.limits = CcxtLimits(
            rate_ms,
            self.profile.headers if self.header_feedback else (),
            window_s=float(opts.get("rate_window_s", "1.0")),
            extra_rules=self.quirks.limit_rules() if self.header_feedback else (),
        )
        self.breakers = BreakerSet(self.name, clock=self.clock)
        self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)
        self.ex._gapless_bridge = self
        self._vid_by_cid: dict[str, str] = {}
        self._closed = False
        self.quirks.prepare(self)
        self._validity = self.quirks.sign_validity(self, recv_window)

    # -- plumbing --------------------------------------------------------------------
    def has(self, feature: str) -> bool:
        return bool(self.ex.has.get(feature))

    async def _call(
        self,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        priority: Priority = Priority.QUERY,
        mutating: bool = False,
        op: str = "",
    ) -> T:
        call = _Call(priority, mutating)
        token = _CALL.set(call)
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
            _CALL.reset(token)

    async def _call_raw(
        self, fn: Callable[..., Awaitable[T]], *args: Any, op: str = "query"
    ) -> tuple[T, int]:
        """A read whose parsed result must not silently lose entries: also returns how
        many entries the raw answer held."""
        call = _Call(Priority.QUERY, False)
        token = _CALL.set(call)
        try:
            result = await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise map_ccxt_error(
                exc, venue=self.name, op=op, status=call.status, headers=call.headers
            ) from exc
        finally:
            _CALL.reset(token)
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
            await self._call(self.ex.load_time_difference)
        markets = await self._call(self.ex.load_markets, True)
        if not isinstance(markets, dict):
            raise MalformedResponse("markets are not a mapping", venue=self.name)
        mode = int(getattr(self.ex, "precisionMode", 4) or 4)
        out: dict[str, Instrument] = {}
        for sym, m in markets.items():
            if not isinstance(m, dict) or not m.get("spot") or m.get("active") is False:
                continue
            base, quote = m.get("base"), m.get("quote")
            if not (isinstance(sym, str) and isinstance(base, str) and isinstance(quote, str)):
                continue
            if sym != f"{base}/{quote}":
                continue
            prec = m.get("precision") or {}
            lim = m.get("limits") or {}
            amount, price, cost = lim.get("amount") or {}, lim.get("price") or {}, lim.get("cost") or {}
            try:
                out[sym] = Instrument(
                    venue=self.name,
                    symbol=sym,
                    venue_symbol=str(m.get("id") or sym),
                    base=base,
                    quote=quote,
                    tick_size=_tick(prec.get("price"), mode, self.name),
                    step_size=_tick(prec.get("amount"), mode, self.name),
                    min_qty=_dec(amount.get("min"), "min qty", self.name) or ZERO,
                    max_qty=_dec(amount.get("max"), "max qty", self.name) or ZERO,
                    min_notional=_dec(cost.get("min"), "min notional", self.name) or ZERO,
                    min_price=_dec(price.get("min"), "min price", self.name) or ZERO,
                    max_price=_dec(price.get("max"), "max price", self.name) or ZERO,
                )
            except MalformedResponse:
                continue
        self.instruments = out
        return out

    def client_order_id(self, intent_id: str) -> str:
        return self.profile.client_order_id(intent_id)

    def request_validity(self) -> float | None:
        return self._validity  # what ccxt signs with (see validity.py)

    # -- translation -----------------------------------------------------------------
    def _fill(self, t: Any, symbol: str, side: Side | None, cid: str, vid: str) -> Fill | None:
        if not isinstance(t, dict):
            raise MalformedResponse("trade is not an object", venue=self.name)
        tid = t.get("id")
        if tid is None:
            return None
        tid = str(tid)
        if not _ID_RE.fullmatch(tid):
            raise MalformedResponse("bad trade id", venue=self.name)
        qty = _dec(t.get("amount"), "trade qty", self.name)
        price = _dec(t.get("price"), "trade price", self.name)
        if qty is None or price is None or qty <= 0 or price <= 0:
            raise MalformedResponse("trade without qty/price", venue=self.name)
        inst = self.instruments.get(symbol)
        if inst is not None and inst.step_size > 0:
            qty = qty.quantize(inst.step_size)
        tside = t.get("side")
        if tside in ("buy", "sell"):
            side = Side(tside)
        if side is None:
            raise MalformedResponse("trade without side", venue=self.name)
        fee = t.get("fee") or {}
        fee_cost = _dec(fee.get("cost"), "fee", self.name) if isinstance(fee, dict) else None
        fee_asset = fee.get("currency") if isinstance(fee, dict) else None
        ts = t.get("timestamp")
        return Fill(
            venue=self.name,
            trade_id=tid,
            symbol=symbol,
            side=side,
            qty=qty,
            price=price,
            fee=fee_cost or ZERO,
            fee_asset=fee_asset if isinstance(fee_asset, str) else "",
            is_maker=t.get("takerOrMaker") == "maker",
            ts_ms=ts if isinstance(ts, int) else 0,
            client_order_id=cid,
            venue_order_id=str(t.get("order") or vid),
        )

    def _report(self, o: Any, symbol: str, cid_hint: str = "") -> tuple[OrderReport, bool]:
        """An OrderReport from a ccxt order; the bool says the status was known."""
        o = self.quirks.normalize_order(self, o)
        if not isinstance(o, dict):
            raise MalformedResponse("order is not an object", venue=self.name)
        vid = o.get("id")
        if vid is None or not _ID_RE.fullmatch(str(vid)) or str(vid).startswith("{"):
            raise MalformedResponse("order without a usable id", venue=self.name)
        vid = str(vid)
        sym = o.get("symbol") or symbol
        if sym != symbol and sym not in self.instruments:
            raise MalformedResponse(f"order for unknown symbol {str(sym)[:40]!r}", venue=self.name)
        raw_status = o.get("status")
        if raw_status is not None and raw_status not in _STATUS:
            raise MalformedResponse(f"unknown order status {str(raw_status)[:40]!r}", venue=self.name)
        raw_side = o.get("side")
        if raw_side is not None and raw_side not in ("buy", "sell"):
            raise MalformedResponse("unknown order side", venue=self.name)
        side = Side(raw_side) if raw_side else None
        cid = o.get("clientOrderId")
        cid = str(cid) if cid not in (None, "") else cid_hint
        if cid and not _ID_RE.fullmatch(cid):
            raise MalformedResponse("bad client order id", venue=self.name)
        amount = _dec(o.get("amount"), "order qty", self.name)
        filled = _dec(o.get("filled"), "filled qty", self.name) or ZERO
        cost = _dec(o.get("cost"), "order cost", self.name)
        price = _dec(o.get("price"), "order price", self.name)
        average = _dec(o.get("average"), "average price", self.name)
        inst = self.instruments.get(sym)
        if inst is not None and inst.step_size > 0:
            if amount is not None:
                amount = amount.quantize(inst.step_size)
            filled = filled.quantize(inst.step_size)
        if o.get("type") == "market":
            price = None
        if cost is None:
            cost = filled * average if average is not None else ZERO
        fills: list[Fill] = []
        trades = o.get("trades") or []
        if not isinstance(trades, list):
            raise MalformedResponse("order trades is not a list", venue=self.name)
        for t in trades:
            f = self._fill(t, sym, side, cid, vid)
            if f is not None:
                fills.append(f)
        if raw_status is None:
            state = OrderState.ACCEPTED if filled == 0 else OrderState.PARTIALLY_FILLED
        else:
            state = _STATUS[raw_status]
            if state is OrderState.ACCEPTED and filled > 0:
                state = OrderState.PARTIALLY_FILLED
            elif state is OrderState.FILLED and amount is not None and filled < amount:
                state = OrderState.CANCELED  # "closed" short of the amount: remainder gone
        ts = o.get("lastUpdateTimestamp") or o.get("timestamp")
        if cid:
            self._vid_by_cid[cid] = vid
        rep = OrderReport(
            venue=self.name,
            symbol=sym,
            client_order_id=cid,
            venue_order_id=vid,
            state=state,
            side=side,
            qty=amount or ZERO,
            price=price,
            filled_qty=filled,
            quote_filled=cost,
            fills=tuple(fills),
            ts_ms=ts if isinstance(ts, int) else 0,
        )
        return rep, raw_status is not None

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
        o = await self._call(
            self.ex.create_order, inst.symbol, order.type.value, order.side.value, amount, price,
            params, priority=Priority.ORDER, mutating=True, op="create",
        )
        try:
            rep, known = self._report(o, inst.symbol, order.client_order_id)
        except MalformedResponse:
            # the venue acknowledged something we cannot read: it may have taken effect
            raise
        if rep.client_order_id != order.client_order_id:
            rep = msgspec_replace(rep, client_order_id=order.client_order_id)
        self.quirks.check_created(self, order, rep, prior_vid)
        if not known or (rep.filled_qty > 0 and not rep.fills):
            # a bare acknowledgement (id only) or fills not included: ask for the rest
            with contextlib.suppress(GaplessError):
                full = await self._query(inst.symbol, order.client_order_id, rep.venue_order_id)
                rep = full if full.fills or full.filled_qty == 0 else msgspec_replace(
                    full, fills=tuple(await self._fills_for(inst.symbol, full))
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

    async def _fills_for(self, symbol: str, rep: OrderReport) -> list[Fill]:
        if not self.has("fetchMyTrades") or rep.filled_qty == 0:
            return []
        trades = await self._call(self.ex.fetch_my_trades, symbol)
        return [
            f for f in self._fills_from(trades, symbol, rep.side, rep.client_order_id)
            if f.venue_order_id == rep.venue_order_id
        ]

    def _fills_from(self, trades: Any, symbol: str, side: Side | None, cid: str) -> list[Fill]:
        if not isinstance(trades, list):
            raise MalformedResponse("trades are not a list", venue=self.name)
        out = []
        for t in trades:
            f = self._fill(t, symbol, side, cid, "")
            if f is not None:
                out.append(f)
        return out

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        inst = self.instrument(symbol)
        prof = self.profile
        if prof.cancel_param:
            o = await self._call(
                self.ex.cancel_order, None, inst.symbol, {prof.cancel_param: client_order_id},
                priority=Priority.CANCEL, mutating=True, op="cancel",
            )
        else:
            vid = self._vid_by_cid.get(client_order_id)
            if vid is None:
                vid = (await self.query_order(symbol, client_order_id)).venue_order_id
            o = await self._call(
                self.ex.cancel_order, vid, inst.symbol,
                priority=Priority.CANCEL, mutating=True, op="cancel",
            )
        try:
            rep, known = self._report(o, inst.symbol, client_order_id)
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
        return await self._query(inst.symbol, client_order_id, self._vid_by_cid.get(client_order_id))

    async def _query(self, symbol: str, cid: str, vid: str | None) -> OrderReport:
        prof = self.profile
        found = await self.quirks.find_by_client_id(self, symbol, cid)
        if found is not None:
            rep, _ = self._report(found, symbol, cid)
            return rep if rep.client_order_id == cid else msgspec_replace(rep, client_order_id=cid)
        if self.has("fetchOrder"):
            if prof.query_param:
                o = await self._call(
                    self.ex.fetch_order, None, symbol, {prof.query_param: cid, **prof.query_extra},
                    op="query",
                )
                rep, _ = self._report(o, symbol, cid)
                return rep if rep.client_order_id == cid else msgspec_replace(rep, client_order_id=cid)
            if vid:
                o = await self._call(self.ex.fetch_order, vid, symbol, dict(prof.query_extra), op="query")
                rep, _ = self._report(o, symbol, cid)
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
            orders = await self._call(src, symbol, op="query")
            if not isinstance(orders, list):
                raise MalformedResponse("orders are not a list", venue=self.name)
            for o in orders:
                if isinstance(o, dict) and o.get("clientOrderId") == cid:
                    rep, _ = self._report(o, symbol, cid)
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
            rep, _ = self._report(o, sym or (s if isinstance(s, str) else ""))
            out.append(rep)
        return out

    async def balances(self) -> dict[str, Balance]:
        bal, raw_n = await self._call_raw(self.ex.fetch_balance)
        if not isinstance(bal, dict):
            raise MalformedResponse("balance is not an object", venue=self.name)
        free_map, used_map = bal.get("free"), bal.get("used")
        if not isinstance(free_map, dict) or not isinstance(used_map, dict):
            raise MalformedResponse("balance without free/used", venue=self.name)
        out: dict[str, Balance] = {}
        for asset in set(free_map) | set(used_map):
            if not isinstance(asset, str) or not _ASSET_RE.fullmatch(asset):
                raise MalformedResponse(f"bad asset code {str(asset)[:40]!r}", venue=self.name)
            free = _dec(free_map.get(asset), f"{asset} free", self.name)
            used = _dec(used_map.get(asset), f"{asset} used", self.name)
            if free is None and used is None:
                continue
            out[asset] = Balance(asset=asset, free=free or ZERO, locked=used or ZERO)
        if raw_n and not out:
            raise MalformedResponse(f"balance: {raw_n} entries sent, none readable", venue=self.name)
        return out

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        inst = self.instrument(symbol)
        if client_order_id is None:
            trades = await self._call(self.ex.fetch_my_trades, inst.symbol)
            return self._fills_from(trades, inst.symbol, None, "")
        rep = await self.query_order(symbol, client_order_id)
        trades = await self._call(self.ex.fetch_my_trades, inst.symbol)
        return [
            f for f in self._fills_from(trades, inst.symbol, rep.side, client_order_id)
            if f.venue_order_id == rep.venue_order_id
        ]

    # -- market data -----------------------------------------------------------------
    def _book(self, ob: Any, symbol: str, depth: int) -> BookSnapshot:
        if not isinstance(ob, dict):
            raise MalformedResponse("order book is not an object", venue=self.name)

        def side(raw: Any, what: str, reverse: bool) -> tuple[BookLevel, ...]:
            if not isinstance(raw, list):
                raise MalformedResponse(f"{what} are not a list", venue=self.name)
            levels = []
            for lv in raw:
                if not isinstance(lv, list | tuple) or len(lv) < 2:
                    raise MalformedResponse(f"bad {what} level", venue=self.name)
                p = _dec(lv[0], "price", self.name)
                q = _dec(lv[1], "qty", self.name)
                if p is None or q is None or p <= 0 or q < 0:
                    raise MalformedResponse(f"bad {what} level", venue=self.name)
                if q > 0:
                    levels.append(BookLevel(p, q))
            levels.sort(key=lambda lv: lv.price, reverse=reverse)
            return tuple(levels[:depth])

        bids = side(ob.get("bids"), "bids", True)
        asks = side(ob.get("asks"), "asks", False)
        nonce = ob.get("nonce")
        ts = ob.get("timestamp")
        return BookSnapshot(
            venue=self.name, symbol=symbol, bids=bids, asks=asks,
            sequence=nonce if isinstance(nonce, int) else 0,
            ts_ms=ts if isinstance(ts, int) else 0,
        )

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
        ob = await self._call(self.ex.fetch_order_book, inst.symbol, self._book_limit(depth))
        book = self._book(ob, inst.symbol, depth)
        if not book.bids and not book.asks:
            raise MalformedResponse("order book has no levels", venue=self.name)
        return book

    def _ws_ok(self, feature: str) -> bool:
        """Use ccxt.pro for ``feature`` if the exchange has it and its WS is reachable
        (a REST-only override without ``ws_url`` keeps us on polling)."""
        if not self.has(feature):
            return False
        return bool(self.config.ws_url) or not self.config.rest_url

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        inst = self.instrument(symbol)
        attempt = 0
        if self._ws_ok("watchOrderBook"):
            while not self._closed:
                try:
                    ob = await self._call_ws(self.ex.watch_order_book, inst.symbol)
                except GaplessError:
                    await self.clock.sleep(self.backoff.delay(attempt))
                    attempt += 1
                    continue
                attempt = 0
                yield self._book(ob, inst.symbol, self.book_depth)
            return
        while not self._closed:
            try:
                snap = await self.order_book(symbol, self.book_depth)
            except GaplessError:
                await self.clock.sleep(self.backoff.delay(attempt))
                attempt += 1
                continue
            attempt = 0
            yield snap
            await self.clock.sleep(self.poll_interval)

    async def _call_ws(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        call = _Call(Priority.QUERY, False, strict=False)
        token = _CALL.set(call)
        try:
            return await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise map_ccxt_error(exc, venue=self.name) from exc
        finally:
            _CALL.reset(token)

    async def _ws_connected(self, timeout: float = 10.0) -> None:
        """Wait until every ccxt.pro client of this instance that was dialled is connected
        (or timeout). Clients ccxt created but never dialled are left out (ccxt.pro kraken
        keeps one for its v1 private URL just to hold the token)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            clients = [
                c for c in getattr(self.ex, "clients", {}).values()
                if getattr(c, "connecting", False) or getattr(c, "connection", None) is not None
            ]
            if clients and all(
                getattr(c, "connected", None) is not None and c.connected.done()
                and not c.connected.exception() for c in clients
            ):
                return
            await asyncio.sleep(0.02)

    async def private_events(self) -> AsyncIterator[PrivateEvent]:
        if self._ws_ok("watchOrders"):
            async for ev in self._ws_private():
                yield ev
        else:
            async for ev in self._poll_private():
                yield ev

    async def _ws_private(self) -> AsyncIterator[PrivateEvent]:
        """ccxt.pro ``watch_orders`` (plus ``watch_my_trades`` where the exchange's quirks
        say its trades carry the fills): one reader per subscription, any failure drops
        both and resubscribes after a backoff, then ``Reconnected`` once both are live."""
        watchers: dict[str, Callable[[], Awaitable[Any]]] = {"orders": self.ex.watch_orders}
        if self.quirks.watch_trades and self.has("watchMyTrades"):
            watchers["trades"] = self.ex.watch_my_trades
        attempt = 0
        reconnecting = False
        pending: dict[str, asyncio.Future[Any]] = {}
        try:
            while not self._closed:
                for kind, watch in watchers.items():
                    if kind not in pending:
                        pending[kind] = asyncio.ensure_future(self._call_ws(watch))
                if reconnecting:
                    # announce once the new subscriptions are live, so that a REST
                    # gap-fill done on this marker cannot miss anything after it
                    await self._ws_connected()
                    if all(not f.done() or f.exception() is None for f in pending.values()):
                        reconnecting = False
                        yield Reconnected(self.name, "orders")
                await asyncio.wait(pending.values(), return_when=asyncio.FIRST_COMPLETED)
                failed = False
                batches: list[tuple[str, Any]] = []
                for kind in list(pending):
                    fut = pending[kind]
                    if not fut.done():
                        continue
                    del pending[kind]
                    try:
                        batches.append((kind, fut.result()))
                    except GaplessError:
                        failed = True
                if not failed:
                    # re-arm before handing anything out: ccxt.pro delivers an update only
                    # to a watcher waiting when it arrives; one arriving while the consumer
                    # holds this batch would sit in ccxt's cache until the next message
                    for kind, watch in watchers.items():
                        if kind not in pending:
                            pending[kind] = asyncio.ensure_future(self._call_ws(watch))
                    await asyncio.sleep(0)
                for kind, batch in batches:
                    if not isinstance(batch, list):
                        continue
                    for item in batch:
                        rep = self._private_report(kind, item)
                        if rep is not None:
                            yield await self.quirks.complete_stream_report(self, rep)
                if failed:
                    for fut in pending.values():
                        fut.cancel()
                    for fut in pending.values():
                        with contextlib.suppress(BaseException):
                            await fut
                    pending.clear()
                    reconnecting = True
                    await self.clock.sleep(self.backoff.delay(attempt))
                    attempt += 1
                    continue
                attempt = 0
        finally:
            for fut in pending.values():
                if not fut.done():
                    fut.cancel()
                    with contextlib.suppress(BaseException):
                        await fut

    def _private_report(self, kind: str, item: Any) -> OrderReport | None:
        """One streamed ccxt order (or trade) as a report; unreadable ones are dead-lettered."""
        try:
            if kind == "trades":
                return self.quirks.report_from_trade(self, item)
            sym = item.get("symbol") if isinstance(item, dict) else None
            rep, _ = self._report(item, sym if isinstance(sym, str) else "")
            return rep
        except MalformedResponse as exc:
            self.dlq.put(self.name, kind, repr(item)[:2000], str(exc))
            return None

    async def _poll_private(self) -> AsyncIterator[PrivateEvent]:
        """No private stream: diff open orders every ``poll_interval`` seconds."""
        last: dict[str, OrderReport] = {}
        attempt = 0
        failed = False
        while not self._closed:
            try:
                current = {r.client_order_id or r.venue_order_id: r for r in await self.open_orders()}
                gone = [r for k, r in last.items() if k not in current]
                finals = []
                for r in gone:
                    try:
                        finals.append(await self._query(r.symbol, r.client_order_id, r.venue_order_id))
                    except OrderNotFound:
                        continue
            except GaplessError:
                failed = True
                await self.clock.sleep(self.backoff.delay(attempt))
                attempt += 1
                continue
            attempt = 0
            if failed:
                failed = False
                yield Reconnected(self.name, "orders")
            for k, r in current.items():
                prev = last.get(k)
                if prev is None or prev.state != r.state or prev.filled_qty != r.filled_qty:
                    yield r
            for r in finals:
                yield r
            last = current
            await self.clock.sleep(self.poll_interval)


def msgspec_replace(rep: OrderReport, **changes: Any) -> OrderReport:
    import msgspec

    return msgspec.structs.replace(rep, **changes)


__all__ = ["CcxtVenue", "RateLimited"]
