"""``BinanceVenue``: the native Binance Spot adapter.

Order path is kept lean: per-symbol data (venue symbol, decimal quanta, query prefix)
is precomputed when instruments load, the query string is built directly, the HMAC
key state is prepared once and responses are decoded by precompiled msgspec decoders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from gapless.model import Balance, BookSnapshot, Fill, Instrument, Order, OrderReport
from gapless.model.errors import AuthError, GaplessError, OrderNotFound, TimestampRejected
from gapless.transport.clock import Clock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpResponse
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, VenueConfig
from gapless.venues.binance.auth import Signer, make_signer
from gapless.venues.binance.book import LocalBook, run_book
from gapless.venues.binance.errors import map_error
from gapless.venues.binance.limits import BinanceLimits, depth_key, rules_from_exchange_info
from gapless.venues.binance.options import CAPABILITIES, BinanceOptions
from gapless.venues.binance.translate import (
    CLIENT_ID_RE,
    DepthWire,
    ExchangeInfo,
    SymbolSpec,
    balances_from,
    book_from,
    decode_account,
    decode_depth,
    decode_exchange_info,
    decode_listen_key,
    decode_order,
    decode_orders,
    decode_server_time,
    decode_trades,
    fill_from_trade,
    instruments_from,
    order_query,
    report_from,
    spec_for,
)
from gapless.venues.binance.userstream import UserStream
from gapless.venues.common.endpoints import AuthKind, Endpoint
from gapless.venues.common.venue import RestVenue, Signed, clock_offset_ms
from gapless.venues.common.wire import hashed_client_id

#: Binance refuses a larger ``recvWindow`` (-1131, "recvWindow must be less than 60000")
MAX_RECV_WINDOW_MS = 60_000


def binance_client_order_id(intent_id: str) -> str:
    """Deterministic id valid for ``^[A-Za-z0-9_-]{1,36}$``: the intent id itself when it
    already fits, otherwise ``gl`` + 30 base32 chars of its SHA-256."""
    if CLIENT_ID_RE.fullmatch(intent_id):
        return intent_id
    return hashed_client_id(intent_id)


class BinanceVenue(RestVenue[SymbolSpec]):
    """Binance Spot over REST (``/api/v3``) plus market and user-data WebSocket streams."""

    family = "binance"

    def __init__(
        self,
        config: VenueConfig,
        *,
        clock: Clock | None = None,
        dlq: DeadLetterQueue | None = None,
    ) -> None:
        super().__init__(config, clock=clock, dlq=dlq)
        self.options = BinanceOptions.parse(config.options, venue=self.name)
        self.capabilities = CAPABILITIES
        self.recv_window = self.options.recv_window
        self.book_depth = self.options.book_depth
        self.keepalive_every = self.options.listen_key_keepalive_s
        creds = config.credentials
        self._signer: Signer | None = make_signer(creds.secret) if creds.secret else None
        self._key_headers: Mapping[str, str] = (
            {"X-MBX-APIKEY": creds.api_key} if creds.api_key else {}
        )
        self.limits = BinanceLimits()
        self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)

    def request_validity(self) -> float:
        """Binance executes a signed request only while ``serverTime - timestamp <=
        recvWindow`` (checked again before the matching engine), so it is the bound."""
        return self.recv_window / 1000

    # -- the request pipeline's venue hooks ------------------------------------------
    def _sign(self, ep: Endpoint, path: str, query: str, body: bytes | None) -> Signed:
        auth = ep.auth
        if auth is AuthKind.SIGNED:
            return self._sign_query(query), None, self._key_headers
        return query, None, (self._key_headers if auth is AuthKind.KEYED else None)

    def _classify(self, ep: Endpoint, resp: HttpResponse, mutating: bool) -> bytes:
        status = resp.status
        if 200 <= status < 300:
            return resp.body
        raise map_error(status, resp.headers, resp.body, mutating=mutating, venue=self.name)

    def _sync_usage(self, ep: Endpoint, path: str, resp: HttpResponse) -> None:
        self.limits.sync(self.limiter, resp.headers)

    async def _resign(self, err: GaplessError, resp: HttpResponse) -> bool:
        if isinstance(err, TimestampRejected):
            # outside recvWindow: provably not executed; re-sync, then re-sign once
            await self.sync_time()
            return True
        return False

    def _sign_query(self, query: str) -> str:
        signer = self._signer
        if signer is None:
            raise AuthError("binance: this request needs credentials", venue=self.name)
        ts = int(self.clock.time() * 1000) + self._time_offset_ms  # now_ms(), inlined
        q = (
            f"{query}&recvWindow={self.recv_window}&timestamp={ts}"
            if query
            else f"recvWindow={self.recv_window}&timestamp={ts}"
        )
        return f"{q}&signature={signer.sign(q.encode())}"

    async def sync_time(self) -> None:
        """Measure the offset between our clock and the venue's ``serverTime``."""
        t0 = self.clock.time()
        wire = await self._send(self.limits.endpoints["time"], decode_server_time)
        t1 = self.clock.time()
        self._time_offset_ms = clock_offset_ms(wire.serverTime, t0, t1)

    # -- reference data --------------------------------------------------------------
    async def load_instruments(self) -> dict[str, Instrument]:
        def decode(body: bytes) -> tuple[ExchangeInfo, dict[str, Instrument]]:
            info = decode_exchange_info(body)
            return info, instruments_from(info, self.name)

        info, instruments = await self._send(self.limits.endpoints["exchangeInfo"], decode)
        if info.rateLimits:
            rules = rules_from_exchange_info(info.rateLimits)
            if rules and tuple(rules) != self.limits.rules:
                self.limits = BinanceLimits(rules)
                self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)
        self.instruments = instruments
        self._specs = {s: spec_for(i) for s, i in instruments.items()}
        self._by_venue_symbol = {i.venue_symbol: s for s, i in instruments.items()}
        return instruments

    def client_order_id(self, intent_id: str) -> str:
        return binance_client_order_id(intent_id)

    # -- trading ---------------------------------------------------------------------
    def _order_report(self, spec: SymbolSpec) -> Callable[[bytes], OrderReport]:
        name = self.name
        return lambda body: report_from(decode_order(body), spec.symbol, name)

    async def place_order(self, order: Order) -> OrderReport:
        spec = self._spec(order.symbol)
        return await self._send(
            self.limits.endpoints["order_new"],
            self._order_report(spec),
            query=order_query(spec, order),
            priority=Priority.ORDER,
            mutating=True,
        )

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not CLIENT_ID_RE.fullmatch(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not a binance client id", venue=self.name)
        return await self._send(
            self.limits.endpoints["order_cancel"],
            self._order_report(spec),
            query=f"{spec.prefix}&origClientOrderId={client_order_id}",
            priority=Priority.CANCEL,
            mutating=True,
        )

    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not CLIENT_ID_RE.fullmatch(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not a binance client id", venue=self.name)
        return await self._send(
            self.limits.endpoints["order_query"],
            self._order_report(spec),
            query=f"{spec.prefix}&origClientOrderId={client_order_id}",
        )

    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        if symbol is None:
            q, endpoint = "", "open_orders_all"
        else:
            q, endpoint = self._spec(symbol).prefix, "open_orders_symbol"

        def decode(body: bytes) -> list[OrderReport]:
            return [report_from(w, self._canonical(w.symbol), self.name)
                    for w in decode_orders(body)]

        return await self._send(self.limits.endpoints[endpoint], decode, query=q)

    async def balances(self) -> dict[str, Balance]:
        return await self._send(self.limits.endpoints["account"],
                                lambda body: balances_from(decode_account(body), self.name))

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        spec = self._spec(symbol)
        if client_order_id is None:
            q, endpoint, cid = spec.prefix, "my_trades", ""
        else:
            rep = await self.query_order(symbol, client_order_id)
            q = f"{spec.prefix}&orderId={rep.venue_order_id}"
            endpoint, cid = "my_trades_order", client_order_id

        def decode(body: bytes) -> list[Fill]:
            return [fill_from_trade(t, spec.symbol, self.name, cid) for t in decode_trades(body)]

        return await self._send(self.limits.endpoints[endpoint], decode, query=q)

    # -- market data -----------------------------------------------------------------
    async def _depth(self, spec: SymbolSpec, limit: int) -> DepthWire:
        return await self._send(self.limits.endpoints[depth_key(limit)], decode_depth,
                                query=f"{spec.prefix}&limit={limit}")

    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot:
        spec = self._spec(symbol)
        limit = max(1, min(depth, 5000))
        return await self._send(
            self.limits.endpoints[depth_key(limit)],
            lambda body: book_from(decode_depth(body), spec.symbol, self.name, depth),
            query=f"{spec.prefix}&limit={limit}",
        )

    def _ws(self, path: str, name: str) -> WsConnection:
        url = self._require_ws_url()
        return self._track(WsConnection(f"{url}{path}", name=name, on_connect=None,
                                        clock=self.clock))

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        spec = self._spec(symbol)
        stream = f"{spec.venue_symbol.lower()}@depth"
        conn = self._ws(f"/ws/{stream}", f"{self.name}-{stream}")
        book = LocalBook(self.name, spec.symbol)
        limit = 1000

        async def fetch() -> DepthWire:
            return await self._depth(spec, limit)

        try:
            async for snap in run_book(
                conn, fetch, book, dlq=self.dlq, depth=self.book_depth, stream=stream
            ):
                yield snap
        finally:
            await self._release(conn)

    async def _create_listen_key(self) -> str:
        wire = await self._send(self.limits.endpoints["user_stream_new"], decode_listen_key)
        return wire.listenKey

    async def _keepalive_listen_key(self, key: str) -> None:
        await self._send(self.limits.endpoints["user_stream_keepalive"], lambda body: body,
                         query=f"listenKey={key}")

    async def private_events(self) -> AsyncIterator[PrivateEvent]:
        ws_url = self._require_ws_url()

        def connect(url: str, name: str) -> WsConnection:
            return self._track(WsConnection(url, name=name, on_connect=None, clock=self.clock))

        stream = UserStream(
            venue=self.name,
            ws_url=ws_url,
            create_key=self._create_listen_key,
            keepalive_key=self._keepalive_listen_key,
            symbols=self._by_venue_symbol,
            dlq=self.dlq,
            clock=self.clock,
            keepalive_every=self.keepalive_every,
            connect=connect,
        )
        async for ev in stream.events():
            yield ev
