"""Binance Spot REST handlers under ``/api/v3``: ``(request, params, account) -> body``; routing,
weights and the auth gate are in ``app.py``."""

from __future__ import annotations

import json
import random
import re
import string
from decimal import Decimal
from typing import Any

from aiohttp import web

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
    Rejection,
    SymbolSpec,
    UnknownOrder,
)
from . import errors
from .auth import ApiKey
from .errors import BinanceError
from .limits import Limits
from .wire import ZERO8, Shapes, fmt
from .ws import StreamHub

DEC_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")

class DropResponse(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


def _rand(rng: random.Random, n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(n))


class Rest(Shapes):
    """Market, order, account and user-data-stream endpoints over the core exchange."""

    exchange: Exchange
    faults: Faults
    liquidity: Liquidity
    limits: Limits
    ids: dict[str, str]
    keys: dict[str, ApiKey]
    listen_keys: dict[str, str]
    hub: StreamHub
    _key_rng: random.Random

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
