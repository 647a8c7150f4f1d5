"""``BybitVenue``: the native Bybit V5 spot adapter (``category=spot``, UNIFIED account).

``/v5/order/create`` only acknowledges (``orderId``/``orderLinkId``); the report returned
by :meth:`BybitVenue.place_order` comes from an immediate ``/v5/order/realtime`` query
(plus ``/v5/execution/list`` when something filled), so callers see the order's actual
state and fills. If that follow-up fails the order is reported ACCEPTED (the venue did
accept it) and the private stream / reconciliation carries the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import orjson

from gapless.model import Balance, BookSnapshot, Fill, Instrument, Order, OrderReport, OrderState
from gapless.model.errors import (
    AuthError,
    GaplessError,
    InvalidOrder,
    OrderNotFound,
    TimestampRejected,
)
from gapless.transport.clock import Clock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpResponse
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, VenueConfig
from gapless.venues.bybit.auth import BybitSigner
from gapless.venues.bybit.book import LocalBook, run_book
from gapless.venues.bybit.errors import map_code, map_status
from gapless.venues.bybit.limits import BybitLimits
from gapless.venues.bybit.options import CAPABILITIES, BybitOptions
from gapless.venues.bybit.translate import (
    CLIENT_ID_RE,
    POST_ONLY_REJECT,
    OrderWire,
    SymbolSpec,
    balances_from,
    book_from,
    bybit_client_order_id,
    create_body,
    decode_ack,
    decode_book,
    decode_execs,
    decode_head,
    decode_instruments,
    decode_orders,
    decode_time,
    decode_wallet,
    fill_from,
    instruments_from,
    integer,
    report_from,
    spec_for,
)
from gapless.venues.bybit.userstream import PrivateStream
from gapless.venues.common.endpoints import AuthKind, Endpoint
from gapless.venues.common.venue import RestVenue, Signed, clock_offset_ms

T = TypeVar("T")
JSON_HEADERS = {"Content-Type": "application/json"}
MAX_PAGES = 20
SPOT_BOOK_DEPTHS = (1, 50, 200, 1000)
#: Bybit documents no maximum for ``X-BAPI-RECV-WINDOW``; the engine waits this bound out
#: before it may call a silent create rejected, so we cap it where Binance does (60 s)
MAX_RECV_WINDOW_MS = 60_000


class BybitVenue(RestVenue[SymbolSpec]):
    """Bybit V5 spot over REST plus the public ``orderbook`` and private WebSocket topics."""

    family = "bybit"

    def __init__(self, config: VenueConfig, *, clock: Clock | None = None,
                 dlq: DeadLetterQueue | None = None) -> None:
        super().__init__(config, clock=clock, dlq=dlq)
        self.options = BybitOptions.parse(config.options, venue=self.name)
        self.capabilities = CAPABILITIES
        self.recv_window = self.options.recv_window
        depth = self.options.book_depth
        self.book_topic_depth = min((d for d in SPOT_BOOK_DEPTHS if d >= depth), default=1000)
        self.book_depth = depth
        creds = config.credentials
        self._signer: BybitSigner | None = (
            BybitSigner(creds.api_key, creds.secret, self.recv_window)
            if creds.api_key and creds.secret else None
        )
        self.limits = BybitLimits()
        self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)

    def request_validity(self) -> float:
        """Bybit serves a signed request only while ``server_time - recv_window <=
        X-BAPI-TIMESTAMP`` (else retCode 10002), so ``recv_window`` is the bound."""
        return self.recv_window / 1000

    # -- the request pipeline's venue hooks ------------------------------------------
    async def _call(self, endpoint: str, params: dict[str, str], decode: Callable[[bytes], T], *,
                    priority: Priority = Priority.QUERY, mutating: bool = False) -> T:
        ep = self.limits.endpoints[endpoint]
        if ep.method == "GET":
            return await self._send(ep, decode, query="&".join(f"{k}={v}" for k, v in params.items()),
                                    priority=priority, mutating=mutating)
        return await self._send(ep, decode, body=orjson.dumps(params), priority=priority,
                                mutating=mutating)

    def _sign(self, ep: Endpoint, path: str, query: str, body: bytes | None) -> Signed:
        if ep.auth is AuthKind.SIGNED:
            signer = self._signer
            if signer is None:
                raise AuthError("bybit: this request needs credentials", venue=self.name)
            payload = query if body is None else body.decode()
            return query, body, signer.headers(self.now_ms(), payload, json_body=body is not None)
        return query, body, (None if body is None else JSON_HEADERS)

    def _classify(self, ep: Endpoint, resp: HttpResponse, mutating: bool) -> bytes:
        if resp.status != 200:
            raise map_status(resp.status, resp.headers, resp.body, mutating=mutating,
                             venue=self.name)
        head = decode_head(resp.body, self.name)
        if head.retCode == 0:
            return resp.body
        raise map_code(head.retCode, head.retMsg, resp.headers, mutating=mutating,
                       venue=self.name)

    def _sync_usage(self, ep: Endpoint, path: str, resp: HttpResponse) -> None:
        if ep.private:
            self.limits.sync(self.limiter, path, resp.headers)

    async def _resign(self, err: GaplessError, resp: HttpResponse) -> bool:
        if isinstance(err, TimestampRejected):
            # outside the recv window: provably not executed; re-sync, then re-sign once
            await self.sync_time()
            return True
        return False

    async def sync_time(self) -> None:
        t0 = self.clock.time()
        res = await self._call("time", {}, decode_time)
        t1 = self.clock.time()
        server_ms = (integer(res.timeNano, "timeNano", self.name) // 1_000_000
                     if res.timeNano else integer(res.timeSecond, "timeSecond", self.name) * 1000)
        self._time_offset_ms = clock_offset_ms(server_ms, t0, t1)

    # -- reference data --------------------------------------------------------------
    async def load_instruments(self) -> dict[str, Instrument]:
        res = await self._call("instruments", {"category": "spot"}, decode_instruments)
        instruments = instruments_from(res, self.name)
        self.instruments = instruments
        self._specs = {s: spec_for(i) for s, i in instruments.items()}
        self._by_venue_symbol = {i.venue_symbol: s for s, i in instruments.items()}
        return instruments

    def client_order_id(self, intent_id: str) -> str:
        return bybit_client_order_id(intent_id)

    # -- trading ---------------------------------------------------------------------
    async def place_order(self, order: Order) -> OrderReport:
        spec = self._spec(order.symbol)
        if not CLIENT_ID_RE.fullmatch(order.client_order_id):
            raise InvalidOrder(f"{order.client_order_id!r} is not a valid orderLinkId",
                               venue=self.name)
        ack = await self._call("create", create_body(spec, order), decode_ack,
                               priority=Priority.ORDER, mutating=True)
        accepted = OrderReport(
            venue=self.name, symbol=spec.symbol, client_order_id=order.client_order_id,
            venue_order_id=ack.orderId, state=OrderState.ACCEPTED, side=order.side,
            qty=order.qty, price=order.price,
        )
        try:
            wire = await self._find(spec, {"orderId": ack.orderId})
        except GaplessError:
            return accepted  # accepted for sure; the stream or a later query tells the rest
        if wire is None:
            return accepted
        if wire.rejectReason == POST_ONLY_REJECT and wire.cumExecQty in ("0", ""):
            raise InvalidOrder("post-only order would take liquidity (cancelled by the venue)",
                               venue=self.name, code=POST_ONLY_REJECT)
        fills: tuple[Fill, ...] = ()
        rep = report_from(wire, spec.symbol, self.name)
        if rep.filled_qty > 0:
            try:
                fills = tuple(await self._fills(spec, {"orderId": ack.orderId}))
            except GaplessError:
                fills = ()
            rep = report_from(wire, spec.symbol, self.name, fills)
        return rep

    async def _find(self, spec: SymbolSpec, key: dict[str, str]) -> OrderWire | None:
        """The order by id or link id: recent/open orders first, then history."""
        params = {"category": "spot", "symbol": spec.venue_symbol, **key}
        for endpoint in ("realtime", "history"):
            res = await self._call(endpoint, params, decode_orders)
            if res.items:
                return res.items[0]
        return None

    async def _fills(self, spec: SymbolSpec, key: dict[str, str]) -> list[Fill]:
        params = {"category": "spot", "symbol": spec.venue_symbol, **key, "limit": "100"}
        out: list[Fill] = []
        for _ in range(MAX_PAGES):
            res = await self._call("executions", params, decode_execs)
            out.extend(fill_from(e, spec.symbol, self.name) for e in res.items
                       if e.execType == "Trade")
            if not res.nextPageCursor:
                break
            params = {**params, "cursor": res.nextPageCursor}
        return out

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not CLIENT_ID_RE.fullmatch(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not a bybit orderLinkId", venue=self.name)
        ack = await self._call("cancel",
            {"category": "spot", "symbol": spec.venue_symbol, "orderLinkId": client_order_id},
            decode_ack, priority=Priority.CANCEL, mutating=True)
        try:
            wire = await self._find(spec, {"orderLinkId": client_order_id})
        except GaplessError:
            wire = None
        if wire is not None and wire.orderId == ack.orderId:
            rep = report_from(wire, spec.symbol, self.name)
            if rep.state.is_terminal:
                return rep
        return OrderReport(venue=self.name, symbol=spec.symbol, client_order_id=client_order_id,
                           venue_order_id=ack.orderId, state=OrderState.CANCELED)

    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not CLIENT_ID_RE.fullmatch(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not a bybit orderLinkId", venue=self.name)
        wire = await self._find(spec, {"orderLinkId": client_order_id})
        if wire is None:
            raise OrderNotFound(f"{client_order_id} is unknown", venue=self.name)
        return report_from(wire, spec.symbol, self.name)

    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        params = {"category": "spot"}
        if symbol is not None:
            params["symbol"] = self._spec(symbol).venue_symbol
        params.update(openOnly="0", limit="50")
        out: list[OrderReport] = []
        for _ in range(MAX_PAGES):
            res = await self._call("realtime", params, decode_orders)
            out.extend(report_from(w, self._canonical(w.symbol), self.name) for w in res.items)
            if not res.nextPageCursor:
                break
            params = {**params, "cursor": res.nextPageCursor}
        return out

    async def balances(self) -> dict[str, Balance]:
        res = await self._call("wallet", {"accountType": "UNIFIED"}, decode_wallet)
        return balances_from(res, self.name)

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        spec = self._spec(symbol)
        key = {"orderLinkId": client_order_id} if client_order_id is not None else {}
        return await self._fills(spec, key)

    # -- market data -----------------------------------------------------------------
    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot:
        spec = self._spec(symbol)
        limit = max(1, min(depth, 200))
        res = await self._call("orderbook",
            {"category": "spot", "symbol": spec.venue_symbol, "limit": str(limit)}, decode_book)
        return book_from(res, spec.symbol, self.name, depth)

    def _ws(self, path: str, name: str, on_connect: Callable[[WsConnection], object] | None,
            ) -> WsConnection:
        url = self._require_ws_url()
        return self._track(WsConnection(f"{url}{path}", name=name,
                                        on_connect=on_connect,  # type: ignore[arg-type]
                                        heartbeat=20.0, stale_after=60.0,
                                        app_ping=lambda: '{"op":"ping"}', clock=self.clock))

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        spec = self._spec(symbol)
        topic = f"orderbook.{self.book_topic_depth}.{spec.venue_symbol}"

        async def subscribe(conn: WsConnection) -> None:
            await conn.send_json({"req_id": "book", "op": "subscribe", "args": [topic]})

        conn = self._ws("/v5/public/spot", f"{self.name}-{topic}", subscribe)
        book = LocalBook(self.name, spec.symbol)
        try:
            async for snap in run_book(conn, book, topic, dlq=self.dlq, depth=self.book_depth):
                yield snap
        finally:
            await self._release(conn)

    async def private_events(self) -> AsyncIterator[PrivateEvent]:
        ws_url = self._require_ws_url()
        if self._signer is None:
            raise AuthError("bybit: the private stream needs credentials", venue=self.name)
        stream = PrivateStream(venue=self.name, url=f"{ws_url}/v5/private",
                               signer=self._signer, symbols=self._by_venue_symbol, dlq=self.dlq,
                               now_ms=self.now_ms, clock=self.clock)
        conn = self._track(stream.connection())
        try:
            async for ev in stream.events(conn):
                yield ev
        finally:
            await self._release(conn)
