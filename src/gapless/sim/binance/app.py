"""The Binance Spot skin: REST routes with Binance's paths, shapes, auth, weights and errors."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import string
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..context import VenueSim
from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..core.models import (
    BUY,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    SELL,
    Order,
    Rejection,
    SymbolSpec,
    UnknownOrder,
)
from ..faultware import abort_connection, make_fault_middleware
from . import errors
from .auth import KEY_RE, ApiKey, signed_payload, verify
from .errors import BinanceError
from .limits import Limits
from .streams import StreamHub

NONE, APIKEY, SIGNED = "NONE", "USER_STREAM", "SIGNED"
DEC_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
ZERO8 = "0.00000000"


def fmt(d: Decimal | None) -> str:
    return ZERO8 if d is None else f"{d:.8f}"


class DropResponse(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


Handler = Callable[[web.Request, dict[str, str], str | None], Awaitable[Any]]


def _rand(rng: random.Random, n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(n))


class BinanceSkin:
    venue = "binance"

    def __init__(self, *, seed: int = 1, tick_interval: float = 1.0, ping_interval: float = 20.0,
                 ban_seconds: int = 120) -> None:
        rng = random.Random(f"binance-keys-{seed}")
        self.faults = Faults()
        self.exchange = Exchange(faults=self.faults)
        self.liquidity = Liquidity(self.exchange, seed=seed)
        self.tick_interval = tick_interval
        self.limits = Limits(self.faults, ban_seconds=ban_seconds)
        self.ids: dict[str, str] = {s.replace("/", ""): s for s in self.exchange.specs}
        self.names: dict[str, str] = {v: k for k, v in self.ids.items()}
        self.api_key = _rand(rng, 64)
        self.secret = _rand(rng, 64)
        self.ed25519_api_key = _rand(rng, 64)
        self._ed_private = Ed25519PrivateKey.from_private_bytes(bytes(rng.getrandbits(8) for _ in range(32)))
        self.ed25519_private_key_pem = self._ed_private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        acct = Exchange.TEST_ACCOUNT
        self.keys: dict[str, ApiKey] = {
            self.api_key: ApiKey(self.api_key, acct, "HMAC", secret=self.secret),
            self.ed25519_api_key: ApiKey(self.ed25519_api_key, acct, "ED25519",
                                         public_key=self._ed_private.public_key()),
        }
        self._key_rng = random.Random(f"binance-listen-{seed}")
        self.listen_keys: dict[str, str] = {}
        self.stopping = asyncio.Event()
        self.hub = StreamHub(self, ping_interval=ping_interval)
        self.routes: dict[tuple[str, str], tuple[Handler, str, Any]] = {}
        self._register()
        body = json.dumps({"code": -1001, "msg": "Internal error; unable to process your request. "
                           "Please try again."}).encode()
        self.app = web.Application(middlewares=[make_fault_middleware(self.faults, body, "application/json")])
        self.hub.add_routes(self.app)
        self.app.router.add_route("*", "/api/{tail:.*}", self.dispatch)

    # --------------------------------------------------------------- plumbing
    def venue_sim(self) -> VenueSim:
        vs = VenueSim("binance", self.app, self.exchange, self.faults, self.liquidity,
                      self.api_key, self.secret, self.ed25519_api_key, self.ed25519_private_key_pem,
                      "", resolve_symbol=self.resolve_symbol)
        vs.reset_hooks.append(self._reset)
        vs.start_hooks.append(self._start)
        vs.stop_hooks.append(self._stop)
        return vs

    def resolve_symbol(self, s: str) -> str:
        if s in self.exchange.specs:
            return s
        return self.ids.get(s.upper().replace("/", "").replace("-", ""), s)

    def _reset(self) -> None:
        self.limits.reset()
        self.listen_keys.clear()

    async def _start(self) -> None:
        self.liquidity.reset()
        self.liquidity.start(self.tick_interval)
        self.hub.start()

    async def _stop(self) -> None:
        self.stopping.set()
        await self.liquidity.stop()
        await self.hub.stop()

    def _register(self) -> None:
        r = self.routes
        r[("GET", "/api/v3/ping")] = (self.ping, NONE, 1)
        r[("GET", "/api/v3/time")] = (self.time, NONE, 1)
        r[("GET", "/api/v3/exchangeInfo")] = (self.exchange_info, NONE, 20)
        r[("GET", "/api/v3/depth")] = (self.depth, NONE, self._depth_weight)
        r[("GET", "/api/v3/ticker/bookTicker")] = (self.book_ticker, NONE,
                                                    lambda p: 2 if "symbol" in p else 4)
        r[("GET", "/api/v3/ticker/price")] = (self.ticker_price, NONE, lambda p: 2 if "symbol" in p else 4)
        r[("POST", "/api/v3/order")] = (self.new_order, SIGNED, 1)
        r[("POST", "/api/v3/order/test")] = (self.test_order, SIGNED, 1)
        r[("GET", "/api/v3/order")] = (self.query_order, SIGNED, 4)
        r[("DELETE", "/api/v3/order")] = (self.cancel_order, SIGNED, 1)
        r[("GET", "/api/v3/openOrders")] = (self.open_orders, SIGNED, lambda p: 6 if "symbol" in p else 80)
        r[("DELETE", "/api/v3/openOrders")] = (self.cancel_open_orders, SIGNED, 1)
        r[("GET", "/api/v3/allOrders")] = (self.all_orders, SIGNED, 20)
        r[("GET", "/api/v3/account")] = (self.account, SIGNED, 20)
        r[("GET", "/api/v3/myTrades")] = (self.my_trades, SIGNED, lambda p: 5 if "orderId" in p else 20)
        r[("GET", "/api/v3/rateLimit/order")] = (self.rate_limit_order, SIGNED, 40)
        for m in ("POST", "PUT", "DELETE"):
            r[(m, "/api/v3/userDataStream")] = (self.user_data_stream, APIKEY, 2)

    @staticmethod
    def _depth_weight(p: dict[str, str]) -> int:
        try:
            limit = int(p.get("limit", "100"))
        except ValueError:
            limit = 100
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.json_response({"code": -5000, "msg": f"Path {request.path}, Method "
                                      f"{request.method} is invalid"}, status=404)
        handler, security, weight = route
        raw_query = request.rel_url.raw_query_string
        raw_body = (await request.read()).decode("utf-8", "replace") if request.can_read_body else ""
        params: dict[str, str] = dict(parse_qsl(raw_body, keep_blank_values=True))
        params.update(parse_qsl(raw_query, keep_blank_values=True))  # query wins
        headers: dict[str, str] = {}
        try:
            self.limits.charge(weight(params) if callable(weight) else weight)
            account: str | None = None
            if security == SIGNED:
                account = self.authenticate(request, raw_query, raw_body, params)
            elif security == APIKEY:
                account = self.key_account(request).account
            result = await handler(request, params, account)
            if isinstance(result, tuple):
                result, headers = result
            status = 200
            body: Any = result
        except DropResponse as d:
            if d.mode == "hang":
                await self.stopping.wait()
            return abort_connection(request)
        except BinanceError as e:
            status, body, headers = e.status, e.body(), dict(e.headers)
        headers["X-MBX-USED-WEIGHT-1M"] = str(self.limits.used_weight())
        return web.Response(status=status, body=json.dumps(body, separators=(",", ":")),
                            content_type="application/json", headers=headers)

    # ---------------------------------------------------------------- auth
    def key_account(self, request: web.Request) -> ApiKey:
        key = request.headers.get("X-MBX-APIKEY", "")
        if not KEY_RE.match(key):
            raise errors.bad_key_format()
        found = self.keys.get(key)
        if found is None:
            raise errors.rejected_key()
        return found

    def authenticate(self, request: web.Request, raw_query: str, raw_body: str,
                     params: dict[str, str]) -> str:
        key = self.key_account(request)
        ts_raw = params.get("timestamp", "")
        if not ts_raw.isdigit():
            raise errors.mandatory("timestamp")
        ts = int(ts_raw)
        if ts > 10**14:  # microseconds
            ts //= 1000
        try:
            recv = Decimal(params.get("recvWindow", "5000"))
        except InvalidOperation:
            raise errors.illegal("recvWindow", "0-60000") from None
        if recv > 60000 or recv < 0:
            raise BinanceError(-1131, "recvWindow must be less than 60000")
        now = self.exchange.time_ms()
        if ts >= now + 1000:
            raise errors.bad_timestamp(True)
        if now - ts > recv:
            raise errors.bad_timestamp(False)
        payload, sig = signed_payload(raw_query, raw_body)
        if not sig:
            raise errors.mandatory("signature")
        if not verify(key, payload, sig):
            raise errors.bad_signature()
        return key.account

    # ------------------------------------------------------------- helpers
    def symbol(self, params: dict[str, str], required: bool = True) -> str | None:
        raw = params.get("symbol", "")
        if not raw:
            if required:
                raise errors.mandatory("symbol")
            return None
        s = self.ids.get(raw.upper())
        if s is None:
            raise errors.invalid_symbol()
        return s

    @staticmethod
    def dec(params: dict[str, str], name: str, required: bool = False) -> Decimal | None:
        raw = params.get(name, "")
        if raw == "":
            if required:
                raise errors.mandatory(name)
            return None
        if not DEC_RE.match(raw):
            raise errors.illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
        d = Decimal(raw)
        if d != d.quantize(Decimal("0.00000001"), rounding="ROUND_DOWN"):
            raise errors.precision(name)
        return d

    def order_json(self, o: Order) -> dict[str, Any]:
        return {
            "symbol": self.names[o.symbol], "orderId": o.order_id, "orderListId": -1,
            "clientOrderId": o.client_id, "price": fmt(o.price if o.type != MARKET else None),
            "origQty": fmt(o.qty if o.qty is not None else o.filled), "executedQty": fmt(o.filled),
            "cummulativeQuoteQty": fmt(o.cum_quote), "status": o.status, "timeInForce": o.tif,
            "type": o.type, "side": o.side, "stopPrice": ZERO8, "icebergQty": ZERO8,
            "time": o.created, "updateTime": o.updated, "isWorking": True, "workingTime": o.created,
            "origQuoteOrderQty": fmt(o.quote_qty), "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _order_counts(self) -> dict[str, str]:
        return {"X-MBX-ORDER-COUNT-10S": str(self.limits.orders_10s),
                "X-MBX-ORDER-COUNT-1D": str(self.limits.orders_1d)}

    @staticmethod
    def _map_rejection(r: Rejection) -> BinanceError:
        if r.reason == "filter":
            return errors.filter_failure(r.detail)
        if r.reason == "insufficient_balance":
            return errors.insufficient_balance()
        if r.reason == "would_take":
            return errors.would_take()
        if r.reason == "duplicate_client_id":
            return errors.duplicate_order()
        if r.reason == "unknown_symbol":
            return errors.invalid_symbol()
        if r.reason == "precision":
            return errors.precision(r.detail)
        return errors.mandatory(r.detail or "unknown")

    def _order_args(self, params: dict[str, str]) -> dict[str, Any]:
        symbol = self.symbol(params)
        side = params.get("side", "")
        if not side:
            raise errors.mandatory("side")
        if side not in (BUY, SELL):
            raise BinanceError(-1117, "Invalid side.")
        type_ = params.get("type", "")
        if not type_:
            raise errors.mandatory("type")
        if type_ not in (LIMIT, MARKET, LIMIT_MAKER):
            raise BinanceError(-1116, "Invalid orderType.")
        tif = params.get("timeInForce", "")
        if type_ == LIMIT:
            if not tif:
                raise errors.mandatory("timeInForce")
            if tif not in (GTC, IOC, FOK):
                raise BinanceError(-1115, "Invalid timeInForce.")
        elif tif:
            raise BinanceError(-1106, "Parameter 'timeInForce' sent when not required.")
        price = self.dec(params, "price", required=type_ != MARKET)
        if type_ == MARKET and price is not None:
            raise BinanceError(-1106, "Parameter 'price' sent when not required.")
        qty = self.dec(params, "quantity", required=type_ != MARKET)
        quote_qty = self.dec(params, "quoteOrderQty") if type_ == MARKET else None
        if type_ == MARKET:
            if qty is None and quote_qty is None:
                raise BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, "
                                   "but both were empty/null!")
            if qty is not None and quote_qty is not None:
                raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
        cid = params.get("newClientOrderId") or None
        if cid is not None and not CLIENT_ID_RE.match(cid):
            raise errors.illegal("newClientOrderId", errors.LEGAL_CLIENT_ID)
        resp = params.get("newOrderRespType") or ("FULL" if type_ in (LIMIT, MARKET) else "ACK")
        if resp not in ("ACK", "RESULT", "FULL"):
            raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'; "
                               "legal range is 'ACK, RESULT, FULL'.")
        return {"symbol": symbol, "side": side, "type": type_, "qty": qty, "quote_qty": quote_qty,
                "price": price, "tif": tif or GTC, "client_id": cid, "_resp": resp}

    # ------------------------------------------------------------ endpoints
    async def ping(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        return {}

    async def time(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        return {"serverTime": self.exchange.time_ms()}

    def symbol_info(self, sym: str, spec: SymbolSpec) -> dict[str, Any]:
        return {
            "symbol": sym, "status": "TRADING", "baseAsset": spec.base, "baseAssetPrecision": 8,
            "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False,
            "cancelReplaceAllowed": False, "amendAllowed": False, "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": fmt(spec.min_price),
                 "maxPrice": fmt(spec.max_price), "tickSize": fmt(spec.tick)},
                {"filterType": "LOT_SIZE", "minQty": fmt(spec.min_qty), "maxQty": fmt(spec.max_qty),
                 "stepSize": fmt(spec.step)},
                {"filterType": "MARKET_LOT_SIZE", "minQty": fmt(spec.min_qty),
                 "maxQty": fmt(spec.max_qty), "stepSize": fmt(spec.step)},
                {"filterType": "NOTIONAL", "minNotional": fmt(spec.min_notional),
                 "applyMinToMarket": True, "maxNotional": fmt(spec.max_notional),
                 "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    async def exchange_info(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        wanted: list[str] | None = None
        if p.get("symbol"):
            wanted = [p["symbol"]]
        elif p.get("symbols"):
            try:
                wanted = json.loads(p["symbols"])
            except ValueError:
                raise errors.illegal("symbols", "JSON array") from None
        syms = list(self.ids)
        if wanted is not None:
            for w in wanted:
                if w not in self.ids:
                    raise errors.invalid_symbol()
            syms = wanted
        return {
            "timezone": "UTC", "serverTime": self.exchange.time_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": self.limits.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                 "limit": self.limits.order_limit_10s},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                 "limit": self.limits.order_limit_1d},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": [self.symbol_info(s, self.exchange.specs[self.ids[s]]) for s in syms],
        }

    async def depth(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        sym = self.symbol(p)
        assert sym is not None
        try:
            limit = min(5000, max(1, int(p.get("limit", "100"))))
        except ValueError:
            raise errors.illegal("limit", "1-5000") from None
        uid, bids, asks = self.exchange.depth(sym, limit)
        return {"lastUpdateId": uid, "bids": [[fmt(px), fmt(q)] for px, q in bids],
                "asks": [[fmt(px), fmt(q)] for px, q in asks]}

    def _ticker(self, sym: str) -> dict[str, Any]:
        bid, ask = self.exchange.best_bid_ask(sym)
        return {"symbol": self.names[sym], "bidPrice": fmt(bid[0] if bid else None),
                "bidQty": fmt(bid[1] if bid else None), "askPrice": fmt(ask[0] if ask else None),
                "askQty": fmt(ask[1] if ask else None)}

    async def book_ticker(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        sym = self.symbol(p, required=False)
        if sym is not None:
            return self._ticker(sym)
        return [self._ticker(s) for s in self.exchange.specs]

    async def ticker_price(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        sym = self.symbol(p, required=False)
        syms = [sym] if sym is not None else list(self.exchange.specs)
        out = [{"symbol": self.names[s], "price": fmt(self.liquidity.mids.get(s))} for s in syms]
        return out[0] if sym is not None else out

    async def new_order(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        args = self._order_args(p)
        resp = args.pop("_resp")
        self.limits.charge_order()
        try:
            order = self.exchange.place_order(account=a, **args)
        except Rejection as r:
            raise self._map_rejection(r) from None
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)
        body: dict[str, Any] = {"symbol": self.names[order.symbol], "orderId": order.order_id,
                                "orderListId": -1, "clientOrderId": order.client_id,
                                "transactTime": order.created}
        if resp in ("RESULT", "FULL"):
            full = self.order_json(order)
            for k in ("price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty",
                      "status", "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode"):
                body[k] = full[k]
        if resp == "FULL":
            body["fills"] = [{"price": fmt(f.price), "qty": fmt(f.qty), "commission": fmt(f.fee),
                              "commissionAsset": f.fee_asset, "tradeId": f.trade_id}
                             for f in order.fills]
        return body, self._order_counts()

    async def test_order(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        args = self._order_args(p)
        args.pop("_resp")
        try:
            self.exchange.place_order(account=a, test=True, **args)
        except Rejection as r:
            raise self._map_rejection(r) from None
        return {}

    def _lookup(self, p: dict[str, str]) -> tuple[str, int | None, str | None]:
        sym = self.symbol(p)
        assert sym is not None
        oid_raw = p.get("orderId", "")
        cid = p.get("origClientOrderId") or None
        if not oid_raw and cid is None:
            raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, "
                               "but both were empty/null!")
        oid = None
        if oid_raw:
            if not oid_raw.isdigit():
                raise errors.illegal("orderId", "^[0-9]{1,20}$")
            oid = int(oid_raw)
        return sym, oid, cid

    async def query_order(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        sym, oid, cid = self._lookup(p)
        try:
            return self.order_json(self.exchange.find_order(a, sym, oid, cid))
        except UnknownOrder:
            raise errors.no_such_order() from None

    def _cancel_json(self, o: Order, cancel_cid: str | None) -> dict[str, Any]:
        j = self.order_json(o)
        out = {"symbol": j["symbol"], "origClientOrderId": o.client_id, "orderId": o.order_id,
               "orderListId": -1, "clientOrderId": cancel_cid or f"cancel{o.order_id}",
               "transactTime": o.updated}
        for k in ("price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty",
                  "status", "timeInForce", "type", "side", "selfTradePreventionMode"):
            out[k] = j[k]
        return out

    async def cancel_order(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        sym, oid, cid = self._lookup(p)
        try:
            order = self.exchange.cancel_order(a, sym, oid, cid)
        except UnknownOrder:
            raise errors.unknown_order_cancel() from None
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)
        return self._cancel_json(order, p.get("newClientOrderId"))

    async def open_orders(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        sym = self.symbol(p, required=False)
        return [self.order_json(o) for o in self.exchange.open_orders(a, sym)]

    async def cancel_open_orders(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        sym = self.symbol(p)
        canceled = self.exchange.cancel_all(a, sym)
        if not canceled:
            raise errors.unknown_order_cancel()
        return [self._cancel_json(o, None) for o in canceled]

    @staticmethod
    def _int(p: dict[str, str], name: str) -> int | None:
        raw = p.get(name, "")
        if raw == "":
            return None
        if not raw.lstrip("-").isdigit():
            raise errors.illegal(name, "integer")
        return int(raw)

    def _limit(self, p: dict[str, str]) -> int:
        lim = self._int(p, "limit")
        return 500 if lim is None else max(1, min(1000, lim))

    async def all_orders(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        sym = self.symbol(p)
        assert sym is not None
        oid, start, end = self._int(p, "orderId"), self._int(p, "startTime"), self._int(p, "endTime")
        orders = [o for o in self.exchange.user_orders(a, sym)
                  if (oid is None or o.order_id >= oid) and (start is None or o.created >= start)
                  and (end is None or o.created <= end)]
        orders.sort(key=lambda o: o.order_id)
        lim = self._limit(p)
        orders = orders[:lim] if oid is not None else orders[-lim:]
        return [self.order_json(o) for o in orders]

    async def account(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        acc = self.exchange.account(a)
        omit = p.get("omitZeroBalances", "false").lower() == "true"
        bals = [{"asset": asset, "free": fmt(f), "locked": fmt(lk)}
                for asset, (f, lk) in acc.snapshot().items() if not (omit and f == 0 and lk == 0)]
        rate = f"{self.exchange.taker_fee:.8f}"
        mrate = f"{self.exchange.maker_fee:.8f}"
        return {
            "makerCommission": int(self.exchange.maker_fee * 10000),
            "takerCommission": int(self.exchange.taker_fee * 10000),
            "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": mrate, "taker": rate, "buyer": ZERO8, "seller": ZERO8},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": self.exchange.time_ms(), "accountType": "SPOT", "balances": bals,
            "permissions": ["SPOT"], "uid": 354937868,
        }

    async def my_trades(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        sym = self.symbol(p)
        assert sym is not None
        oid, from_id = self._int(p, "orderId"), self._int(p, "fromId")
        start, end = self._int(p, "startTime"), self._int(p, "endTime")
        fills = [f for f in self.exchange.user_fills(a, sym)
                 if (oid is None or f.order_id == oid) and (from_id is None or f.trade_id >= from_id)
                 and (start is None or f.time >= start) and (end is None or f.time <= end)]
        fills.sort(key=lambda f: (f.trade_id, f.order_id))
        lim = self._limit(p)
        fills = fills[:lim] if from_id is not None else fills[-lim:]
        return [{"symbol": self.names[f.symbol], "id": f.trade_id, "orderId": f.order_id,
                 "orderListId": -1, "price": fmt(f.price), "qty": fmt(f.qty),
                 "quoteQty": fmt(f.quote_qty), "commission": fmt(f.fee),
                 "commissionAsset": f.fee_asset, "time": f.time, "isBuyer": f.side == BUY,
                 "isMaker": f.is_maker, "isBestMatch": True} for f in fills]

    async def rate_limit_order(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        self.limits.used_weight()
        return [
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": self.limits.order_limit_10s, "count": self.limits.orders_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
             "limit": self.limits.order_limit_1d, "count": self.limits.orders_1d},
        ]

    async def user_data_stream(self, request: web.Request, p: dict[str, str], a: str | None) -> Any:
        assert a is not None
        if request.method == "POST":
            for k, acct in self.listen_keys.items():
                if acct == a:
                    return {"listenKey": k}
            key = _rand(self._key_rng, 60)
            self.listen_keys[key] = a
            return {"listenKey": key}
        lk = p.get("listenKey", "")
        if not lk:
            raise errors.mandatory("listenKey")
        if self.listen_keys.get(lk) != a:
            raise errors.bad_listen_key()
        if request.method == "DELETE":
            del self.listen_keys[lk]
            self.hub.close_listen_key(lk)
        return {}


def ed25519_sign(private_key_pem: str, payload: str) -> str:
    """Base64 Ed25519 signature (helper for tests and clients of the sim)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return base64.b64encode(key.sign(payload.encode())).decode()


def build(*, seed: int = 1, **options: Any) -> VenueSim:
    return BinanceSkin(seed=seed, **options).venue_sim()
