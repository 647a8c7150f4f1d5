"""``CoinbaseVenue``: the native Coinbase Advanced Trade adapter (REST v3 + WebSocket).

Coinbase addresses orders by its own UUID only (no lookup or cancel by client id), so the
adapter keeps a client-id -> order-id map of what it placed and, for ids it has not seen
(another process, an answer lost in transit), finds the order by listing the product's
orders. A create answer carries no order state, so ``place_order`` reads the order (and
its fills when it traded) right after the venue accepted it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar
from urllib.parse import quote, urlsplit

import orjson

from gapless.model import Balance, BookSnapshot, Fill, Instrument, Order, OrderReport, OrderState
from gapless.model.errors import (
    AuthError,
    DuplicateClientOrderId,
    GaplessError,
    MalformedResponse,
    OrderNotFound,
)
from gapless.transport.clock import Clock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.http import HttpResponse
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, VenueConfig
from gapless.venues.coinbase.auth import JwtSigner
from gapless.venues.coinbase.book import (
    BookGap,
    LocalBook,
    Sequencer,
    parse_envelope,
    parse_l2_events,
)
from gapless.venues.coinbase.errors import map_cancel_failure, map_error, map_order_failure
from gapless.venues.coinbase.limits import ENDPOINTS, CoinbaseLimits
from gapless.venues.coinbase.options import CAPABILITIES, CoinbaseOptions
from gapless.venues.coinbase.translate import (
    OrderWire,
    balances_from,
    book_from,
    coinbase_client_order_id,
    decode_accounts,
    decode_cancel,
    decode_create,
    decode_fills,
    decode_order,
    decode_orders,
    decode_product_book,
    decode_products,
    decode_time,
    fill_from,
    instruments_from,
    order_body,
    report_from_order,
)
from gapless.venues.coinbase.userstream import UserStream
from gapless.venues.common.endpoints import AuthKind, Endpoint
from gapless.venues.common.venue import RestVenue, Signed

JSON_HEADERS = {"Content-Type": "application/json"}
MAX_PAGES = 10


class _Page(Protocol):
    @property
    def cursor(self) -> str: ...


_P = TypeVar("_P", bound=_Page)
T = TypeVar("T")
RESYNC_THRESHOLD_S = 5.0


class CoinbaseVenue(RestVenue[Instrument]):
    """Coinbase Advanced Trade; symbols resolve through ``instrument()`` (no extra spec).
    The clock offset (float seconds) is measured at start and again after a 401, so every
    JWT's ``nbf``/``exp`` are on the venue's clock."""

    family = "coinbase"

    def __init__(self, config: VenueConfig, *, clock: Clock | None = None,
                 dlq: DeadLetterQueue | None = None) -> None:
        super().__init__(config, clock=clock, dlq=dlq)
        opts = self.options = CoinbaseOptions.parse(config.options, venue=self.name)
        self.capabilities = CAPABILITIES
        self.book_depth = opts.book_depth
        self.list_limit = opts.list_limit
        # the JWT's life is the request's validity bound; JWT times are whole seconds, so
        # a window of 2500 ms signs (and promises) 3 s
        self.token_lifetime = -(-opts.recv_window // 1000)
        self.jwt_host = opts.jwt_host or urlsplit(config.rest_url).netloc
        self.ws_url = config.ws_url or ""  # used as configured (no trailing-slash trim)
        self.user_ws_url = opts.user_ws_url or config.ws_url
        creds = config.credentials
        self._time_offset = 0.0
        self._signer: JwtSigner | None = (
            JwtSigner(creds.api_key, creds.secret, now=self._venue_time,
                      lifetime=self.token_lifetime) if creds.secret else None
        )
        self.limits = CoinbaseLimits()
        self.limiter = RateLimiter(self.name, self.limits.rules, clock=self.clock, scale=self.config.limit_scale)
        self._ids: dict[str, str] = {}  # client order id -> venue order id
        self._cids: dict[str, str] = {}  # venue order id -> client order id

    def request_validity(self) -> float:
        """The venue runs a request only while ``nbf <= now < exp`` on its clock, and every
        private request is signed with ``exp = nbf + token_lifetime``, ``nbf`` = the
        venue-corrected now rounded down: no request executes later than this after
        being signed (short of clock error since the offset was measured)."""
        return float(self.token_lifetime)

    async def start(self) -> None:
        await super().start()
        await self._resync_clock()  # best effort: sign on the venue's clock from the start

    # -- plumbing --------------------------------------------------------------------
    def _venue_time(self) -> float:
        return self.clock.time() + self._time_offset

    def _signer_or_fail(self) -> JwtSigner:
        if self._signer is None:
            raise AuthError("coinbase: this request needs credentials", venue=self.name)
        return self._signer

    async def _request(self, endpoint: str, decode: Callable[[bytes], T], query: str = "",
                       body: bytes | None = None, *, path: str | None = None,
                       priority: Priority = Priority.QUERY, mutating: bool = False) -> T:
        return await self._send(ENDPOINTS[endpoint], decode, query=query, body=body, path=path,
                                priority=priority, mutating=mutating)

    def _sign(self, ep: Endpoint, path: str, query: str, body: bytes | None) -> Signed:
        headers: dict[str, str] = {}
        if ep.auth is AuthKind.SIGNED:
            headers.update(self._signer_or_fail().bearer(ep.method, self.jwt_host, path))
        if body is not None:
            headers.update(JSON_HEADERS)
        return query, body, headers or None

    def _classify(self, ep: Endpoint, resp: HttpResponse, mutating: bool) -> bytes:
        if 200 <= resp.status < 300:
            return resp.body
        raise map_error(resp.status, resp.headers, resp.body, mutating=mutating, venue=self.name)

    def _sync_usage(self, ep: Endpoint, path: str, resp: HttpResponse) -> None:
        if ep.private:
            self.limits.sync(self.limiter, resp.headers)

    async def _resign(self, err: GaplessError, resp: HttpResponse) -> bool:
        # a 401 proves nothing ran; if our clock was far off the venue's, the token was
        # outside nbf/exp: re-signed with the new offset once
        return isinstance(err, AuthError) and resp.status == 401 and await self._resync_clock()

    async def _resync_clock(self) -> bool:
        """Measure the venue's clock; True if our offset was off by enough that a 401 was
        likely a token outside ``nbf``/``exp`` (worth re-signing once)."""
        try:
            t0 = self.clock.time()
            wire = await self._request("time", lambda b: decode_time(b, self.name))
            t1 = self.clock.time()
        except GaplessError:
            return False
        try:
            server = int(wire.epochMillis) / 1000
        except ValueError:
            return False
        offset = server - (t0 + t1) / 2
        moved = abs(offset - self._time_offset) >= RESYNC_THRESHOLD_S
        self._time_offset = offset  # always adopted: the JWT's exp is the validity bound
        return moved

    async def sync_time(self) -> None:
        await self._resync_clock()

    def _inst(self, symbol: str) -> Instrument:
        return self.instrument(symbol)

    def _remember(self, cid: str, vid: str) -> None:
        if cid and vid:
            self._ids[cid] = vid
            self._cids[vid] = cid

    # -- reference data --------------------------------------------------------------
    async def load_instruments(self) -> dict[str, Instrument]:
        instruments = await self._request(
            "products", lambda b: instruments_from(decode_products(b, self.name), self.name),
            "product_type=SPOT")
        self.instruments = instruments
        self._by_venue_symbol = {i.venue_symbol: s for s, i in instruments.items()}
        return instruments

    def client_order_id(self, intent_id: str) -> str:
        return coinbase_client_order_id(intent_id)

    # -- orders ----------------------------------------------------------------------
    async def _get_order(self, vid: str) -> OrderWire:
        wire = await self._request(
            "order_get", lambda b: decode_order(b, self.name),
            path=ENDPOINTS["order_get"].path.format(order_id=quote(vid, safe="")))
        return wire.order

    def _symbol_of(self, product: str) -> str:
        return self._by_venue_symbol.get(product, product.replace("-", "/"))

    async def _pages(self, endpoint: str, query: str,
                     decode: Callable[[bytes, str], _P]) -> AsyncIterator[_P]:
        """Coinbase cursor paging: ``query`` plus ``&cursor=…`` until the venue says it is
        done (``has_next`` false where the page has it, or an empty cursor), at most
        ``MAX_PAGES`` pages."""
        cursor = ""
        for _ in range(MAX_PAGES):
            q = query + (f"&cursor={quote(cursor, safe='')}" if cursor else "")
            page = await self._request(endpoint, lambda b: decode(b, self.name), q)
            yield page
            cursor = page.cursor
            if not cursor or not getattr(page, "has_next", True):
                return

    async def _fills_for(self, symbol: str, vid: str, cid: str) -> list[Fill]:
        inst = self.instruments.get(symbol)
        quote_asset = inst.quote if inst is not None else symbol.partition("/")[2]
        out: list[Fill] = []
        async for page in self._pages("fills", f"order_ids={quote(vid, safe='')}&limit={self.list_limit}",
                                      decode_fills):
            out.extend(fill_from(f, symbol, quote_asset, self.name, cid) for f in page.fills)
        return out

    async def _report(self, w: OrderWire, with_fills: bool = False) -> OrderReport:
        symbol = self._symbol_of(w.product_id)
        self._remember(w.client_order_id, w.order_id)
        fills: tuple[Fill, ...] = ()
        if with_fills and w.filled_size > 0:
            fills = tuple(await self._fills_for(symbol, w.order_id, w.client_order_id))
        return report_from_order(w, symbol, self.name, fills)

    async def place_order(self, order: Order) -> OrderReport:
        inst = self._inst(order.symbol)
        body = orjson.dumps(order_body(order, inst))
        cid = order.client_order_id
        # what we knew *before* sending: the private stream may learn this very order's id
        # while the create is in flight, and that is no proof of a reused client id
        prior = self._ids.get(cid)
        created = await self._request("order_new", lambda b: decode_create(b, self.name),
                                      body=body, priority=Priority.ORDER, mutating=True)
        if not created.success:
            er = created.error_response
            raise map_order_failure(er.error if er else created.failure_reason,
                                    (er.message or er.error_details) if er else "",
                                    er.preview_failure_reason if er else "", venue=self.name)
        if created.success_response is None or not created.success_response.order_id:
            raise MalformedResponse("success without success_response.order_id", venue=self.name)
        vid = created.success_response.order_id
        if prior == vid:
            # the venue answers a reused client id with the order it already held before
            # this create was sent: the request had no effect
            raise DuplicateClientOrderId(f"client order id {cid} is already in use by {vid}",
                                         venue=self.name)
        self._remember(cid, vid)
        try:
            return await self._report(await self._get_order(vid), with_fills=True)
        except GaplessError:
            # accepted for certain; the state read failed: report what the venue proved
            return OrderReport(venue=self.name, symbol=order.symbol, client_order_id=cid,
                               venue_order_id=vid, state=OrderState.ACCEPTED, side=order.side,
                               qty=order.qty, price=order.price)

    async def _venue_id(self, symbol: str, cid: str) -> str:
        vid = self._ids.get(cid)
        if vid is not None:
            return vid
        inst = self._inst(symbol)
        async for page in self._pages("orders_list",
                                      f"product_ids={inst.venue_symbol}&limit={self.list_limit}",
                                      decode_orders):
            for w in page.orders:
                self._remember(w.client_order_id, w.order_id)
            if cid in self._ids:
                return self._ids[cid]
        raise OrderNotFound(f"no order with client id {cid} on {symbol}", venue=self.name)

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport:
        vid = await self._venue_id(symbol, client_order_id)
        answer = await self._request("order_cancel", lambda b: decode_cancel(b, self.name),
                                     body=orjson.dumps({"order_ids": [vid]}),
                                     priority=Priority.CANCEL, mutating=True)
        results = [r for r in answer.results if r.order_id == vid]
        if not results:
            raise MalformedResponse("cancel answer does not mention the order", venue=self.name)
        if not results[0].success:
            raise map_cancel_failure(results[0].failure_reason, venue=self.name)
        try:
            return await self._report(await self._get_order(vid))
        except GaplessError:
            return OrderReport(venue=self.name, symbol=symbol, client_order_id=client_order_id,
                               venue_order_id=vid, state=OrderState.CANCELED)

    async def query_order(self, symbol: str, client_order_id: str) -> OrderReport:
        self._inst(symbol)
        vid = await self._venue_id(symbol, client_order_id)
        return await self._report(await self._get_order(vid))

    async def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        base_q = "order_status=OPEN"
        if symbol is not None:
            base_q += f"&product_ids={self._inst(symbol).venue_symbol}"
        out: list[OrderReport] = []
        async for page in self._pages("orders_list", f"{base_q}&limit={self.list_limit}",
                                      decode_orders):
            for w in page.orders:
                out.append(await self._report(w))
        return out

    async def balances(self) -> dict[str, Balance]:
        out: dict[str, Balance] = {}
        async for page in self._pages("accounts", "limit=250", decode_accounts):
            for asset, bal in balances_from(page, self.name).items():
                prev = out.get(asset)
                out[asset] = bal if prev is None else Balance(
                    asset=asset, free=prev.free + bal.free, locked=prev.locked + bal.locked)
        return out

    async def my_trades(self, symbol: str, client_order_id: str | None = None) -> list[Fill]:
        inst = self._inst(symbol)
        if client_order_id is not None:
            vid = await self._venue_id(symbol, client_order_id)
            return await self._fills_for(symbol, vid, client_order_id)
        out: list[Fill] = []
        async for page in self._pages("fills",
                                      f"product_ids={inst.venue_symbol}&limit={self.list_limit}",
                                      decode_fills):
            out.extend(fill_from(f, symbol, inst.quote, self.name, self._cids.get(f.order_id, ""))
                       for f in page.fills)
        return out

    # -- market data -----------------------------------------------------------------
    async def order_book(self, symbol: str, depth: int = 20) -> BookSnapshot:
        inst = self._inst(symbol)
        limit = max(1, min(depth, 500))
        return await self._request(
            "product_book",
            lambda b: book_from(decode_product_book(b, self.name), symbol, self.name, depth),
            f"product_id={inst.venue_symbol}&limit={limit}")

    def _subscribe_msg(self, kind: str, channel: str, products: list[str]) -> dict[str, object]:
        msg: dict[str, object] = {"type": kind, "product_ids": products, "channel": channel}
        if self._signer is not None:
            msg["jwt"] = self._signer.token(None)
        return msg

    def _ws(self, url: str, name: str, channels: list[tuple[str, list[str]]]) -> WsConnection:
        url = self._require_ws_url(url)

        async def on_connect(conn: WsConnection) -> None:
            for channel, products in channels:
                await conn.send_json(self._subscribe_msg("subscribe", channel, products))

        return self._track(WsConnection(url, name=name, on_connect=on_connect, clock=self.clock))

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        inst = self._inst(symbol)
        pid = inst.venue_symbol
        stream = f"level2:{pid}"
        conn = self._ws(self.ws_url, f"{self.name}-{stream}", [("level2", [pid]), ("heartbeats", [])])
        book = LocalBook(self.name, symbol)
        seq = Sequencer()

        async def resubscribe() -> None:
            book.reset()
            seq.reset()
            await conn.send_json(self._subscribe_msg("unsubscribe", "level2", [pid]))
            await conn.send_json(self._subscribe_msg("subscribe", "level2", [pid]))

        try:
            async for msg in conn.messages():
                if isinstance(msg, WsReconnected):
                    book.reset()
                    seq.reset()
                    continue
                try:
                    env = parse_envelope(msg)
                except ValueError as exc:
                    self.dlq.put(self.name, stream, msg, str(exc))
                    continue
                try:
                    seq.check(env.sequence_num)
                except BookGap:
                    await resubscribe()
                    continue
                if env.channel != "l2_data":
                    continue
                try:
                    events = parse_l2_events(env)
                except ValueError as exc:
                    self.dlq.put(self.name, stream, msg, str(exc))
                    await resubscribe()  # the book may have missed a change
                    continue
                changed = False
                for ev in events:
                    if ev.product_id == pid:
                        changed = book.apply(ev, env.sequence_num) or changed
                if changed and book.ready and book.bids and book.asks:
                    yield book.snapshot(self.book_depth)
        finally:
            await self._release(conn)

    async def private_events(self) -> AsyncIterator[PrivateEvent]:
        self._signer_or_fail()
        conn = self._ws(self.user_ws_url, f"{self.name}-user", [("user", []), ("heartbeats", [])])
        stream = UserStream(venue=self.name, conn=conn, symbols=self._by_venue_symbol,
                            fetch_fills=self._stream_fills, dlq=self.dlq)
        try:
            async for ev in stream.events():
                if isinstance(ev, OrderReport):
                    self._remember(ev.client_order_id, ev.venue_order_id)
                yield ev
        finally:
            await self._release(conn)

    async def _stream_fills(self, symbol: str, vid: str, cid: str) -> list[Fill]:
        return await self._fills_for(symbol, vid, cid)
