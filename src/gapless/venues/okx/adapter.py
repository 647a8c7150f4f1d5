"""``OkxVenue``: the native OKX V5 spot adapter (``tdMode=cash``).

OKX acknowledges a new order with ids only (``sCode``/``sMsg``), so ``place_order`` follows
a successful ack with ``GET /api/v5/trade/order`` (and ``/trade/fills`` when something
filled) to report the state and fills, and to turn a post-only order the venue cancelled
for crossing (``cancelSource`` 31) into ``InvalidOrder``. If that follow-up fails, the ack
alone is reported (ACCEPTED); the private stream and reconciliation carry the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from gapless.model import Balance, BookSnapshot, Fill, Instrument, Order, OrderReport, OrderState
from gapless.model.errors import (
    AuthError,
    GaplessError,
    InvalidOrder,
    MalformedResponse,
    OrderNotFound,
    TimestampRejected,
)
from gapless.transport.clock import Clock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpResponse
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, VenueConfig
from gapless.venues.common.endpoints import AuthKind, Endpoint
from gapless.venues.common.venue import RestVenue, Signed, clock_offset_ms
from gapless.venues.common.wire import hashed_client_id
from gapless.venues.okx import errors
from gapless.venues.okx.auth import Signer, iso_ms
from gapless.venues.okx.book import LocalBook, run_book
from gapless.venues.okx.limits import DEFAULT_RULES, ENDPOINTS, INSTRUMENT_RULES
from gapless.venues.okx.options import CAPABILITIES, OkxOptions
from gapless.venues.okx.translate import (
    CLIENT_ID_RE,
    POST_ONLY_CANCEL_SOURCE,
    AckWire,
    OrderWire,
    SymbolSpec,
    balances_from,
    book_from,
    decode_acks,
    decode_balance,
    decode_books,
    decode_fills,
    decode_instruments,
    decode_orders,
    decode_time,
    fill_from,
    instruments_from,
    order_body,
    report_from,
    spec_for,
)
from gapless.venues.okx.userstream import make_on_connect, private_stream

T = TypeVar("T")
PAGE = 100
WS_PING_S = 20.0  # below the venue's 30 s idle cut
#: OKX refuses a request whose OK-ACCESS-TIMESTAMP is ~30 s off its clock (50102, [3P]),
#: so an ``expTime`` further out would not keep a request alive any longer
MAX_RECV_WINDOW_MS = 30_000


def okx_client_order_id(intent_id: str) -> str:
    """Deterministic ``clOrdId`` (1-32 ASCII letters/digits): the intent id when it already
    fits, otherwise ``gl`` + 30 lowercase base32 characters of its SHA-256."""
    if CLIENT_ID_RE.fullmatch(intent_id):
        return intent_id
    return hashed_client_id(intent_id)


class OkxVenue(RestVenue[SymbolSpec]):
    """OKX V5 spot over REST (``/api/v5``) plus public ``books`` and private ``orders`` WS."""

    family = "okx"

    def __init__(
        self,
        config: VenueConfig,
        *,
        clock: Clock | None = None,
        dlq: DeadLetterQueue | None = None,
    ) -> None:
        super().__init__(config, clock=clock, dlq=dlq)
        self.options = OkxOptions.parse(config.options, venue=self.name)
        self.capabilities = CAPABILITIES
        self.book_depth = self.options.book_depth
        self.recv_window = self.options.recv_window
        demo = self.options.demo
        creds = config.credentials
        self._signer: Signer | None = (
            Signer(creds.api_key, creds.secret, creds.passphrase, demo=demo)
            if creds.api_key and creds.secret
            else None
        )
        self.limiter = RateLimiter(self.name, DEFAULT_RULES, clock=self.clock, scale=self.config.limit_scale)
        self._inst_limiters: dict[str, RateLimiter] = {}

    async def start(self) -> None:
        await super().start()
        await self.sync_time()  # expTime is set on the venue's clock

    def request_validity(self) -> float:
        """Every signed request carries ``expTime`` = venue now + ``recv_window``; OKX does
        not process a place/amend that arrives later (sCode 50036)."""
        return self.recv_window / 1000

    # -- plumbing --------------------------------------------------------------------
    def _inst_limiter(self, inst_id: str) -> RateLimiter:
        lim = self._inst_limiters.get(inst_id)
        if lim is None:
            lim = RateLimiter(f"{self.name}:{inst_id}", INSTRUMENT_RULES, clock=self.clock,
                              scale=self.config.limit_scale)
            self._inst_limiters[inst_id] = lim
        return lim

    def _scoped_limiter(self, scope: str) -> RateLimiter:
        return self._inst_limiter(scope)

    async def _request(self, endpoint: str, decode: Callable[[bytes], T], query: str = "",
                       body: str = "", *, priority: Priority = Priority.QUERY,
                       mutating: bool = False, inst_id: str = "") -> T:
        """One request through the pipeline; trading endpoints pay in ``inst_id``'s
        limiter too."""
        return await self._send(ENDPOINTS[endpoint], decode, query=query,
                                body=body.encode() if body else None, priority=priority,
                                mutating=mutating, scope=inst_id)

    def _sign(self, ep: Endpoint, path: str, query: str, body: bytes | None) -> Signed:
        if ep.auth is not AuthKind.SIGNED:
            return query, body, None
        signer = self._signer
        if signer is None:
            raise AuthError("okx: this request needs credentials", venue=self.name)
        request_path = f"{path}?{query}" if query else path
        now = self.now_ms()
        return query, body, signer.headers(iso_ms(now / 1000), ep.method, request_path,
                                           body.decode() if body else "",
                                           exp_time_ms=now + self.recv_window)

    def _classify(self, ep: Endpoint, resp: HttpResponse, mutating: bool) -> bytes:
        """The body of a ``code "0"`` answer (``"1"``/``"2"`` too for order operations,
        whose ``sCode`` the decoder maps); every other answer raises."""
        if resp.status != 200:
            raise errors.map_http_error(resp.status, resp.body, mutating=mutating,
                                        venue=self.name)
        code, msg = errors.head(resp.body, self.name)
        if code == "0" or (code in ("1", "2") and mutating):
            return resp.body
        raise errors.from_code(code, msg, mutating=mutating, venue=self.name)

    async def _resign(self, err: GaplessError, resp: HttpResponse) -> bool:
        if isinstance(err, TimestampRejected):
            await self.sync_time()  # provably not executed: re-sync, then re-sign once
            return True
        return False

    async def sync_time(self) -> None:
        t0 = self.clock.time()
        server_ms = await self._request("time", self._server_ms)
        t1 = self.clock.time()
        self._time_offset_ms = clock_offset_ms(server_ms, t0, t1)

    def _server_ms(self, body: bytes) -> int:
        rows = decode_time(body)
        if len(rows) != 1 or not rows[0].ts.isdigit():
            raise MalformedResponse("bad server time", venue=self.name)
        return int(rows[0].ts)

    def _ack(self, body: bytes) -> AckWire:
        acks = decode_acks(body)
        if len(acks) != 1:
            raise MalformedResponse(f"expected one result, got {len(acks)}", venue=self.name)
        ack = acks[0]
        if ack.sCode != "0":
            raise errors.from_code(ack.sCode, ack.sMsg, mutating=True, venue=self.name)
        return ack

    # -- reference data --------------------------------------------------------------
    async def load_instruments(self) -> dict[str, Instrument]:
        instruments = await self._request(
            "instruments", lambda b: instruments_from(decode_instruments(b), self.name),
            "instType=SPOT")
        self.instruments = instruments
        self._specs = {s: spec_for(i) for s, i in instruments.items()}
        self._by_venue_symbol = {i.venue_symbol: s for s, i in instruments.items()}
        return instruments

    def client_order_id(self, intent_id: str) -> str:
        return okx_client_order_id(intent_id)

    # -- trading ---------------------------------------------------------------------
    async def place_order(self, order: Order) -> OrderReport:
        spec = self._spec(order.symbol)
        if not CLIENT_ID_RE.fullmatch(order.client_order_id):
            raise InvalidOrder(f"{order.client_order_id!r} is not a valid OKX clOrdId",
                               venue=self.name)
        ack = await self._request(
            "order_place", self._ack, body=order_body(spec, order),
            priority=Priority.ORDER, mutating=True, inst_id=spec.inst_id,
        )
        try:
            w = await self._order_wire(spec, f"ordId={ack.ordId}")
        except GaplessError:
            return OrderReport(
                venue=self.name, symbol=spec.symbol, client_order_id=order.client_order_id,
                venue_order_id=ack.ordId, state=OrderState.ACCEPTED, side=order.side,
                qty=order.qty, price=order.price, ts_ms=self.now_ms(),
            )
        if (w.state == "canceled" and w.ordType == "post_only"
                and w.cancelSource == POST_ONLY_CANCEL_SOURCE):
            raise InvalidOrder("post-only order would have taken liquidity; the venue "
                               "cancelled it", venue=self.name, code="51019")
        fills: tuple[Fill, ...] = ()
        if w.accFillSz not in ("", "0"):
            try:
                fills = tuple(await self._fills(spec, w.ordId, order.client_order_id))
            except GaplessError:
                fills = ()
        return report_from(w, spec.symbol, self.name, fills)

    async def _order_wire(self, spec: SymbolSpec, selector: str) -> OrderWire:
        return await self._request("order_query", self._one_order,
                                   f"instId={spec.inst_id}&{selector}", inst_id=spec.inst_id)

    def _one_order(self, body: bytes) -> OrderWire:
        rows = decode_orders(body)
        if len(rows) != 1:
            raise MalformedResponse(f"expected one order, got {len(rows)}", venue=self.name)
        return rows[0]

    async def _fills(self, spec: SymbolSpec, ord_id: str, client_order_id: str = "") -> list[Fill]:
        return await self._request(
            "fills", lambda b: [fill_from(f, spec.symbol, self.name, client_order_id)
                                for f in decode_fills(b)],
            f"instType=SPOT&instId={spec.inst_id}&ordId={ord_id}",
        )

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not CLIENT_ID_RE.fullmatch(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not an OKX clOrdId", venue=self.name)
        payload = f'{{"instId":"{spec.inst_id}","clOrdId":"{client_order_id}"}}'
        ack = await self._request(
            "order_cancel", self._ack, body=payload,
            priority=Priority.CANCEL, mutating=True, inst_id=spec.inst_id,
        )
        # sCode 0 only says the cancel was accepted: read the state back
        w = await self._order_wire(spec, f"ordId={ack.ordId}" if ack.ordId
                                   else f"clOrdId={client_order_id}")
        rep = report_from(w, spec.symbol, self.name)
        if rep.state.is_open:
            rep = OrderReport(
                venue=rep.venue, symbol=rep.symbol, client_order_id=rep.client_order_id,
                venue_order_id=rep.venue_order_id, state=OrderState.PENDING_CANCEL,
                side=rep.side, qty=rep.qty, price=rep.price, filled_qty=rep.filled_qty,
                quote_filled=rep.quote_filled, ts_ms=rep.ts_ms,
            )
        return rep

    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        spec = self._spec(symbol)
        if not CLIENT_ID_RE.fullmatch(client_order_id):
            raise OrderNotFound(f"{client_order_id!r} is not an OKX clOrdId", venue=self.name)
        w = await self._order_wire(spec, f"clOrdId={client_order_id}")
        return report_from(w, spec.symbol, self.name)

    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        base = "instType=SPOT" if symbol is None else f"instType=SPOT&instId={self._spec(symbol).inst_id}"
        out: list[OrderReport] = []
        after = ""
        while True:
            q = f"{base}&limit={PAGE}" + (f"&after={after}" if after else "")
            rows = await self._request("orders_pending", decode_orders, q)
            for w in rows:
                sym = self._by_venue_symbol.get(w.instId)
                if sym is None:
                    continue  # an instrument listed after load_instruments
                out.append(report_from(w, sym, self.name))
            if len(rows) < PAGE:
                return out
            after = rows[-1].ordId

    async def balances(self) -> dict[str, Balance]:
        return await self._request("balance",
                                   lambda b: balances_from(decode_balance(b), self.name))

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        spec = self._spec(symbol)
        if client_order_id is not None:
            rep = await self.query_order(symbol, client_order_id)
            return await self._fills(spec, rep.venue_order_id, client_order_id)
        return await self._request(
            "fills", lambda b: [fill_from(f, spec.symbol, self.name) for f in decode_fills(b)],
            f"instType=SPOT&instId={spec.inst_id}&limit={PAGE}",
        )

    # -- market data -----------------------------------------------------------------
    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot:
        spec = self._spec(symbol)
        sz = max(1, min(depth, 400))
        return await self._request(
            "books", lambda b: book_from(decode_books(b), spec.symbol, self.name, depth),
            f"instId={spec.inst_id}&sz={sz}",
        )

    def _ws(self, path: str, name: str, on_connect: Any) -> WsConnection:
        url = self._require_ws_url()
        return self._track(WsConnection(
            f"{url}{path}", name=name, on_connect=on_connect, clock=self.clock,
            heartbeat=WS_PING_S, app_ping=lambda: "ping",
        ))

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        spec = self._spec(symbol)
        sub = {"op": "subscribe", "args": [{"channel": "books", "instId": spec.inst_id}]}

        async def on_connect(conn: WsConnection) -> None:
            await conn.send_json(sub)

        conn = self._ws("/ws/v5/public", f"{self.name}-books-{spec.inst_id}", on_connect)
        book = LocalBook(self.name, spec.symbol)
        try:
            async for snap in run_book(conn, book, dlq=self.dlq, depth=self.book_depth):
                yield snap
        finally:
            await self._release(conn)

    async def private_events(self) -> AsyncIterator[PrivateEvent]:
        signer = self._signer
        if signer is None:
            raise AuthError("okx: the private stream needs credentials", venue=self.name)

        def login() -> dict[str, object]:
            return signer.ws_login(f"{self.now_ms() / 1000:.3f}")

        conn = self._ws("/ws/v5/private", f"{self.name}-orders", make_on_connect(login, self.name))
        try:
            async for ev in private_stream(conn, self._by_venue_symbol, self.name, self.dlq):
                yield ev
        finally:
            await self._release(conn)
