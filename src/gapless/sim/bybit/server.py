"""Bybit V5 (category ``spot``) skin over the venue-neutral simulator core.

REST under ``/v5/...`` with ``X-BAPI-*`` HMAC headers and the ``retCode`` envelope;
WebSocket ``/v5/public/spot`` (``orderbook.N.SYMBOL`` snapshot/delta with ``u``/``seq``)
and ``/v5/private`` (``auth`` op, topics ``order``, ``execution``, ``wallet``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..core.models import (
    BUY,
    CANCELED,
    EXPIRED,
    FILLED,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    BalanceEvent,
    BookDelta,
    Fill,
    Order,
    OrderEvent,
    Rejection,
    UnknownOrder,
)
from ..faultware import abort_connection
from . import auth, errors
from .errors import BybitError
from .limits import Limits

ZERO = Decimal(0)
ORDER_ID_BASE = 1_900_000_000_000_000_000
EXEC_ID_BASE = 2_100_000_000_000_000_000
SPOT_DEPTHS = (1, 50, 200, 1000)
MUTATING = frozenset({"/v5/order/create", "/v5/order/cancel", "/v5/order/cancel-all"})

Handler = Callable[[dict[str, str], str], Awaitable[Any]]


def s(v: Decimal | None) -> str:
    if v is None:
        return "0"
    if v == 0:
        return "0"
    return f"{v.normalize():f}"


def venue_symbol(symbol: str) -> str:
    return symbol.replace("/", "")


def order_id_str(oid: int) -> str:
    return str(ORDER_ID_BASE + oid)


def exec_id_str(tid: int) -> str:
    return str(EXEC_ID_BASE + tid)


def status_of(o: Order) -> str:
    if o.status == NEW:
        return "New"
    if o.status == PARTIALLY_FILLED:
        return "PartiallyFilled"
    if o.status == FILLED:
        return "Filled"
    if o.status in (CANCELED, EXPIRED):
        return "PartiallyFilledCanceled" if o.filled > 0 else "Cancelled"
    return "Rejected"


def tif_of(o: Order) -> str:
    if o.type == LIMIT_MAKER:
        return "PostOnly"
    if o.type == MARKET:
        return "IOC"
    return o.tif


class Conn:
    """One WebSocket client: frames are queued and written by one task (latency, stall)."""

    def __init__(self, ws: web.WebSocketResponse, private: bool) -> None:
        self.ws = ws
        self.private = private
        self.conn_id = secrets.token_hex(8)
        self.topics: set[str] = set()
        self.authed = False
        self.queue: asyncio.Queue[str] = asyncio.Queue()


class TopicBook:
    """What one ``orderbook.N.SYMBOL`` topic last published (for top-N diffs)."""

    def __init__(self, u: int) -> None:
        self.u = u
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}


class BybitSkin:
    def __init__(self, exchange: Exchange, faults: Faults, api_key: str, secret: str) -> None:
        self.exchange = exchange
        self.faults = faults
        self.api_key = api_key
        self.secret = secret
        self.limits = Limits(faults)
        self.conns: set[Conn] = set()
        self.topics: dict[tuple[str, int], TopicBook] = {}
        self._msg_ids = itertools.count(1)
        self._exec_seq = itertools.count(1)
        self._bg: set[asyncio.Future[Any]] = set()
        self.routes: dict[tuple[str, str], tuple[Handler, bool]] = {
            ("GET", "/v5/market/time"): (self.h_time, False),
            ("GET", "/v5/market/instruments-info"): (self.h_instruments, False),
            ("GET", "/v5/market/orderbook"): (self.h_orderbook, False),
            ("GET", "/v5/market/tickers"): (self.h_tickers, False),
            ("POST", "/v5/order/create"): (self.h_create, True),
            ("POST", "/v5/order/cancel"): (self.h_cancel, True),
            ("POST", "/v5/order/cancel-all"): (self.h_cancel_all, True),
            ("GET", "/v5/order/realtime"): (self.h_realtime, True),
            ("GET", "/v5/order/history"): (self.h_history, True),
            ("GET", "/v5/execution/list"): (self.h_executions, True),
            ("GET", "/v5/account/wallet-balance"): (self.h_wallet, True),
            ("GET", "/v5/user/query-api"): (self.h_query_api, True),
            ("GET", "/v5/account/info"): (self.h_account_info, True),
            ("GET", "/v5/asset/coin/query-info"): (self.h_coin_info, True),
        }
        exchange.subscribe(self.on_event)
        faults.on_ws_disconnect(self.disconnect_all)

    # ------------------------------------------------------------ plumbing
    def reset(self) -> None:
        self.limits.reset()

    def symbol_of(self, vs: str) -> str:
        for sym in self.exchange.specs:
            if venue_symbol(sym) == vs:
                return sym
        raise errors.invalid_symbol()

    def resolve(self, name: str) -> str:
        """Admin helper: ``BTCUSDT`` or ``BTC/USDT`` -> core symbol (unknown names pass through)."""
        if name in self.exchange.specs:
            return name
        for sym in self.exchange.specs:
            if venue_symbol(sym) == name.upper():
                return sym
        return name

    def envelope(self, result: Any, code: int = 0, msg: str = "OK") -> dict[str, Any]:
        return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {},
                "time": self.exchange.time_ms()}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        f = self.faults
        if f.outage == "refuse":
            return abort_connection(request)
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.outage == "503":
            return web.Response(status=503, text="503 Service Temporarily Unavailable")
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.Response(status=404, text="404 page not found")
        handler, private = route
        raw_query = request.raw_path.partition("?")[2]
        body_text = ""
        if request.method == "POST":
            body_text = (await request.read()).decode("utf-8", "replace")
        headers: dict[str, str] = {}
        try:
            if request.method == "POST":
                try:
                    parsed = json.loads(body_text) if body_text.strip() else {}
                except ValueError:
                    raise errors.params("invalid JSON body") from None
                if not isinstance(parsed, dict):
                    raise errors.params("body must be a JSON object")
                params = {k: ("" if v is None else str(v)) for k, v in parsed.items()}
            else:
                params = dict(parse_qsl(raw_query, keep_blank_values=True))
            uid = ""
            if private:
                uid = self.authenticate(request, raw_query if request.method == "GET" else body_text)
                allowed, headers = self.limits.charge(uid, request.path)
                if not allowed:
                    raise errors.rate_limited(headers)
            result = await handler(params, uid)
            drop = f.take_drop_response() if request.path in MUTATING else None
            if drop is not None:
                return await self.drop(request, drop)
            body = self.envelope(result)
        except BybitError as e:
            headers = {**headers, **e.headers}
            if e.status != 200:
                return web.json_response({"retCode": e.code, "retMsg": e.msg}, status=e.status,
                                         headers=headers)
            body = self.envelope({}, e.code, e.msg)
        return web.Response(body=json.dumps(body, separators=(",", ":")),
                            content_type="application/json", headers=headers)

    async def drop(self, request: web.Request, mode: str) -> web.StreamResponse:
        if mode == "hang":
            await asyncio.sleep(3600)
        return abort_connection(request)

    def authenticate(self, request: web.Request, payload: str) -> str:
        h = request.headers
        key = h.get("X-BAPI-API-KEY", "")
        ts = h.get("X-BAPI-TIMESTAMP", "")
        sign = h.get("X-BAPI-SIGN", "")
        recv = h.get("X-BAPI-RECV-WINDOW", "5000") or "5000"
        if not key or key != self.api_key:
            raise errors.invalid_key()
        if not ts or not sign:
            raise errors.params("missing X-BAPI-TIMESTAMP or X-BAPI-SIGN")
        try:
            ts_i, recv_i = int(ts), int(recv)
        except ValueError:
            raise errors.params("X-BAPI-TIMESTAMP/X-BAPI-RECV-WINDOW") from None
        now = self.exchange.time_ms()
        if not (now - recv_i <= ts_i < now + 1000):
            raise errors.timestamp_window(ts_i, now, recv_i)
        prehash = auth.rest_prehash(ts, key, recv, payload)
        if not auth.verify(self.secret, prehash, sign):
            raise errors.bad_sign(prehash)
        return Exchange.TEST_ACCOUNT

    @staticmethod
    def need(params: dict[str, str], name: str) -> str:
        v = params.get(name, "")
        if not v:
            raise errors.params(f"{name} is required")
        return v

    @staticmethod
    def category(params: dict[str, str], required: bool = True) -> None:
        cat = params.get("category", "")
        if (required or cat) and cat != "spot":
            raise errors.params("category only support spot")

    @staticmethod
    def dec(params: dict[str, str], name: str) -> Decimal | None:
        raw = params.get(name, "")
        if raw == "":
            return None
        try:
            v = Decimal(raw)
        except InvalidOperation:
            raise errors.params(f"{name} invalid") from None
        if not v.is_finite():
            raise errors.params(f"{name} invalid")
        return v

    # -------------------------------------------------------------- market
    async def h_time(self, p: dict[str, str], uid: str) -> Any:
        ms = self.exchange.time_ms()
        return {"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)}

    async def h_instruments(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        want = p.get("symbol", "")
        rows = []
        for sym, sp in self.exchange.specs.items():
            vs = venue_symbol(sym)
            if want and vs != want:
                continue
            rows.append({
                "symbol": vs, "baseCoin": sp.base, "quoteCoin": sp.quote, "innovation": "0",
                "status": "Trading", "marginTrading": "none", "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": s(sp.step), "quotePrecision": "0.00000001",
                    "minOrderQty": s(sp.min_qty), "maxOrderQty": s(sp.max_qty),
                    "minOrderAmt": s(sp.min_notional), "maxOrderAmt": s(sp.max_notional),
                    "maxLimitOrderQty": s(sp.max_qty), "maxMarketOrderQty": s(sp.max_qty),
                    "postOnlyMaxLimitOrderSize": s(sp.max_qty),
                },
                "priceFilter": {"tickSize": s(sp.tick)},
                "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
            })
        return {"category": "spot", "list": rows}

    async def h_orderbook(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(self.need(p, "symbol"))
        try:
            limit = int(p.get("limit") or "1")
        except ValueError:
            raise errors.params("limit invalid") from None
        if not 1 <= limit <= 1000:
            raise errors.params("limit invalid")
        uid_, bids, asks = self.exchange.depth(sym, limit)
        now = self.exchange.time_ms()
        return {"s": venue_symbol(sym), "b": [[s(px), s(q)] for px, q in bids],
                "a": [[s(px), s(q)] for px, q in asks], "ts": now, "u": uid_, "seq": uid_,
                "cts": now}

    async def h_tickers(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        want = p.get("symbol", "")
        rows = []
        for sym in self.exchange.specs:
            vs = venue_symbol(sym)
            if want and vs != want:
                continue
            bid, ask = self.exchange.best_bid_ask(sym)
            last = ""
            if bid and ask:
                last = s((bid[0] + ask[0]) / 2)
            rows.append({
                "symbol": vs,
                "bid1Price": s(bid[0]) if bid else "", "bid1Size": s(bid[1]) if bid else "",
                "ask1Price": s(ask[0]) if ask else "", "ask1Size": s(ask[1]) if ask else "",
                "lastPrice": last, "prevPrice24h": last, "price24hPcnt": "0",
                "highPrice24h": last, "lowPrice24h": last, "turnover24h": "0",
                "volume24h": "0", "usdIndexPrice": "",
            })
        if want and not rows:
            raise errors.invalid_symbol()
        return {"category": "spot", "list": rows}

    # --------------------------------------------------------------- trade
    async def h_create(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(self.need(p, "symbol"))
        spec = self.exchange.specs[sym]
        side_raw = self.need(p, "side")
        side = {"Buy": BUY, "Sell": SELL}.get(side_raw)
        if side is None:
            raise errors.params("side invalid")
        otype = self.need(p, "orderType")
        qty = self.dec(p, "qty")
        if qty is None or qty <= 0:
            raise errors.params("qty invalid")
        price = self.dec(p, "price")
        link = p.get("orderLinkId", "")
        if len(link) > 36 or any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in link):
            raise errors.params("orderLinkId invalid")
        tif_raw = p.get("timeInForce", "") or "GTC"
        kw: dict[str, Any] = {}
        if otype == "Limit":
            if price is None or price <= 0:
                raise errors.params("price invalid")
            self.check_limit(spec, price, qty)
            if tif_raw == "PostOnly":
                kw = {"type": LIMIT_MAKER, "tif": GTC}
            elif tif_raw in (GTC, IOC, FOK):
                kw = {"type": LIMIT, "tif": tif_raw}
            else:
                raise errors.params("timeInForce invalid")
            kw.update(qty=qty, price=price)
        elif otype == "Market":
            unit = p.get("marketUnit", "") or ("quoteCoin" if side == BUY else "baseCoin")
            if unit == "baseCoin":
                self.check_qty(spec, qty)
                kw = {"type": MARKET, "qty": qty}
            elif unit == "quoteCoin":
                if qty < spec.min_notional:
                    raise errors.value_too_low()
                kw = {"type": MARKET, "quote_qty": qty}
            else:
                raise errors.params("marketUnit invalid")
        else:
            raise errors.params("orderType invalid")
        if link:
            with contextlib.suppress(UnknownOrder):
                self.exchange.find_order(uid, None, client_id=link)
                raise errors.duplicate_link_id()
        try:
            o = self.exchange.place_order(account=uid, symbol=sym, side=side,
                                          client_id=link or None, **kw)
        except Rejection as r:
            raise self.rejection(r) from None
        return {"orderId": order_id_str(o.order_id), "orderLinkId": link}

    def check_limit(self, spec: Any, price: Decimal, qty: Decimal) -> None:
        if price > spec.max_price:
            raise errors.price_too_high()
        if price < spec.min_price:
            raise errors.price_too_low()
        if (price - spec.min_price) % spec.tick != 0:
            raise errors.price_precision()
        self.check_qty(spec, qty)
        if price * qty < spec.min_notional:
            raise errors.value_too_low()

    @staticmethod
    def check_qty(spec: Any, qty: Decimal) -> None:
        if qty % spec.step != 0:
            raise errors.qty_precision()
        if qty < spec.min_qty:
            raise errors.qty_too_low()
        if qty > spec.max_qty:
            raise errors.qty_too_high()

    @staticmethod
    def rejection(r: Rejection) -> BybitError:
        reason, detail = r.reason, r.detail
        if reason == "insufficient_balance":
            return errors.insufficient_balance()
        if reason == "would_take":
            return errors.post_only_cross()
        if reason == "duplicate_client_id":
            return errors.duplicate_link_id()
        if reason == "unknown_symbol":
            return errors.invalid_symbol()
        if reason == "filter":
            if detail == "NOTIONAL":
                return errors.value_too_low()
            if detail == "PRICE_FILTER":
                return errors.price_precision()
            return errors.qty_precision()
        return errors.params(detail or reason)

    def find(self, p: dict[str, str], uid: str, sym: str | None) -> Order:
        oid_raw, link = p.get("orderId", ""), p.get("orderLinkId", "")
        try:
            if oid_raw:
                try:
                    oid = int(oid_raw) - ORDER_ID_BASE
                except ValueError:
                    raise UnknownOrder() from None
                return self.exchange.find_order(uid, sym, order_id=oid)
            if link:
                return self.exchange.find_order(uid, sym, client_id=link)
        except UnknownOrder:
            raise errors.order_not_exist() from None
        raise errors.params("orderId or orderLinkId is required")

    async def h_cancel(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(self.need(p, "symbol"))
        o = self.find(p, uid, sym)
        if not o.is_open:
            raise errors.order_not_exist()
        self.exchange.cancel_order(uid, sym, order_id=o.order_id)
        return {"orderId": order_id_str(o.order_id), "orderLinkId": self.link_of(o)}

    async def h_cancel_all(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(p["symbol"]) if p.get("symbol") else None
        done = self.exchange.cancel_all(uid, sym)
        return {"list": [{"orderId": order_id_str(o.order_id), "orderLinkId": self.link_of(o)}
                         for o in done], "success": "1"}

    @staticmethod
    def link_of(o: Order) -> str:
        return "" if o.client_id.startswith("sim") and o.client_id[3:].isdigit() else o.client_id

    def order_json(self, o: Order) -> dict[str, Any]:
        sym = venue_symbol(o.symbol)
        spec = self.exchange.specs[o.symbol]
        fee = sum((f.fee for f in o.fills), ZERO)
        fee_ccy = spec.base if o.side == BUY else spec.quote
        if o.qty is not None:
            qty, unit = o.qty, "baseCoin"
            leaves = o.remaining if o.is_open else ZERO
            leaves_value = leaves * (o.price or ZERO)
        else:
            qty, unit = o.quote_qty or ZERO, "quoteCoin"
            leaves = ZERO
            leaves_value = (qty - o.cum_quote) if o.is_open else ZERO
        avg = (o.cum_quote / o.filled) if o.filled > 0 else None
        reject = "EC_NoError"
        cancel_type = "UNKNOWN"
        if o.status == CANCELED:
            cancel_type = "CancelByUser"
        elif o.status == EXPIRED:
            reject = "EC_NoImmediateQtyToFill" if o.filled == 0 else "EC_NoError"
        return {
            "orderId": order_id_str(o.order_id), "orderLinkId": self.link_of(o),
            "blockTradeId": "", "symbol": sym, "price": s(o.price) if o.type != MARKET else "0",
            "qty": s(qty), "side": "Buy" if o.side == BUY else "Sell", "isLeverage": "0",
            "positionIdx": 0, "orderStatus": status_of(o), "cancelType": cancel_type,
            "rejectReason": reject, "avgPrice": s(avg) if avg is not None else "",
            "leavesQty": s(leaves), "leavesValue": s(leaves_value),
            "cumExecQty": s(o.filled), "cumExecValue": s(o.cum_quote), "cumExecFee": s(fee),
            "cumFeeDetail": {fee_ccy: s(fee)} if fee else {},
            "feeCurrency": fee_ccy if fee else "",
            "timeInForce": tif_of(o), "orderType": "Market" if o.type == MARKET else "Limit",
            "stopOrderType": "", "orderIv": "", "marketUnit": unit, "triggerPrice": "0",
            "takeProfit": "0", "stopLoss": "0", "tpTriggerBy": "", "slTriggerBy": "",
            "triggerDirection": 0, "triggerBy": "", "lastPriceOnCreated": "",
            "reduceOnly": False, "closeOnTrigger": False, "placeType": "", "smpType": "None",
            "smpGroup": 0, "smpOrderId": "", "createdTime": str(o.created),
            "updatedTime": str(o.updated),
        }

    @staticmethod
    def page(items: list[Any], p: dict[str, str], default: int, cap: int) -> tuple[list[Any], str]:
        try:
            limit = int(p.get("limit") or default)
            start = int(p.get("cursor") or "0")
        except ValueError:
            raise errors.params("limit/cursor invalid") from None
        if not 1 <= limit <= cap or start < 0:
            raise errors.params("limit invalid")
        chunk = items[start:start + limit]
        nxt = str(start + limit) if start + limit < len(items) else ""
        return chunk, nxt

    def select(self, p: dict[str, str], uid: str) -> tuple[list[Order], bool]:
        sym = self.symbol_of(p["symbol"]) if p.get("symbol") else None
        if p.get("orderId") or p.get("orderLinkId"):
            try:
                return [self.find(p, uid, sym)], True
            except BybitError:
                return [], True
        orders = self.exchange.user_orders(uid, sym)
        orders.sort(key=lambda o: (o.created, o.order_id), reverse=True)
        return orders, False

    async def h_realtime(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        orders, by_id = self.select(p, uid)
        if not by_id:
            if p.get("openOnly", "0") in ("", "0"):
                orders = [o for o in orders if o.is_open]
            else:
                orders = [o for o in orders if not o.is_open][:500]
        chunk, nxt = self.page(orders, p, 20, 50)
        return {"category": "spot", "list": [self.order_json(o) for o in chunk],
                "nextPageCursor": nxt}

    async def h_history(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        orders, _ = self.select(p, uid)
        chunk, nxt = self.page(orders, p, 20, 50)
        return {"category": "spot", "list": [self.order_json(o) for o in chunk],
                "nextPageCursor": nxt}

    def exec_json(self, f: Fill, o: Order | None) -> dict[str, Any]:
        spec = self.exchange.specs[f.symbol]
        rate = self.exchange.maker_fee if f.is_maker else self.exchange.taker_fee
        return {
            "symbol": venue_symbol(f.symbol), "orderId": order_id_str(f.order_id),
            "orderLinkId": self.link_of(o) if o else "", "side": "Buy" if f.side == BUY else "Sell",
            "orderPrice": s(o.price) if o and o.type != MARKET else "0",
            "orderQty": s(o.qty if o and o.qty is not None else (o.quote_qty if o else ZERO)),
            "leavesQty": s(o.remaining) if o and o.is_open else "0",
            "createType": "CreateByUser", "orderType": "Market" if o and o.type == MARKET else "Limit",
            "stopOrderType": "", "execFee": s(f.fee), "feeCurrency": f.fee_asset or spec.quote,
            "execId": exec_id_str(f.trade_id), "execPrice": s(f.price), "execQty": s(f.qty),
            "execType": "Trade", "execValue": s(f.quote_qty), "execTime": str(f.time),
            "isMaker": f.is_maker, "feeRate": s(rate), "tradeIv": "", "markIv": "",
            "markPrice": s(f.price), "indexPrice": "", "underlyingPrice": "",
            "blockTradeId": "", "closedSize": "", "seq": f.trade_id,
        }

    async def h_executions(self, p: dict[str, str], uid: str) -> Any:
        self.category(p)
        sym = self.symbol_of(p["symbol"]) if p.get("symbol") else None
        fills = self.exchange.user_fills(uid, sym)
        if p.get("orderId") or p.get("orderLinkId"):
            try:
                o = self.find(p, uid, sym)
            except BybitError:
                fills = []
            else:
                fills = [f for f in fills if f.order_id == o.order_id]
        for key, cmp in (("startTime", 1), ("endTime", -1)):
            if p.get(key):
                try:
                    bound = int(p[key])
                except ValueError:
                    raise errors.params(f"{key} invalid") from None
                fills = [f for f in fills if (f.time - bound) * cmp >= 0]
        fills = sorted(fills, key=lambda f: (f.time, f.trade_id), reverse=True)
        chunk, nxt = self.page(fills, p, 50, 100)
        return {"category": "spot",
                "list": [self.exec_json(f, self.exchange.orders.get(f.order_id)) for f in chunk],
                "nextPageCursor": nxt}

    def coin_rows(self, uid: str, coins: set[str] | None) -> list[dict[str, Any]]:
        snap = self.exchange.account(uid).snapshot()
        rows = []
        for coin, (free, locked) in snap.items():
            if coins and coin not in coins:
                continue
            total = free + locked
            rows.append({
                "coin": coin, "equity": s(total), "usdValue": s(total) if coin in ("USDT", "USD") else "",
                "walletBalance": s(total), "free": "", "locked": s(locked), "spotHedgingQty": "0",
                "borrowAmount": "0", "availableToWithdraw": "", "availableToBorrow": "",
                "accruedInterest": "0", "totalOrderIM": "0", "totalPositionIM": "0",
                "totalPositionMM": "0", "unrealisedPnl": "0", "cumRealisedPnl": "0",
                "bonus": "0", "marginCollateral": True, "collateralSwitch": True,
                "spotBorrow": "0",
            })
        return rows

    async def h_wallet(self, p: dict[str, str], uid: str) -> Any:
        if p.get("accountType", "") != "UNIFIED":
            raise errors.params("accountType only support UNIFIED")
        coins = {c for c in p.get("coin", "").split(",") if c} or None
        return {"list": [{
            "accountType": "UNIFIED", "accountIMRate": "0", "accountMMRate": "0",
            "totalEquity": "", "totalWalletBalance": "", "totalMarginBalance": "",
            "totalAvailableBalance": "", "totalPerpUPL": "0", "totalInitialMargin": "0",
            "totalMaintenanceMargin": "0", "accountLTV": "0",
            "coin": self.coin_rows(uid, coins),
        }]}

    async def h_query_api(self, p: dict[str, str], uid: str) -> Any:
        return {
            "id": "1", "note": "gapless-sim", "apiKey": self.api_key, "readOnly": 0, "secret": "",
            "permissions": {"ContractTrade": [], "Spot": ["SpotTrade"], "Wallet": ["AccountTransfer"],
                            "Options": [], "Derivatives": [], "CopyTrading": [], "BlockTrade": [],
                            "Exchange": [], "NFT": []},
            "ips": ["*"], "type": 1, "deadlineDay": 90, "expiredAt": "", "createdAt": "",
            "unified": 0, "uta": 1, "userID": 1, "inviterID": 0, "vipLevel": "No VIP",
            "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": True,
        }

    async def h_account_info(self, p: dict[str, str], uid: str) -> Any:
        return {"marginMode": "REGULAR_MARGIN", "updatedTime": str(self.exchange.time_ms()),
                "unifiedMarginStatus": 6, "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0,
                "isMasterTrader": False, "spotHedgingStatus": "OFF"}

    async def h_coin_info(self, p: dict[str, str], uid: str) -> Any:
        coins = sorted({c for sp in self.exchange.specs.values() for c in (sp.base, sp.quote)})
        want = p.get("coin", "")
        rows = [{"name": c, "coin": c, "remainAmount": "1000000", "chains": [{
            "chainType": c, "confirmation": "1", "withdrawFee": "0", "depositMin": "0",
            "withdrawMin": "0", "chain": c, "chainDeposit": "1", "chainWithdraw": "1",
            "minAccuracy": "8", "withdrawPercentageFee": "0", "contractAddress": "",
        }]} for c in coins if not want or c == want]
        return {"rows": rows}

    # ------------------------------------------------------------ websocket
    def disconnect_all(self) -> None:
        for c in list(self.conns):
            task = asyncio.ensure_future(c.ws.close())
            self._bg.add(task)
            task.add_done_callback(self._bg.discard)

    def push(self, c: Conn, obj: dict[str, Any]) -> None:
        c.queue.put_nowait(json.dumps(obj, separators=(",", ":")))

    async def writer(self, c: Conn) -> None:
        while True:
            frame = await c.queue.get()
            while self.faults.ws_stall:
                await asyncio.sleep(0.05)
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            if c.ws.closed:
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await c.ws.send_str(frame)

    async def ws_public(self, request: web.Request) -> web.StreamResponse:
        return await self.ws_serve(request, private=False)

    async def ws_private(self, request: web.Request) -> web.StreamResponse:
        return await self.ws_serve(request, private=True)

    async def ws_serve(self, request: web.Request, private: bool) -> web.StreamResponse:
        if self.faults.outage is not None:
            return web.Response(status=503, text="503 Service Temporarily Unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        c = Conn(ws, private)
        self.conns.add(c)
        task = asyncio.ensure_future(self.writer(c))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                        break
                    continue
                if self.faults.ws_stall:
                    continue
                self.on_ws_message(c, msg.data)
        finally:
            self.conns.discard(c)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return ws

    def on_ws_message(self, c: Conn, data: str) -> None:
        try:
            req = json.loads(data)
        except ValueError:
            self.push(c, {"success": False, "ret_msg": "Invalid request", "conn_id": c.conn_id,
                          "op": ""})
            return
        if not isinstance(req, dict):
            self.push(c, {"success": False, "ret_msg": "Invalid request", "conn_id": c.conn_id,
                          "op": ""})
            return
        op = req.get("op")
        req_id = req.get("req_id")
        args = req.get("args") or []
        base: dict[str, Any] = {"conn_id": c.conn_id}
        if req_id is not None:
            base["req_id"] = req_id
        if op == "ping":
            if c.private:
                self.push(c, {**base, "op": "pong", "args": [str(self.exchange.time_ms())]})
            else:
                self.push(c, {"success": True, "ret_msg": "pong", **base, "op": "ping"})
            return
        if op == "auth" and c.private:
            ok, why = self.check_ws_auth(args)
            c.authed = c.authed or ok
            self.push(c, {"success": ok, "ret_msg": "" if ok else why, "op": "auth", **base})
            return
        if op in ("subscribe", "unsubscribe") and isinstance(args, list):
            if c.private and not c.authed:
                self.push(c, {"success": False, "ret_msg": "Request not authorized", **base,
                              "op": op})
                return
            ok = all(isinstance(t, str) and self.valid_topic(c, t) for t in args)
            if ok and len(args) > 10 and not c.private:
                ok = False
            ack_msg = ("" if c.private else op) if ok else "Invalid topic"
            self.push(c, {"success": ok, "ret_msg": ack_msg, **base, "op": op})
            if not ok:
                return
            for t in args:
                if op == "subscribe":
                    if t not in c.topics:
                        c.topics.add(t)
                        if not c.private:
                            self.send_snapshot(c, t)
                else:
                    c.topics.discard(t)
            return
        self.push(c, {"success": False, "ret_msg": f"Invalid op {op!r}", **base,
                      "op": op if isinstance(op, str) else ""})

    def check_ws_auth(self, args: Any) -> tuple[bool, str]:
        if not isinstance(args, list) or len(args) != 3:
            return False, "Params Error"
        key, expires, sig = args
        if key != self.api_key:
            return False, "Invalid apikey"
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False, "Params Error"
        if exp <= self.exchange.time_ms():
            return False, "Params Error"
        if not isinstance(sig, str) or not auth.verify(self.secret, auth.ws_prehash(exp), sig):
            return False, "Invalid sign"
        return True, ""

    def valid_topic(self, c: Conn, t: str) -> bool:
        if c.private:
            return t in ("order", "order.spot", "execution", "execution.spot", "wallet")
        parts = t.split(".")
        if len(parts) != 3 or parts[0] != "orderbook":
            return False
        try:
            depth = int(parts[1])
            self.symbol_of(parts[2])
        except (ValueError, BybitError):
            return False
        return depth in SPOT_DEPTHS

    def topic_book(self, sym: str, depth: int) -> TopicBook:
        tb = self.topics.get((sym, depth))
        if tb is None:
            tb = TopicBook(max(1, self.exchange.books[sym].update_id))
            _, bids, asks = self.exchange.depth(sym, depth)
            tb.bids, tb.asks = dict(bids), dict(asks)
            self.topics[(sym, depth)] = tb
        return tb

    def book_msg(self, topic: str, kind: str, sym: str, bids: list[tuple[Decimal, Decimal]],
                 asks: list[tuple[Decimal, Decimal]], u: int) -> dict[str, Any]:
        now = self.exchange.time_ms()
        return {"topic": topic, "type": kind, "ts": now,
                "data": {"s": venue_symbol(sym), "b": [[s(px), s(q)] for px, q in bids],
                         "a": [[s(px), s(q)] for px, q in asks], "u": u,
                         "seq": self.exchange.books[sym].update_id},
                "cts": now}

    def send_snapshot(self, c: Conn, topic: str) -> None:
        _, depth_s, vs = topic.split(".")
        sym = self.symbol_of(vs)
        tb = self.topic_book(sym, int(depth_s))
        bids = sorted(tb.bids.items(), reverse=True)
        asks = sorted(tb.asks.items())
        self.push(c, self.book_msg(topic, "snapshot", sym, bids, asks, tb.u))

    def on_book(self, ev: BookDelta) -> None:
        for (sym, depth), tb in list(self.topics.items()):
            if sym != ev.symbol:
                continue
            _, bids, asks = self.exchange.depth(sym, depth)
            nb, na = dict(bids), dict(asks)
            db = self.diff(tb.bids, nb)
            da = self.diff(tb.asks, na)
            if not db and not da:
                continue
            tb.bids, tb.asks = nb, na
            tb.u += 1
            topic = f"orderbook.{depth}.{venue_symbol(sym)}"
            msg = self.book_msg(topic, "delta", sym, sorted(db, reverse=True), sorted(da), tb.u)
            for c in list(self.conns):
                if not c.private and topic in c.topics:
                    self.push(c, msg)

    @staticmethod
    def diff(old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]) -> list[tuple[Decimal, Decimal]]:
        out = [(px, q) for px, q in new.items() if old.get(px) != q]
        out += [(px, ZERO) for px in old if px not in new]
        return out

    def private_push(self, topics: tuple[str, ...], msg: dict[str, Any]) -> None:
        for c in list(self.conns):
            if c.private and c.authed and any(t in c.topics for t in topics):
                self.push(c, msg)

    def on_event(self, ev: Any) -> None:
        if isinstance(ev, BookDelta):
            self.on_book(ev)
            return
        if isinstance(ev, OrderEvent):
            if ev.order.account != Exchange.TEST_ACCOUNT:
                return
            now = ev.time
            if ev.fill is not None:
                row = {"category": "spot", **self.exec_json(ev.fill, ev.order)}
                row["seq"] = next(self._exec_seq)
                self.private_push(("execution", "execution.spot"), {
                    "id": f"exec-{next(self._msg_ids)}", "topic": "execution",
                    "creationTime": now, "data": [row]})
            row = {"category": "spot", **self.order_json(ev.order)}
            self.private_push(("order", "order.spot"), {
                "id": f"order-{next(self._msg_ids)}", "topic": "order", "creationTime": now,
                "data": [row]})
            return
        if isinstance(ev, BalanceEvent):
            if ev.account != Exchange.TEST_ACCOUNT:
                return
            coins = []
            for coin, (free, locked) in ev.balances.items():
                total = free + locked
                coins.append({"coin": coin, "equity": s(total), "walletBalance": s(total),
                              "locked": s(locked), "free": "", "availableToWithdraw": "",
                              "usdValue": "", "borrowAmount": "0", "spotBorrow": "0",
                              "unrealisedPnl": "0", "cumRealisedPnl": "0"})
            self.private_push(("wallet",), {
                "id": f"wallet-{next(self._msg_ids)}", "topic": "wallet", "creationTime": ev.time,
                "data": [{"accountType": "UNIFIED", "accountIMRate": "0", "accountMMRate": "0",
                          "totalEquity": "", "totalWalletBalance": "", "coin": coins}]})


def build(*, seed: int = 1, tick_interval: float = 1.0, api_key: str | None = None,
          secret: str | None = None, **_: Any) -> VenueSim:
    """Build the Bybit skin: an aiohttp app over a fresh core ``Exchange``."""
    faults = Faults()
    exchange = Exchange(faults=faults)
    liquidity = Liquidity(exchange, seed=seed)
    key = api_key or "GLSIMBYBIT" + secrets.token_hex(4).upper()
    sec = secret or secrets.token_hex(18)
    skin = BybitSkin(exchange, faults, key, sec)
    app = web.Application()
    app.router.add_get("/v5/public/spot", skin.ws_public)
    app.router.add_get("/v5/private", skin.ws_private)
    app.router.add_route("*", "/v5/{tail:.*}", skin.handle)
    liquidity.reset()

    async def start_liquidity() -> None:
        liquidity.start(tick_interval)

    async def stop_ws() -> None:
        for c in list(skin.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()
        await liquidity.stop()

    sim = VenueSim(venue="bybit", app=app, exchange=exchange, faults=faults, liquidity=liquidity,
                   api_key=key, secret=sec, resolve_symbol=skin.resolve)
    sim.reset_hooks.append(skin.reset)
    sim.start_hooks.append(start_liquidity)
    sim.stop_hooks.append(stop_ws)
    return sim
