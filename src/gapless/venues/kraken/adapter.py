"""``KrakenVenue``: the native Kraken Spot adapter (REST ``/0``, WebSocket v2).

Order entry: ``AddOrder`` answers only with the txid, so ``place_order`` follows it with
one ``QueryOrders`` (and ``QueryTrades`` when something filled) to report the real state.
That read-back only goes when the REST counter has room *now*: an accepted order's answer
never waits for budget. Without room, or if the read-back fails, the order is reported
ACCEPTED (the txid proves it exists) and the stream or a query brings the rest.
Validity bound: every AddOrder carries ``deadline`` = the venue's now (our clock plus the
offset measured from ``/0/public/Time`` at start) + ``recv_window``, set when the attempt is
signed; the matching engine refuses the request after it, so ``request_validity`` is
``recv_window`` / 1000 whatever the key's nonce window, and across a crash too (the nonce
rule, which also refuses an earlier nonce once a later one was answered, leans on the wall
clock between processes).
Client ids are ``cl_ord_id`` UUIDs; lookups by client id go through the txid we learned
at placement, else ``OpenOrders``/``ClosedOrders`` filtered by ``cl_ord_id``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import msgspec

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
    AuthError,
    GaplessError,
    InvalidIntent,
    MalformedResponse,
    OrderNotFound,
    RateLimited,
    TimestampRejected,
)
from gapless.transport.clock import Clock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpResponse
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, Reconnected, VenueConfig
from gapless.venues.common.endpoints import AuthKind, Endpoint
from gapless.venues.common.venue import NoBudget, RestVenue, Signed, clock_offset_ms
from gapless.venues.kraken.auth import KrakenSigner, nonce_source
from gapless.venues.kraken.book import ChecksumMismatch, KrakenBook, parse_book_message
from gapless.venues.kraken.errors import errors_of, map_http_status, map_kraken_error
from gapless.venues.kraken.limits import (
    ENDPOINTS,
    REST,
    KrakenLimits,
    cancel_cost,
    trade_rule,
)
from gapless.venues.kraken.options import CAPABILITIES, KrakenOptions
from gapless.venues.kraken.translate import (
    AddOrderWire,
    AssetWire,
    BalanceExWire,
    CancelWire,
    ClosedWire,
    DepthWire,
    OpenWire,
    OrderWire,
    PairSpec,
    PairWire,
    TimeWire,
    TokenWire,
    TradesHistoryWire,
    TradeWire,
    balances_from,
    book_from,
    decode_envelope,
    decode_result,
    fee_asset_of,
    fill_from_trade,
    kraken_client_order_id,
    pairs_from,
    report_from,
    rfc3339_ms,
)
from gapless.venues.kraken.userstream import ExecutionParser, trade_key

T = TypeVar("T")
WS_DEPTHS = (10, 25, 100, 500, 1000)
_CL_ORD_ID_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$"
)
_MAX_TRADE_PAGES = 20


def valid_cl_ord_id(value: str) -> bool:
    return bool(_CL_ORD_ID_RE.match(value))


#: an optional read found no room in the REST counter right now (nothing was sent)
_NoBudget = NoBudget


class _Placed:
    __slots__ = ("at", "symbol", "txid")

    def __init__(self, txid: str, symbol: str, at: float) -> None:
        self.txid = txid
        self.symbol = symbol
        self.at = at


class KrakenVenue(RestVenue[PairSpec]):
    """Kraken Spot over REST plus WebSocket v2 ``book`` and ``executions``."""

    family = "kraken"

    def __init__(self, config: VenueConfig, *, clock: Clock | None = None,
                 dlq: DeadLetterQueue | None = None) -> None:
        super().__init__(config, clock=clock, dlq=dlq)
        self.options = KrakenOptions.parse(config.options, venue=self.name)
        self.capabilities = CAPABILITIES
        self.book_depth = self.options.book_depth
        creds = config.credentials
        self._signer = KrakenSigner(creds.secret) if creds.secret else None
        self._api_key = creds.api_key
        self._nonce = nonce_source(creds.api_key)
        self.nonce_window = self.options.nonce_window
        self.recv_window = self.options.recv_window
        ws = self.ws_url
        if ws and urlsplit(ws).path in ("", "/"):
            ws += "/v2"
        self.ws_url = ws
        self.tier = self.options.counters()
        self.limits = KrakenLimits(self.tier)
        self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)
        self._by_name: dict[str, str] = {}  # pair key / altname / wsname -> symbol
        self._assets: dict[str, AssetWire] = {}
        self._placed: dict[str, _Placed] = {}
        self.parser = ExecutionParser(self.name, {})

    def request_validity(self) -> float:
        """``recv_window`` / 1000: a create's ``deadline`` is venue now + ``recv_window``
        and the matching engine refuses it after that, even where a nonce window would let
        a lower nonce in."""
        return self.recv_window / 1000

    async def start(self) -> None:
        await super().start()
        await self.sync_time()  # the deadline is set on the venue's clock

    async def sync_time(self) -> None:
        """Measure the venue's clock offset. ``unixtime`` is whole seconds, so the venue's
        now lies in [unixtime, unixtime + 1): its midpoint keeps the error within 0.5 s
        plus half the round trip, inside the engine's skew margin."""
        t0 = self.clock.time()
        res = await self._public("Time", into=TimeWire)
        t1 = self.clock.time()
        self._time_offset_ms = clock_offset_ms(res.unixtime * 1000 + 500, t0, t1)

    # -- the request pipeline's venue hooks ------------------------------------------
    async def _public(self, method: str, query: str = "", *, into: type[T]) -> T:
        return await self._send(ENDPOINTS[method], self._decoder(into), query=query)

    async def _private(self, method: str, params: Sequence[tuple[str, str]], *, into: type[T],
                       mutating: bool = False, priority: Priority = Priority.QUERY,
                       pair: str | None = None, trade_cost: int = 0,
                       optional: bool = False) -> T:
        """``optional``: only if the counters have room now (``_NoBudget`` otherwise)."""
        if self._signer is None or not self._api_key:
            raise AuthError("kraken: this request needs credentials", venue=self.name)
        extra = {trade_rule(pair): trade_cost} if pair is not None and trade_cost else None
        return await self._send(ENDPOINTS[method], self._decoder(into),
                                body=urlencode(params).encode(), priority=priority,
                                mutating=mutating, scope=pair or "", extra_costs=extra,
                                optional=optional)

    def _decoder(self, into: type[T]) -> Callable[[msgspec.Raw], T]:
        name = self.name
        return lambda raw: decode_result(raw, into, name)

    def _sign(self, ep: Endpoint, path: str, query: str, body: bytes | None) -> Signed:
        if ep.auth is not AuthKind.SIGNED:
            return query, body, None
        signer = self._signer
        if signer is None:
            raise AuthError("kraken: this request needs credentials", venue=self.name)
        nonce = self._nonce.next()  # a fresh nonce (and create deadline) for every attempt
        if ep.name == "AddOrder":
            deadline = urlencode({"deadline": rfc3339_ms(self.now_ms() + self.recv_window)})
            body = (body + b"&" if body else b"") + deadline.encode()
        signed = f"nonce={nonce}".encode() + (b"&" + body if body else b"")
        return query, signed, {
            "API-Key": self._api_key,
            "API-Sign": signer.sign(path, nonce, signed),
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def _classify(self, ep: Endpoint, resp: HttpResponse, mutating: bool) -> msgspec.Raw:
        status, body = resp.status, resp.body
        if status >= 500:
            raise map_http_status(status, mutating=mutating, venue=self.name)
        if status != 200:
            try:
                env = decode_envelope(body, self.name)
            except MalformedResponse:
                raise map_http_status(status, mutating=mutating, venue=self.name) from None
            if errors_of(env.error):
                raise map_kraken_error(env.error, mutating=mutating, venue=self.name)
            raise map_http_status(status, mutating=mutating, venue=self.name)
        env = decode_envelope(body, self.name)
        if errors_of(env.error):
            raise map_kraken_error(env.error, mutating=mutating, venue=self.name)
        return env.result

    def _rate_limited(self, err: RateLimited, limiters: tuple[RateLimiter, ...],
                      scope: str) -> None:
        rule = trade_rule(scope) if scope else None
        self.limiter.on_rate_limited(err.retry_after, banned=err.banned,
                                     rule=rule if str(err.code).startswith("EOrder:") else REST)

    async def _resign(self, err: GaplessError, resp: HttpResponse) -> bool:
        return isinstance(err, TimestampRejected)  # a nonce refused before execution

    def _spec_by_name(self, name: str) -> PairSpec:
        sym = self._by_name.get(name)
        if sym is None:
            raise MalformedResponse(f"unknown pair {name!r} in answer", venue=self.name)
        return self._specs[sym]

    # -- reference data --------------------------------------------------------------
    async def load_instruments(self) -> dict[str, Instrument]:
        assets = await self._public("Assets", into=dict[str, AssetWire])
        pairs = await self._public("AssetPairs", into=dict[str, PairWire])
        instruments, specs = pairs_from(pairs, assets, self.name)
        self._assets = assets
        self.instruments = instruments
        self._specs = specs
        self._by_name = {}
        for sym, s in specs.items():
            for n in (s.key, s.altname, sym, pairs[s.key].wsname):
                if n:
                    self._by_name[n] = sym
        self.parser.symbols = {sym: sym for sym in specs}
        limits = KrakenLimits(self.tier, [s.symbol for s in specs.values()])
        if limits.rules != self.limits.rules:
            self.limits = limits
            self.limiter = RateLimiter(self.name, limits.rules, clock=self.clock, scale=self.config.limit_scale)
        return instruments

    def client_order_id(self, intent_id: str) -> str:
        return kraken_client_order_id(intent_id)

    # -- trading ---------------------------------------------------------------------
    async def place_order(self, order: Order) -> OrderReport:
        spec = self._spec(order.symbol)
        if order.tif is TimeInForce.FOK:
            raise InvalidIntent("kraken spot has no fill-or-kill", venue=self.name)
        cid = order.client_order_id
        if not valid_cl_ord_id(cid):
            raise InvalidIntent(f"{cid!r} is not a valid kraken cl_ord_id", venue=self.name)
        params: list[tuple[str, str]] = [
            ("pair", spec.key),
            ("type", "buy" if order.side is Side.BUY else "sell"),
            ("ordertype", "limit" if order.type is OrderType.LIMIT else "market"),
            ("volume", f"{order.qty:f}"),
        ]
        if order.type is OrderType.LIMIT:
            if order.price is None:
                raise InvalidIntent("limit order without price", venue=self.name)
            params.append(("price", f"{order.price:f}"))
        if order.tif is TimeInForce.IOC:
            params.append(("timeinforce", "IOC"))
        elif order.tif is TimeInForce.POST_ONLY:
            params.append(("oflags", "post"))
        params.append(("cl_ord_id", cid))
        ack = await self._private("AddOrder", params, mutating=True, priority=Priority.ORDER,
                                  pair=spec.symbol, trade_cost=1, into=AddOrderWire)
        if len(ack.txid) != 1 or not ack.txid[0]:
            raise MalformedResponse(f"AddOrder returned txids {ack.txid!r}", venue=self.name)
        txid = ack.txid[0]
        self._placed[cid] = _Placed(txid, spec.symbol, self.clock.monotonic())
        self.parser.remember(txid, spec.symbol, cid, order.side, order.qty, order.price)
        try:
            return await self._query_txid(txid, spec, cid, with_fills=True, optional=True)
        except (GaplessError, _NoBudget):
            return OrderReport(venue=self.name, symbol=spec.symbol, client_order_id=cid,
                               venue_order_id=txid, state=OrderState.ACCEPTED, side=order.side,
                               qty=order.qty, price=order.price)

    async def _query_txid(self, txid: str, spec: PairSpec, cid: str, *,
                          with_fills: bool, optional: bool = False) -> OrderReport:
        """``optional``: a read-back that goes only with budget to spare (``_NoBudget``
        otherwise); fills that find no budget are left to the stream or a later query."""
        found = await self._private("QueryOrders", [("txid", txid), ("trades", "true")],
                                  optional=optional, into=dict[str, OrderWire])
        w = found.get(txid)
        if w is None:
            raise OrderNotFound(f"{txid} not returned", venue=self.name)
        fills: tuple[Fill, ...] = ()
        if with_fills and w.trades:
            try:
                fills = tuple(await self._trades_by_id(w.trades, spec, fee_asset_of(w.oflags, spec),
                                                       cid, optional=optional))
            except _NoBudget:
                fills = ()
        return report_from(txid, w, spec, self.name, cid, fills)

    async def _trades_by_id(self, ids: list[str], spec: PairSpec, fee_asset: str,
                            cid: str, *, optional: bool = False) -> list[Fill]:
        out: list[Fill] = []
        for i in range(0, len(ids), 20):
            chunk = ids[i:i + 20]
            trades = await self._private("QueryTrades", [("txid", ",".join(chunk))],
                                      optional=optional, into=dict[str, TradeWire])
            for tx in chunk:
                t = trades.get(tx)
                if t is None:
                    raise MalformedResponse(f"trade {tx} missing from QueryTrades", venue=self.name)
                out.append(self._fill(tx, t, spec, fee_asset, cid))
        return out

    def _fill(self, tx: str, t: TradeWire, spec: PairSpec, fee_asset: str, cid: str) -> Fill:
        f = fill_from_trade(tx, t, spec, self.name, fee_asset, cid)
        return Fill(venue=f.venue, trade_id=trade_key(spec.symbol, t.trade_id, tx),
                    symbol=f.symbol, side=f.side, qty=f.qty, price=f.price, fee=f.fee,
                    fee_asset=f.fee_asset, is_maker=f.is_maker, ts_ms=f.ts_ms,
                    client_order_id=f.client_order_id, venue_order_id=f.venue_order_id)

    async def _find_by_cid(self, cid: str) -> tuple[str, OrderWire] | None:
        res = await self._private("OpenOrders", [("cl_ord_id", cid)], into=OpenWire)
        open_ = res.open
        if open_:
            return next(iter(open_.items()))
        done = await self._private("ClosedOrders", [("cl_ord_id", cid)], into=ClosedWire)
        closed = done.closed
        if closed:
            return max(closed.items(), key=lambda kv: kv[1].opentm)
        return None

    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not valid_cl_ord_id(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not a kraken cl_ord_id", venue=self.name)
        placed = self._placed.get(client_order_id)
        if placed is not None and placed.symbol == symbol:
            return await self._query_txid(placed.txid, spec, client_order_id, with_fills=False)
        hit = await self._find_by_cid(client_order_id)
        if hit is None:
            raise OrderNotFound(f"{client_order_id} unknown to {self.name}", venue=self.name)
        txid, w = hit
        if self._by_name.get(w.descr.pair) != symbol:
            raise OrderNotFound(f"{client_order_id} is not a {symbol} order", venue=self.name)
        self._placed[client_order_id] = _Placed(txid, symbol, self.clock.monotonic() - 300)
        return report_from(txid, w, spec, self.name, client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not valid_cl_ord_id(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not a kraken cl_ord_id", venue=self.name)
        placed = self._placed.get(client_order_id)
        age = self.clock.monotonic() - placed.at if placed is not None else None
        ack = await self._private("CancelOrder", [("cl_ord_id", client_order_id)], mutating=True,
                                  priority=Priority.CANCEL, pair=spec.symbol,
                                  trade_cost=cancel_cost(age), into=CancelWire)
        if ack.count < 1:
            raise OrderNotFound(f"{client_order_id}: nothing canceled", venue=self.name)
        try:
            if placed is not None and placed.symbol == symbol:  # read back only with budget
                return await self._query_txid(placed.txid, spec, client_order_id,
                                              with_fills=False, optional=True)
            return await self.query_order(symbol, client_order_id)
        except (GaplessError, _NoBudget):
            return OrderReport(venue=self.name, symbol=symbol, client_order_id=client_order_id,
                               venue_order_id=placed.txid if placed else "",
                               state=OrderState.CANCELED)

    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        if symbol is not None:
            self._spec(symbol)
        res = await self._private("OpenOrders", [], into=OpenWire)
        out: list[OrderReport] = []
        for txid, w in res.open.items():
            spec = self._spec_by_name(w.descr.pair)
            if symbol is None or spec.symbol == symbol:
                out.append(report_from(txid, w, spec, self.name))
        return out

    async def balances(self) -> dict[str, Balance]:
        res = await self._private("BalanceEx", [], into=dict[str, BalanceExWire])
        return balances_from(res,
                             self._assets, self.name)

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        spec = self._spec(symbol)
        if client_order_id is not None:
            if not valid_cl_ord_id(client_order_id):
                raise OrderNotFound(f"{client_order_id!r} is not a kraken cl_ord_id", venue=self.name)
            placed = self._placed.get(client_order_id)
            if placed is None:
                await self.query_order(symbol, client_order_id)
                placed = self._placed[client_order_id]
            res = await self._private("QueryOrders", [("txid", placed.txid), ("trades", "true")],
                                      into=dict[str, OrderWire])
            w = res.get(placed.txid)
            if w is None:
                raise OrderNotFound(f"{placed.txid} not returned", venue=self.name)
            return await self._trades_by_id(w.trades, spec, fee_asset_of(w.oflags, spec),
                                            client_order_id)
        mine: list[tuple[str, TradeWire]] = []
        ofs = 0
        for _ in range(_MAX_TRADE_PAGES):
            page = await self._private("TradesHistory", [("ofs", str(ofs))],
                                       into=TradesHistoryWire)
            for tx, t in page.trades.items():
                if self._by_name.get(t.pair) == symbol:
                    mine.append((tx, t))
            ofs += len(page.trades)
            if not page.trades or ofs >= page.count:
                break
        # the fee currency is an order property (oflags fcib/fciq): fetch the orders
        order_ids = sorted({t.ordertxid for _, t in mine})
        orders: dict[str, OrderWire] = {}
        for i in range(0, len(order_ids), 50):
            chunk = await self._private("QueryOrders", [("txid", ",".join(order_ids[i:i + 50]))],
                                        into=dict[str, OrderWire])
            orders.update(chunk)
        out = []
        for tx, t in mine:
            w = orders.get(t.ordertxid)
            fee_asset = fee_asset_of(w.oflags, spec) if w is not None else spec.quote
            out.append(self._fill(tx, t, spec, fee_asset, (w.cl_ord_id or "") if w else ""))
        return out

    # -- market data -----------------------------------------------------------------
    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot:
        spec = self._spec(symbol)
        count = max(1, min(depth, 500))
        books = await self._public("Depth", f"pair={spec.key}&count={count}",
                                 into=dict[str, DepthWire])
        d = books.get(spec.key) or (next(iter(books.values())) if len(books) == 1 else None)
        if d is None:
            raise MalformedResponse(f"Depth without {spec.key}", venue=self.name)
        return book_from(d, spec, self.name, depth)

    def _ws(self, name: str, on_connect: Any) -> WsConnection:
        url = self._require_ws_url()
        return self._track(WsConnection(url, name=name, on_connect=on_connect, clock=self.clock,
                                        app_ping=lambda: '{"method":"ping"}', heartbeat=20.0,
                                        stale_after=30.0))

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        spec = self._spec(symbol)
        sub = {"method": "subscribe", "params": {"channel": "book", "symbol": [spec.symbol],
                                                 "depth": self.book_depth, "snapshot": True}}

        async def on_connect(c: WsConnection) -> None:
            await c.send_json(sub)

        conn = self._ws(f"{self.name}-book-{spec.symbol}", on_connect)
        book = KrakenBook(self.name, spec.symbol, self.book_depth, spec.price_dp, spec.lot_dp)
        try:
            async for msg in conn.messages():
                if isinstance(msg, WsReconnected):
                    book.reset()
                    continue
                try:
                    parsed = parse_book_message(msg)
                    if parsed is None:
                        continue
                    ready = book.apply(parsed)
                except ChecksumMismatch as exc:
                    self.dlq.put(self.name, "book", msg, str(exc))
                    book.reset()
                    conn.reconnect()  # resubscribe: a fresh snapshot rebuilds the book
                    continue
                except ValueError as exc:
                    self.dlq.put(self.name, "book", msg, str(exc))
                    continue
                if ready:
                    yield book.snapshot()
        finally:
            await self._release(conn)

    async def _ws_token(self) -> str:
        res = await self._private("GetWebSocketsToken", [], into=TokenWire)
        tok = res.token
        if not tok:
            raise MalformedResponse("empty websocket token", venue=self.name)
        return tok

    async def private_events(self) -> AsyncIterator[PrivateEvent]:
        async def on_connect(c: WsConnection) -> None:
            token = await self._ws_token()
            await c.send_json({"method": "subscribe", "params": {
                "channel": "executions", "token": token, "snap_orders": True,
                "snap_trades": False, "order_status": True}})

        conn = self._ws(f"{self.name}-executions", on_connect)
        try:
            async for msg in conn.messages():
                if isinstance(msg, WsReconnected):
                    yield Reconnected(self.name, "executions")
                    continue
                try:
                    reports = self.parser.parse(msg)
                except ValueError as exc:
                    self.dlq.put(self.name, "executions", msg, str(exc))
                    continue
                for r in reports or ():
                    yield r
        finally:
            await self._release(conn)
