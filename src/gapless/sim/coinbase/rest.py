"""Coinbase Advanced Trade REST handlers under ``/api/v3/brokerage`` and their JSON views;
routing and the JWT gate are in ``app.py``, balances and ``/v2`` in ``funds.py``."""

from __future__ import annotations

import random
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ..core.faults import Faults
from ..core.models import (
    BUY,
    CANCELED,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    SELL,
    Order,
    Rejection,
    UnknownOrder,
)
from . import errors
from .funds import CRYPTO_NAMES, FIAT, FundsRoutes
from .limits import Limits
from .wire import fmt, iso, status_of
from .ws import StreamHub

DEC_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
CLIENT_ID_MAX = 128

CONFIG_TIF = {"limit_limit_gtc": "GOOD_UNTIL_CANCELLED", "limit_limit_fok": "FILL_OR_KILL",
              "sor_limit_ioc": "IMMEDIATE_OR_CANCEL", "market_market_ioc": "IMMEDIATE_OR_CANCEL"}


class DropResponse(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


class Rest(FundsRoutes):
    """Products, books, orders and fills over the core exchange."""

    faults: Faults
    limits: Limits
    hub: StreamHub
    ids: dict[str, str]
    names: dict[str, str]
    duplicate_client_id: str
    uuids: dict[int, str]
    by_uuid: dict[str, int]
    configs: dict[int, tuple[str, dict[str, Any]]]
    cancel_requested: set[int]
    _id_rng: random.Random
    _epoch: int

    def order_uuid(self, oid: int) -> str:
        u = self.uuids.get(oid)
        if u is None:
            u = str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4))
            self.uuids[oid] = u
            self.by_uuid[u] = oid
        return u

    # ---------------------------------------------------------------- views
    def product_json(self, pid: str) -> dict[str, Any]:
        sym = self.ids[pid]
        spec = self.exchange.specs[sym]
        mid = self.liquidity.mids.get(sym, spec.initial_mid)
        return {
            "product_id": pid, "price": fmt(mid), "price_percentage_change_24h": "0",
            "volume_24h": "0", "volume_percentage_change_24h": "0",
            "base_increment": fmt(spec.step), "quote_increment": fmt(spec.tick),
            "quote_min_size": fmt(spec.min_notional), "quote_max_size": fmt(spec.max_notional),
            "base_min_size": fmt(spec.min_qty), "base_max_size": fmt(spec.max_qty),
            "base_name": CRYPTO_NAMES.get(spec.base, spec.base),
            "quote_name": FIAT.get(spec.quote, CRYPTO_NAMES.get(spec.quote, spec.quote)),
            "watched": False, "is_disabled": False, "new": False, "status": "online",
            "cancel_only": False, "limit_only": False, "post_only": False,
            "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
            "quote_currency_id": spec.quote, "base_currency_id": spec.base,
            "fcm_trading_session_details": None, "mid_market_price": "", "alias": "",
            "alias_to": [], "base_display_symbol": spec.base, "quote_display_symbol": spec.quote,
            "view_only": False, "price_increment": fmt(spec.tick), "display_name": pid,
            "product_venue": "CBE",
        }

    def order_json(self, o: Order) -> dict[str, Any]:
        kind, conf = self.configs.get(o.order_id, ("", {}))
        filled, value = o.filled, o.cum_quote
        tif = CONFIG_TIF.get(kind, "GOOD_UNTIL_CANCELLED")
        completion = Decimal(0)
        if o.qty:
            completion = filled / o.qty * 100
        elif o.quote_qty:
            completion = value / o.quote_qty * 100
        hold = o.locked
        fees = sum((f.fee for f in o.fills), Decimal(0))
        status = status_of(o)
        return {
            "order_id": self.order_uuid(o.order_id), "product_id": self.names[o.symbol],
            "user_id": self.user_id, "order_configuration": {kind: conf} if kind else {},
            "side": o.side, "client_order_id": o.client_id, "status": status,
            "time_in_force": tif, "created_time": iso(o.created),
            "completion_percentage": f"{completion:.2f}", "filled_size": fmt(filled),
            "average_filled_price": fmt(value / filled) if filled else "0", "fee": "",
            "number_of_fills": str(len(o.fills)), "filled_value": fmt(value),
            "pending_cancel": False, "size_in_quote": o.qty is None,
            "total_fees": fmt(fees), "size_inclusive_of_fees": False,
            "total_value_after_fees": fmt(value + fees if o.side == BUY else value - fees),
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": "MARKET" if o.type == MARKET else "LIMIT",
            "reject_reason": "REJECT_REASON_UNSPECIFIED", "settled": not o.is_open,
            "product_type": "SPOT", "reject_message": "",
            "cancel_message": "User requested cancel" if o.status == CANCELED else "",
            "order_placement_source": "RETAIL_ADVANCED", "outstanding_hold_amount": fmt(hold),
            "is_liquidation": False,
            "last_fill_time": iso(o.fills[-1].time) if o.fills else None,
            "edit_history": [], "leverage": "", "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": self.portfolio_id,
        }

    def fill_json(self, f: Any) -> dict[str, Any]:
        return {
            "entry_id": f"{self._epoch}-{f.trade_id}-{f.order_id}",
            "trade_id": f"{self._epoch}-{f.trade_id}",
            "order_id": self.order_uuid(f.order_id), "trade_time": iso(f.time),
            "trade_type": "FILL", "price": fmt(f.price), "size": fmt(f.qty),
            "commission": fmt(f.fee), "product_id": self.names[f.symbol],
            "sequence_timestamp": iso(f.time),
            "liquidity_indicator": "MAKER" if f.is_maker else "TAKER",
            "size_in_quote": False, "user_id": self.user_id, "side": f.side,
            "retail_portfolio_id": self.portfolio_id,
        }

    # ------------------------------------------------------------- helpers
    def product_id(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.ids:
            raise errors.not_found("ProductID is invalid") if value else errors.invalid_argument(
                "product_id is required")
        return value

    @staticmethod
    def _many(params: dict[str, Any], *names: str) -> list[str]:
        out: list[str] = []
        for n in names:
            for v in params.get(n, []) or []:
                out.extend(x for x in str(v).split(",") if x)
        return out

    # ------------------------------------------------------------ endpoints
    async def time(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        ms = self.exchange.time_ms()
        return {"iso": iso(ms), "epochSeconds": str(ms // 1000), "epochMillis": str(ms)}

    async def products(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        ptype = (self._first(p, "product_type") or "SPOT").upper()
        wanted = self._many(p, "product_ids")
        pids = [pid for pid in self.ids if not wanted or pid in wanted] if ptype == "SPOT" else []
        offset = int(self._first(p, "offset") or 0)
        limit = self._limit(p, len(pids) or 1, 10_000)
        page = pids[offset:offset + limit]
        return {"products": [self.product_json(pid) for pid in page], "num_products": len(pids)}

    async def product(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        return self.product_json(self.product_id(p["id"]))

    async def product_book(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        pid = self.product_id(self._first(p, "product_id"))
        sym = self.ids[pid]
        limit = self._limit(p, 50, 500)
        _, bids, asks = self.exchange.depth(sym, limit)
        ms = self.exchange.time_ms()
        book: dict[str, Any] = {
            "product_id": pid,
            "bids": [{"price": fmt(px), "size": fmt(q)} for px, q in bids],
            "asks": [{"price": fmt(px), "size": fmt(q)} for px, q in asks],
            "time": iso(ms),
        }
        out: dict[str, Any] = {"pricebook": book}
        if bids and asks:
            mid = (bids[0][0] + asks[0][0]) / 2
            spread = asks[0][0] - bids[0][0]
            out.update({"last": fmt(self.liquidity.mids.get(sym, mid)), "mid_market": fmt(mid),
                        "spread_bps": fmt((spread / mid * 10000).quantize(Decimal("0.0001"))),
                        "spread_absolute": fmt(spread)})
        return out

    async def best_bid_ask(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        pids = self._many(p, "product_ids") or list(self.ids)
        out = []
        for pid in pids:
            self.product_id(pid)
            b, k = self.exchange.best_bid_ask(self.ids[pid])
            out.append({"product_id": pid, "time": iso(self.exchange.time_ms()),
                        "bids": [{"price": fmt(b[0]), "size": fmt(b[1])}] if b else [],
                        "asks": [{"price": fmt(k[0]), "size": fmt(k[1])}] if k else []})
        return {"pricebooks": out}

    @staticmethod
    def _dec(conf: dict[str, Any], name: str) -> Decimal | None:
        v = conf.get(name)
        if v is None or v == "":
            return None
        if not isinstance(v, str) or not DEC_RE.fullmatch(v):
            raise Rejection("bad_param", name)
        try:
            return Decimal(v)
        except InvalidOperation:
            raise Rejection("bad_param", name) from None

    def _order_args(self, body: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """Translate a create-order body; raises Rejection (-> 200 success:false)."""
        side = body.get("side")
        if side not in (BUY, SELL):
            raise Rejection("side")
        oc = body.get("order_configuration")
        if not isinstance(oc, dict) or len(oc) != 1:
            raise Rejection("unsupported")
        kind, conf = next(iter(oc.items()))
        if not isinstance(conf, dict):
            raise Rejection("unsupported")
        args: dict[str, Any] = {"side": side}
        if kind == "market_market_ioc":
            base, quote = self._dec(conf, "base_size"), self._dec(conf, "quote_size")
            if (base is None) == (quote is None):
                raise Rejection("bad_param", "base_size or quote_size")
            args.update(type=MARKET, qty=base, quote_qty=quote, tif=IOC)
        elif kind in ("limit_limit_gtc", "limit_limit_fok", "sor_limit_ioc"):
            qty, price = self._dec(conf, "base_size"), self._dec(conf, "limit_price")
            if qty is None:
                raise Rejection("bad_param", "base_size")
            if price is None:
                raise Rejection("bad_param", "limit_price")
            post_only = conf.get("post_only", False)
            if not isinstance(post_only, bool):
                raise Rejection("bad_param", "post_only")
            if kind == "limit_limit_gtc":
                args.update(type=LIMIT_MAKER if post_only else LIMIT, tif=GTC)
            elif post_only:
                raise Rejection("unsupported")
            else:
                args.update(type=LIMIT, tif=FOK if kind == "limit_limit_fok" else IOC)
            args.update(qty=qty, price=price)
        else:
            raise Rejection("unsupported")
        return args, kind, dict(conf)

    async def create_order(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        body = p["_body"]
        cid = body.get("client_order_id")
        if not isinstance(cid, str) or not cid:
            raise errors.invalid_argument("client_order_id is required")
        if len(cid) > CLIENT_ID_MAX:
            raise errors.invalid_argument("client_order_id is too long")
        pid = body.get("product_id")
        if not isinstance(pid, str) or pid not in self.ids:
            return errors.order_failure("unknown_symbol")
        self.limits.charge_order()
        sym = self.ids[pid]
        try:
            prior = self.exchange.find_order(a, None, client_id=cid)
        except UnknownOrder:
            prior = None
        if prior is not None:
            if self.duplicate_client_id == "reject":
                out = errors.order_failure("bad_param", "duplicate client_order_id")
                out["error_response"]["error"] = "INVALID_REQUEST"
                return out
            return self._success(prior, body)  # idempotent: the existing order
        try:
            args, kind, conf = self._order_args(body)
            order = self.exchange.place_order(account=a, symbol=sym, client_id=cid, **args)
        except Rejection as r:
            return errors.order_failure(r.reason, r.detail)
        self.configs[order.order_id] = (kind, conf)
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)
        return self._success(order, body)

    def _success(self, order: Order, body: dict[str, Any]) -> dict[str, Any]:
        kind, conf = self.configs.get(order.order_id, ("", {}))
        return {
            "success": True,
            "failure_reason": "UNKNOWN_FAILURE_REASON",
            "order_id": self.order_uuid(order.order_id),
            "success_response": {"order_id": self.order_uuid(order.order_id),
                                 "product_id": self.names[order.symbol], "side": order.side,
                                 "client_order_id": order.client_id},
            "order_configuration": {kind: conf} if kind else body.get("order_configuration", {}),
        }

    async def batch_cancel(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        ids = p["_body"].get("order_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise errors.invalid_argument("order_ids must be a non-empty list of strings")
        if len(ids) > 100:
            raise errors.invalid_argument("at most 100 order_ids per request")
        results = []
        for vid in ids:
            oid = self.by_uuid.get(vid)
            order = self.exchange.orders.get(oid) if oid is not None else None
            if order is None or order.account != a:
                results.append({"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER",
                                "order_id": vid})
            elif not order.is_open:
                reason = ("DUPLICATE_CANCEL_REQUEST" if oid in self.cancel_requested
                          else "INVALID_CANCEL_REQUEST")
                results.append({"success": False, "failure_reason": reason, "order_id": vid})
            else:
                self.exchange.cancel_order(a, None, order_id=order.order_id)
                self.cancel_requested.add(order.order_id)
                results.append({"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON",
                                "order_id": vid})
        mode = self.faults.take_drop_response()
        if mode is not None:
            raise DropResponse(mode)
        return {"results": results}

    async def get_order(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        oid = self.by_uuid.get(p["id"])
        order = self.exchange.orders.get(oid) if oid is not None else None
        if order is None or order.account != a:
            raise errors.not_found("order with this orderID was not found")
        return {"order": self.order_json(order)}

    async def list_orders(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        statuses = set(self._many(p, "order_status"))
        pids = set(self._many(p, "product_ids", "product_id"))
        for pid in pids:
            self.product_id(pid)
        orders = [o for o in self.exchange.user_orders(a)
                  if (not pids or self.names[o.symbol] in pids)]
        orders.sort(key=lambda o: o.order_id, reverse=True)  # newest first
        rows = [self.order_json(o) for o in orders]
        if statuses:
            rows = [r for r in rows if r["status"] in statuses]
        start, limit = self._cursor(p), self._limit(p, 100, 1000)
        page = rows[start:start + limit]
        more = start + limit < len(rows)
        return {"orders": page, "sequence": "0", "has_next": more,
                "cursor": str(start + limit) if more else ""}

    async def list_fills(self, request: web.Request, p: dict[str, Any], a: str | None) -> Any:
        assert a is not None
        vids = set(self._many(p, "order_ids", "order_id"))
        pids = set(self._many(p, "product_ids", "product_id"))
        tids = set(self._many(p, "trade_ids"))
        fills = [self.fill_json(f) for f in self.exchange.user_fills(a)]
        fills = [f for f in fills if (not vids or f["order_id"] in vids)
                 and (not pids or f["product_id"] in pids) and (not tids or f["trade_id"] in tids)]
        fills.reverse()  # newest first
        start, limit = self._cursor(p), self._limit(p, 100, 1000)
        page = fills[start:start + limit]
        more = start + limit < len(fills)
        return {"fills": page, "cursor": str(start + limit) if more else ""}
