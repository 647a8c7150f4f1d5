"""OKX V5 REST handlers (public, account, trade): ``(request, params) -> envelope``; the
routing and the auth/limit gate are in ``app.py``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.liquidity import Liquidity
from ..core.models import (
    BUY,
    CANCELED,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    NEW,
    SELL,
    Order,
    OrderEvent,
    Rejection,
    UnknownOrder,
)
from . import errors, wire
from .auth import past_exp_time
from .errors import OkxError, OrderFail
from .limits import Limits
from .wire import Meta, fmt, inst_id, ord_id, order_obj, parse_ord_id, symbol_of
from .ws import WsHub

CL_ORD_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
DEC_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
ORD_TYPES = ("limit", "post_only", "ioc", "fok", "market")
POST_ONLY_CANCEL_SOURCE = "31"


class DropResponse(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


def _dec(raw: Any, name: str) -> Decimal:
    if not isinstance(raw, str) or not DEC_RE.match(raw):
        raise errors.s_param(name)
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise errors.s_param(name) from None


class Rest:
    """The endpoints over the core exchange; per-order results carry ``sCode``/``sMsg``."""

    exchange: Exchange
    faults: Faults
    liquidity: Liquidity
    limits: Limits
    hub: WsHub
    account: str
    meta: dict[int, Meta]
    extra: dict[int, Order]
    _extra_ids: int
    _pending: Meta | None

    @staticmethod
    def ok(data: list[Any], code: str = "0", msg: str = "") -> dict[str, Any]:
        return {"code": code, "msg": msg, "data": data}

    def trade_ok(self, data: list[dict[str, Any]], t_in: int) -> dict[str, Any]:
        fails = sum(1 for d in data if d.get("sCode") != "0")
        if not data or fails == 0:
            code, msg = "0", ""
        elif fails == len(data):
            code, msg = "1", "All operations failed"
        else:
            code, msg = "2", "Batch operation partially succeeded"
        now_us = str(self.exchange.time_ms() * 1000)
        return {"code": code, "msg": msg, "data": data, "inTime": str(t_in * 1000),
                "outTime": now_us}

    def symbol_param(self, p: dict[str, Any], *, required: bool = True) -> str | None:
        raw = p.get("instId")
        if not raw:
            if required:
                raise errors.empty("instId")
            return None
        sym = symbol_of(str(raw))
        if str(raw) != inst_id(sym) or sym not in self.exchange.specs:
            raise errors.no_instrument()
        return sym

    # ----------------------------------------------------------------- public
    async def time(self, request: web.Request, p: Any) -> Any:
        return self.ok([{"ts": str(self.exchange.time_ms())}])

    async def instruments(self, request: web.Request, p: Any) -> Any:
        t = p.get("instType")
        if not t:
            raise errors.empty("instType")
        if t not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise errors.param_error("instType")
        if t != "SPOT":
            return self.ok([])
        now = self.exchange.time_ms()
        want = p.get("instId")
        out = [wire.instrument(s, now) for s in self.exchange.specs.values()
               if not want or inst_id(s.symbol) == want]
        if want and not out:
            raise errors.no_instrument()
        return self.ok(out)

    def _levels(self, sym: str, depth: int) -> tuple[int, list[list[str]], list[list[str]]]:
        book = self.exchange.books[sym]
        bids = [wire.level(px, book.bids.level_qty(px), len(book.bids.levels[px]))
                for px in book.bids.prices()[:depth]]
        asks = [wire.level(px, book.asks.level_qty(px), len(book.asks.levels[px]))
                for px in book.asks.prices()[:depth]]
        return book.update_id, bids, asks

    async def books(self, request: web.Request, p: Any) -> Any:
        sym = self.symbol_param(p)
        assert sym is not None
        raw = p.get("sz", "1")
        if not str(raw).isdigit() or not 1 <= int(raw) <= 400:
            raise errors.param_error("sz")
        _, bids, asks = self._levels(sym, int(raw))
        return self.ok([{"asks": asks, "bids": bids, "ts": str(self.exchange.time_ms())}])

    def _ticker(self, sym: str) -> dict[str, Any]:
        bid, ask = self.exchange.best_bid_ask(sym)
        mid = self.liquidity.mids.get(sym) or self.exchange.specs[sym].initial_mid
        last = fmt(mid)
        return {
            "instType": "SPOT", "instId": inst_id(sym), "last": last, "lastSz": "0",
            "askPx": fmt(ask[0]) if ask else "", "askSz": fmt(ask[1]) if ask else "",
            "bidPx": fmt(bid[0]) if bid else "", "bidSz": fmt(bid[1]) if bid else "",
            "open24h": last, "high24h": last, "low24h": last, "volCcy24h": "0", "vol24h": "0",
            "sodUtc0": last, "sodUtc8": last, "ts": str(self.exchange.time_ms()),
        }

    async def tickers(self, request: web.Request, p: Any) -> Any:
        if not p.get("instType"):
            raise errors.empty("instType")
        if p["instType"] != "SPOT":
            return self.ok([])
        return self.ok([self._ticker(s) for s in self.exchange.specs])

    async def ticker(self, request: web.Request, p: Any) -> Any:
        sym = self.symbol_param(p)
        assert sym is not None
        return self.ok([self._ticker(sym)])

    # ---------------------------------------------------------------- account
    def _assets(self) -> list[str]:
        names: set[str] = set()
        for s in self.exchange.specs.values():
            names.update((s.base, s.quote))
        return sorted(names)

    async def currencies(self, request: web.Request, p: Any) -> Any:
        want = set(str(p.get("ccy", "")).split(",")) - {""}
        out = []
        for c in self._assets():
            if want and c not in want:
                continue
            out.append({"ccy": c, "name": c, "chain": f"{c}-{c}", "canDep": True, "canWd": True,
                        "canInternal": True, "minWd": "0.0001", "maxWd": "1000000",
                        "wdTickSz": "8", "minFee": "0", "maxFee": "0", "fee": "0",
                        "mainNet": True, "logoLink": "", "minDep": "0"})
        return self.ok(out)

    async def balance(self, request: web.Request, p: Any) -> Any:
        acc = self.exchange.account(self.account)
        want = set(str(p.get("ccy", "")).split(",")) - {""}
        now = str(self.exchange.time_ms())
        details = []
        for asset, (free, locked) in acc.snapshot().items():
            if want and asset not in want:
                continue
            if not want and free == 0 and locked == 0:
                continue
            eq = free + locked
            details.append({
                "ccy": asset, "eq": fmt(eq), "cashBal": fmt(eq), "availBal": fmt(free),
                "frozenBal": fmt(locked), "ordFrozen": fmt(locked), "availEq": fmt(free),
                "eqUsd": "", "disEq": "", "uTime": now, "upl": "0", "isoEq": "0",
                "fixedBal": "0", "liab": "", "interest": "", "crossLiab": "", "maxLoan": "",
                "notionalLever": "", "stgyEq": "0", "twap": "0", "spotInUseAmt": "",
            })
        return self.ok([{"adjEq": "", "imr": "", "mmr": "", "mgnRatio": "", "notionalUsd": "",
                         "ordFroz": "", "totalEq": "", "isoEq": "0", "upl": "", "uTime": now,
                         "details": details}])

    async def account_config(self, request: web.Request, p: Any) -> Any:
        return self.ok([{"uid": "44705892343619584", "mainUid": "44705892343619584",
                         "acctLv": "1", "posMode": "net_mode", "autoLoan": False,
                         "greeksType": "PA", "level": "Lv1", "levelTmp": "", "ctIsoMode":
                         "automatic", "mgnIsoMode": "automatic", "spotOffsetType": "",
                         "roleType": "0", "traderInsts": [], "opAuth": "0", "kycLv": "2",
                         "label": "gapless-sim", "ip": "127.0.0.1", "perm": "read_only,trade",
                         "liquidationGear": "-1", "enableSpotBorrow": False,
                         "spotBorrowAutoRepay": False, "type": "0"}])

    async def trade_fee(self, request: web.Request, p: Any) -> Any:
        ex = self.exchange
        return self.ok([{"category": "1", "delivery": "", "exercise": "", "instType": "SPOT",
                         "level": "Lv1", "maker": fmt(-ex.maker_fee), "taker": fmt(-ex.taker_fee),
                         "makerU": "", "takerU": "", "ts": str(ex.time_ms())}])

    # ----------------------------------------------------------------- orders
    def _meta(self, o: Order) -> Meta | None:
        m = self.meta.get(o.order_id)
        if m is None and self._pending is not None and o.account == self.account:
            m = self.meta[o.order_id] = self._pending
        return m

    def order_json(self, o: Order) -> dict[str, Any]:
        return order_obj(o, self._meta(o))

    def place(self, p: Any, *, count: bool = True, late: bool = False) -> dict[str, Any]:
        """One order -> its ``data[]`` entry (raises nothing: failures become sCode);
        ``late``: the request arrived after its ``expTime``, nothing is placed."""
        cl = p.get("clOrdId", "") if isinstance(p, dict) else ""
        tag = p.get("tag", "") if isinstance(p, dict) else ""
        res = {"ordId": "", "clOrdId": cl if isinstance(cl, str) else "",
               "tag": tag if isinstance(tag, str) else "", "ts": str(self.exchange.time_ms()),
               "sCode": "0", "sMsg": "Order placed", "subCode": ""}
        try:
            if late:
                raise errors.s_exp_time_passed()
            order = self._place(p, count)
        except OrderFail as f:
            res.update(sCode=f.s_code, sMsg=f.s_msg)
            return res
        res["ordId"] = ord_id(order.order_id)
        return res

    def _place(self, p: Any, count: bool = True) -> Order:
        if not isinstance(p, dict):
            raise errors.s_param("body")
        inst = p.get("instId")
        if not isinstance(inst, str) or not inst:
            raise errors.s_param("instId")
        sym = symbol_of(inst)
        if inst != inst_id(sym) or sym not in self.exchange.specs:
            raise errors.s_no_instrument()
        spec = self.exchange.specs[sym]
        if p.get("tdMode") != "cash":
            raise errors.s_param("tdMode")
        side = {"buy": BUY, "sell": SELL}.get(p.get("side"))  # type: ignore[arg-type]
        if side is None:
            raise errors.s_param("side")
        ord_type = p.get("ordType")
        if ord_type not in ORD_TYPES:
            raise errors.s_param("ordType")
        cl = p.get("clOrdId", "")
        if cl is None:
            cl = ""
        if not isinstance(cl, str) or (cl and not CL_ORD_ID_RE.match(cl)):
            raise errors.s_param("clOrdId")
        tag = p.get("tag", "") or ""
        if not isinstance(tag, str) or len(tag) > 16 or (not tag.isalnum() and tag):
            raise errors.s_param("tag")
        if count and not self.limits.take("trade/order", inst):
            raise errors.s_rate_limited()
        sz_raw = p.get("sz")
        sz = _dec(sz_raw, "sz")
        if sz <= 0:
            raise errors.s_param("sz")
        tgt = p.get("tgtCcy") or ""
        if tgt not in ("", "base_ccy", "quote_ccy"):
            raise errors.s_param("tgtCcy")
        qty: Decimal | None = sz
        quote_qty: Decimal | None = None
        price: Decimal | None = None
        if ord_type == "market":
            if tgt == "quote_ccy" or (tgt == "" and side == BUY):
                qty, quote_qty = None, sz
                tgt = "quote_ccy"
            else:
                tgt = "base_ccy"
            if qty is not None:
                if qty % spec.step != 0:
                    raise errors.s_lot()
                if qty < spec.min_qty:
                    raise errors.s_min_size()
                if qty > spec.max_qty:
                    raise errors.s_max_size()
            elif quote_qty is not None and quote_qty > spec.max_notional:
                raise errors.s_max_size()
            core_type, tif = MARKET, GTC
        else:
            if "px" not in p:
                raise errors.s_param("px")
            price = _dec(p.get("px"), "px")
            if price <= 0 or price % spec.tick != 0:
                raise errors.s_tick()
            if sz % spec.step != 0:
                raise errors.s_lot()
            if sz < spec.min_qty:
                raise errors.s_min_size()
            if sz > spec.max_qty or price * sz > spec.max_notional:
                raise OrderFail("51201", "Value of per market order cannot exceed 1,000,000 USDT.")
            core_type, tif = LIMIT, {"limit": GTC, "post_only": GTC, "ioc": IOC, "fok": FOK}[
                ord_type]
            if tgt == "quote_ccy":
                raise errors.s_param("tgtCcy")
        if cl and (self.account, cl) in self.exchange._open_client_ids:
            raise errors.s_duplicate()
        meta = Meta(ord_type, tgt, str(sz_raw), tag, "", cl)
        if ord_type == "post_only" and self._would_cross(sym, side, price):
            return self._post_only_cancel(sym, side, price, qty, meta)
        self._pending = meta  # claimed by the first event of the new order
        try:
            order = self.exchange.place_order(
                account=self.account, symbol=sym, side=side, type=core_type, qty=qty,
                quote_qty=quote_qty, price=price, tif=tif, client_id=cl or None, validate=False)
        except Rejection as r:
            raise self._map_rejection(r, spec.quote if side == BUY else spec.base) from None
        finally:
            self._pending = None
        self.meta[order.order_id] = meta
        return order

    def _would_cross(self, sym: str, side: str, price: Decimal | None) -> bool:
        best = self.exchange.books[sym].opposite(side).best()
        if best is None or price is None:
            return False
        return price >= best if side == BUY else price <= best

    def _post_only_cancel(self, sym: str, side: str, price: Decimal | None,
                          qty: Decimal | None, meta: Meta) -> Order:
        """OKX accepts a crossing post-only order and cancels it at once (cancelSource 31)."""
        spec = self.exchange.specs[sym]
        acc = self.exchange.account(self.account)
        need = (price or Decimal(0)) * (qty or Decimal(0)) if side == BUY else (qty or Decimal(0))
        asset = spec.quote if side == BUY else spec.base
        if acc.available(asset) < need:
            raise errors.s_insufficient(asset)
        self._extra_ids += 1
        oid = 10**15 + self._extra_ids
        now = self.exchange.time_ms()
        order = Order(oid, meta.cl_ord_id or f"sim{oid}", self.account, sym, side, LIMIT, GTC,
                      price, qty, None, now, now)
        meta.cancel_source = POST_ONLY_CANCEL_SOURCE
        self.meta[oid] = meta
        self.extra[oid] = order
        self.hub.on_event(OrderEvent(order, NEW, None, now))
        order.status = CANCELED
        self.hub.on_event(OrderEvent(order, CANCELED, None, now))
        return order

    @staticmethod
    def _map_rejection(r: Rejection, lock_asset: str) -> OrderFail:
        if r.reason == "insufficient_balance":
            return errors.s_insufficient(lock_asset)
        if r.reason == "duplicate_client_id":
            return errors.s_duplicate()
        if r.reason == "unknown_symbol":
            return errors.s_no_instrument()
        if r.reason == "filter":
            return errors.s_lot() if "LOT" in r.detail else errors.s_min_size()
        return errors.s_param(r.detail or "order")

    def _late(self, request: web.Request, now_ms: int) -> bool:
        try:
            return past_exp_time(request.headers.get("expTime"), now_ms)
        except ValueError:
            raise errors.param_error("expTime") from None

    def _drop(self) -> None:
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)

    async def place_one(self, request: web.Request, p: Any) -> Any:
        t_in = self.exchange.time_ms()
        if not isinstance(p, dict):
            raise errors.param_error("body")
        late = self._late(request, t_in)
        if not late and not self.limits.take("trade/order", str(p.get("instId", ""))):
            raise errors.rate_limited()  # a single order is refused as a whole (HTTP 429)
        res = self.place(p, count=False, late=late)
        self._drop()
        return self.trade_ok([res], t_in)

    async def place_batch(self, request: web.Request, p: Any) -> Any:
        t_in = self.exchange.time_ms()
        if not isinstance(p, list) or not p:
            raise errors.param_error("body")
        if len(p) > 20:
            raise OkxError("51004", "Order count exceeds the limit of 20", 200)
        late = self._late(request, t_in)
        if not late and not self.limits.take("trade/batch-orders", "", len(p)):
            raise errors.rate_limited()
        out = [self.place(one, late=late) for one in p]
        self._drop()
        return self.trade_ok(out, t_in)

    def _find(self, p: dict[str, Any]) -> Order:
        sym = symbol_of(str(p.get("instId", "")))
        raw_oid = p.get("ordId") or ""
        cl = p.get("clOrdId") or ""
        if raw_oid:
            oid = parse_ord_id(str(raw_oid))
            if oid is None:
                raise UnknownOrder()
            if oid in self.extra:
                o = self.extra[oid]
                if o.symbol != sym:
                    raise UnknownOrder()
                return o
            return self.exchange.find_order(self.account, sym, oid, None)
        # clOrdId: the latest order with that id (core or post-only auto-cancel)
        cands = [o for o in self.extra.values() if o.client_id == cl and o.symbol == sym]
        try:
            cands.append(self.exchange.find_order(self.account, sym, None, str(cl)))
        except UnknownOrder:
            pass
        if not cands:
            raise UnknownOrder()
        return max(cands, key=lambda o: (o.created, o.order_id < 10**15, o.order_id))

    async def query_order(self, request: web.Request, p: Any) -> Any:
        sym = self.symbol_param(p)
        if not self.limits.take("trade/order-query", inst_id(sym or "")):
            raise errors.rate_limited()
        if not p.get("ordId") and not p.get("clOrdId"):
            raise errors.param_error("ordId")
        try:
            o = self._find(p)
        except UnknownOrder:
            raise errors.order_not_exist() from None
        return self.ok([self.order_json(o)])

    def cancel(self, p: Any) -> dict[str, Any]:
        res = {"ordId": "", "clOrdId": "", "ts": str(self.exchange.time_ms()), "sCode": "0",
               "sMsg": "", "subCode": ""}
        if not isinstance(p, dict):
            res.update(sCode="51000", sMsg="Parameter body error")
            return res
        res["ordId"] = str(p.get("ordId") or "")
        res["clOrdId"] = str(p.get("clOrdId") or "")
        inst = str(p.get("instId") or "")
        sym = symbol_of(inst)
        if sym not in self.exchange.specs or inst != inst_id(sym):
            res.update(sCode="51001", sMsg="Instrument ID does not exist")
            return res
        if not res["ordId"] and not res["clOrdId"]:
            res.update(sCode="51000", sMsg="Parameter ordId error")
            return res
        if not self.limits.take("trade/cancel-order", inst):
            f = errors.s_rate_limited()
            res.update(sCode=f.s_code, sMsg=f.s_msg)
            return res
        try:
            o = self._find(p)
            if not o.is_open or o.order_id in self.extra:
                raise UnknownOrder()
            self.exchange.cancel_order(self.account, sym, o.order_id, None)
        except UnknownOrder:
            f = errors.s_cancel_failed()
            res.update(sCode=f.s_code, sMsg=f.s_msg)
            return res
        res["ordId"] = ord_id(o.order_id)
        m = self._meta(o)
        res["clOrdId"] = m.cl_ord_id if m else ""
        return res

    async def cancel_one(self, request: web.Request, p: Any) -> Any:
        t_in = self.exchange.time_ms()
        if not isinstance(p, dict):
            raise errors.param_error("body")
        res = self.cancel(p)
        self._drop()
        return self.trade_ok([res], t_in)

    async def cancel_batch(self, request: web.Request, p: Any) -> Any:
        t_in = self.exchange.time_ms()
        if not isinstance(p, list) or not p:
            raise errors.param_error("body")
        if len(p) > 20:
            raise OkxError("51004", "Order count exceeds the limit of 20", 200)
        out = [self.cancel(one) for one in p]
        self._drop()
        return self.trade_ok(out, t_in)

    def _all_orders(self) -> list[Order]:
        return self.exchange.user_orders(self.account) + list(self.extra.values())

    @staticmethod
    def _limit(p: dict[str, Any]) -> int:
        raw = str(p.get("limit", "100") or "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise errors.param_error("limit")
        return int(raw)

    def _filtered(self, p: dict[str, Any], orders: list[Order]) -> list[Order]:
        t = p.get("instType")
        if t and t != "SPOT":
            return []
        sym = self.symbol_param(p, required=False)
        ot = p.get("ordType")
        out = [o for o in orders if (sym is None or o.symbol == sym)
               and (not ot or (self._meta(o) or Meta("")).ord_type == ot)]
        out.sort(key=lambda o: (o.created, o.order_id), reverse=True)
        return out

    async def orders_pending(self, request: web.Request, p: Any) -> Any:
        state = p.get("state")
        orders = self._filtered(p, [o for o in self.exchange.open_orders(self.account)])
        js = [self.order_json(o) for o in orders]
        if state:
            js = [j for j in js if j["state"] == state]
        return self.ok(js[: self._limit(p)])

    async def orders_history(self, request: web.Request, p: Any) -> Any:
        if not p.get("instType"):
            raise errors.empty("instType")
        state = p.get("state")
        orders = self._filtered(p, [o for o in self._all_orders() if not o.is_open])
        js = [self.order_json(o) for o in orders]
        if state:
            js = [j for j in js if j["state"] == state]
        return self.ok(js[: self._limit(p)])

    async def fills(self, request: web.Request, p: Any) -> Any:
        t = p.get("instType")
        if t and t != "SPOT":
            return self.ok([])
        sym = self.symbol_param(p, required=False)
        want_oid = p.get("ordId") or ""
        fills = self.exchange.user_fills(self.account, sym)
        if want_oid:
            oid = parse_ord_id(str(want_oid))
            fills = [f for f in fills if f.order_id == oid]
        begin = int(p["begin"]) if str(p.get("begin", "")).isdigit() else None
        end = int(p["end"]) if str(p.get("end", "")).isdigit() else None
        fills = [f for f in fills if (begin is None or f.time >= begin)
                 and (end is None or f.time <= end)]
        fills = sorted(fills, key=lambda f: f.trade_id, reverse=True)[: self._limit(p)]
        return self.ok([wire.fill_obj(f, self.meta.get(f.order_id)) for f in fills])
